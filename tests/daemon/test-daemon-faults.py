#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""virt-spmd under faults, with a real libvirtd and QEMU (docs/reliability.md).

1. virt-spmd SIGKILLed again and again while audits rewrite its state file:
   the file always parses (never torn); a leftover temporary file is
   removed at the next start, which re-audits.
2. the state directory full (a 64 KiB tmpfs): audits still answer, the
   previous state file stays whole, and the next audit after space is freed
   writes it again; then the directory read-only: the same.
3. libvirtd SIGKILLed while an audit waits on a stopped QEMU monitor: the
   audit ends with an error, virt-spmd reconnects when libvirtd is back and
   re-audits to a match.
4. QEMU SIGKILLed while an audit waits on its monitor: the audit ends with
   an error, the domain shows as stopped.
Each prints expected/observed and the recovery time.  Needs root and
libvirtd (skips otherwise); restarts libvirtd once.
"""
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spmtest as t  # noqa: E402

results = []


def report(fault, expected, observed, recovery_ms):
    results.append((fault, expected, observed, recovery_ms))
    print("ok - %s: expected %s; observed %s; recovery %s" % (
        fault, expected, observed, "%.0f ms" % recovery_ms if recovery_ms is not None else "-"))


def request(sock_path, obj, timeout=10):
    reply = t.control_line(sock_path, json.dumps(obj).encode() + b"\n", timeout)
    return json.loads(reply) if reply else None


class Hammer(threading.Thread):
    """Forced audits, back to back: every one rewrites the state file."""

    def __init__(self, sock_path, name):
        super().__init__(daemon=True)
        self.sock_path, self.name = sock_path, name
        self.stop = threading.Event()
        self.done = 0

    def run(self):
        while not self.stop.is_set():
            try:
                request(self.sock_path, {"command": "audit", "domain": self.name}, 5)
                self.done += 1
            except (OSError, ValueError):
                time.sleep(0.01)   # the daemon is being killed/restarted: retry


def state_files(state_dir, dom_uuid):
    names = os.listdir(state_dir)
    temps = [n for n in names if n.startswith(dom_uuid + ".json.")]
    return names, temps


def check_state_file(path):
    with open(path) as f:
        o = json.load(f)
    assert o.get("verdict") in ("match", "mismatch", "error") and o.get("domain"), o
    return o


def fault_kill_during_writes(work, config, name, dom_uuid):
    daemon = t.Daemon(os.path.join(work, "d1"), config)
    os.makedirs(daemon.workdir)
    daemon.start()
    daemon.wait_verdict(name)
    path = os.path.join(daemon.state, dom_uuid + ".json")
    rounds, audits, temps_seen, worst = 25, 0, 0, 0.0
    try:
        for _ in range(rounds):
            h = Hammer(daemon.sock, name)
            h.start()
            t.wait_for("a few audits", lambda: h.done >= 3, 30, 0.005)
            time.sleep(random.uniform(0, 0.05))   # a random point of the write cycle
            daemon.kill(signal.SIGKILL)
            h.stop.set()
            h.join(10)
            audits += h.done
            check_state_file(path)                 # never torn
            temps_seen += len(state_files(daemon.state, dom_uuid)[1])
            count = check_state_file(path).get("audit_count", 0)
            t0 = time.monotonic()
            daemon.start()
            daemon.wait_verdict(name, count + 1, 60)   # the restart's re-audit
            worst = max(worst, (time.monotonic() - t0) * 1000)
            left = state_files(daemon.state, dom_uuid)[1]
            assert not left, "temporary files left after the restart: %s" % left
    finally:
        daemon.kill(signal.SIGTERM)
    report("virt-spmd SIGKILLed during state-file writes (%d kills, %d audits)" % (rounds, audits),
           "the state file always whole; leftovers removed; re-audit after restart",
           "state file parsed after every kill; %d leftover temporary files seen, all removed at restart" % temps_seen,
           worst)


def fault_state_dir_full_and_ro(work, config, name, dom_uuid):
    mnt = os.path.join(work, "statefs")
    os.makedirs(mnt)
    t.run("mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", mnt)
    daemon = t.Daemon(os.path.join(work, "d2"), config, extra=[])
    os.makedirs(daemon.workdir)
    daemon.state = os.path.join(mnt, "state")
    try:
        daemon.start()
        daemon.wait_verdict(name)
        path = os.path.join(daemon.state, dom_uuid + ".json")
        good = check_state_file(path)
        # fill the file system
        filler = os.path.join(mnt, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while os.write(fd, b"\0" * 4096) > 0:
                pass
        except OSError:
            pass        # ENOSPC: full
        finally:
            os.close(fd)
        p = daemon.audit(name)
        assert p.returncode == 0 and "match" in p.stdout, (p.stdout, p.stderr)
        t.wait_for("the ENOSPC log line", lambda: "No space left on device" in daemon.log_text(), 10)
        assert daemon.proc.poll() is None
        # the file of the last audit that had room is still whole
        assert check_state_file(path)["audit_count"] >= good["audit_count"]
        os.unlink(filler)
        t0 = time.monotonic()
        p = daemon.audit(name)
        assert p.returncode == 0, p.stderr
        count = daemon.domain(name)["audit_count"]
        t.wait_for("state file written again",
                   lambda: check_state_file(path).get("audit_count") == count, 10, 0.01)
        report("state directory full (64 KiB tmpfs)",
               "audits go on; the old state file stays whole; written again once there is space",
               "audit answered 'match'; 'No space left on device' logged; file whole; rewritten by the next audit",
               (time.monotonic() - t0) * 1000)

        t.run("mount", "-o", "remount,ro", mnt)
        p = daemon.audit(name)
        assert p.returncode == 0 and "match" in p.stdout, (p.stdout, p.stderr)
        t.wait_for("the EROFS log line", lambda: "Read-only file system" in daemon.log_text(), 10)
        assert daemon.proc.poll() is None
        check_state_file(path)
        t.run("mount", "-o", "remount,rw", mnt)
        t0 = time.monotonic()
        p = daemon.audit(name)
        count = daemon.domain(name)["audit_count"]
        t.wait_for("state file written again",
                   lambda: check_state_file(path).get("audit_count") == count, 10, 0.01)
        report("state directory read-only",
               "audits go on; the state file stays; written again once writable",
               "audit answered 'match'; 'Read-only file system' logged; rewritten by the next audit",
               (time.monotonic() - t0) * 1000)
    finally:
        daemon.kill(signal.SIGTERM)
        t.run("umount", "-l", mnt, check=False)


def start_daemon(work, sub, config, name):
    """A virt-spmd of its own, connected, with a verdict for @name."""
    daemon = t.Daemon(os.path.join(work, sub), config)
    os.makedirs(daemon.workdir)
    daemon.start()
    t.wait_for("connected", lambda: daemon.status()["connected"], 60, 0.05)
    daemon.wait_verdict(name)
    return daemon


def qemu_pid(name):
    return int(open("/run/libvirt/qemu/%s.pid" % name).read().strip())


def audit_in_background(daemon, name):
    return subprocess.Popen([t.VIRT_SPM, "audit", name, "--timeout", "30"], env=daemon.env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def fault_libvirtd_killed(work, config, name):
    daemon = start_daemon(work, "d3", config, name)
    qpid = qemu_pid(name)
    try:
        os.kill(qpid, signal.SIGSTOP)
        proc = audit_in_background(daemon, name)
        t.wait_for("audit in flight", lambda: daemon.domain(name)["auditing"], 10, 0.01)
        conns = daemon.status()["connections"]
        count = daemon.domain(name)["audit_count"]
        t_kill = time.monotonic()
        for pid in t.libvirtd_pids():
            os.kill(pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=60)
        audit_ms = (time.monotonic() - t_kill) * 1000
    finally:
        os.kill(qpid, signal.SIGCONT)
    t.wait_for("libvirtd gone", lambda: not any(t.alive(p) for p in t.libvirtd_pids()), 30)
    t.run("libvirtd", "-d", check=False)
    t0 = time.monotonic()
    t.wait_for("libvirtd", t.libvirt_alive, 60, 0.1)
    t.wait_for("reconnect", lambda: daemon.status()["connections"] > conns and daemon.status()["connected"], 60, 0.05)

    # libvirtd, reconnecting to a QEMU whose monitor still holds the reply
    # to the command it was killed in, may give up and stop the guest
    # ("shutting down, reason=daemon" in its log): then virt-spmd must show
    # it stopped; otherwise re-audit it to a match.
    def settled():
        d = daemon.domain(name)
        if d and d["active"] and d.get("audit_count", 0) >= count + 1 and d["verdict"] == "match":
            return "re-audited: match"
        running = t.virsh("domstate", name, check=False).stdout.strip() == "running"
        if d and not running and not d["active"]:
            return "libvirt stopped the guest on reconnect; shown stopped"
        return None
    outcome = t.wait_for("re-audit or stop", settled, 60, 0.05)
    recovery = (time.monotonic() - t0) * 1000
    assert daemon.proc.poll() is None
    daemon.kill(signal.SIGTERM)
    report("libvirtd SIGKILLed during an audit",
           "the audit fails with one line; reconnect; the domain re-audited (or shown stopped if libvirt stopped it)",
           "audit exit %d after %.0f ms (%s); reconnected; %s" % (
               proc.returncode, audit_ms, (err.strip().splitlines() or ["-"])[-1][:100], outcome),
           recovery)

    assert proc.returncode != 0 and "\n" not in err.strip(), (out, err)


def fault_qemu_killed(work, config, name):
    # a fresh QEMU: libvirt may keep the monitor of the previous fault in
    # an error state after its restart
    t.virsh("destroy", name, check=False)
    t.start_domain(name)
    daemon = start_daemon(work, "d4", config, name)
    qpid = qemu_pid(name)
    os.kill(qpid, signal.SIGSTOP)
    proc = audit_in_background(daemon, name)
    try:
        t.wait_for("audit in flight", lambda: daemon.domain(name)["auditing"], 10, 0.01)
    except AssertionError:
        os.kill(qpid, signal.SIGCONT)
        proc.kill()
        raise AssertionError("no audit in flight: %s %s" % (daemon.domain(name), proc.communicate()))
    t0 = time.monotonic()
    os.kill(qpid, signal.SIGKILL)
    out, err = proc.communicate(timeout=60)
    audit_ms = (time.monotonic() - t0) * 1000
    t.wait_for("stopped", lambda: daemon.domain(name)["active"] is False, 60, 0.01)
    recovery = (time.monotonic() - t0) * 1000
    assert daemon.proc.poll() is None
    daemon.kill(signal.SIGTERM)
    report("QEMU SIGKILLed during a query",
           "the audit fails with one line; the domain shows stopped",
           "audit exit %d after %.0f ms (%s); shown stopped" % (
               proc.returncode, audit_ms, (err.strip().splitlines() or ["-"])[-1][:100]),
           recovery)
    assert proc.returncode != 0 and "\n" not in err.strip(), (out, err)


def main():
    t.ensure_libvirtd()
    work = tempfile.mkdtemp(prefix="spmd-faults-")
    config = os.path.join(work, "virt-spm.conf")
    with open(config, "w") as f:
        f.write("[daemon]\nreconnect_min_ms = 100\nreconnect_max_ms = 1000\n"
                "audit_retry_ms = 300\naudit_attempts = 20\naudit_timeout_ms = 20000\n")
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "spm-guest.xml")
    name = "spmf-" + uuid.uuid4().hex[:8]
    try:
        path = os.path.join(work, name + ".xml")
        open(path, "w").write(t.convert(src, name, config))
        t.virsh("define", path)
        t.start_domain(name)
        dom_uuid = t.virsh("domuuid", name).stdout.strip()
        fault_kill_during_writes(work, config, name, dom_uuid)
        fault_state_dir_full_and_ro(work, config, name, dom_uuid)
        fault_libvirtd_killed(work, config, name)
        fault_qemu_killed(work, config, name)
        print("\n| fault | expected | observed | recovery |\n|---|---|---|---|")
        for fault, exp, obs, rec in results:
            print("| %s | %s | %s | %s |" % (fault, exp, obs, "%.0f ms" % rec if rec is not None else "-"))
        return 0
    finally:
        t.cleanup_domains(name)
        for sub in ("d1", "d2", "d3", "d4"):
            log = os.path.join(work, sub, "daemon.log")
            if os.path.exists(log) and results and len(results) < 5:
                sys.stderr.write("--- %s\n%s" % (log, open(log).read()[-3000:]))


if __name__ == "__main__":
    sys.exit(main())
