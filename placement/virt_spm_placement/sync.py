# SPDX-License-Identifier: LGPL-2.1-or-later
"""One idempotent registration and reconciliation of a host's HBM nodes.

Reads everything first (the compute node's provider, its tree, the
inventories and traits of the children) and writes only what differs, so a
second run writes nothing and leaves every generation as it was.  Each write
names the generation it read; on a generation conflict (409
placement.concurrent_update: nova-compute or an operator wrote in between)
the provider is read again and the write retried, a bounded number of times.
"""
from . import model
from .client import Conflict, PlacementError

RETRIES = 5


class SyncError(Exception):
    pass


class Report:
    def __init__(self):
        self.lines = []
        self.changed = 0

    def say(self, text, change=True):
        self.lines.append(text)
        if change:
            self.changed += 1


def _retry(pl, rp_uuid, what, write):
    """write(generation) with the generation re-read after each conflict."""
    for _ in range(RETRIES):
        gen = pl.provider(rp_uuid)["generation"]
        try:
            return write(gen)
        except Conflict as e:
            if e.code != "placement.concurrent_update":
                raise
    raise SyncError("%s: still a generation conflict after %d attempts (another writer keeps "
                    "changing provider %s)" % (what, RETRIES, rp_uuid))


def _set_inventory(pl, rp, want, report, why):
    have = pl.inventories(rp["uuid"])["inventories"]
    if _same_inventory(have, want):
        return
    _retry(pl, rp["uuid"], "inventory of %s" % rp["name"],
           lambda gen: pl.put_inventories(rp["uuid"], gen, want))
    inv = want[model.RESOURCE_CLASS]
    report.say("%s: %s %s total %d GiB, reserved %d GiB" %
               (rp["name"], why, model.RESOURCE_CLASS, inv["total"], inv["reserved"]))


def _same_inventory(have, want):
    if set(have) != set(want):
        return False
    for rc, w in want.items():
        h = have[rc]
        for k, v in w.items():
            if (float(h.get(k, -1)) != float(v)) if k == "allocation_ratio" else h.get(k) != v:
                return False
    return True


def _set_traits(pl, rp, want, report):
    have = set(pl.traits(rp["uuid"])["traits"])
    if have == want:
        return
    _retry(pl, rp["uuid"], "traits of %s" % rp["name"],
           lambda gen: pl.put_traits(rp["uuid"], gen, want))
    report.say("%s: traits %s" % (rp["name"], ", ".join(sorted(want))))


def _foreign_holdings(pl, host):
    """UUIDs of ledger holdings that Placement has no allocation for."""
    out = set()
    for h in host.get("holdings", []):
        if not pl.consumer_allocations(h["uuid"]):
            out.add(h["uuid"])
    return out


def hbm_children(pl, root_name, hint):
    """The compute node's provider @root_name and its HBM children, {host node: provider};
    SyncError naming @root_name, and @hint (how it is named), when Placement has none."""
    root = pl.provider_by_name(root_name)
    if root is None:
        raise SyncError("no resource provider named '%s' in Placement (%s)" % (root_name, hint))
    children = {}
    for rp in pl.tree(root["uuid"]):
        node = model.node_of_child(root_name, rp["name"])
        if node is not None and rp.get("parent_provider_uuid") == root["uuid"]:
            children[node] = rp
    return root, children


# How the hook's and `virt-spm host --placement`'s provider name is set
CONF_HOST_HINT = "[placement] host names the compute node"


def sync(pl, host, root_name):
    """Make Placement's children of @root_name match @host (`virt-spm host --json`)."""
    report = Report()
    root, children = hbm_children(pl, root_name, "nova-compute registers the compute node "
                                  "first; --host names it")
    if root.get("parent_provider_uuid"):
        raise SyncError("resource provider '%s' is not a compute node's (it has a parent)" %
                        root_name)
    desired = model.desired_nodes(host, _foreign_holdings(pl, host))
    offline = model.offline_nodes(host)

    if desired:
        pl.ensure_resource_class(model.RESOURCE_CLASS)
        pl.ensure_trait(model.TRAIT)
    for node, (total, reserved) in sorted(desired.items()):
        name = model.child_name(root_name, node)
        if total == 0:
            report.say("host node %d: less than 1 GiB, not offered to Placement" % node, False)
            continue
        rp = children.get(node)
        why = "set"
        if rp is None:
            rp_uuid = model.child_uuid(root["uuid"], node)
            try:
                rp = pl.create_provider(name, rp_uuid, root["uuid"])
            except Conflict:
                # created meanwhile by another run: take it as it is
                rp = pl.provider(rp_uuid)
            report.say("%s: created (uuid %s) under %s" % (name, rp["uuid"], root_name))
            why = "new"
        pl.ensure_trait(model.node_trait(node))
        _set_inventory(pl, rp, model.inventory(total, reserved), report, why)
        _set_traits(pl, rp, {model.TRAIT, model.node_trait(node)}, report)

    for node, rp in sorted(children.items()):
        if node in desired and desired[node][0] > 0:
            continue
        gone = ("host node %d has no memory online (the kernel's has_memory)" % node if node in offline
                else "host node %d is no longer in [host] spm_nodes" % node)
        used = pl.usages(rp["uuid"]).get(model.RESOURCE_CLASS, 0)
        if used == 0:
            try:
                pl.delete_provider(rp["uuid"])
                report.say("%s: removed (%s)" % (rp["name"], gone))
                continue
            except Conflict:
                pass  # an allocation arrived in between: keep it, closed
        have = pl.inventories(rp["uuid"])["inventories"].get(model.RESOURCE_CLASS)
        total = have["total"] if have else max(used, 1)
        before = report.changed
        _set_inventory(pl, rp, model.inventory(total, total), report, "closed:")
        if report.changed != before or used:
            report.say("%s: %s but holds %d GiB of allocations: reserved = total until they "
                       "are gone" % (rp["name"], gone, used), False)
    return report


__all__ = ["sync", "SyncError", "PlacementError", "Report"]
