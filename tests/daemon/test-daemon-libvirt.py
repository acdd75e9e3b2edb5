#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""virt-spmd end to end with a real libvirtd and real QEMU 7.2 (pc-dimm standing in);
with --sid under the sid root's libvirt 12.8 and QEMU 11.1 (the stand-in kept).

correct domain -> match; stand-in placed elsewhere -> mismatch naming the
device; virt-spm audit/status; daemon killed and restarted -> one re-audit
each, no duplicates; libvirtd restarted -> reconnected and re-audited.
"""
import os
import re
import signal
import sys
import uuid

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spmtest as t  # noqa: E402

GiB = 1 << 30


def main():
    # --sid: the sid root's libvirt 12.8 and QEMU 11.1 (docs/testing.md)
    if "--sid" in sys.argv[1:]:
        t.use_sid_root()
    t.ensure_libvirtd()
    t.take_run_lock()    # held to the exit: it restarts libvirtd, not beside another such run
    work, config = t.workspace("spmd-test-", "audit_timeout_ms = 2000\n")
    src = t.GUEST_XML
    tag = uuid.uuid4().hex[:8]
    good, bad, mixed = "spmd-good-" + tag, "spmd-bad-" + tag, "spmd-mixed-" + tag
    src_mixed = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "spm-guest-dimm.xml")
    domains = []
    daemon = t.Daemon(work, config)
    try:
        good_xml = t.convert(src, good, config)
        bad_xml, planned = t.move_stand_in(t.convert(src, bad, config), "ua-hbm0", GiB)
        mixed_xml = t.convert(src_mixed, mixed, config)
        for name, xml in ((good, good_xml), (bad, bad_xml), (mixed, mixed_xml)):
            path = os.path.join(work, name + ".xml")
            open(path, "w").write(xml)
            t.virsh("define", path)
            domains.append(name)

        daemon.start()
        t.wait_for("connected", lambda: daemon.status()["connected"], 30)

        # 1. started while the daemon runs: the STARTED event triggers the audit
        t.start_domain(good)
        d = daemon.wait_verdict(good)
        assert d["verdict"] == "match", d
        assert d["findings"] == [], d
        assert d["devices"] >= 1 and d["active"] is True, d
        assert d["latency_us"] >= 0, d

        t.start_domain(bad)
        d = daemon.wait_verdict(bad)
        assert d["verdict"] == "mismatch", d
        f = [x for x in d["findings"] if x["device"] == "ua-hbm0" and x["field"] == "addr"]
        assert f, d
        assert f[0]["expected"] == hex(planned) and f[0]["actual"] == hex(planned + GiB), f
        # SPM next to libvirt's own DIMM: the plan covers both (libvirt's DIMM
        # is a planned device, not an "unplanned" one)
        t.start_domain(mixed)
        d = daemon.wait_verdict(mixed)
        assert d["verdict"] == "match" and d["devices"] == 2, d
        t.virsh("destroy", mixed)

        log = daemon.log_text()
        assert "SPM_VERDICT=mismatch" in log and "SPM_DEVICE=ua-hbm0" in log, log

        # 2. the command line: through the daemon and directly through libvirt
        p = daemon.audit(good)
        assert p.returncode == 0 and "match" in p.stdout, (p.returncode, p.stdout, p.stderr)
        p = daemon.audit(bad)
        assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
        assert "device 'ua-hbm0': addr expected %s, actual %s" % (hex(planned), hex(planned + GiB)) in p.stdout, p.stdout
        p = daemon.audit(bad, "--direct")
        assert p.returncode == 1 and "ua-hbm0" in p.stdout, (p.stdout, p.stderr)
        p = daemon.audit("no-such-domain-" + tag)
        assert p.returncode == 1 and "not found" in p.stderr, (p.stdout, p.stderr)
        p = t.run(t.VIRT_SPM, "status", env=daemon.env)
        assert re.search(r"%s\s+\S+\s+running\s+match" % good, p.stdout), p.stdout
        assert re.search(r"%s\s+\S+\s+running\s+mismatch" % bad, p.stdout), p.stdout

        # 3. the hook's "started" for a run already audited is no new audit
        count = daemon.domain(good)["audit_count"]
        u = t.virsh("domuuid", good).stdout.strip()
        conns = daemon.status()["connections"]
        daemon.audit(good)          # count + 1 (forced)
        ev = '{"command":"event","event":"started","domain":"%s","uuid":"%s"}' % (good, u)
        sock = daemon.sock
        import socket
        s = socket.socket(socket.AF_UNIX)
        s.connect(sock)
        s.sendall(ev.encode() + b"\n")
        assert b'"ok":true' in s.recv(4096)
        s.close()
        daemon.audit(good)          # count + 2, after the event
        if daemon.status()["connections"] == conns:
            assert daemon.domain(good)["audit_count"] == count + 2, daemon.domain(good)

        # 4. daemon killed and restarted: each domain re-audited once, no duplicates
        before = {n: daemon.domain(n)["audit_count"] for n in (good, bad)}
        daemon.kill(signal.SIGKILL)
        # the stale socket of a killed daemon: virt-spm audit goes direct
        assert os.path.exists(daemon.sock)
        p = daemon.audit(bad)
        assert p.returncode == 1 and "ua-hbm0" in p.stdout, (p.stdout, p.stderr)
        log_before = len(daemon.log_text())
        daemon.start()
        for n in (good, bad):
            d = daemon.wait_verdict(n, before[n] + 1)
        # a forced audit after the restart's scan: exactly one more
        daemon.audit(good)
        if daemon.status()["connections"] == 1:
            # (a libvirtd restarted meanwhile by another test would rightly re-audit)
            assert daemon.domain(good)["audit_count"] == before[good] + 2, daemon.domain(good)
            assert daemon.domain(bad)["audit_count"] == before[bad] + 1, daemon.domain(bad)
            new_log = daemon.log_text()[log_before:]
            assert len(re.findall(r"DOMAIN_NAME=%s DOMAIN_UUID=\S+ SPM_VERDICT=" % bad, new_log)) == 1, new_log
        else:
            print("# libvirtd restarted by someone else during the check: exact counts not asserted")
        # one state file per domain (other SPM guests on this host have theirs)
        files = os.listdir(daemon.state)
        for n in (good, bad):
            u = t.virsh("domuuid", n).stdout.strip()
            assert files.count(u + ".json") == 1, files
            assert [d["domain"] for d in daemon.status()["domains"]].count(n) == 1

        # 5. libvirtd restarted: the daemon reconnects and re-audits
        st = daemon.status()
        conns = st["connections"]
        before = {n: daemon.domain(n)["audit_count"] for n in (good, bad)}
        t.restart_libvirtd()
        t.wait_for("reconnect", lambda: (daemon.status()["connections"] > conns and daemon.status()["connected"]), 60, 0.1)
        for n in (good, bad):
            daemon.wait_verdict(n, before[n] + 1, 60)
        assert daemon.domain(good)["verdict"] == "match"
        assert daemon.domain(bad)["verdict"] == "mismatch"
        assert daemon.proc.poll() is None, "virt-spmd exited"

        # 6. a QEMU whose monitor hangs: an error verdict at audit_timeout_ms,
        # the daemon keeps answering, and audits again once QEMU is back
        qpid = int(open(t.daemon_path("/run/libvirt/qemu/%s.pid" % good)).read().strip())
        os.kill(qpid, signal.SIGSTOP)
        try:
            p = daemon.audit(good)
            assert p.returncode == 1 and "no answer within 2000 ms" in p.stderr, (p.stdout, p.stderr)
            assert daemon.domain(good)["verdict"] == "error", daemon.domain(good)
            assert daemon.domain(bad)["verdict"] == "mismatch"
        finally:
            os.kill(qpid, signal.SIGCONT)
        p = daemon.audit(good)
        assert p.returncode == 0, (p.stdout, p.stderr)

        # 7. stopped: the verdict stays, the domain shows as stopped
        t.virsh("destroy", good)
        t.wait_for("stopped", lambda: daemon.domain(good)["active"] is False, 30, 0.05)
        # a clean exit on SIGTERM (and, in a sanitizer build, no report)
        assert daemon.kill(signal.SIGTERM) == 0
        assert "Sanitizer" not in daemon.log_text() and "runtime error" not in daemon.log_text()
        print("ok - virt-spmd end to end")
        return 0
    finally:
        daemon.kill(signal.SIGTERM)
        t.cleanup_domains("spmd-good-" + tag)
        t.cleanup_domains("spmd-bad-" + tag)
        t.cleanup_domains("spmd-mixed-" + tag)
        if os.path.exists(daemon.log):
            sys.stderr.write(open(daemon.log).read()[-4000:])


if __name__ == "__main__":
    sys.exit(main())
