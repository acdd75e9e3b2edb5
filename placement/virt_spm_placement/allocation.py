# SPDX-License-Identifier: LGPL-2.1-or-later
"""What one consumer's allocation takes of one compute node's HBM nodes.

The hook asks it at a Nova guest's `prepare begin` (docs/nova.md, "The host
follows Placement's choice"): Placement allocated each of the flavor's
granular groups (spm0, spm1, ...) from one child provider, that is one host
node; the allocation itself records only the GiB per provider, and the
hook turns that back into a node per device.
"""
from . import model


def host_allocation(pl, root_name, consumer):
    """The consumer's CUSTOM_SPM_HBM_GIB on compute node @root_name.

    {"consumer", "host", "registered": the host has SPM children,
     "allocated": the consumer holds any allocation at all,
     "nodes": {"<host node>": GiB} from the host's SPM children,
     "root_gib": GiB from the compute node itself (the provider file's
     pooled inventory), "elsewhere": [provider names or UUIDs] of any other
     provider the consumer holds CUSTOM_SPM_HBM_GIB of}
    """
    from .sync import CONF_HOST_HINT, hbm_children

    root, by_node = hbm_children(pl, root_name, CONF_HOST_HINT)
    children = {rp["uuid"]: node for node, rp in by_node.items()}
    allocs = pl.consumer_allocations(consumer)
    out = {"consumer": consumer, "host": root_name, "registered": bool(children),
           "allocated": bool(allocs), "nodes": {}, "root_gib": 0, "elsewhere": []}
    for rp_uuid, alloc in sorted(allocs.items()):
        gib = alloc.get("resources", {}).get(model.RESOURCE_CLASS, 0)
        if not gib:
            continue
        if rp_uuid in children:
            key = str(children[rp_uuid])
            out["nodes"][key] = out["nodes"].get(key, 0) + gib
        elif rp_uuid == root["uuid"]:
            out["root_gib"] += gib
        else:
            try:
                out["elsewhere"].append(pl.provider(rp_uuid)["name"])
            except Exception:  # noqa: BLE001 -- the name is for the message only
                out["elsewhere"].append(rp_uuid)
    return out
