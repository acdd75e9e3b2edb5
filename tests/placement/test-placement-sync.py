# SPDX-License-Identifier: LGPL-2.1-or-later
"""`virt-spm nova placement-sync` against a real Placement (Debian's
python3-placement, sqlite, noauth2): children and inventories appear, a
second run changes nothing, [host] spm_nodes changes are reconciled,
generation conflicts are retried, an outage is one line and exit 1 with
nothing written, and Placement's own GET /allocation_candidates, asked with
the query Nova builds from the flavor `virt-spm nova flavor` prints, puts
multi-device flavors where they fit and never on a fragmented host."""
import json
import os
import subprocess
import sys
import tempfile
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "nova"))
from placement_server import PlacementServer, have_placement, TOKEN  # noqa: E402
from tap import check, finish  # noqa: E402
sys.path.insert(0, os.path.join(HERE, "..", "common"))
from fakesysfs import fake_sysfs  # noqa: E402

BUILD = os.environ["SPM_BUILD_ROOT"]
SOURCE = os.environ["SPM_SOURCE_ROOT"]
VIRT_SPM = os.path.join(BUILD, "cli", "virt-spm")
SYNC = os.path.join(BUILD, "placement", "virt-spm-placement-sync-uninstalled")
sys.path.insert(0, os.path.join(SOURCE, "placement"))
GiB = 1 << 30


class Host:
    """One compute host: its virt-spm.conf, its ledger, its provider name."""

    def __init__(self, d, name, sysfs=None):
        self.name = name
        self.sysfs = sysfs
        self.uuid = str(uuid.uuid4())
        self.dir = os.path.join(d, name)
        self.ledger = os.path.join(self.dir, "ledger")
        os.makedirs(self.ledger)
        self.conf = os.path.join(self.dir, "virt-spm.conf")

    def set_nodes(self, spec):
        with open(self.conf, "w") as f:
            f.write("[host]\nspm_nodes = %s\n" % spec)

    def set_holdings(self, holdings):
        # a ledger without its lock file reads as never written
        open(os.path.join(self.ledger, "ledger.lock"), "a").close()
        with open(os.path.join(self.ledger, "ledger.json"), "w") as f:
            json.dump({"version": 1, "holdings": holdings}, f)

    def sync(self, url, *extra):
        env = dict(os.environ, VIRT_SPM_LEDGER_DIR=self.ledger, VIRT_SPM_PLACEMENT_SYNC=SYNC)
        if self.sysfs:
            env["VIRT_SPM_SYSFS_ROOT"] = self.sysfs
        args = [VIRT_SPM, "--config", self.conf, "nova", "placement-sync", "--host", self.name]
        if url:
            args += ["--placement-url", url, "--token", TOKEN]
        p = subprocess.run(args + list(extra), capture_output=True, text=True, env=env)
        return p.returncode, p.stdout.strip(), p.stderr.strip()


def children(api, host):
    out = {}
    for rp in api.get("/resource_providers?in_tree=%s" % host.uuid)["resource_providers"]:
        if rp["uuid"] == host.uuid:
            continue
        inv = api.get("/resource_providers/%s/inventories" % rp["uuid"])["inventories"]
        traits = api.get("/resource_providers/%s/traits" % rp["uuid"])["traits"]
        out[rp["name"]] = {"uuid": rp["uuid"], "parent": rp["parent_provider_uuid"],
                           "generation": rp["generation"], "traits": sorted(traits),
                           "inv": inv.get("CUSTOM_SPM_HBM_GIB")}
    return out


def generations(api):
    return {rp["uuid"]: rp["generation"]
            for rp in api.get("/resource_providers")["resource_providers"]}


def nova_query(props):
    """GET /allocation_candidates' query as Nova's scheduler builds it from a flavor."""
    import nova.conf  # noqa: F401
    from nova import objects
    from nova.scheduler import utils

    objects.register_all()
    specs = dict(p.split("=", 1) for p in props)
    fl = objects.Flavor(vcpus=1, memory_mb=512, root_gb=1, ephemeral_gb=0, swap=0, extra_specs=specs)
    spec = objects.RequestSpec(flavor=fl, image=objects.ImageMeta.from_dict({}), is_bfv=False)
    return utils.ResourceRequest.from_request_spec(spec).to_querystring()


def flavor_props(*specs, pooled=False):
    p = subprocess.run([VIRT_SPM, "--config", EMPTY_CONF, "nova", "flavor"] +
                       (["--pooled"] if pooled else []) + list(specs),
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    words = p.stdout.split()
    return [words[i + 1] for i, w in enumerate(words) if w == "--property"]


def candidate_hosts(api, query, roots):
    ac = api.get("/allocation_candidates?" + query)
    hosts = []
    for req in ac["allocation_requests"]:
        root = {roots[u] for u in req["allocations"] if u in roots}
        hosts.append(root.pop() if root else None)
    return ac, hosts


def claim(api, ac, consumer):
    req = ac["allocation_requests"][0]
    body = {"allocations": req["allocations"], "project_id": str(uuid.uuid4()),
            "user_id": str(uuid.uuid4()), "consumer_generation": None}
    api.put("/allocations/%s" % consumer, body, ok=(204,))


def test_sync(d, srv):
    api = srv.api()
    cn = Host(d, "cn1")
    api.register_compute_node(cn.name, cn.uuid)
    cn.set_nodes("2:64GiB, 3:96GiB")
    cn.set_holdings([])

    rc, out, err = cn.sync(srv.url)
    kids = children(api, cn)
    check(rc == 0 and sorted(kids) == ["cn1_SPM_NODE_2", "cn1_SPM_NODE_3"],
          "first run: one child per HBM node (%s; %s)" % (sorted(kids), err))
    check(all(k["parent"] == cn.uuid for k in kids.values()), "the children hang under the compute node")
    n2, n3 = kids.get("cn1_SPM_NODE_2", {}), kids.get("cn1_SPM_NODE_3", {})
    check(n2.get("inv") and n2["inv"]["total"] == 64 and n2["inv"]["max_unit"] == 64 and
          n2["inv"]["reserved"] == 0 and n2["inv"]["allocation_ratio"] == 1.0 and
          n3.get("inv") and n3["inv"]["total"] == 96 and n3["inv"]["max_unit"] == 96,
          "CUSTOM_SPM_HBM_GIB total = max_unit = the node's GiB: %s %s" % (n2.get("inv"), n3.get("inv")))
    check(n2.get("traits") == ["CUSTOM_SPM_HOST_NODE_2", "CUSTOM_SPM_MEMORY"] and
          n3.get("traits") == ["CUSTOM_SPM_HOST_NODE_3", "CUSTOM_SPM_MEMORY"],
          "traits CUSTOM_SPM_MEMORY and the host node's: %s %s" % (n2.get("traits"), n3.get("traits")))
    root_inv = api.get("/resource_providers/%s/inventories" % cn.uuid)["inventories"]
    check(sorted(root_inv) == ["DISK_GB", "MEMORY_MB", "VCPU"],
          "nova-compute's own inventory is left alone: %s" % sorted(root_inv))

    before = generations(api)
    rc, out, err = cn.sync(srv.url)
    check(rc == 0 and "already matches" in out and out.count("\n") == 0 and generations(api) == before,
          "second run: nothing written, every generation unchanged (%s)" % out)

    # the same through nova.conf's [placement], loaded as nova-compute loads it
    nova_conf = os.path.join(d, "nova.conf")
    with open(nova_conf, "w") as f:
        f.write("[placement]\nauth_type = admin_token\nendpoint = %s\ntoken = %s\n" % (srv.url, TOKEN))
    rc, out, err = cn.sync(None, "--nova-conf", nova_conf)
    check(rc == 0 and "already matches" in out, "credentials from nova.conf [placement]: %s %s" % (out, err))

    # a guest outside Nova holds 8 GiB of node 2: Placement must not offer it
    foreign = str(uuid.uuid4())
    cn.set_holdings([{"uuid": foreign, "domain": "outside", "reserved_at": 1,
                      "devices": [{"device": "ua-hbm0", "nodeset": "2", "bytes": 8 * GiB}]}])
    rc, out, err = cn.sync(srv.url)
    kids = children(api, cn)
    check(rc == 0 and kids["cn1_SPM_NODE_2"]["inv"]["reserved"] == 8 and
          kids["cn1_SPM_NODE_3"]["inv"]["reserved"] == 0,
          "a ledger holding without a Placement allocation is reserved on its node: %s" % out)
    cn.set_holdings([])

    # an instance holds 32 GiB of node 3 in Placement; the operator drops
    # node 3, shrinks node 2 and adds node 4
    inst = str(uuid.uuid4())
    api.put("/allocations/%s" % inst,
            {"allocations": {kids["cn1_SPM_NODE_3"]["uuid"]: {"resources": {"CUSTOM_SPM_HBM_GIB": 32}},
                             cn.uuid: {"resources": {"VCPU": 1, "MEMORY_MB": 512}}},
             "project_id": str(uuid.uuid4()), "user_id": str(uuid.uuid4()),
             "consumer_generation": None}, ok=(204,))
    cn.set_nodes("2:48GiB, 4:32GiB")
    rc, out, err = cn.sync(srv.url)
    kids = children(api, cn)
    check(rc == 0 and sorted(kids) == ["cn1_SPM_NODE_2", "cn1_SPM_NODE_3", "cn1_SPM_NODE_4"] and
          kids["cn1_SPM_NODE_2"]["inv"]["total"] == 48 and kids["cn1_SPM_NODE_2"]["inv"]["max_unit"] == 48 and
          kids["cn1_SPM_NODE_4"]["inv"]["total"] == 32,
          "spm_nodes changed: node 2 resized, node 4 added (%s)" % out.replace("\n", "; "))
    n3 = kids.get("cn1_SPM_NODE_3", {}).get("inv") or {}
    check(n3.get("reserved") == n3.get("total") == 96 and "holds 32 GiB of allocations" in out,
          "a dropped node that still holds an allocation is closed (reserved = total) and said so: %s" % n3)
    rc2, out2, err2 = cn.sync(srv.url)
    check(rc2 == 0 and "reserved = total" in out2 and "already matches" not in out2 and
          children(api, cn) == kids, "closing is idempotent, and still reported: %s" % out2)
    api.delete("/allocations/%s" % inst)
    rc, out, err = cn.sync(srv.url)
    kids = children(api, cn)
    check(rc == 0 and sorted(kids) == ["cn1_SPM_NODE_2", "cn1_SPM_NODE_4"] and "removed" in out,
          "once its allocation is gone the child is removed: %s" % out)

    # nova-compute restarts: it rewrites its own provider, bumping the root's
    # generation; the children are untouched and the next sync writes nothing
    rp = api.get("/resource_providers/%s" % cn.uuid)
    api.put("/resource_providers/%s/traits" % cn.uuid,
            {"resource_provider_generation": rp["generation"], "traits": ["COMPUTE_NODE"]})
    before = generations(api)
    rc, out, err = cn.sync(srv.url)
    check(rc == 0 and "already matches" in out and generations(api) == before,
          "after nova-compute rewrote its root provider: nothing to do (%s)" % out)

    # usage errors and a missing compute node
    rc, out, err = cn.sync(srv.url, "--bogus")
    check(rc == 2 and err.startswith("error: ") and err.count("\n") == 0, "usage error: exit 2, one line: %s" % err)
    lost = Host(d, "cn-unknown")
    lost.set_nodes("2:64GiB")
    rc, out, err = lost.sync(srv.url)
    check(rc == 1 and "no resource provider named 'cn-unknown'" in err and err.count("\n") == 0,
          "no compute node provider: exit 1, one line: %s" % err)
    return cn


def test_offline(d, srv):
    """A node whose memory the kernel took offline (gone from has_memory,
    its node directory still there) is offered no more: its child is
    removed, or closed while an allocation holds it, and comes back with
    the memory."""
    api = srv.api()
    sysfs = os.path.join(d, "sysfs-offline")
    fake_sysfs(sysfs, [8, 4, 4], "0")
    has_memory = os.path.join(sysfs, "devices", "system", "node", "has_memory")
    cn = Host(d, "cn-off", sysfs)
    api.register_compute_node(cn.name, cn.uuid)
    cn.set_nodes("1:4GiB, 2:4GiB")
    cn.set_holdings([])
    rc, out, err = cn.sync(srv.url)
    kids = children(api, cn)
    check(rc == 0 and sorted(kids) == ["cn-off_SPM_NODE_1", "cn-off_SPM_NODE_2"],
          "both HBM nodes online: two children (%s %s)" % (out, err))
    inst = str(uuid.uuid4())
    api.put("/allocations/%s" % inst,
            {"allocations": {kids["cn-off_SPM_NODE_1"]["uuid"]: {"resources": {"CUSTOM_SPM_HBM_GIB": 1}},
                             cn.uuid: {"resources": {"VCPU": 1, "MEMORY_MB": 512}}},
             "project_id": str(uuid.uuid4()), "user_id": str(uuid.uuid4()),
             "consumer_generation": None}, ok=(204,))
    with open(has_memory, "w") as f:
        f.write("0\n")    # the memory of nodes 1 and 2 taken offline
    host = subprocess.run([VIRT_SPM, "--config", cn.conf, "host"], capture_output=True, text=True,
                          env=dict(os.environ, VIRT_SPM_LEDGER_DIR=cn.ledger, VIRT_SPM_SYSFS_ROOT=sysfs))
    check(host.returncode == 0 and "warning: host node 2 has no memory online" in host.stdout,
          "virt-spm host says which nodes are offline:\n%s%s" % (host.stdout, host.stderr))
    rc, out, err = cn.sync(srv.url)
    kids = children(api, cn)
    n1 = kids.get("cn-off_SPM_NODE_1", {}).get("inv") or {}
    check(rc == 0 and sorted(kids) == ["cn-off_SPM_NODE_1"] and
          "cn-off_SPM_NODE_2: removed (host node 2 has no memory online" in out,
          "an offline node without allocations: its child is removed (%s)" % out.replace("\n", "; "))
    check(n1.get("reserved") == n1.get("total") == 4 and
          "host node 1 has no memory online (the kernel's has_memory) but holds 1 GiB" in out,
          "an offline node an allocation still holds: closed, reserved = total: %s" % n1)
    api.delete("/allocations/%s" % inst)
    with open(has_memory, "w") as f:
        f.write("0-2\n")
    rc, out, err = cn.sync(srv.url)
    kids = children(api, cn)
    n1 = kids.get("cn-off_SPM_NODE_1", {}).get("inv") or {}
    check(rc == 0 and sorted(kids) == ["cn-off_SPM_NODE_1", "cn-off_SPM_NODE_2"] and n1.get("reserved") == 0,
          "memory online again: both offered again (%s)" % out.replace("\n", "; "))


def test_conflicts(srv, cn):
    """A writer between our read and our write: 409, re-read, retry; bounded."""
    from virt_spm_placement import client, sync

    class Racing(client.Placement):
        def __init__(self, adapter, where, races):
            super().__init__(adapter, where)
            self.races = races
            self.conflicts = 0

        def put_inventories(self, rp_uuid, generation, inventories):
            if self.races:
                self.races -= 1
                # another writer (an operator) bumps the generation we read
                rp = self.provider(rp_uuid)
                self.ensure_trait("CUSTOM_SPM_TEST_RACE")
                super().put_traits(rp_uuid, rp["generation"], set(self.traits(rp_uuid)["traits"]) ^
                                   {"CUSTOM_SPM_TEST_RACE"})
                try:
                    return super().put_inventories(rp_uuid, generation, inventories)
                except client.Conflict:
                    self.conflicts += 1
                    raise
            return super().put_inventories(rp_uuid, generation, inventories)

    base = client.Placement.from_token(srv.url, TOKEN)
    host = {"nodes": [{"id": 2, "capacity": 40 * GiB}, {"id": 4, "capacity": 32 * GiB}], "holdings": []}
    pl = Racing(base._adapter, srv.url, races=2)
    report = sync.sync(pl, host, cn.name)
    kids = children(srv.api(), cn)
    check(pl.conflicts == 2 and kids["cn1_SPM_NODE_2"]["inv"]["total"] == 40,
          "two generation conflicts, re-read and retried: %d conflicts, total %s (%s)" %
          (pl.conflicts, kids["cn1_SPM_NODE_2"]["inv"]["total"], report.lines))
    host["nodes"][0]["capacity"] = 36 * GiB
    pl = Racing(base._adapter, srv.url, races=100)
    try:
        sync.sync(pl, host, cn.name)
        check(False, "an endless conflict must fail")
    except sync.SyncError as e:
        check(pl.conflicts == sync.RETRIES and "after %d attempts" % sync.RETRIES in str(e),
              "an endless conflict stops after %d attempts: %s" % (sync.RETRIES, e))


def test_outage(d, srv, cn):
    api = srv.api()
    cn.set_nodes("2:40GiB, 4:32GiB")
    cn.sync(srv.url)
    before = children(api, cn)
    gens = generations(api)
    url = srv.url
    srv.stop()
    cn.set_nodes("2:16GiB, 5:8GiB")
    rc, out, err = cn.sync(url)
    check(rc == 1 and err.startswith("error: nova placement-sync: ") and "unreachable" in err and
          "Connection refused" in err and err.count("\n") == 0 and out == "",
          "Placement down: exit 1, one line: %s" % err)
    srv.start()
    api = srv.api()
    check(children(api, cn) == before and generations(api) == gens,
          "after the outage Placement holds exactly what it held (nothing half-written)")
    rc, out, err = cn.sync(srv.url)
    kids = children(api, cn)
    check(rc == 0 and sorted(kids) == ["cn1_SPM_NODE_2", "cn1_SPM_NODE_5"] and
          kids["cn1_SPM_NODE_2"]["inv"]["total"] == 16,
          "back up: the next run reconciles (%s)" % out.replace("\n", "; "))


def test_candidates(d, srv):
    api = srv.api()
    hosts = {}
    # frag: two 96 GiB nodes holding one 64 GiB guest each (64 GiB "free" in
    # sum, 32 on each node); free2: two empty 64 GiB nodes; one: one 128 GiB node
    for name, nodes in (("frag", "2:96GiB, 3:96GiB"), ("free2", "2:64GiB, 3:64GiB"), ("one", "5:128GiB")):
        h = Host(d, name)
        api.register_compute_node(h.name, h.uuid)
        h.set_nodes(nodes)
        h.set_holdings([])
        rc, out, err = h.sync(srv.url)
        assert rc == 0, err
        hosts[name] = h
    roots = {}
    for h in hosts.values():
        for rp in api.get("/resource_providers?in_tree=%s" % h.uuid)["resource_providers"]:
            roots[rp["uuid"]] = h.name
    one64 = nova_query(flavor_props("spm:size=64GiB"))
    check("resources_spm0=CUSTOM_SPM_HBM_GIB%3A64" in one64 and "required_spm0=CUSTOM_SPM_MEMORY" in one64,
          "Nova turns the printed flavor into granular groups: %s" % one64)
    kids = children(api, hosts["frag"])
    for node in ("2", "3"):
        api.put("/allocations/%s" % uuid.uuid4(),
                {"allocations": {kids["frag_SPM_NODE_" + node]["uuid"]:
                                 {"resources": {"CUSTOM_SPM_HBM_GIB": 64}}},
                 "project_id": str(uuid.uuid4()), "user_id": str(uuid.uuid4()),
                 "consumer_generation": None}, ok=(204,))

    ac, where = candidate_hosts(api, one64, roots)
    check("frag" not in where and set(where) == {"free2", "one"},
          "1 x 64 GiB: never the fragmented host with 64 GiB pooled free: %s" % sorted(set(where)))
    two64 = nova_query(flavor_props("spm:devices=2", "spm:size=64GiB"))
    ac, where = candidate_hosts(api, two64, roots)
    check(set(where) == {"free2", "one"},
          "2 x 64 GiB: the two-node host and the 128 GiB node (two devices may share it): %s" %
          sorted(set(where)))
    two32 = nova_query(flavor_props("spm:devices=2", "spm:size=32GiB"))
    ac, where = candidate_hosts(api, two32, roots)
    frag_cands = [r for r, h in zip(ac["allocation_requests"], where) if h == "frag"]
    check(set(where) == {"frag", "free2", "one"} and frag_cands and
          all(len([u for u in r["allocations"] if roots.get(u) == "frag" and u != hosts["frag"].uuid]) == 2
              for r in frag_cands),
          "2 x 32 GiB fits the fragmented host, one device on each node: %s" % sorted(set(where)))
    pinned = nova_query(flavor_props("spm:size=16GiB", "spm:0.host_nodes=3"))
    ac, where = candidate_hosts(api, pinned, roots)
    check(set(where) == {"frag", "free2"}, "spm:0.host_nodes=3: only hosts with an HBM node 3: %s" %
          sorted(set(where)))
    # claim the first candidate of 2 x 64 until nothing fits: free2 and one fill up
    landed = []
    for _ in range(3):
        ac, where = candidate_hosts(api, two64, roots)
        if not where:
            landed.append(None)
            break
        claim(api, ac, str(uuid.uuid4()))
        landed.append(where[0])
    check(sorted(filter(None, landed)) == ["free2", "one"] and landed[-1] is None,
          "2 x 64 GiB lands on the two hosts it fits, then no candidate: %s" % landed)
    # the pooled provider-file model cannot see it: the same fragmented host
    # with one pooled inventory is a candidate for 64 GiB
    pooled = Host(d, "pooled")
    api.register_compute_node(pooled.name, pooled.uuid)
    api.put("/resource_classes/CUSTOM_SPM_HBM_GIB", None, ok=(201, 204))
    inv = api.get("/resource_providers/%s/inventories" % pooled.uuid)
    inv["inventories"]["CUSTOM_SPM_HBM_GIB"] = {"total": 192, "max_unit": 192}
    api.put("/resource_providers/%s/inventories" % pooled.uuid, inv)
    api.put("/allocations/%s" % uuid.uuid4(),
            {"allocations": {pooled.uuid: {"resources": {"CUSTOM_SPM_HBM_GIB": 128}}},
             "project_id": str(uuid.uuid4()), "user_id": str(uuid.uuid4()),
             "consumer_generation": None}, ok=(204,))
    q = nova_query([p for p in flavor_props("spm:size=64GiB", pooled=True) if not p.startswith("trait")])
    ac = api.get("/allocation_candidates?" + q)
    check(any(pooled.uuid in r["allocations"] for r in ac["allocation_requests"]),
          "for contrast: the pooled inventory offers the fragmented host (the limit of the provider file)")


EMPTY_CONF = None


def main():
    global EMPTY_CONF
    if not have_placement():
        print("1..0 # SKIP python3-placement is not installed (apt-get install python3-placement)")
        return 77
    with tempfile.TemporaryDirectory(prefix="spm-placement-") as d:
        EMPTY_CONF = os.path.join(d, "empty.conf")
        open(EMPTY_CONF, "w").close()
        srv = PlacementServer(os.path.join(d, "placement"))
        srv.start()
        try:
            cn = test_sync(d, srv)
            test_offline(d, srv)
            test_conflicts(srv, cn)
            test_outage(d, srv, cn)
            test_candidates(d, srv)
        finally:
            srv.stop()
    finish()


if __name__ == "__main__":
    sys.exit(main())
