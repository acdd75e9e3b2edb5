#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""agent-guest: the agent test guest (scripts/build-agent-guest.sh) booted on
QEMU 11.1.3's sp-mem with virt-spm's plan, asked through its real
qemu-guest-agent what it made of its HBM (docs/guest-view.md,
docs/testing.md).  One case per firmware and guest mode; each prints what
the guest reported and how long its boot took, then checks the verdict of
virt-spm's own guest audit (`virt-spm audit --guest --agent PATH --plan
FILE`, file reads allowed) against the same agent.

Needs $SPM_SID_ROOT (scripts/setup-sid-root.sh) and $SPM_AGENT_GUEST_DIR;
skipped (77) with one line without them.  $SPM_AGENT_GUEST_JOBS (default: 2, or 1 on one core)
boots that many guests at once."""
import concurrent.futures
import json
import os
import sys
import tempfile
import time

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import agentguest as ag  # noqa: E402

MiB = 1 << 20
# 256 MiB of RAM on node 0 and one 256 MiB sp-mem device on node 1: two
# 128 MiB memory blocks, so that kmem can online the whole device.
DOMAIN = """<domain type='qemu'>
  <name>agent-guest</name>
  <memory unit='MiB'>512</memory>
  <vcpu>1</vcpu>
  <features><acpi/></features>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <cpu><numa><cell id='0' cpus='0' memory='256' unit='MiB'/></numa></cpu>
  <devices>
    <memory model='spm'>
      <target><size unit='MiB'>256</size><node>1</node></target>
      <alias name='ua-hbm0'/>
    </memory>
  </devices>
</domain>
"""


def expect_reserved(f, dev):
    """Soft Reserved under hmem only: no memory block, no dax device."""
    return [(f["iomem_chain"] == ["hmem.0", "Soft Reserved"], "hmem.0 > Soft Reserved"),
            (f["blocks"] == 0 and f["blocks_online"] == 0, "no memory block in the range"),
            (not f["dax"], "no dax device")]


def expect_devdax(f, dev):
    return [(f["iomem_chain"] == ["hmem.0", "Soft Reserved", "dax0.0"], "hmem.0 > Soft Reserved > dax0.0"),
            (f["dax"] == {"dax0.0": dev["node"]}, "dax0.0 target_node is the planned node %d" % dev["node"]),
            (f["blocks_online"] == 0, "no online memory block in the range")]


def expect_system_ram(f, dev):
    n = dev["size"] // f["block_size"]
    return [(f["iomem_chain"] == ["hmem.0", "Soft Reserved", "dax0.0", "System RAM (kmem)"],
             "hmem.0 > Soft Reserved > dax0.0 > System RAM (kmem)"),
            (f["blocks"] == n and f["blocks_online"] == n, "all %d memory blocks of the range online" % n),
            (f["dax"] == {"dax0.0": dev["node"]}, "dax0.0 target_node is the planned node"),
            ((f["node_memtotal_kib"] or 0) * 1024 >= dev["size"] - 16 * MiB,
             "node %d holds the device's memory" % dev["node"])]


def expect_leaked(f, dev):
    """Ordinary RAM: the page allocator owns it."""
    n = dev["size"] // f["block_size"]
    return [(f["iomem_chain"][:1] == ["System RAM"], "System RAM at the range"),
            ("Soft Reserved" not in f["iomem_chain"], "no Soft Reserved"),
            (f["blocks"] == n and f["blocks_online"] == n, "all %d memory blocks online" % n)]


def expect_missing(f, dev):
    """The firmware dropped the entry: nothing at the planned address."""
    return [(not f["iomem_at"], "nothing in /proc/iomem at the range"),
            (f["blocks"] == 0, "no memory block in the range")]


# name, SeaBIOS instead of OVMF, kernel options, what the guest must show
# (None: no agent must answer), the verdict virt-spm must give
CASES = [
    ("ovmf-reserved", False, "spmguest.mode=reserved", expect_reserved, "reserved"),
    ("ovmf-devdax", False, "spmguest.mode=devdax", expect_devdax, "devdax"),
    ("ovmf-system-ram", False, "spmguest.mode=system-ram", expect_system_ram, "system-ram"),
    ("ovmf-nosoftreserve", False, "efi=nosoftreserve", expect_leaked, "leaked"),
    ("seabios", True, "", expect_missing, "missing"),
    ("no-agent", True, "spmguest.agent=off", None, "unknown"),
]


# what the domain asks of the guest (<target><guest mode=.../>) in each
# case, and the judgement virt-spm must give against it
JUDGED = {
    "ovmf-reserved": ("reserved", "match"),
    "ovmf-devdax": ("devdax", "match"),
    "ovmf-system-ram": ("system-ram", "match"),
    "ovmf-nosoftreserve": ("reserved", "mismatch"),
    "seabios": ("reserved", "mismatch"),
    "no-agent": ("reserved", "undetermined"),
}


def run_case(stack, plan_path, plan, plan_args, case):
    name, seabios, cmdline, expect, verdict = case
    dev = plan["devices"][0]
    g = ag.Guest(stack, name, plan_args, seabios=seabios, cmdline=cmdline)
    lines = []
    try:
        g.wait_ready()
        if expect is None:
            # the guest is up and would have started its agent by now:
            # no port opened, no answer within a bounded wait
            g.qmp.pump(0)
            agent = ag.Agent(g.agent_path)
            answered = agent.sync(3)
            agent.close()
            checks = [(not g.qmp.saw_port_open("agent0"), "the guest never opened the agent port"),
                      (not answered, "no answer to guest-sync-delimited within 3 s")]
            facts = {"agent": "none"}
        else:
            agent = g.connect_agent()
            facts = ag.observe(agent, dev)
            checks = expect(facts, dev)
            # the agent's port takes one client: the product's turn
            agent.close()
            g.agent = None
        lines.append("# %s: booted in %.1f s; %s" % (name, g.boot_s, facts))
        why = ag.product_guest_audit()
        if why:
            lines.append("# %s: the product's verdict (%s) not checked: %s" % (name, verdict, why))
        else:
            mode, judgement = JUDGED[name]
            case_plan = os.path.join(g.work, "plan.json")
            with open(case_plan, "w") as f:
                json.dump(dict(plan, devices=[dict(plan["devices"][0], guest=mode)]), f)
            state, answer = ag.product_verdict(g.agent_path, case_plan)
            lines.append("# %s: virt-spm says %s" % (name, answer))
            checks.append((state == verdict, "virt-spm audit --guest says %s" % verdict))
            got = answer.get("judgement") if isinstance(answer, dict) else None
            checks.append((got == judgement, "judged against guest mode %s: %s (virt-spm: %s)"
                           % (mode, judgement, got)))
        return lines, [(ok, "%s: %s" % (name, what)) for ok, what in checks]
    except AssertionError as e:
        return lines, [(False, "%s: %s" % (name, e))]
    finally:
        g.close()


def main():
    stack = ag.Stack()
    work = tempfile.mkdtemp(prefix="spm-agent-guest-")
    xml = os.path.join(work, "agent-guest.xml")
    with open(xml, "w") as f:
        f.write(DOMAIN)
    plan, plan_args = ag.plan_domain(xml)
    plan_path = os.path.join(work, "plan.json")
    with open(plan_path, "w") as f:
        json.dump(plan, f)
    assert plan["device"] == "sp-mem" and len(plan["devices"]) == 1, plan
    dev = plan["devices"][0]
    print("# planned %s at 0x%x, %d MiB, node %d" % (dev["id"], dev["addr"], dev["size"] // MiB, dev["node"]))
    # TCG runs one guest on one core: two at a time where there are two
    jobs = int(os.environ.get("SPM_AGENT_GUEST_JOBS") or min(2, os.cpu_count() or 1))
    t0 = time.monotonic()
    n = failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        for lines, checks in pool.map(lambda c: run_case(stack, plan_path, plan, plan_args, c), CASES):
            for line in lines:
                print(line)
            for ok, what in checks:
                n += 1
                failed += not ok
                print("%s %d - %s" % ("ok" if ok else "not ok", n, what))
    os.unlink(xml)
    os.unlink(plan_path)
    os.rmdir(work)
    print("# %d guests in %.1f s (%d at a time)" % (len(CASES), time.monotonic() - t0, jobs))
    print("1..%d" % n)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
