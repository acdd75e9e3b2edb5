#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The hook helper's migrate begin on the destination, as libvirt runs it
(argv, XML on stdin, the XML to use on stdout), against a private ledger,
without libvirt: a domain converted with the pc-dimm stand-in on Debian's
QEMU (the decision and the ledger are those of sp-mem; test-hook-migrate
covers the re-binding's cases, migrate-libvirt-12.8 the real migration).

 1. by default refused in one line (QEMU 11.1.3's sp-mem does not migrate
    its memory), nothing reserved;
 2. with [qemu] migrate_memory = true: exit 0, the XML on stdout with this
    host's nodes, the ledger holds it, virt-spmd is told ("incoming"), and
    the start's prepare begin of that XML reserves the same;
 3. a destination too small: refused, the ledger byte-identical.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading

BUILD = os.environ["SPM_BUILD_ROOT"]
SOURCE = os.environ["SPM_SOURCE_ROOT"]
VIRT_SPM = os.path.join(BUILD, "cli", "virt-spm")
HELPER = os.path.join(BUILD, "hook", "virt-spm-hook-helper")
QEMU = "/usr/bin/qemu-system-x86_64"
NAME = "spm-migrate"
UUID = "0b6c9a0e-3c1f-4a53-9d0e-2a4f0d1c0021"

n_ok = 0


def ok(what):
    global n_ok
    n_ok += 1
    print("ok %d - %s" % (n_ok, what), flush=True)


class FakeDaemon:
    """virt-spmd's control socket: records each request, answers ok."""

    def __init__(self, path):
        self.lines = []
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(path)
        self.sock.listen(4)
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            c, _ = self.sock.accept()
            with c, c.makefile("rw") as f:
                line = f.readline()
                if line:
                    self.lines.append(json.loads(line))
                    f.write('{"ok": true}\n')
                    f.flush()


def main():
    if not os.access(QEMU, os.X_OK):
        print("1..0 # SKIP no %s" % QEMU)    # (tap: the plan is the skip, exit 0)
        sys.exit(0)
    work = tempfile.mkdtemp(prefix="spm-migrate-helper-")
    try:
        conf = os.path.join(work, "virt-spm.conf")
        ledger = os.path.join(work, "run")
        sock = os.path.join(work, "control.sock")
        daemon = FakeDaemon(sock)
        env = dict(os.environ, VIRT_SPM_HOOK_CONFIG=conf, VIRT_SPM_HOOK_CACHE_DIR=os.path.join(work, "cache"),
                   VIRT_SPM_LEDGER_DIR=ledger, VIRT_SPM_CONTROL_SOCKET=sock)

        def write_conf(inventory, migrate_memory):
            with open(conf, "w") as f:
                f.write("[host]\nspm_nodes = %s\n" % inventory)
                if migrate_memory:
                    f.write("[qemu]\nmigrate_memory = true\n")

        def hook(op, subop, xml):
            return subprocess.run([HELPER, NAME, op, subop, "-"], input=xml, capture_output=True, env=env)

        def ledger_text():
            path = os.path.join(ledger, "ledger.json")
            return open(path, "rb").read() if os.path.exists(path) else b""

        def holding():
            h = json.loads(ledger_text())["holdings"]
            return {d["device"]: d["nodeset"] for d in h[0]["devices"]} if h else {}

        # the source: nodes 2 and 3
        src = open(os.path.join(SOURCE, "tests", "libvirt", "data", "migrate", "two-hbm.xml")).read()
        user = os.path.join(work, "user.xml")
        with open(user, "w") as f:
            f.write(src.replace("/opt/qemu-11.1/bin/qemu-system-x86_64", QEMU))
        write_conf("2:1GiB,3:1GiB", False)
        xml = subprocess.run([VIRT_SPM, "-q", "--config", conf, "convert", "--stand-in", "pc-dimm", user],
                             capture_output=True, check=True).stdout
        assert b'device="sp-mem"' in xml and b"host-nodes=2," in xml, xml

        write_conf("4:1GiB,5:1GiB", False)
        p = hook("migrate", "begin", xml)
        err = p.stderr.decode()
        assert p.returncode == 1 and p.stdout == b"", p
        assert err.count("\n") == 1 and err.startswith(
            "virt-spm: refusing to migrate domain '%s': QEMU's 'sp-mem' device migrates, but not the "
            "contents of its memory" % NAME), err
        assert ledger_text() == b"" and daemon.lines == [], (ledger_text(), daemon.lines)
        ok("refused by default: " + err.strip()[:120])

        write_conf("4:1GiB,5:1GiB", True)
        p = hook("migrate", "begin", xml)
        assert p.returncode == 0, p.stderr
        out = p.stdout
        assert out.count(b"host-nodes=4,policy=bind") == 4 and b"host-nodes=2" not in out, out
        assert out.replace(b"host-nodes=4,", b"host-nodes=X,").replace(b"<spm:nodemask>4<", b"<spm:nodemask>X<") == \
            xml.replace(b"host-nodes=2,", b"host-nodes=X,").replace(b"host-nodes=3,", b"host-nodes=X,") \
               .replace(b"<spm:nodemask>2<", b"<spm:nodemask>X<").replace(b"<spm:nodemask>3<", b"<spm:nodemask>X<"), \
            "more than the host binding changed"
        assert holding() == {"ua-hbm0": "4", "ua-hbm1": "4"}, ledger_text()
        assert [(m["event"], m["domain"], m["uuid"]) for m in daemon.lines] == [("incoming", NAME, UUID)], daemon.lines
        after_migrate = holding()
        p = hook("prepare", "begin", out)
        assert p.returncode == 0, p.stderr
        assert holding() == after_migrate, ledger_text()
        ok("re-bound to node 4, only the host binding changed; prepare begin of that XML reserves the same")

        # too small: what is held stays as it is, byte for byte
        p = hook("release", "end", out)
        assert p.returncode == 0 and holding() == {}, (p, ledger_text())
        write_conf("4:128MiB,5:128MiB", True)
        before = ledger_text()
        p = hook("migrate", "begin", xml)
        err = p.stderr.decode()
        assert p.returncode == 1 and p.stdout == b"", p
        assert err.count("\n") == 1 and "virt-spm: refusing to migrate domain '%s' to this host: this host " \
            "cannot hold its HBM (on the source's nodes: " % NAME in err, err
        assert ledger_text() == before
        ok("too small: " + err.strip()[:140])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("1..%d" % n_ok)


if __name__ == "__main__":
    main()
