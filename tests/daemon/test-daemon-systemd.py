#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""virt-spmd and systemd, without systemd running: the unit's security rating,
sd_notify READY/STATUS/WATCHDOG on a NOTIFY_SOCKET of our own, socket
activation with systemd-socket-activate, the 0600 socket and the SO_PEERCRED
check, and a libvirt that is not there (backoff, never exits)."""
import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spmtest as t  # noqa: E402

DEAD_URI = "qemu+unix:///system?socket=/nonexistent/virt-spm-test/libvirt-sock"


def check_security():
    sa = shutil.which("systemd-analyze")
    if not sa:
        print("# systemd-analyze missing: security rating not checked")
        return
    unit = os.path.join(t.BUILD, "conf", "virt-spmd.service")   # configured from conf/virt-spmd.service.in
    p = t.run(sa, "security", "--offline=yes", unit, check=False)
    m = re.search(r"Overall exposure level for virt-spmd.service: ([0-9.]+) (\S+)", p.stdout + p.stderr)
    assert m, p.stdout + p.stderr
    level = float(m.group(1))
    print("# systemd-analyze security: %s %s" % (level, m.group(2)))
    assert level <= 4.9 and m.group(2) in ("OK", "SAFE"), m.group(0)


def check_no_libvirt_wants():
    """A host runs libvirtd or virtqemud, not both: the unit must pull in
    neither (qemu:///system socket-activates the one the host has), only
    order itself after both."""
    unit = open(os.path.join(t.BUILD, "conf", "virt-spmd.service")).read()
    deps = [line for line in unit.splitlines()
            if re.match(r"(Wants|Requires|BindsTo|Requisite)=", line)]
    assert all("libvirtd" not in d and "virtqemud" not in d for d in deps), deps
    after = " ".join(line for line in unit.splitlines() if line.startswith("After="))
    assert "libvirtd.service" in after and "virtqemud.service" in after, after


def notify_listener(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(0.05)
    return s


def check_notify_and_backoff(work):
    npath = os.path.join(work, "notify.sock")
    ns = notify_listener(npath)
    sock = os.path.join(work, "c.sock")
    log = open(os.path.join(work, "notify.log"), "w")
    env = dict(os.environ, NOTIFY_SOCKET=npath, WATCHDOG_USEC="200000", VIRT_SPM_CONTROL_SOCKET=sock)
    env.pop("WATCHDOG_PID", None)
    conf = os.path.join(work, "c.conf")
    open(conf, "w").write("[daemon]\nreconnect_min_ms = 20\nreconnect_max_ms = 160\n")
    p = subprocess.Popen([t.VIRT_SPMD, "--config", conf, "--connect", DEAD_URI, "--state-dir",
                          os.path.join(work, "st1"), "--socket", sock, "--allow-uid", str(os.getuid())],
                         stdout=log, stderr=log, env=env)
    msgs = []
    try:
        def got(pred):
            def f():
                try:
                    msgs.append(ns.recv(4096).decode())
                except socket.timeout:
                    pass
                return any(pred(m) for m in msgs)
            return f
        t.wait_for("READY=1", got(lambda m: "READY=1" in m), 15)
        t.wait_for("two watchdog pings", got(lambda m: sum("WATCHDOG=1" in x for x in msgs) >= 2), 15)
        t.wait_for("backoff at its maximum", got(lambda m: "retry in 160 ms" in m), 15)
        retries = [int(x) for m in msgs for x in re.findall(r"retry in (\d+) ms", m)]
        assert retries == sorted(retries) and retries[-1] == 160 and retries[0] <= 40, retries
        assert p.poll() is None, "virt-spmd exited without libvirt"
        assert stat.S_IMODE(os.stat(sock).st_mode) == 0o600, oct(os.stat(sock).st_mode)
        st = json.loads(t.run(t.VIRT_SPM, "status", "--json", env=env).stdout)
        assert st["connected"] is False and st["domains"] == [], st
        r = t.run(t.VIRT_SPM, "audit", "some-domain", env=env, check=False)
        assert r.returncode == 1 and "not connected" in r.stderr, r
        # hostile clients: garbage, a wrong type, an endless line
        c = socket.socket(socket.AF_UNIX)
        c.connect(sock)
        c.sendall(b"\x01garbage\xff\n")
        assert b'"ok":false' in c.recv(4096)
        c.sendall(b'{"command": 7}\n')
        assert b"unknown command" in c.recv(4096)
        c.sendall(b'{"command":"event","event":"started","uuid":"../../etc/passwd"}\n')
        assert b'"ok":false' in c.recv(4096)
        c.sendall(b"[" * 70000)
        c.settimeout(10)
        try:
            assert c.recv(4096) == b"", "an endless request must close the connection"
        except ConnectionResetError:
            pass
        c.close()
        assert not os.listdir(os.path.join(work, "st1")), "no state file from bad requests"
        st = json.loads(t.run(t.VIRT_SPM, "status", "--json", env=env).stdout)
        assert st["connected"] is False, st
        p.terminate()
        rc = p.wait(10); assert rc == 0, "virt-spmd exit %s: %s" % (rc, open(os.path.join(work, "notify.log")).read()[-2000:])
        t.wait_for("STOPPING=1", got(lambda m: "STOPPING=1" in m), 5)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def check_socket_activation(work):
    act = shutil.which("systemd-socket-activate")
    if not act:
        print("# systemd-socket-activate missing: socket activation not checked")
        return
    sock = os.path.join(work, "act.sock")
    logpath = os.path.join(work, "act.log")
    log = open(logpath, "w")
    env = dict(os.environ, VIRT_SPM_CONTROL_SOCKET=sock)
    p = subprocess.Popen([act, "-l", sock, t.VIRT_SPMD, "--connect", DEAD_URI, "--state-dir",
                          os.path.join(work, "st2"), "--socket", os.path.join(work, "unused.sock"),
                          "--allow-uid", str(os.getuid())], stdout=log, stderr=log, env=env)
    try:
        t.wait_for("activation socket", lambda: os.path.exists(sock), 10)
        st = json.loads(t.run(t.VIRT_SPM, "status", "--json", env=env).stdout)
        assert st["connected"] is False, st
        t.wait_for("log", lambda: "control socket from systemd" in open(logpath).read(), 10)
        assert not os.path.exists(os.path.join(work, "unused.sock"))
    finally:
        p.terminate()
        p.wait(10)


def check_peer_uid(work):
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        print("# not root: SO_PEERCRED check not run")
        return
    sock = os.path.join(work, "uid.sock")
    log = open(os.path.join(work, "uid.log"), "w")
    p = subprocess.Popen([t.VIRT_SPMD, "--connect", DEAD_URI, "--state-dir", os.path.join(work, "st3"),
                          "--socket", sock], stdout=log, stderr=log)
    try:
        t.wait_for("socket", lambda: os.path.exists(sock), 10)
        os.chmod(work, 0o755)
        os.chmod(sock, 0o666)   # only the uid check stands between nobody and the daemon
        # the daemon answers a refused client at once and closes: read first
        code = ("import socket; s=socket.socket(socket.AF_UNIX); s.connect(%r); "
                "print(s.recv(4096).decode())" % sock)
        r = t.run("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", code)
        assert '"ok":false' in r.stdout and "root only" in r.stdout, r.stdout
        env = dict(os.environ, VIRT_SPM_CONTROL_SOCKET=sock)
        st = json.loads(t.run(t.VIRT_SPM, "status", "--json", env=env).stdout)
        assert "domains" in st
    finally:
        p.terminate()
        p.wait(10)


def main():
    check_security()
    check_no_libvirt_wants()
    work = tempfile.mkdtemp(prefix="spmd-sd-")
    try:
        check_notify_and_backoff(work)
        check_socket_activation(work)
        check_peer_uid(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print("ok - virt-spmd and systemd")
    return 0


if __name__ == "__main__":
    sys.exit(main())
