#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""virt-spmd and virt-spm audit against hostile local input, without libvirt
or QEMU: a QMP peer that hides nesting behind '"' (greeting, reply), the
plan that `virt-spm plan --json` prints given to `audit --qmp`; control requests
that hide nesting behind single-quoted strings, a ledger.json nested a
million levels deep (at every status, and across a restart), idle clients,
more clients than [daemon] max_clients, and the descriptor limit (the
daemon under RLIMIT_NOFILE: no spinning, no flood in the log)."""
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spmtest as t  # noqa: E402

DEAD_URI = "qemu+unix:///system?socket=/nonexistent/virt-spm-test/libvirt-sock"
HIDDEN = b"'\"', \"deep\": " + b"[" * 12 + b"1" + b"]" * 12 + b", \"end\": '\"'"


sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "common"))
from fakesysfs import fake_sysfs as common_fake_sysfs  # noqa: E402


def fake_sysfs(root):
    """Node 0 with CPUs, node 1 memory-only (16 GiB): an inventory, so that
    status reads the ledger."""
    common_fake_sysfs(root, [16, 16], '0')


class Daemon:
    def __init__(self, work, name, extra="", nofile=None):
        self.work = work
        self.sock = os.path.join(work, name + ".sock")
        self.logpath = os.path.join(work, name + ".log")
        conf = os.path.join(work, name + ".conf")
        with open(conf, "w") as f:
            f.write("[host]\nspm_nodes = 1\n[daemon]\nreconnect_min_ms = 1000\n"
                    "reconnect_max_ms = 1000\n" + extra)
        self.env = dict(os.environ, VIRT_SPM_CONTROL_SOCKET=self.sock,
                        VIRT_SPM_SYSFS_ROOT=os.path.join(work, "sys"),
                        VIRT_SPM_LEDGER_DIR=os.path.join(work, "run"))

        def limit():
            if nofile:
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))
        self.p = subprocess.Popen([t.VIRT_SPMD, "--config", conf, "--connect", DEAD_URI,
                                   "--state-dir", os.path.join(work, name + "-state"),
                                   "--socket", self.sock, "--allow-uid", str(os.getuid())],
                                  stdout=open(self.logpath, "w"), stderr=subprocess.STDOUT,
                                  env=self.env, preexec_fn=limit)
        # the socket file exists from bind(2) on, connections from listen(2)
        t.wait_for("control socket", lambda: self.listening() or self.p.poll() is not None, 15)
        assert self.p.poll() is None, self.log()

    def listening(self):
        try:
            self.connect().close()
            return True
        except OSError:
            return False

    def log(self):
        return open(self.logpath, errors="replace").read()

    def connect(self):
        c = socket.socket(socket.AF_UNIX)
        c.settimeout(10)
        c.connect(self.sock)
        return c

    def ask(self, line, c=None):
        own = c is None
        c = c or self.connect()
        try:
            c.sendall(line + b"\n")
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = c.recv(65536)
                assert chunk, "virt-spmd closed the connection; log: " + self.log()[-2000:]
                buf += chunk
            return json.loads(buf)
        finally:
            if own:
                c.close()

    def cpu_seconds(self):
        with open("/proc/%d/stat" % self.p.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        if self.p.poll() is None:
            self.p.terminate()
            try:
                self.p.wait(10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        return self.p.returncode


def closed_by_peer(c, timeout):
    c.settimeout(timeout)
    try:
        return c.recv(4096) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def fake_qmp(path, greeting, reply):
    """One QMP client: @greeting, then @reply(id) to query-memory-devices."""
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(path)
    srv.listen(1)

    def serve():
        c, _ = srv.accept()
        f = c.makefile("rwb")
        try:
            f.write(greeting + b"\n")
            f.flush()
            for line in f:
                req = json.loads(line)
                if req["execute"] == "qmp_capabilities":
                    f.write(b'{"return": {}, "id": "%s"}\n' % req["id"].encode())
                else:
                    f.write(reply(req["id"].encode()) + b"\n")
                f.flush()
        except (BrokenPipeError, ConnectionResetError, ValueError):
            pass
        finally:
            c.close()
            srv.close()
    th = threading.Thread(target=serve, daemon=True)
    th.start()
    return th


GREETING = b'{"QMP": {"version": {"qemu": {"micro": 0, "minor": 1, "major": 11}, "package": ""}, "capabilities": []}}'


def audit_qmp(work, name, greeting, reply, plan_path):
    sock = os.path.join(work, name + ".qmp")
    th = fake_qmp(sock, greeting, reply)
    env = dict(os.environ, VIRT_SPM_CONTROL_SOCKET=os.path.join(work, "none.sock"))
    r = t.run(t.VIRT_SPM, "audit", "--qmp", sock, "--plan", plan_path, check=False, env=env)
    th.join(10)
    return r


def check_audit_qmp(work):
    # D13: the plan is what `virt-spm plan --json` printed
    plan_path = os.path.join(work, "plan.json")
    xml = os.path.join(t.SOURCE, "tests", "data", "spm-single.xml")
    with open(plan_path, "w") as f:
        f.write(t.run(t.VIRT_SPM, "plan", "--json", xml).stdout)
    plan = json.load(open(plan_path))
    dev = plan["devices"][0]
    assert isinstance(dev["backend"], dict), dev
    # the QMP kind and address key of the revision planned for
    addr_key = {"sp-mem": "addr", "spm-memory": "memaddr"}[plan["device"]]
    found = json.dumps([{"type": plan["device"], "data": {
        "memdev": "/objects/" + dev["backend"]["id"], addr_key: dev["addr"], "size": dev["size"],
        "node": dev["node"], "id": dev["id"]}}]).encode()
    r = audit_qmp(work, "match", GREETING, lambda i: b'{"return": %s, "id": "%s"}' % (found, i), plan_path)
    assert r.returncode == 0 and "match (1 devices checked)" in r.stdout, (r.returncode, r.stdout, r.stderr)
    # ... and its backend is compared
    wrong = found.replace(dev["backend"]["id"].encode(), b"other")
    r = audit_qmp(work, "backend", GREETING, lambda i: b'{"return": %s, "id": "%s"}' % (wrong, i), plan_path)
    assert r.returncode == 1 and "backend expected" in r.stdout, (r.returncode, r.stdout, r.stderr)
    print("ok - audit --qmp --plan takes the output of plan --json")

    # D3: nesting behind '"', in the greeting and in a reply
    deep = b"'\"', \"deep\": " + b"[" * 1000000 + b"]" * 1000000 + b", \"end\": '\"'"
    r = audit_qmp(work, "greeting", b'{"QMP": {"version": ' + deep + b'}}', lambda i: b"", plan_path)
    assert r.returncode == 1 and "nested deeper" in r.stderr, (r.returncode, r.stderr[-500:])
    assert r.stderr.count("\n") == 1, r.stderr[-500:]
    r = audit_qmp(work, "reply", GREETING, lambda i: b'{"return": ' + deep + b', "id": "%s"}' % i, plan_path)
    assert r.returncode == 1 and "nested deeper" in r.stderr, (r.returncode, r.stderr[-500:])
    print("ok - audit --qmp: a peer that hides nesting behind '\"' gets one line")


def check_hidden_nesting(work):
    """The control socket takes requests of at most 8 levels; '"' is a
    single-quoted string to json-glib, and must be one to the guard."""
    d = Daemon(work, "nest")
    try:
        r = d.ask(b'{"command": \'status\'}')
        assert r.get("ok") is True, r           # json-glib 1.6 reads 'x' as a string
        r = d.ask(b'{"command": "status", "x": ' + HIDDEN + b'}')
        assert r == {"ok": False, "error": "request is not a JSON object"}, r
        r = d.ask(b'{"command": "status", "x": [\'\\\', [[[[[[[[[[1]]]]]]]]]]]}')
        assert r.get("ok") is False, r          # no escapes in '...': the backslash is the string
        assert d.p.poll() is None
    finally:
        d.stop()
    print("ok - control socket: nesting behind '\"' refused")


def check_hostile_ledger(work):
    run = os.path.join(work, "run")
    os.makedirs(run, exist_ok=True)
    open(os.path.join(run, "ledger.lock"), "w").close()
    with open(os.path.join(run, "ledger.json"), "w") as f:
        f.write('{"version": 1, "holdings": ' + "[" * 1000000 + "]" * 1000000 + "}")
    for attempt in ("first start", "restart"):
        d = Daemon(work, "ledger")
        try:
            r = d.ask(b'{"command": "status"}')
            err = r["ledger"].get("error", "")
            assert "ledger.json' is corrupt" in err and "nested deeper" in err, r["ledger"]
            assert "\n" not in err, err
            assert d.p.poll() is None, attempt
        finally:
            rc = d.stop()
        assert rc == 0, "%s: virt-spmd exit %s: %s" % (attempt, rc, d.log()[-2000:])
    print("ok - a ledger.json nested 10^6 deep: one line, no crash, twice")


def check_idle_and_limit(work):
    d = Daemon(work, "idle", "client_idle_ms = 300\nmax_clients = 3\n")
    try:
        # an idle client and a client that never ends its request are dropped
        idle, half = d.connect(), d.connect()
        half.sendall(b'{"command": "sta')
        t0 = time.monotonic()
        assert closed_by_peer(idle, 10) and closed_by_peer(half, 10), "idle clients are kept"
        assert time.monotonic() - t0 < 5
        idle.close()
        half.close()
        # three clients hold the three slots; a fourth waits in the backlog
        held = [d.connect() for _ in range(3)]
        for c in held:
            c.sendall(b'{"command": "status"}\n')
        for c in held:
            assert b'"ok":true' in c.recv(65536)
        late = d.connect()
        late.sendall(b'{"command": "status"}\n')
        late.settimeout(0.1)
        try:
            got = late.recv(65536)
        except socket.timeout:
            got = None
        assert got is None, "a fourth client was served beside three: %r" % got
        # the held ones go idle and are dropped, and the fourth is served
        late.settimeout(10)
        assert b'"ok":true' in late.recv(65536)
        for c in held + [late]:
            c.close()
    finally:
        d.stop()
    print("ok - idle clients dropped after client_idle_ms, max_clients honoured")


def check_descriptor_limit(work):
    """At RLIMIT_NOFILE virt-spmd cannot accept: it must wait (not spin)
    and log once, and serve again when a client leaves."""
    d = Daemon(work, "emfile", "client_idle_ms = 600000\nmax_clients = 1000\n", nofile=48)
    clients = []
    try:
        # connections until the daemon stops answering: its descriptors are used up
        for _ in range(200):
            c = d.connect()
            clients.append(c)
            c.sendall(b'{"command": "status"}\n')
            c.settimeout(2)
            try:
                if c.recv(65536):
                    continue
            except socket.timeout:
                pass
            break
        else:
            raise AssertionError("200 clients served under RLIMIT_NOFILE 48")
        cpu0, t0 = d.cpu_seconds(), time.monotonic()
        # a measuring window, not a wait for an event
        time.sleep(2.0)
        cpu = (d.cpu_seconds() - cpu0) / (time.monotonic() - t0)
        lines = [x for x in d.log().splitlines() if "accept" in x.lower()]
        print("# at the descriptor limit: %d clients, CPU %.1f%%, %d log lines about accept"
              % (len(clients) - 1, cpu * 100, len(lines)))
        assert cpu < 0.10, "virt-spmd spins at the descriptor limit: %.0f%% CPU" % (cpu * 100)
        assert len(lines) <= 2, lines[:5]
        # a client leaves: the waiting one is served
        clients.pop(0).close()
        clients[-1].settimeout(10)
        assert b'"ok":true' in clients[-1].recv(65536), d.log()[-2000:]
        assert d.p.poll() is None
    finally:
        for c in clients:
            c.close()
        d.stop()
    print("ok - descriptor limit: no spin, one log line, served when a client leaves")


def main():
    work = tempfile.mkdtemp(prefix="spmd-hostile-")
    try:
        fake_sysfs(os.path.join(work, "sys"))
        check_audit_qmp(work)
        check_hidden_nesting(work)
        check_hostile_ledger(work)
        check_idle_and_limit(work)
        check_descriptor_limit(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
