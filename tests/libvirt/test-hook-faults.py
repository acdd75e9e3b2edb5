#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The libvirt hook when virt-spmd is down, hung or slow (docs/reliability.md).

The hook runs as libvirt runs it (argv NAME OP SUBOP -, the domain XML that
libvirt recorded on stdin) against a control socket that is: absent; a
stale file nobody listens on; listening but never accepted; accepted but
never answered; answered after 2 s; answered at once.  Whatever the daemon
does, the hook must exit 0 (a start is never refused for the daemon's sake)
and within its notify budget (200 ms) plus a margin for process start-up,
never at the daemon's pace.  A domain without SPM never reaches the daemon
at all.  Prints the wall times.
"""
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

BUILD = os.environ["SPM_BUILD_ROOT"]
SOURCE = os.environ["SPM_SOURCE_ROOT"]
HOOK = os.path.join(BUILD, "hook", "virt-spm-qemu-hook")
HELPER = os.path.join(BUILD, "hook", "virt-spm-hook-helper")
DATA = os.path.join(SOURCE, "tests", "libvirt", "data")
CONF = os.path.join(SOURCE, "tests", "data", "golden.conf")
BUDGET_MS = 200         # SPM_HOOK_NOTIFY_TIMEOUT_MS
MARGIN_MS = 1500        # process start-up under a loaded (sanitizer) build
SLOW_S = 2.0


class Peer(threading.Thread):
    """A fake virt-spmd: 'hung' accepts and never answers, 'slow' answers
    after SLOW_S, 'ok' answers at once, 'backlog' never accepts."""

    def __init__(self, path, mode):
        super().__init__(daemon=True)
        self.mode = mode
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(path)
        self.sock.listen(64)
        self.stop = threading.Event()
        self.conns = []

    def run(self):
        if self.mode == "backlog":
            self.stop.wait()
            return
        self.sock.settimeout(0.1)
        while not self.stop.is_set():
            try:
                c, _ = self.sock.accept()
            except socket.timeout:
                continue
            self.conns.append(c)
            if self.mode == "hung":
                continue
            threading.Thread(target=self.answer, args=(c,), daemon=True).start()

    def answer(self, c):
        try:
            c.recv(4096)
            if self.mode == "slow":
                self.stop.wait(SLOW_S)
            c.sendall(b'{"ok":true}\n')
        except OSError:
            pass

    def close(self):
        self.stop.set()
        self.join(5)
        for c in self.conns:
            c.close()
        self.sock.close()


def run_hook(xml, op, subop, sock_path):
    env = dict(os.environ, VIRT_SPM_HOOK_HELPER=HELPER, VIRT_SPM_HOOK_CONFIG=CONF,
               VIRT_SPM_CONTROL_SOCKET=sock_path,
               VIRT_SPM_HOOK_CACHE_DIR=os.path.join(tempfile.gettempdir(), "spm-hook-faults-cache"))
    t0 = time.monotonic()
    p = subprocess.run([HOOK, "recorded", op, subop, "-"], input=xml, capture_output=True,
                       env=env, timeout=60)
    return (time.monotonic() - t0) * 1000, p


def main():
    for exe in (HOOK, HELPER):
        if not os.access(exe, os.X_OK):
            print("# SKIP %s is not built" % exe)
            return 77
    spm = open(os.path.join(DATA, "recorded-standin.started.begin.xml"), "rb").read()
    plain = open(os.path.join(DATA, "recorded-plain.started.begin.xml"), "rb").read()
    work = tempfile.mkdtemp(prefix="spm-hook-faults-")
    failures = 0
    rows = []
    try:
        for mode in ("down", "stale", "backlog", "hung", "slow", "ok"):
            path = os.path.join(work, mode + ".sock")
            peer = None
            if mode == "stale":
                s = socket.socket(socket.AF_UNIX)
                s.bind(path)
                s.close()          # the file of a killed daemon, nobody listening
            elif mode != "down":
                peer = Peer(path, mode)
                peer.start()
            try:
                for what, xml in (("spm", spm), ("plain", plain)):
                    times = []
                    for _ in range(5):
                        ms, p = run_hook(xml, "started", "begin", path)
                        times.append(ms)
                        if p.returncode != 0:
                            print("not ok - %s/%s: hook exit %d: %s" % (mode, what, p.returncode,
                                                                        p.stderr.decode(errors="replace")))
                            failures += 1
                    worst = max(times)
                    limit = BUDGET_MS + MARGIN_MS
                    ok = worst < limit and (mode != "slow" or what != "spm" or worst < SLOW_S * 1000)
                    if not ok:
                        failures += 1
                    rows.append((mode, what, statistics.median(times), worst))
                    print("%s - daemon %-7s %-5s domain: median %6.1f ms, worst %6.1f ms (limit %d ms)"
                          % ("ok" if ok else "not ok", mode, what, statistics.median(times), worst, limit))
            finally:
                if peer:
                    peer.close()
    finally:
        for f in os.listdir(work):
            os.unlink(os.path.join(work, f))
        os.rmdir(work)
    print("%d failures" % failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
