#!/usr/bin/env python3
"""virt-spmd end to end with a real libvirtd and real QEMU 7.2 (pc-dimm standing in).

correct domain -> match; stand-in placed elsewhere -> mismatch naming the
device; virt-spm audit/status; daemon killed and restarted -> one re-audit
each, no duplicates; libvirtd restarted -> reconnected and re-audited.
"""
import os
import re
import signal
import sys
import tempfile
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spmtest as t  # noqa: E402

GiB = 1 << 30


def main():
    t.ensure_libvirtd()
    work = tempfile.mkdtemp(prefix="spmd-test-")
    config = os.path.join(work, "virt-spm.conf")
    with open(config, "w") as f:
        f.write("[daemon]\nreconnect_min_ms = 100\nreconnect_max_ms = 1000\n"
                "audit_retry_ms = 300\naudit_attempts = 20\n")
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "spm-guest.xml")
    tag = uuid.uuid4().hex[:8]
    good, bad = "spmd-good-" + tag, "spmd-bad-" + tag
    domains = []
    daemon = t.Daemon(work, config)
    try:
        good_xml = t.convert(src, good, config)
        bad_xml, planned = t.move_stand_in(t.convert(src, bad, config), "ua-hbm0", GiB)
        for name, xml in ((good, good_xml), (bad, bad_xml)):
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
        t.run(t.VIRT_SPM, "audit", good, env=daemon.env)          # count + 1 (forced)
        ev = '{"command":"event","event":"started","domain":"%s","uuid":"%s"}' % (good, u)
        sock = daemon.sock
        import socket
        s = socket.socket(socket.AF_UNIX)
        s.connect(sock)
        s.sendall(ev.encode() + b"\n")
        assert b'"ok":true' in s.recv(4096)
        s.close()
        t.run(t.VIRT_SPM, "audit", good, env=daemon.env)          # count + 2, after the event
        assert daemon.domain(good)["audit_count"] == count + 2, daemon.domain(good)

        # 4. daemon killed and restarted: each domain re-audited once, no duplicates
        before = {n: daemon.domain(n)["audit_count"] for n in (good, bad)}
        daemon.kill(signal.SIGKILL)
        log_before = len(daemon.log_text())
        daemon.start()
        for n in (good, bad):
            d = daemon.wait_verdict(n, before[n] + 1)
            assert d["audit_count"] == before[n] + 1, d
        # a forced audit after the restart's scan: exactly one more
        t.run(t.VIRT_SPM, "audit", good, env=daemon.env)
        assert daemon.domain(good)["audit_count"] == before[good] + 2, daemon.domain(good)
        assert daemon.domain(bad)["audit_count"] == before[bad] + 1, daemon.domain(bad)
        new_log = daemon.log_text()[log_before:]
        assert len(re.findall(r"DOMAIN_NAME=%s DOMAIN_UUID=\S+ SPM_VERDICT=" % bad, new_log)) == 1, new_log
        files = sorted(os.listdir(daemon.state))
        assert len([x for x in files if x.endswith(".json")]) == 2, files

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

        # 6. stopped: the verdict stays, the domain shows as stopped
        t.virsh("destroy", good)
        t.wait_for("stopped", lambda: daemon.domain(good)["active"] is False, 30, 0.05)
        print("ok - virt-spmd end to end")
        return 0
    finally:
        daemon.kill(signal.SIGTERM)
        for n in domains:
            t.virsh("destroy", n, check=False)
            t.virsh("undefine", n, check=False)
        if os.path.exists(daemon.log):
            sys.stderr.write(open(daemon.log).read()[-4000:])


if __name__ == "__main__":
    sys.exit(main())
