#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The hook journals each refusal with its structured fields.

No journald runs on a CI machine, so this test is journald: in a private
mount namespace (unshare -m, a tmpfs on /run) it binds a datagram socket at
/run/systemd/journal/socket -- where sd_journal_sendv() writes -- runs the
hook helper for two domains that fit and a third that does not, and reads
the entry libsystemd sent.  Needs root and unshare (skips with 77).
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid

BUILD = os.environ["SPM_BUILD_ROOT"]
HERE = os.path.dirname(os.path.abspath(__file__))
VIRT_SPM = os.path.join(BUILD, "cli", "virt-spm")
HELPER = os.path.join(BUILD, "hook", "virt-spm-hook-helper")


def skip(why):
    # meson's tap protocol: the plan of no test is the skip, a non-zero exit an error
    print("1..0 # SKIP " + why)
    sys.exit(0)


def converted(work, conf, name):
    src = open(os.path.join(HERE, "data", "hbm-guest.xml")).read()
    src = src.replace("<name>spm-ledger-test</name>", "<name>%s</name>\n  <uuid>%s</uuid>" % (name, uuid.uuid4()))
    user = os.path.join(work, name + ".user.xml")
    with open(user, "w") as f:
        f.write(src)
    p = subprocess.run([VIRT_SPM, "-q", "--config", conf, "convert", "--stand-in", "pc-dimm", user],
                       capture_output=True, check=True)
    return p.stdout


def inner():
    work = tempfile.mkdtemp(prefix="spm-journal-")
    try:
        os.makedirs("/run/systemd/journal")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind("/run/systemd/journal/socket")
        sock.settimeout(10)
        conf = os.path.join(work, "virt-spm.conf")
        with open(conf, "w") as f:
            f.write("[host]\nspm_nodes = 0:1280MiB\n")
        env = dict(os.environ, VIRT_SPM_HOOK_CONFIG=conf, VIRT_SPM_HOOK_CACHE_DIR=os.path.join(work, "cache"),
                   VIRT_SPM_LEDGER_DIR=os.path.join(work, "run"),
                   VIRT_SPM_CONTROL_SOCKET=os.path.join(work, "none.sock"))
        results = []
        for name in ("jr-a", "jr-b", "jr-c"):
            p = subprocess.run([HELPER, name, "prepare", "begin", "-"], input=converted(work, conf, name),
                               capture_output=True, env=env)
            results.append(p)
        assert results[0].returncode == 0 and results[1].returncode == 0, results
        assert results[2].returncode == 1, results[2]
        line = results[2].stderr.decode().strip()
        data = sock.recv(65536).decode()
        fields = dict(l.split("=", 1) for l in data.split("\n") if "=" in l)
        assert fields["MESSAGE"] == line, (fields, line)
        assert fields["PRIORITY"] == "4" and fields["SYSLOG_IDENTIFIER"] == "virt-spm", fields
        assert fields["DOMAIN_NAME"] == "jr-c" and fields["SPM_DEVICE"] == "ua-hbm0", fields
        assert fields["SPM_HOST_NODE"] == "0", fields
        assert fields["SPM_ASKED"] == str(512 << 20) and fields["SPM_FREE"] == str(256 << 20), fields
        assert fields["SPM_HOLDERS"] == "jr-a/ua-hbm0 512 MiB, jr-b/ua-hbm0 512 MiB", fields
        print("ok 1 - the refusal reached the journal socket: %s" %
              " ".join("%s=%s" % (k, fields[k]) for k in ("DOMAIN_NAME", "SPM_HOST_NODE", "SPM_ASKED", "SPM_FREE")))
        # only refusals are journaled
        sock.settimeout(0.2)
        try:
            extra = sock.recv(65536)
        except socket.timeout:
            extra = None
        assert extra is None, extra
        print("ok 2 - admitted starts send nothing")

        # a warning goes there too: a Nova 32+ guest (Nova 34's own metadata)
        # whose flavor has no spm: spec, though a flavors.d file names it
        flavors = os.path.join(work, "flavors.d")
        os.makedirs(flavors)
        with open(os.path.join(flavors, "m1.bare.conf"), "w") as f:
            f.write("[spm]\nsize = 1GiB\n")
        with open(conf, "a") as f:
            f.write("[nova]\nflavors_dir = %s\n" % flavors)
        meta = open(os.path.join(HERE, "..", "nova", "fixtures", "nova-metadata",
                                 "nova34-m1.bare.xml")).read()
        xml = ('<domain type="qemu"><name>jr-nova</name><uuid>%s</uuid><memory>524288</memory>'
               '<metadata>%s</metadata><os><type>hvm</type></os></domain>' % (uuid.uuid4(), meta))
        p = subprocess.run([HELPER, "jr-nova", "prepare", "begin", "-"], input=xml.encode(),
                           capture_output=True, env=env)
        sock.settimeout(10)
        data = sock.recv(65536).decode()
        fields = dict(l.split("=", 1) for l in data.split("\n") if "=" in l)
        line = p.stderr.decode().strip()
        assert p.returncode == 0 and line.startswith("virt-spm: warning: flavor 'm1.bare': "), p
        assert fields["MESSAGE"] == line and fields["PRIORITY"] == "4" and \
            fields["SYSLOG_IDENTIFIER"] == "virt-spm", (fields, line)
        print("ok 3 - a start's warning reached the journal socket too (PRIORITY=4)")
        print("1..3")
    finally:
        shutil.rmtree(work)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--inner":
        return inner()
    if os.geteuid() != 0:
        skip("needs root (a private mount namespace)")
    if not shutil.which("unshare"):
        skip("unshare is not installed")
    if not os.path.exists("/usr/lib/x86_64-linux-gnu/libsystemd.so.0") and \
       not os.path.exists("/lib/x86_64-linux-gnu/libsystemd.so.0"):
        skip("libsystemd is not installed")
    # a tmpfs on /run only in this namespace: the host's /run is untouched
    p = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                        'mount -t tmpfs none /run && exec "$0" "$1" --inner',
                        sys.executable, os.path.abspath(__file__)])
    sys.exit(p.returncode)


main()
