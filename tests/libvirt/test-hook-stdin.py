#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The hook front end reads all of its standard input, whatever its size.

libvirt writes the whole domain XML into the hook's stdin before it waits
for the hook; a hook that exits, or hands over to its helper, before the
end makes libvirt's write fail (EPIPE).  Fed as libvirt feeds it (NAME OP
SUBOP -, a pipe), with XML of 24 MiB (above the 16 MiB the hook keeps):
for a call the hook ignores, and for an SPM domain, which the helper
refuses as too large.  The writer must see no broken pipe.
"""
import os
import subprocess
import sys
import threading

BUILD = os.environ["SPM_BUILD_ROOT"]
HOOK = os.path.join(BUILD, "hook", "virt-spm-qemu-hook")
HELPER = os.path.join(BUILD, "hook", "virt-spm-hook-helper")
SPM_NS = "http://virt-spm.org/xmlns/domain/1.0"

failures = []
count = 0


def check(cond, what):
    global count
    count += 1
    print(("ok %d - " if cond else "not ok %d - ") % count + what)
    if not cond:
        failures.append(what)


def feed(args, data, env):
    """Run the hook with @data on a pipe; (exit status, stderr, what the writer saw)."""
    p = subprocess.Popen([HOOK] + args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, env=env)
    seen = {"error": None}

    def write():
        try:
            view = memoryview(data)
            for i in range(0, len(data), 1 << 20):
                p.stdin.write(view[i:i + (1 << 20)])
            p.stdin.close()
        except OSError as e:  # BrokenPipeError: the hook stopped reading
            seen["error"] = e

    t = threading.Thread(target=write)
    t.start()
    err = b""
    try:
        err = p.stderr.read()
        p.wait(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    t.join(timeout=60)
    return p.returncode, err.decode(errors="replace"), seen["error"]


def main():
    conf = os.path.join(os.environ["SPM_SOURCE_ROOT"], "tests", "data", "golden.conf")
    env = {"PATH": "/usr/bin:/bin", "VIRT_SPM_HOOK_HELPER": HELPER, "VIRT_SPM_HOOK_CONFIG": conf,
           "VIRT_SPM_HOOK_LIBVIRT_VERSION": "9000000", "VIRT_SPM_HOOK_CACHE_DIR": "/nonexistent/cache"}
    big = 24 * 1024 * 1024
    plain = b"<domain><name>vm</name>" + b"<!--" + b"x" * big + b"--></domain>"
    rc, err, broken = feed(["vm", "reconnect", "begin", "-"], plain, env)
    check(rc == 0 and broken is None,
          "a call the hook ignores: all %d bytes read (exit %d, writer: %r)" % (len(plain), rc, broken))
    rc, err, broken = feed(["vm", "stopped", "end", "-"], plain, env)
    check(rc == 0 and broken is None,
          "a domain without SPM: all read (exit %d, writer: %r)" % (rc, broken))

    spm = ('<domain xmlns:spm="%s"><name>vm</name>' % SPM_NS).encode() + \
        b"<!--" + b"x" * big + b"--></domain>"
    rc, err, broken = feed(["vm", "prepare", "begin", "-"], spm, env)
    check(rc == 1 and broken is None and err.count("\n") == 1 and "more than the limit" in err,
          "an SPM domain over the limit: all read, refused in one line (exit %d, writer: %r, %s)"
          % (rc, broken, err.strip()[:200]))

    small = ('<domain xmlns:spm="%s"><name>vm</name></domain>' % SPM_NS).encode()
    rc, err, broken = feed(["vm", "reconnect", "begin", "-"], small, env)
    check(rc == 0 and broken is None, "a small XML: unchanged")
    print("1..%d" % count)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
