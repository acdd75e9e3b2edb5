# SPDX-License-Identifier: LGPL-2.1-or-later
"""Placement and the ledger agree through a real libvirtd (issue 17).

A real Placement (Debian's python3-placement, sqlite, noauth2, 127.0.0.1)
holds one compute node registered by `virt-spm nova placement-sync`; the
host's libvirtd (Debian's 9.0, QEMU 7.2, pc-dimm standing in for the SPM
device, host node 0 for the three HBM nodes: see Run) runs virt-spm's hook, and the test's own virt-spmd, with
`[placement]`, watches it.  Each step of a random walk either starts a
guest, as Nova would (one of Placement's own allocation candidates for a
flavor of mixed sizes is claimed, then the Nova 34 domain is defined and
started through libvirt), or stops a running one (destroy, allocation
deleted), or makes a start fail (an allocation without HBM: the hook
refuses, Nova deletes the allocation).  After every step Placement's usage
of each HBM node equals the ledger's.  Half way, with guests running,
virt-spmd and libvirtd are restarted: the ledger keeps every running
guest, Placement still equals it, and a placement-sync has nothing to
repair.  SPM_PLACEMENT_LIBVIRT_STEPS (default 200) and
SPM_PLACEMENT_LIBVIRT_SEED (17) replay a walk.
"""
import os
import random
import shutil
import sys
import tempfile
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "nova"))
sys.path.insert(0, os.path.join(HERE, "..", "daemon"))
from placement_server import PlacementServer, have_placement, TOKEN  # noqa: E402
from placement_host import (ALLOCATION, FRONT, HELPER, SHAPES, SYNC, VIRT_SPM, WRAPPER,  # noqa: E402
                            Host, domain, specs)
from tap import check, finish  # noqa: E402
import spmtest  # noqa: E402
from spmtest import run, virsh, wait_for  # noqa: E402

STEPS = int(os.environ.get("SPM_PLACEMENT_LIBVIRT_STEPS", "200"))
SEED = int(os.environ.get("SPM_PLACEMENT_LIBVIRT_SEED", "17"))
NODES = "0:4GiB, 1:4GiB, 2:4GiB"
RUNNING_MAX = 5
PREFIX = "spmtest-plv-%d-" % os.getpid()
HARNESS = os.path.join(os.environ["SPM_SOURCE_ROOT"], "tests", "libvirt", "libvirtd-harness.sh")


def need():
    if os.geteuid() != 0:
        spmtest.skip("needs root (libvirtd, /etc/libvirt/hooks)")
    if not have_placement():
        spmtest.skip("python3-placement is not installed (apt-get install python3-placement)")
    for tool in ("virsh", "libvirtd", "/usr/bin/qemu-system-x86_64"):
        if not shutil.which(tool):
            spmtest.skip(tool + " is not installed")


class Run:
    """The emulator wrapper (DIR/bin, the real QEMU in DIR/real), the hook
    and virt-spmd of this run, all in one directory under /run."""

    def __init__(self, srv):
        self.dir = tempfile.mkdtemp(prefix="virt-spm-test-placement-", dir="/run")
        os.chmod(self.dir, 0o755)
        for sub in ("bin", "real", "cn1"):
            os.makedirs(os.path.join(self.dir, sub))
        self.wrapper = os.path.join(self.dir, "bin", "qemu-system-x86_64")
        shutil.copy2(WRAPPER, self.wrapper)
        # This machine has one NUMA node and the walk needs three (the
        # fragmentation Placement must see).  Everything up to QEMU sees
        # nodes 0-2: Placement, the hook, the ledger, the plan, the wrapper's
        # argv; the real QEMU behind the wrapper (its DIR/../real) gets its
        # memory bound to node 0, the one there is.
        shim = os.path.join(self.dir, "real", "qemu-system-x86_64")
        with open(shim, "w") as f:
            f.write("#!/bin/bash\n# test-placement-libvirt: one host node stands in for three\n"
                    "shopt -s extglob\nargs=()\nfor a in \"$@\"; do\n"
                    "    args+=(\"${a//host-nodes=+([0-9-])/host-nodes=0}\")\ndone\n"
                    "exec /usr/bin/qemu-system-x86_64 \"${args[@]}\"\n")
        os.chmod(shim, 0o755)
        self.host = Host(os.path.join(self.dir, "cn1"), srv, "cn1", NODES, wrapper=self.wrapper)
        # virt-spmd as a Nova compute node runs it: the host's ledger, Placement synced
        self.host.write_conf(NODES, "nova_conf = %s\nhost = cn1\ntimeout = 20\n" % self.host.nova_conf)
        self.daemon = spmtest.Daemon(self.dir, self.host.conf)
        # its sync runs `virt-spm host --json`: the build's
        self.daemon.env.update(VIRT_SPM_LEDGER_DIR=self.host.ledger, VIRT_SPM_PLACEMENT_SYNC=SYNC,
                               PATH=os.path.dirname(VIRT_SPM) + ":" + os.environ.get("PATH", "/usr/bin:/bin"))
        self.hook_name = "virt-spm-test-placement-%d" % os.getpid()
        self.hook = os.path.join(self.dir, "hook")
        with open(self.hook, "w") as f:
            f.write("#!/bin/sh\n# virt-spm hook of test run %d (test-placement-libvirt); removed by the test\n"
                    "VIRT_SPM_HOOK_HELPER='%s' VIRT_SPM_HOOK_CONFIG='%s' VIRT_SPM_HOOK_CACHE_DIR='%s' "
                    "VIRT_SPM_LEDGER_DIR='%s' VIRT_SPM_CONTROL_SOCKET='%s' "
                    "VIRT_SPM_PLACEMENT_ALLOCATION='%s' exec '%s' \"$@\"\n"
                    % (os.getpid(), HELPER, self.host.conf, os.path.join(self.dir, "cache"),
                       self.host.ledger, self.daemon.sock, ALLOCATION, FRONT))
        os.chmod(self.hook, 0o755)

    def install(self):
        p = run(HARNESS, "install", self.hook_name, self.hook, check=False, timeout=180)
        if p.returncode == 77:
            spmtest.skip(p.stderr.strip())
        assert p.returncode == 0, p.stderr
        self.daemon.start()

    def remove(self):
        spmtest.cleanup_domains(PREFIX)
        self.daemon.kill()
        run(HARNESS, "remove", self.hook_name, check=False, timeout=180)
        shutil.rmtree(self.dir, ignore_errors=True)

    def define_and_start(self, name, inst, spec):
        """None, or libvirt's error."""
        path = os.path.join(self.dir, name + ".xml")
        with open(path, "w") as f:
            f.write(domain(inst, spec, name=name, emulator=self.wrapper,
                           devices='<memballoon model="none"/>'))
        virsh("define", path)
        p = virsh("start", name, check=False, timeout=180)
        return None if p.returncode == 0 else " ".join(p.stderr.split())

    def stop(self, name):
        virsh("destroy", name)
        virsh("undefine", name)


def agree(h):
    return h.ledger_gib() == h.placement_gib()


def restart_daemons(r, running):
    """virt-spmd killed and started again, libvirtd restarted, guests running."""
    h = r.host
    before = {inst: h.nodesets(inst) for inst in running}
    r.daemon.kill()
    p = run(HARNESS, "restart", check=False, timeout=180)
    check(p.returncode == 0, "libvirtd restarted with %d guests running (%s)" % (len(running), p.stderr.strip()))
    r.daemon.start()
    # the daemon's first reconcile is done once status answers with every running guest
    try:
        wait_for("virt-spmd to see the running guests",
                 lambda: len([d for d in r.daemon.status()["domains"]
                              if d["domain"].startswith(PREFIX)]) >= len(running), 60, 0.1)
    except AssertionError:
        pass
    after = {inst: h.nodesets(inst) for inst in running}
    check(before == after, "after the restarts the ledger still holds every running guest on its nodes: "
          "%s" % (after if before != after else "%d guests" % len(after)))
    check(agree(h), "and Placement's usage still equals it: ledger %s, Placement %s" %
          (h.ledger_gib(), h.placement_gib()))
    p = run(VIRT_SPM, "--config", h.conf, "nova", "placement-sync", "--host", "cn1",
            "--placement-url", h.srv.url, "--token", TOKEN, check=False,
            env=dict(os.environ, VIRT_SPM_LEDGER_DIR=h.ledger, VIRT_SPM_PLACEMENT_SYNC=SYNC))
    check(p.returncode == 0 and "Placement already matches" in p.stdout,
          "a placement-sync after the restarts has nothing to repair: %s%s" % (p.stdout.strip(), p.stderr.strip()))
    log = r.daemon.log_text()
    check("Placement sync repaired" not in log and "Placement sync failed" not in log,
          "virt-spmd's own syncs repaired nothing: %s" %
          [line for line in log.splitlines() if "Placement sync" in line])


def walk(r):
    h = r.host
    rng = random.Random(SEED)
    running = {}
    serial = starts = stops = failed = nvh = mismatches = wrong = 0
    t0 = time.monotonic()
    for step in range(STEPS):
        if step == STEPS // 2:
            restart_daemons(r, running)
        if running and (rng.random() < 0.45 or len(running) >= RUNNING_MAX):
            inst = rng.choice(sorted(running))
            r.stop(running.pop(inst))
            h.free(inst)
            stops += 1
        elif rng.random() < 0.1:
            # a start that fails: Nova's allocation without the flavor's HBM
            inst = str(uuid.uuid4())
            h.api.put("/allocations/%s" % inst,
                      {"allocations": {h.uuid: {"resources": {"VCPU": 1, "MEMORY_MB": 512}}},
                       "project_id": str(uuid.uuid4()), "user_id": str(uuid.uuid4()),
                       "consumer_generation": None}, ok=(204,))
            serial += 1
            name = PREFIX + str(serial)
            err = r.define_and_start(name, inst, specs([1]))
            if err is None or "Placement holds no CUSTOM_SPM_HBM_GIB" not in err:
                wrong += 1
                print("# step %d: a start without HBM allocated was not refused by the hook: %s" % (step, err))
            virsh("destroy", name, check=False)
            virsh("undefine", name)
            h.free(inst)
            failed += 1
        else:
            gibs = rng.choice(SHAPES)
            inst = h.claim(rng, gibs)
            if not inst:
                nvh += 1
                continue
            serial += 1
            name = PREFIX + str(serial)
            err = r.define_and_start(name, inst, specs(gibs))
            if err is not None:
                wrong += 1
                print("# step %d: refused: %s" % (step, err))
                virsh("undefine", name, check=False)
                h.free(inst)
                continue
            running[inst] = name
            starts += 1
        if not agree(h):
            mismatches += 1
            print("# step %d: ledger %s, Placement %s" % (step, h.ledger_gib(), h.placement_gib()))
    took = time.monotonic() - t0
    for inst, name in running.items():
        r.stop(name)
        h.free(inst)
    print("# %d steps through libvirtd: %d starts, %d stops, %d failed starts, %d without a candidate, "
          "%d wrong answers of the hook, %d steps where Placement's per-node usage differed from the "
          "ledger (%.1f s, %.0f ms a step)"
          % (STEPS, starts, stops, failed, nvh, wrong, mismatches, took, 1000 * took / max(STEPS, 1)))
    check(mismatches == 0 and wrong == 0 and starts > STEPS // 4 and failed > 0,
          "%d random starts, stops and failed starts through libvirtd: Placement's usage of every node "
          "equals the ledger after each (%d mismatches, %d wrong answers)" % (STEPS, mismatches, wrong))
    check(agree(h) and h.ledger_gib() == {0: 0, 1: 0, 2: 0},
          "all stopped: both empty (ledger %s, Placement %s)" % (h.ledger_gib(), h.placement_gib()))


def main():
    need()
    spmtest.ensure_libvirtd()
    spmtest.take_run_lock()   # held to the exit: one run restarting libvirtd at a time
    with tempfile.TemporaryDirectory(prefix="spm-placement-libvirt-") as d:
        srv = PlacementServer(os.path.join(d, "placement"))
        srv.start()
        r = None
        try:
            r = Run(srv)
            r.install()
            walk(r)
        finally:
            if r:
                r.remove()
            srv.stop()
    finish()


if __name__ == "__main__":
    sys.exit(main())
