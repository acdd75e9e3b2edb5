# SPDX-License-Identifier: LGPL-2.1-or-later
"""The host follows Placement's choice (docs/nova.md), on a real Placement
(Debian's python3-placement, sqlite, noauth2, 127.0.0.1): allocations are
made through Placement's API for an instance, the qemu hook's front end and
helper run `prepare begin` on that instance's Nova domain XML as libvirt
runs them, and the ledger must hold the nodes Placement allocated.  Then
the policy: no allocation, an allocation on another host or one that does
not fit the flavor is refused in one line with nothing held; Placement
down or slow lets the ledger choose, with a one-line warning, within
[placement] timeout.  Last, N random starts and stops of guests of mixed
sizes (Placement's own allocation candidates, a random one claimed, the
hook's prepare begin / stopped end): Placement's usage of every HBM node
equals the ledger's after each step.  The hook is driven directly, not
through libvirtd (a real guest start per step would take minutes)."""
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "nova"))
from placement_server import PlacementServer, have_placement  # noqa: E402
from tap import check, finish  # noqa: E402
from placement_host import ALLOCATION, BUILD, Host, RC, SHAPES, SYNC, VIRT_SPM, specs  # noqa: E402

VIRT_SPMD = os.path.join(BUILD, "daemon", "virt-spmd")
DEAD_URI = "qemu+unix:///system?socket=/nonexistent/virt-spm-test/libvirt-sock"
STEPS = int(os.environ.get("SPM_PLACEMENT_HOOK_STEPS", "200"))


def one_line_refusal(p, words):
    err = p.stderr.decode()
    return p.returncode == 1 and err.count("\n") == 1 and words in err and \
        "refusing to start domain 'instance-0000002a'" in err, err.strip()


def test_binding(h):
    inst = str(uuid.uuid4())
    # the ledger alone would put both 1 GiB devices on node 0 (first fit)
    h.allocate(inst, {2: 1, 1: 1})
    p = h.hook(inst, specs([1, 1]), "prepare", "begin")
    check(p.returncode == 0 and p.stderr == b"" and sorted(h.nodesets(inst) or []) == ["1", "2"],
          "2 x 1 GiB allocated from nodes 1 and 2: the ledger holds nodes %s (%s)" %
          (h.nodesets(inst), p.stderr))
    check(h.ledger_gib() == h.placement_gib(),
          "the ledger's use per node equals Placement's: %s" % h.ledger_gib())
    p = h.hook(inst, specs([1, 1]), "stopped", "end")
    check(p.returncode == 0 and h.nodesets(inst) is None, "stopped end releases the nodes")
    h.free(inst)

    # a failed start: QEMU never runs, libvirt calls release end, Nova
    # drops the allocation and reschedules
    inst = str(uuid.uuid4())
    h.allocate(inst, {0: 1})
    p = h.hook(inst, specs([1]), "prepare", "begin")
    held = h.nodesets(inst)
    h.hook(inst, specs([1]), "release", "end")
    h.free(inst)
    check(p.returncode == 0 and held == ["0"] and h.nodesets(inst) is None and
          h.ledger_gib() == h.placement_gib() == {0: 0, 1: 0, 2: 0},
          "a failed start (prepare begin, release end, allocation dropped): both back to empty")

    inst = str(uuid.uuid4())
    h.allocate(inst, {2: 2})
    p = h.hook(inst, specs([1, 1]), "prepare", "begin")
    check(p.returncode == 0 and h.nodesets(inst) == ["2", "2"],
          "both groups allocated from node 2 (group_policy=none): both devices on node 2: %s" %
          h.nodesets(inst))
    h.hook(inst, specs([1, 1]), "stopped", "end")
    h.free(inst)

    inst = str(uuid.uuid4())
    h.allocate(inst, {0: 1, 2: 2})
    p = h.hook(inst, specs([2, 1]), "prepare", "begin")
    check(p.returncode == 0 and h.nodesets(inst) == ["2", "0"],
          "2 GiB + 1 GiB from node 2 (2) and node 0 (1): each device on the node of its size: %s (%s)"
          % (h.nodesets(inst), p.stderr))
    h.hook(inst, specs([2, 1]), "stopped", "end")
    h.free(inst)

    inst = str(uuid.uuid4())
    h.allocate(inst, {1: 1, 2: 1})
    p = h.hook(inst, specs([1, 1], pinned={0: 2}), "prepare", "begin")
    check(p.returncode == 0 and h.nodesets(inst) == ["2", "1"],
          "spm:0.host_nodes=2 keeps device 0 on node 2, device 1 takes node 1: %s" % h.nodesets(inst))
    h.hook(inst, specs([1, 1]), "stopped", "end")
    h.free(inst)


def test_refusals(h, other):
    before = h.holdings()
    inst = str(uuid.uuid4())
    p = h.hook(inst, specs([1]), "prepare", "begin")
    ok, err = one_line_refusal(p, "Placement holds no CUSTOM_SPM_HBM_GIB of compute node 'cn1' "
                               "for instance %s (it has no allocation at all" % inst)
    check(ok and h.holdings() == before, "no allocation: refused, one line, nothing held: %s" % err)

    h.api.put("/allocations/%s" % inst,
              {"allocations": {h.uuid: {"resources": {"VCPU": 1}}}, "project_id": str(uuid.uuid4()),
               "user_id": str(uuid.uuid4()), "consumer_generation": None}, ok=(204,))
    p = h.hook(inst, specs([1]), "prepare", "begin")
    ok, err = one_line_refusal(p, "(its allocation has none; the flavor needs the properties")
    check(ok and h.holdings() == before, "an allocation without HBM (a flavor without "
          "resources_spmN): refused: %s" % err)
    h.free(inst)

    other.allocate(inst, {0: 1})
    p = h.hook(inst, specs([1]), "prepare", "begin")
    ok, err = one_line_refusal(p, "on cn2_SPM_NODE_0, not on compute node 'cn1'")
    check(ok and h.holdings() == before, "HBM allocated on another host: refused, naming it: %s" % err)
    other.free(inst)

    h.allocate(inst, {1: 3})
    p = h.hook(inst, specs([1, 1]), "prepare", "begin")
    ok, err = one_line_refusal(p, "(host node 1: 3 GiB) does not fit its 2 SPM devices (1 GiB, 1 GiB)")
    check(ok and h.holdings() == before, "an allocation the devices do not fit: refused: %s" % err)
    h.free(inst)

    h.allocate(inst, {1: 1})
    p = h.hook(inst, specs([1], pinned={0: 2}), "prepare", "begin")
    ok, err = one_line_refusal(p, "does not fit its 1 SPM device")
    check(ok and h.holdings() == before, "a device the flavor binds to node 2, allocated from node 1: "
          "refused: %s" % err)
    h.free(inst)

    # the pooled provider file: HBM on the compute node itself, no per-node view
    inv = h.api.get("/resource_providers/%s/inventories" % h.uuid)
    inv["inventories"][RC] = {"total": 12, "max_unit": 12}
    h.api.put("/resource_providers/%s/inventories" % h.uuid, inv)
    h.api.put("/allocations/%s" % inst,
              {"allocations": {h.uuid: {"resources": {"VCPU": 1, RC: 2}}}, "project_id": str(uuid.uuid4()),
               "user_id": str(uuid.uuid4()), "consumer_generation": None}, ok=(204,))
    p = h.hook(inst, specs([1, 1]), "prepare", "begin")
    check(p.returncode == 0 and p.stderr == b"" and h.nodesets(inst) == ["0", "0"],
          "HBM allocated pooled on the compute node: the ledger chooses (first fit %s): %s" %
          (h.nodesets(inst), p.stderr))
    h.hook(inst, specs([1, 1]), "stopped", "end")
    h.free(inst)
    inv = h.api.get("/resource_providers/%s/inventories" % h.uuid)
    del inv["inventories"][RC]
    h.api.put("/resource_providers/%s/inventories" % h.uuid, inv)

    h.write_conf("0:4GiB, 1:4GiB, 2:4GiB", "timeout = soon\n")
    p = h.hook(inst, specs([1]), "prepare", "begin")
    ok, err = one_line_refusal(p, "[placement] timeout: 'soon' is not a number of seconds")
    check(ok, "a bad [placement] timeout: refused, naming the key: %s" % err)
    h.write_conf("0:4GiB, 1:4GiB, 2:4GiB")


def test_unreachable(d, h, srv):
    inst = str(uuid.uuid4())
    h.allocate(inst, {2: 1})
    srv.stop()
    p = h.hook(inst, specs([1]), "prepare", "begin")
    err = p.stderr.decode()
    v = subprocess.run([VIRT_SPM, "--config", h.conf, "host", "--placement"], capture_output=True,
                       text=True, env=h.env, timeout=60)
    check(v.returncode == 1 and v.stderr.startswith("error: host --placement: placement allocation: ")
          and "unreachable" in v.stderr and v.stderr.count("\n") == 1,
          "host --placement with Placement down: exit 1, one line: %s" % v.stderr.strip())
    check(p.returncode == 0 and err.count("\n") == 1 and
          err.startswith("virt-spm: warning: instance %s: Placement could not say" % inst) and
          "unreachable" in err and "the host's ledger chooses them" in err and h.nodesets(inst) == ["0"],
          "Placement down: started on the ledger's choice (node %s), one-line warning: %s" %
          (h.nodesets(inst), err.strip()))
    h.hook(inst, specs([1]), "stopped", "end")

    # a Placement that does not answer: the start waits [placement] timeout, no more
    slow = os.path.join(d, "slow-placement")
    with open(slow, "w") as f:
        f.write("#!/bin/sh\nexec sleep 60\n")
    os.chmod(slow, 0o755)
    h.env["VIRT_SPM_PLACEMENT_ALLOCATION"] = slow
    h.write_conf("0:4GiB, 1:4GiB, 2:4GiB", "timeout = 1\n")
    t0 = time.monotonic()
    p = h.hook(inst, specs([1]), "prepare", "begin")
    took = time.monotonic() - t0
    err = p.stderr.decode()
    check(p.returncode == 0 and "gave no answer within 1000 ms" in err and took < 10 and
          h.nodesets(inst) == ["0"],
          "Placement silent: the start goes on after [placement] timeout = 1 (%.1f s): %s" %
          (took, err.strip()))
    h.hook(inst, specs([1]), "stopped", "end")
    h.env["VIRT_SPM_PLACEMENT_ALLOCATION"] = ALLOCATION
    h.write_conf("0:4GiB, 1:4GiB, 2:4GiB")
    srv.start()
    h.write_nova_conf(srv.url)
    h.api = srv.api()
    h.free(inst)


def test_host_view(h):
    """`virt-spm host --placement`: Placement's view beside the ledger's, drift marked."""
    def host(*extra):
        return subprocess.run([VIRT_SPM, "--config", h.conf, "host", "--placement"] + list(extra),
                              capture_output=True, text=True, env=h.env, timeout=60)

    inst = str(uuid.uuid4())
    h.allocate(inst, {1: 2})
    h.hook(inst, specs([2]), "prepare", "begin")
    p = host()
    rows = {line.split()[0]: line for line in p.stdout.splitlines() if line[:1].isdigit()}
    check(p.returncode == 0 and "PLACEMENT" in p.stdout and "2/4 GiB" in rows.get("1", "") and
          "0/4 GiB" in rows.get("0", "") and "agrees with the ledger" in p.stdout and " !" not in p.stdout,
          "host --placement: node 1 holds 2 of 4 GiB in both views:\n%s%s" % (p.stdout, p.stderr))
    p = host("--json")
    view = json.loads(p.stdout).get("placement", {}) if p.returncode == 0 else {}
    check(view.get("nodes", {}).get("1") == {"total": 4, "reserved": 0, "used": 2},
          "host --placement --json: Placement's view under \"placement\": %s" % view)
    # an operator shrinks node 2's inventory behind virt-spm's back
    rp = h.children[2]
    inv = h.api.get("/resource_providers/%s/inventories" % rp)
    inv["inventories"][RC].update(total=3, max_unit=3)
    h.api.put("/resource_providers/%s/inventories" % rp, inv)
    p = host()
    rows = {line.split()[0]: line for line in p.stdout.splitlines() if line[:1].isdigit()}
    check(p.returncode == 0 and "0/3 GiB !" in rows.get("2", "")
          and "!" not in rows.get("1", "") and "1 node differs from the ledger" in p.stdout,
          "an inventory changed in Placement is marked as drift:\n%s" % p.stdout)
    inv = h.api.get("/resource_providers/%s/inventories" % rp)
    inv["inventories"][RC].update(total=4, max_unit=4)
    h.api.put("/resource_providers/%s/inventories" % rp, inv)
    h.hook(inst, specs([2]), "stopped", "end")
    h.free(inst)


def test_random(h):
    """Random starts and stops; Placement's usage equals the ledger after each."""
    rng = random.Random(int(os.environ.get("SPM_PLACEMENT_HOOK_SEED", "17")))
    running = {}
    starts = stops = nvh = mismatches = refused = 0
    t0 = time.monotonic()
    for step in range(STEPS):
        if running and (rng.random() < 0.45 or len(running) >= 6):
            inst = rng.choice(sorted(running))
            h.hook(inst, running.pop(inst), "stopped", "end")
            h.free(inst)
            stops += 1
        else:
            gibs = rng.choice(SHAPES)
            inst = h.claim(rng, gibs)
            if not inst:
                nvh += 1
                continue
            p = h.hook(inst, specs(gibs), "prepare", "begin")
            if p.returncode != 0:
                refused += 1
                print("# step %d: refused %s" % (step, p.stderr.decode().strip()))
                h.free(inst)
                continue
            running[inst] = specs(gibs)
            starts += 1
        if h.ledger_gib() != h.placement_gib():
            mismatches += 1
            print("# step %d: ledger %s, Placement %s" % (step, h.ledger_gib(), h.placement_gib()))
    took = time.monotonic() - t0
    for inst, spec in running.items():
        h.hook(inst, spec, "stopped", "end")
        h.free(inst)
    print("# %d steps: %d starts, %d stops, %d without a candidate, %d refused by the hook, "
          "%d steps where Placement's per-node usage differed from the ledger (%.1f s, %.0f ms a step)"
          % (STEPS, starts, stops, nvh, refused, mismatches, took, 1000 * took / max(STEPS, 1)))
    check(mismatches == 0 and refused == 0 and starts > STEPS // 3,
          "%d random starts and stops: Placement's usage of every node equals the ledger after each "
          "(%d mismatches, %d refusals)" % (STEPS, mismatches, refused))


def wait_for(what, cond, deadline=60):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.2)  # polling Placement with a deadline
    return False


def test_daemon(d, h):
    """virt-spmd with [placement]: syncs at start and every sync_interval, repairing drift."""
    rp = h.children[2]

    def inv2():
        return h.api.get("/resource_providers/%s/inventories" % rp)["inventories"][RC]

    def kids():
        return sorted(n["name"] for n in h.api.get("/resource_providers?in_tree=%s" % h.uuid)
                      ["resource_providers"] if n["uuid"] != h.uuid)

    inv = h.api.get("/resource_providers/%s/inventories" % rp)
    inv["inventories"][RC].update(total=3, max_unit=3)
    h.api.put("/resource_providers/%s/inventories" % rp, inv)
    h.write_conf("0:4GiB, 1:4GiB, 2:4GiB", "nova_conf = %s\nhost = %s\nsync_interval = 1\n" %
                 (h.nova_conf, h.name))
    logpath = os.path.join(d, "virt-spmd.log")
    state = os.path.join(d, "spmd-state")
    env = dict(h.env, PATH=os.path.join(BUILD, "cli") + ":/usr/bin:/bin", VIRT_SPM_PLACEMENT_SYNC=SYNC,
               VIRT_SPM_CONTROL_SOCKET=os.path.join(d, "spmd.sock"))
    env.pop("NOTIFY_SOCKET", None)
    with open(logpath, "w") as log:
        p = subprocess.Popen([VIRT_SPMD, "--config", h.conf, "--connect", DEAD_URI, "--state-dir", state,
                              "--socket", env["VIRT_SPM_CONTROL_SOCKET"], "--allow-uid", str(os.getuid())],
                             stdout=log, stderr=log, env=env)
    try:
        repaired = "Placement sync repaired: cn1_SPM_NODE_2: set CUSTOM_SPM_HBM_GIB total 4 GiB"
        ok = wait_for("inventory repaired", lambda: repaired in open(logpath).read())
        text = open(logpath).read()
        check(ok and inv2()["total"] == inv2()["max_unit"] == 4,
              "virt-spmd repairs an inventory an operator changed in Placement: %s" %
              [line for line in text.splitlines() if "Placement" in line])
        # the operator takes node 0 out of [host] spm_nodes (a node taken offline)
        h.write_conf("1:4GiB, 2:4GiB", "nova_conf = %s\nhost = %s\nsync_interval = 1\n" %
                     (h.nova_conf, h.name))
        removed = "removed (host node 0 is no longer in [host] spm_nodes)"
        ok = wait_for("child removed", lambda: removed in open(logpath).read())
        check(ok and kids() == ["cn1_SPM_NODE_1", "cn1_SPM_NODE_2"],
              "virt-spmd removes the child of a node taken out of spm_nodes: %s" % kids())
        h.write_conf("0:4GiB, 1:4GiB, 2:4GiB", "nova_conf = %s\nhost = %s\nsync_interval = 1\n" %
                     (h.nova_conf, h.name))
        ok = wait_for("child back", lambda: len(kids()) == 3)
        check(ok and p.poll() is None, "and registers it again when it is back: %s" % kids())
    finally:
        p.terminate()
        p.wait(timeout=30)
        h.write_conf("0:4GiB, 1:4GiB, 2:4GiB")


def main():
    if not have_placement():
        print("1..0 # SKIP python3-placement is not installed (apt-get install python3-placement)")
        return 77
    if not os.access("/usr/bin/qemu-system-x86_64", os.X_OK):
        print("1..0 # SKIP the hook probes QEMU for the stand-in device: qemu-system-x86 is not installed")
        return 77
    with tempfile.TemporaryDirectory(prefix="spm-placement-hook-") as d:
        srv = PlacementServer(os.path.join(d, "placement"))
        srv.start()
        try:
            os.makedirs(os.path.join(d, "cn1"))
            os.makedirs(os.path.join(d, "cn2"))
            h = Host(os.path.join(d, "cn1"), srv, "cn1", "0:4GiB, 1:4GiB, 2:4GiB")
            other = Host(os.path.join(d, "cn2"), srv, "cn2", "0:4GiB")
            test_binding(h)
            test_refusals(h, other)
            test_host_view(h)
            test_unreachable(d, h, srv)
            test_random(h)
            test_daemon(d, h)
        finally:
            srv.stop()
    finish()


if __name__ == "__main__":
    sys.exit(main())
