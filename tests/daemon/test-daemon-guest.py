#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""virt-spmd's guest audit through a real libvirtd (virDomainQemuAgentCommand):
two running SPM guests on QEMU 7.2 (pc-dimm standing in) that have no OS,
so no agent ever answers -- one with the agent's virtio channel, one
without.  Each gives `unknown` with libvirt's reason, undetermined, exit 3,
within the timeout; through virt-spmd (kept in status, journaled with
SPM_GUEST_JUDGEMENT) and directly (--direct); many requests at once do not
hold the daemon.  What a guest with a real agent gives is agent-guest's
job (tests/device)."""
import json
import os
import sys
import threading
import time
import uuid

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spmtest as t  # noqa: E402

CHANNEL = ("<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>\n"
           "  </devices>")


def main():
    t.ensure_libvirtd()
    work, config = t.workspace("spmd-guest-", "audit_timeout_ms = 5000\n[guest-audit]\n"
                               "file_reads = true\ntimeout_ms = 2000\n")
    tag = uuid.uuid4().hex[:8]
    with_agent, without = "spmguest-agent-" + tag, "spmguest-none-" + tag
    daemon = t.Daemon(work, config)
    n = failed = 0

    def check(ok, what):
        nonlocal n, failed
        n += 1
        failed += not ok
        print("%s %d - %s" % ("ok" if ok else "not ok", n, what))

    try:
        for name in (with_agent, without):
            xml = t.convert(t.GUEST_XML, name, config)
            if name == with_agent:
                xml = xml.replace("</devices>", CHANNEL, 1)
            path = os.path.join(work, name + ".xml")
            open(path, "w").write(xml)
            t.virsh("define", path)
        daemon.start()
        t.wait_for("connected", lambda: daemon.status()["connected"], 30)
        for name in (with_agent, without):
            t.start_domain(name)
            daemon.wait_verdict(name)

        def guest_audit(name, *extra, env=daemon.env):
            t0 = time.monotonic()
            p = t.run(t.VIRT_SPM, "--config", config, "audit", "--guest", name, "--json", *extra,
                      env=env, check=False)
            took = time.monotonic() - t0
            v = json.loads(p.stdout) if p.stdout.startswith("{") else None
            return p, v, took

        for name, why in ((with_agent, "agent"), (without, "agent")):
            for route in ((), ("--direct",)):
                p, v, took = guest_audit(name, *route)
                dev = v["devices"][0] if v and v.get("devices") else {}
                check(p.returncode == 3 and dev.get("state") == "unknown" and why in dev.get("reason", "")
                      and v["judgement"] == "undetermined" and took < 2 * 4 + 10,
                      "%s%s: unknown, exit %d in %.1f s: %s" % (
                          name, " " + route[0] if route else "", p.returncode, took,
                          dev.get("reason") if dev else p.stdout + p.stderr))

        d = daemon.domain(with_agent)
        check(d and d.get("guest", {}).get("judgement") == "undetermined",
              "status --json keeps the guest audit: %s" % (d and d.get("guest")))
        p = t.run(t.VIRT_SPM, "status", env=daemon.env, check=False)
        check("  guest: undetermined at " in p.stdout, "status shows the guest line")
        check("SPM_GUEST_JUDGEMENT=undetermined" in daemon.log_text(), "the daemon logged the guest audit")

        # many requests at once, for both guests, and status meanwhile
        results = []

        def one(name):
            results.append(t.control_line(daemon.sock, json.dumps(
                {"command": "guest-audit", "domain": name}).encode() + b"\n", timeout=30))
        threads = [threading.Thread(target=one, args=(nm,)) for nm in (with_agent, without) * 8]
        t0 = time.monotonic()
        for th in threads:
            th.start()
        st = daemon.status()
        for th in threads:
            th.join()
        took = time.monotonic() - t0
        replies = [json.loads(r) for r in results]
        check(len(replies) == 16 and all(r.get("ok") and r["guest"]["devices"][0]["state"] == "unknown"
                                         for r in replies) and took < 20,
              "16 guest audits at once answered in %.1f s" % took)
        check(st["connected"] and st["guest_audits"] >= 4, "status answered meanwhile (%d guest audits)"
              % st["guest_audits"])

        p, v, _ = guest_audit("spmguest-nosuch-" + tag)
        check(p.returncode == 1 and v is None, "an unknown domain is an error, exit %d" % p.returncode)
        t.virsh("destroy", without, check=False)   # (stopped already, if libvirtd was restarted meanwhile)
        p, v, _ = guest_audit(without)
        check(p.returncode == 1 and "not running" in p.stderr, "a stopped domain is an error: %s" % p.stderr.strip())
        daemon.stop()
    finally:
        t.finish(daemon, "spmguest-agent-", "spmguest-none-")
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    t.cleanup_on_sigterm()
    sys.exit(main())
