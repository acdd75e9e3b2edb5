# SPDX-License-Identifier: LGPL-2.1-or-later
"""Per-node HBM scheduling on Nova's own code: Debian's python3-nova 26.2.2
functional framework (nova.tests.functional.libvirt.base.ServersTestBase:
Nova's API, conductor, scheduler and three nova-compute services with the
real libvirt driver over Nova's fakelibvirt, and Placement in-process).

Each host's HBM nodes are registered by virt-spm's own registration code
(placement/virt_spm_placement, its entry point called with the argv
`virt-spm nova placement-sync` passes, reading `virt-spm host --json` from
the build tree), pointed at the framework's Placement.  Flavors carry
exactly the properties `virt-spm nova flavor` prints.  Hosts (96 GiB nodes
and 64 GiB guests scaled down by 16):

    hostA: nodes 1, 2 of 2 GiB    hostB: node 1 of 4 GiB
    hostC: nodes 1, 2 of 6 GiB

Checked: one-device 4 GiB servers land on B and C, one per node, never on
A (4 GiB pooled, fragmented); the fourth gets NoValidHost from the
scheduler (no compute was tried) while A and C still have 4 GiB pooled
free; the old pooled form of a two-device flavor (`--pooled`) gets
NoValidHost there too (the negative control), while the granular one lands
on A and on C, one device per node; deleting a server frees exactly its
per-node HBM; after a restart of hostC's nova-compute and its periodic
update, the child providers, inventories, traits and allocations are as
before, placement-sync changes nothing, and scheduling still follows them.

Not covered here: the spawn in fakelibvirt does not run virt-spm's qemu
hook or emulator wrapper, so the host's binding of each device to the node
Placement chose for it is not exercised by this test.

Exit 77 with one line when python3-nova, its test dependencies or Nova's
api-paste.ini (scripts/fetch-nova-api-paste.sh) are missing.
"""
import contextlib
import io
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
from unittest import mock

STARTED = time.monotonic()


def skip(reason):
    print("# SKIP %s" % reason)
    sys.exit(77)


try:
    # first: nova.tests.functional monkey-patches eventlet, and whatever is
    # imported before it keeps real thread-locals shared by all greenthreads
    # (oslo.db's transaction context: "Can't upgrade a READER transaction to
    # a WRITER mid-transaction" in a build that races the API)
    import nova.tests.functional  # noqa: F401
    import importlib.metadata
    import placement.tests.functional.fixtures.placement  # noqa: F401
    import wsgi_intercept  # noqa: F401
    import oslotest  # noqa: F401
    from nova.tests.functional.libvirt import base
    from nova.tests.fixtures import libvirt as fakelibvirt
    from nova import utils as nova_utils
except ImportError as e:
    skip("Nova's functional framework is not importable (python3-nova, python3-placement, "
         "python3-wsgi-intercept, python3-oslotest): %s" % e)

BUILD = os.environ["SPM_BUILD_ROOT"]
SOURCE = os.environ["SPM_SOURCE_ROOT"]
VIRT_SPM = os.path.join(BUILD, "cli", "virt-spm")
sys.path.insert(0, os.path.join(SOURCE, "placement"))
from virt_spm_placement import cli as sync_cli  # noqa: E402

NOVA_VERSION = importlib.metadata.version("nova")
API_PASTE = [p for p in (
    "/usr/share/nova-common/api-paste.ini",
    os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                 "virt-spm", "nova-api-paste", NOVA_VERSION, "api-paste.ini"))
    if os.path.isfile(p)]
if not API_PASTE:
    skip("no api-paste.ini for Nova %s: run scripts/fetch-nova-api-paste.sh" % NOVA_VERSION)

RC = "CUSTOM_SPM_HBM_GIB"
WORK = tempfile.mkdtemp(prefix="spm-nova-functional-%d-" % os.getpid())

# host name -> [host] spm_nodes
HOSTS = {"hostA": "1:2GiB, 2:2GiB", "hostB": "1:4GiB", "hostC": "1:6GiB, 2:6GiB"}


def flavor_properties(*args):
    """The extra specs `virt-spm nova flavor ARGS` prints, as a dict."""
    conf = os.path.join(WORK, "empty.conf")
    with open(conf, "w") as f:
        f.write("[host]\n")
    p = subprocess.run([VIRT_SPM, "--config", conf, "nova", "flavor"] + list(args),
                       capture_output=True, text=True, check=True)
    words = p.stdout.split()
    return dict(words[i + 1].split("=", 1) for i, w in enumerate(words) if w == "--property")


class SpmPerNodeScheduling(base.ServersTestBase):
    microversion = "latest"
    ADMIN_API = True

    def _setup_services(self):
        # OSAPIFixture loads the paste pipeline from [wsgi] api_paste_config
        self.flags(api_paste_config=API_PASTE[0], group="wsgi")
        super()._setup_services()

    # registration ----------------------------------------------------------

    def placement_sync(self, host):
        """virt-spm's registration for @host, run as `virt-spm --config CONF
        nova placement-sync --host HOST --placement-url URL --token TOKEN`
        runs it, in this process so that it reaches the in-process
        Placement.  Returns (exit status, stdout)."""
        d = os.path.join(WORK, host)
        ledger = os.path.join(d, "ledger")
        os.makedirs(ledger, exist_ok=True)
        conf = os.path.join(d, "virt-spm.conf")
        with open(conf, "w") as f:
            f.write("[host]\nspm_nodes = %s\n" % HOSTS[host])
        pl = self.placement.fixture
        argv = ["--virt-spm", VIRT_SPM, "--config", conf, "--host", host,
                "--placement-url", pl.endpoint, "--token", pl.token]
        out, err = io.StringIO(), io.StringIO()
        with mock.patch.dict(os.environ, {"VIRT_SPM_LEDGER_DIR": ledger}), \
                contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            rc = sync_cli.main(argv)
        self.assertEqual(0, rc, "placement-sync %s: %s" % (host, err.getvalue()))
        return out.getvalue()

    # Placement's view ------------------------------------------------------

    def children(self, host):
        """{name: {uuid, parent, generation, inventory, traits, used}} of the
        child providers under @host's compute node provider."""
        root = self.compute_rp_uuids[host]
        rps = self.placement.get("/resource_providers?in_tree=%s" % root,
                                 version="1.14").body["resource_providers"]
        out = {}
        for rp in rps:
            if rp["uuid"] == root:
                continue
            inv = self.placement.get("/resource_providers/%s/inventories" % rp["uuid"],
                                     version="1.14").body["inventories"]
            traits = self.placement.get("/resource_providers/%s/traits" % rp["uuid"],
                                        version="1.14").body["traits"]
            out[rp["name"]] = {"uuid": rp["uuid"], "parent": rp["parent_provider_uuid"],
                               "generation": rp["generation"], "inventory": inv,
                               "traits": sorted(traits),
                               "used": self._get_provider_usages(rp["uuid"]).get(RC, 0)}
        return out

    def hbm_used(self):
        """{child provider name: GiB used} over every host."""
        return {name: c["used"] for h in HOSTS for name, c in self.children(h).items()}

    def hbm_allocation(self, server):
        """{child provider name: GiB} of @server's CUSTOM_SPM_HBM_GIB allocations."""
        names = {c["uuid"]: name for h in HOSTS for name, c in self.children(h).items()}
        allocs = self._get_allocations_by_server_uuid(server["id"])
        return {names.get(rp, rp): a["resources"][RC]
                for rp, a in allocs.items() if RC in a["resources"]}

    # Nova's view -----------------------------------------------------------

    def create_flavor(self, name, *args):
        props = flavor_properties(*args)
        # 2.86: Nova validates the extra specs (spm: is an unknown namespace)
        with nova_utils.temporary_mutation(self.admin_api, microversion="2.86"):
            return self._create_flavor(name=name, memory_mb=512, vcpu=1, disk=1, ephemeral=0,
                                       extra_spec=props)

    def boot(self, flavor, expected="ACTIVE"):
        return self._create_server(flavor_id=flavor, networks="none", expected_state=expected)

    def assert_no_valid_host_from_scheduler(self, server):
        """ERROR with NoValidHost, raised while scheduling: no compute host
        was assigned and no compute service ever started a build."""
        server = self.admin_api.get_server(server["id"])
        self.assertEqual("ERROR", server["status"])
        self.assertIn("No valid host was found", server["fault"]["message"])
        self.assertIsNone(server["OS-EXT-SRV-ATTR:host"])
        actions = self.admin_api.get_instance_actions(server["id"])
        self.assertEqual(["create"], [a["action"] for a in actions])
        events = self.admin_api.get_instance_action_details(
            server["id"], actions[0]["request_id"])["events"]
        self.assertEqual([("conductor_schedule_and_build_instances", "Error")],
                         [(e["event"], e["result"]) for e in events])
        self.assertEqual({}, self._get_allocations_by_server_uuid(server["id"]))

    # the test --------------------------------------------------------------

    def test_per_node_hbm_scheduling(self):
        for host in HOSTS:
            self.start_compute(host, host_info=fakelibvirt.HostInfo(
                cpu_nodes=1, cpu_sockets=1, cpu_cores=4, cpu_threads=1))
            out = self.placement_sync(host)
            self.assertIn("created", out)
        kids = {h: self.children(h) for h in HOSTS}
        self.assertEqual(["hostA_SPM_NODE_1", "hostA_SPM_NODE_2"], sorted(kids["hostA"]))
        self.assertEqual(["hostB_SPM_NODE_1"], sorted(kids["hostB"]))
        for host, nodes in kids.items():
            for name, c in nodes.items():
                node = name.rsplit("_", 1)[1]
                self.assertEqual(self.compute_rp_uuids[host], c["parent"])
                self.assertEqual(["CUSTOM_SPM_HOST_NODE_" + node, "CUSTOM_SPM_MEMORY"], c["traits"])
                inv = c["inventory"][RC]
                self.assertEqual(inv["total"], inv["max_unit"])
        self.assertEqual(6, kids["hostC"]["hostC_SPM_NODE_2"]["inventory"][RC]["total"])

        big = self.create_flavor("spm.4g", "spm:size=4GiB")
        pair = self.create_flavor("spm.2x2g", "spm:devices=2", "spm:size=2GiB")
        pooled = self.create_flavor("spm.2x2g.pooled", "--pooled", "spm:devices=2", "spm:size=2GiB")

        # one 4 GiB device: one per node of B and C; never A (2 + 2 GiB)
        bigs = [self.boot(big) for _ in range(3)]
        where = sorted(n for s in bigs for n in self.hbm_allocation(s))
        self.assertEqual(["hostB_SPM_NODE_1", "hostC_SPM_NODE_1", "hostC_SPM_NODE_2"], where)
        for s in bigs:
            alloc = self.hbm_allocation(s)
            self.assertEqual([4], list(alloc.values()))
            self.assertTrue(list(alloc)[0].startswith(s["OS-EXT-SRV-ATTR:host"] + "_"))
        # A has 2 + 2 GiB free, C 2 + 2: pooled enough, fragmented
        self.assertEqual({"hostA_SPM_NODE_1": 0, "hostA_SPM_NODE_2": 0, "hostB_SPM_NODE_1": 4,
                          "hostC_SPM_NODE_1": 4, "hostC_SPM_NODE_2": 4}, self.hbm_used())
        self.assert_no_valid_host_from_scheduler(self.boot(big, "ERROR"))

        # negative control: the pooled form (one group of 4 GiB) cannot be
        # placed on per-node providers, though the two devices fit
        self.assert_no_valid_host_from_scheduler(self.boot(pooled, "ERROR"))

        # two 2 GiB devices: one per node, on A and on C
        pairs = {}
        for _ in range(2):
            s = self.boot(pair)
            pairs[s["OS-EXT-SRV-ATTR:host"]] = s
        self.assertEqual(["hostA", "hostC"], sorted(pairs))
        for host, s in pairs.items():
            self.assertEqual({host + "_SPM_NODE_1": 2, host + "_SPM_NODE_2": 2},
                             self.hbm_allocation(s))
        self.assert_no_valid_host_from_scheduler(self.boot(pair, "ERROR"))
        full = {"hostA_SPM_NODE_1": 2, "hostA_SPM_NODE_2": 2, "hostB_SPM_NODE_1": 4,
                "hostC_SPM_NODE_1": 6, "hostC_SPM_NODE_2": 6}
        self.assertEqual(full, self.hbm_used())

        # deleting frees exactly the server's per-node HBM
        self._delete_server(pairs["hostA"])
        full.update({"hostA_SPM_NODE_1": 0, "hostA_SPM_NODE_2": 0})
        self.assertEqual(full, self.hbm_used())
        on_c = [s for s in bigs if s["OS-EXT-SRV-ATTR:host"] == "hostC"]
        freed = self.hbm_allocation(on_c[0])
        self._delete_server(on_c[0])
        for name, gib in freed.items():
            full[name] -= gib
        self.assertEqual(full, self.hbm_used())

        # nova-compute restarts on C (it holds a 4 GiB server and a pair)
        # and runs its periodic update: nothing of ours changes
        before = {h: self.children(h) for h in HOSTS}
        kept = {s["id"]: self._get_allocations_by_server_uuid(s["id"])
                for s in [on_c[1], pairs["hostC"]]}
        self.restart_compute_service("hostC")
        self._run_periodics()
        self.assertEqual(before, {h: self.children(h) for h in HOSTS})
        self.assertEqual(kept, {i: self._get_allocations_by_server_uuid(i) for i in kept})
        for host in HOSTS:
            out = self.placement_sync(host)
            self.assertIn("already matches", out)
        self.assertEqual(before, {h: self.children(h) for h in HOSTS})

        # and scheduling still follows the children: the one node with 4 GiB
        # free is the one the deleted server had
        s = self.boot(big)
        self.assertEqual({name: 4 for name in freed}, self.hbm_allocation(s))


def main():
    try:
        result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2).run(
            unittest.defaultTestLoader.loadTestsFromTestCase(SpmPerNodeScheduling))
    finally:
        shutil.rmtree(WORK, ignore_errors=True)
    print("# wall time %.1f s" % (time.monotonic() - STARTED))
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
