# SPDX-License-Identifier: LGPL-2.1-or-later
"""A compute node of the Placement tests: registered in a real Placement by
virt-spm's own `nova placement-sync`, with its virt-spm.conf, nova.conf and
ledger in a directory of its own, and the Nova 34 domain XML its guests
have.  Shared by test-placement-hook (the hook run as libvirt runs it) and
test-placement-libvirt (the hook run by a real libvirtd)."""
import json
import os
import subprocess
import uuid

from placement_server import TOKEN

BUILD = os.environ["SPM_BUILD_ROOT"]
VIRT_SPM = os.path.join(BUILD, "cli", "virt-spm")
FRONT = os.path.join(BUILD, "hook", "virt-spm-qemu-hook")
HELPER = os.path.join(BUILD, "hook", "virt-spm-hook-helper")
WRAPPER = os.path.join(BUILD, "wrapper", "virt-spm-qemu")
SYNC = os.path.join(BUILD, "placement", "virt-spm-placement-sync-uninstalled")
ALLOCATION = os.path.join(BUILD, "placement", "virt-spm-placement-allocation-uninstalled")
RC = "CUSTOM_SPM_HBM_GIB"
GiB = 1 << 30
# the flavors of the random walks: GiB per device
SHAPES = [[1], [2], [3], [1, 1], [2, 1], [1, 1, 1], [2, 2]]


def domain(inst, specs, name="instance-0000002a", emulator=WRAPPER, devices=""):
    """A Nova 34 domain (extra specs in <nova:flavor>) as libvirt hands it to the hook."""
    extra = "".join('<nova:extraSpec name="%s">%s</nova:extraSpec>' % kv for kv in specs.items())
    return ('<domain type="qemu"><name>%s</name><uuid>%s</uuid><memory unit="KiB">524288</memory>'
            '<vcpu placement="static">1</vcpu><metadata>'
            '<nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1">'
            '<nova:package version="34.0.0"/><nova:name>vm</nova:name><nova:flavor name="gpu.x">'
            '<nova:memory>512</nova:memory><nova:vcpus>1</nova:vcpus><nova:extraSpecs>%s'
            '</nova:extraSpecs></nova:flavor></nova:instance></metadata>'
            '<os><type arch="x86_64" machine="pc-q35-7.2">hvm</type></os><features><acpi/></features>'
            '<devices><emulator>%s</emulator>%s</devices></domain>' % (name, inst, extra, emulator, devices))


def specs(gibs, pinned=None):
    out = {"spm:devices": str(len(gibs))}
    if len(set(gibs)) == 1:
        out["spm:size"] = "%dGiB" % gibs[0]
    else:
        for i, g in enumerate(gibs):
            out["spm:%d.size" % i] = "%dGiB" % g
    for i, node in (pinned or {}).items():
        out["spm:%d.host_nodes" % i] = str(node)
    return out


class Host:
    def __init__(self, d, srv, name, nodes, wrapper=WRAPPER):
        self.d, self.srv, self.name = d, srv, name
        self.api = srv.api()
        self.uuid = str(uuid.uuid4())
        self.ledger = os.path.join(d, "ledger")
        self.plans = os.path.join(d, "plans")
        self.conf = os.path.join(d, "virt-spm.conf")
        self.nova_conf = os.path.join(d, "nova.conf")
        self.wrapper = wrapper
        self.api.register_compute_node(name, self.uuid)
        self.write_nova_conf(srv.url)
        self.write_conf(nodes)
        self.env = {"PATH": "/usr/bin:/bin", "VIRT_SPM_HOOK_HELPER": HELPER,
                    "VIRT_SPM_HOOK_CONFIG": self.conf,
                    "VIRT_SPM_HOOK_CACHE_DIR": os.path.join(d, "cache"),
                    "VIRT_SPM_HOOK_LIBVIRT_VERSION": "9000000",
                    "VIRT_SPM_NOVA_PLAN_DIR": self.plans, "VIRT_SPM_LEDGER_DIR": self.ledger,
                    "VIRT_SPM_CONTROL_SOCKET": os.path.join(d, "nobody.sock"),
                    "VIRT_SPM_PLACEMENT_ALLOCATION": ALLOCATION}
        p = subprocess.run([VIRT_SPM, "--config", self.conf, "nova", "placement-sync", "--host", name,
                            "--placement-url", srv.url, "--token", TOKEN], capture_output=True, text=True,
                           env=dict(os.environ, VIRT_SPM_LEDGER_DIR=self.ledger,
                                    VIRT_SPM_PLACEMENT_SYNC=SYNC))
        assert p.returncode == 0, p.stderr
        self.children = {}
        for rp in self.api.get("/resource_providers?in_tree=%s" % self.uuid)["resource_providers"]:
            if rp["uuid"] != self.uuid:
                self.children[int(rp["name"].rsplit("_", 1)[1])] = rp["uuid"]

    def write_nova_conf(self, url):
        # nova-compute's [placement] for a Placement without Keystone
        with open(self.nova_conf, "w") as f:
            f.write("[placement]\nauth_type = admin_token\nendpoint = %s\ntoken = %s\n" % (url, TOKEN))

    def write_conf(self, nodes, placement=None):
        if placement is None:
            placement = "nova_conf = %s\nhost = %s\ntimeout = 20\n" % (self.nova_conf, self.name)
        with open(self.conf, "w") as f:
            f.write("[host]\nspm_nodes = %s\n[nova]\nwrapper = %s\n[test]\nstand_in_driver = pc-dimm\n"
                    "[placement]\n%s" % (nodes, self.wrapper, placement))

    def hook(self, inst, spec, op, subop):
        return subprocess.run([FRONT, "instance-0000002a", op, subop, "-"],
                              input=domain(inst, spec).encode(), capture_output=True, env=self.env,
                              timeout=120)

    def holdings(self):
        try:
            with open(os.path.join(self.ledger, "ledger.json")) as f:
                return {h["uuid"]: h for h in json.load(f)["holdings"]}
        except FileNotFoundError:
            return {}

    def nodesets(self, inst):
        h = self.holdings().get(inst)
        return [r["nodeset"] for r in h["devices"]] if h else None

    def ledger_gib(self):
        use = {n: 0 for n in self.children}
        for h in self.holdings().values():
            for r in h["devices"]:
                use[int(r["nodeset"])] += r["bytes"] // GiB
        return use

    def placement_gib(self):
        return {n: self.api.get("/resource_providers/%s/usages" % rp)["usages"].get(RC, 0)
                for n, rp in self.children.items()}

    def allocate(self, inst, per_node, provider=None):
        allocs = {self.children[n]: {"resources": {RC: g}} for n, g in per_node.items()}
        allocs[provider or self.uuid] = {"resources": {"VCPU": 1, "MEMORY_MB": 512}}
        self.api.put("/allocations/%s" % inst,
                     {"allocations": allocs, "project_id": str(uuid.uuid4()),
                      "user_id": str(uuid.uuid4()), "consumer_generation": None}, ok=(204,))

    def claim(self, rng, gibs):
        """As Nova's scheduler: one of Placement's own allocation candidates
        for a flavor of @gibs (one granular group per device) on this host,
        chosen by @rng and claimed for a new instance; its UUID, or None
        when Placement has no candidate."""
        q = ["resources_spm%d=%s:%d&required_spm%d=CUSTOM_SPM_MEMORY" % (i, RC, g, i)
             for i, g in enumerate(gibs)]
        q.append("resources=VCPU:1,MEMORY_MB:512&in_tree=%s" % self.uuid)
        if len(gibs) > 1:
            q.append("group_policy=none")
        cands = self.api.get("/allocation_candidates?" + "&".join(q))["allocation_requests"]
        if not cands:
            return None
        inst = str(uuid.uuid4())
        self.api.put("/allocations/%s" % inst,
                     {"allocations": rng.choice(cands)["allocations"], "project_id": str(uuid.uuid4()),
                      "user_id": str(uuid.uuid4()), "consumer_generation": None}, ok=(204,))
        return inst

    def free(self, inst):
        self.api.delete("/allocations/%s" % inst)
