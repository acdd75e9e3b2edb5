#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""virt-spmd on the default state directory, as installed: what libvirt
forgets, the daemon forgets (issue 11), and each start is audited once.

- define, start, stop, undefine while the daemon runs: no state file, no
  status entry;
- a transient domain (virsh create) is forgotten when it stops; a running
  domain that is undefined is kept until it stops;
- a domain undefined while the daemon was stopped is forgotten when it
  starts again;
- libvirt's STARTED event and the hook's "started" (the real hook helper,
  fed the live XML as libvirt would) for one run: one audit; the next run
  is audited again.
"""
import os
import re
import sys
import uuid

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spmtest as t  # noqa: E402

HOOK_HELPER = os.path.join(t.BUILD, "hook", "virt-spm-hook-helper")


def state_dir(daemon):
    m = re.search(r"started \(uri [^,]*, state ([^,]*), control", daemon.log_text())
    assert m, daemon.log_text()
    return m.group(1)


def state_file(daemon, u):
    return os.path.join(state_dir(daemon), u + ".json")


def forgotten(daemon, name, u):
    """No status entry, no state file."""
    return (not any(d["uuid"] == u or d["domain"] == name for d in daemon.status()["domains"])
            and not os.path.exists(state_file(daemon, u)))


def hook_started(daemon, config, name):
    """What libvirt's qemu hook does at "started begin": the helper reads the
    live XML (with <domain id=...>) and tells the daemon."""
    xml = t.virsh("dumpxml", name).stdout
    env = dict(daemon.env, VIRT_SPM_HOOK_CONFIG=config)
    p = t.subprocess.run([HOOK_HELPER, name, "started", "begin", "-"], input=xml, text=True,
                         capture_output=True, env=env, timeout=30)
    assert p.returncode == 0 and t.sanitizer_report(p.stderr) is None, (p.returncode, p.stderr)


def settled(daemon, name, count):
    """The verdict #count of @name and nothing queued, in flight or pending."""
    def ok():
        d = daemon.domain(name)
        return d if d and d["audit_count"] >= count and not d["auditing"] else None
    return t.wait_for("verdict #%d of %s" % (count, name), ok, 60, 0.05)


def known_to_libvirt():
    return set(t.virsh("list", "--all", "--uuid").stdout.split())


def main():
    t.ensure_libvirtd()
    t.cleanup_on_sigterm()
    work, config = t.workspace("spmd-life-")
    tag = uuid.uuid4().hex[:8]
    prefix = "spmd-life-%s-" % tag
    daemon = t.Daemon(work, config, state_dir=None)    # the built-in state directory
    xml = t.convert(t.GUEST_XML, "@NAME@", config)

    def write(name):
        path = os.path.join(work, name + ".xml")
        open(path, "w").write(xml.replace("@NAME@", name))
        return path

    def define_and_start(name):
        """Defined, started and audited: its UUID."""
        t.virsh("define", write(name))
        u = t.virsh("domuuid", name).stdout.strip()
        t.start_domain(name)
        settled(daemon, name, 1)
        return u

    with t.default_layout_lock():
        try:
            daemon.start()
            t.wait_for("connected", lambda: daemon.status()["connected"], 30)

            # 1. define, start (one audit for the event and the hook), stop, undefine
            name = prefix + "persistent"
            u = define_and_start(name)
            d = daemon.domain(name)
            assert d["verdict"] == "match" and d["active"], d
            assert os.path.exists(state_file(daemon, u))
            dup = daemon.status()["start_duplicates"]
            hook_started(daemon, config, name)          # the same run, announced again
            d = settled(daemon, name, 1)
            assert d["audit_count"] == 1, d
            assert daemon.status()["start_duplicates"] >= dup + 1
            t.virsh("destroy", name, done_if=("domain is not running",))
            t.wait_for("stopped", lambda: daemon.domain(name)["active"] is False, 30, 0.05)
            assert os.path.exists(state_file(daemon, u)), "a defined domain keeps its verdict"
            # the next run is a new run: audited, once
            t.start_domain(name)
            settled(daemon, name, 2)
            hook_started(daemon, config, name)
            d = settled(daemon, name, 2)
            assert d["audit_count"] == 2, d
            # a forced audit is always one more
            p = daemon.audit(name)
            assert p.returncode == 0, (p.stdout, p.stderr)
            assert settled(daemon, name, 3)["audit_count"] == 3
            t.virsh("destroy", name, done_if=("domain is not running",))
            t.virsh("undefine", name, done_if=("failed to get domain",))
            t.wait_for("%s forgotten" % name, lambda: forgotten(daemon, name, u), 30, 0.05)
            print("ok - define, start, stop, undefine: nothing left")

            # 2. transient: forgotten when it stops
            name = prefix + "transient"
            t.virsh("create", write(name))
            u = t.virsh("domuuid", name).stdout.strip()
            settled(daemon, name, 1)
            assert os.path.exists(state_file(daemon, u))
            t.virsh("destroy", name, done_if=("domain is not running", "failed to get domain"))
            t.wait_for("%s forgotten" % name, lambda: forgotten(daemon, name, u), 30, 0.05)
            print("ok - a transient domain is forgotten when it stops")

            # 3. undefined while it runs: kept (it is transient now) until it stops
            name = prefix + "running"
            u = define_and_start(name)
            checks = daemon.status()["domain_checks"]
            t.virsh("undefine", name)
            # the UNDEFINED event made the daemon ask libvirt (other tests'
            # domains may be asked about too: then this may pass early)
            t.wait_for("the undefine checked", lambda: daemon.status()["domain_checks"] > checks, 30, 0.05)
            assert daemon.domain(name) is not None and os.path.exists(state_file(daemon, u))
            t.virsh("destroy", name, done_if=("domain is not running", "failed to get domain"))
            t.wait_for("%s forgotten" % name, lambda: forgotten(daemon, name, u), 30, 0.05)
            print("ok - undefined while running: forgotten when it stops")

            # 4. undefined while the daemon is stopped
            name = prefix + "offline"
            u = define_and_start(name)
            t.virsh("destroy", name, done_if=("domain is not running",))
            t.wait_for("stopped", lambda: daemon.domain(name)["active"] is False, 30, 0.05)
            daemon.stop()
            assert os.path.exists(state_file(daemon, u))
            t.virsh("undefine", name, done_if=("failed to get domain",))
            daemon.start()
            t.wait_for("%s forgotten" % name, lambda: forgotten(daemon, name, u), 30, 0.05)
            print("ok - undefined while the daemon was stopped: forgotten at its start")

            # 5. status lists what libvirt knows, nothing else (other tests
            # define and undefine domains meanwhile: converge, with a deadline)
            t.wait_for("status = libvirt's domains",
                       lambda: {d["uuid"] for d in daemon.status()["domains"]} <= known_to_libvirt(), 30, 0.2)
            t.wait_for("state files = libvirt's domains",
                       lambda: {f[:-5] for f in os.listdir(state_dir(daemon)) if f.endswith(".json")}
                       <= known_to_libvirt(), 30, 0.2)
            daemon.stop()
            print("ok - virt-spmd forgets what libvirt forgets")
            return 0
        finally:
            t.finish(daemon, prefix)


if __name__ == "__main__":
    sys.exit(main())
