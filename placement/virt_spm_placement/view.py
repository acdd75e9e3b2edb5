# SPDX-License-Identifier: LGPL-2.1-or-later
"""Placement's view of one compute node's HBM nodes, for `virt-spm host --placement`."""
from . import model
from .sync import SyncError


def host_view(pl, root_name):
    """{"host", "nodes": {"<host node>": {"total", "reserved", "used"}}} in GiB."""
    root = pl.provider_by_name(root_name)
    if root is None:
        raise SyncError("no resource provider named '%s' in Placement ([placement] host names "
                        "the compute node)" % root_name)
    nodes = {}
    for rp in pl.tree(root["uuid"]):
        node = model.node_of_child(root_name, rp["name"])
        if node is None or rp.get("parent_provider_uuid") != root["uuid"]:
            continue
        inv = pl.inventories(rp["uuid"])["inventories"].get(model.RESOURCE_CLASS) or {}
        nodes[str(node)] = {"total": inv.get("total", 0), "reserved": inv.get("reserved", 0),
                            "used": pl.usages(rp["uuid"]).get(model.RESOURCE_CLASS, 0)}
    return {"host": root_name, "nodes": nodes}
