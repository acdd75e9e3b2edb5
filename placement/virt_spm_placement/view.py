# SPDX-License-Identifier: LGPL-2.1-or-later
"""Placement's view of one compute node's HBM nodes, for `virt-spm host --placement`."""
from . import model
from .sync import CONF_HOST_HINT, hbm_children


def host_view(pl, root_name):
    """{"host", "nodes": {"<host node>": {"total", "reserved", "used"}}} in GiB."""
    _, children = hbm_children(pl, root_name, CONF_HOST_HINT)
    nodes = {}
    for node, rp in children.items():
        inv = pl.inventories(rp["uuid"])["inventories"].get(model.RESOURCE_CLASS) or {}
        nodes[str(node)] = {"total": inv.get("total", 0), "reserved": inv.get("reserved", 0),
                            "used": pl.usages(rp["uuid"]).get(model.RESOURCE_CLASS, 0)}
    return {"host": root_name, "nodes": nodes}
