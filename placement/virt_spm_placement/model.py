# SPDX-License-Identifier: LGPL-2.1-or-later
"""What Placement should hold for a host: pure functions, no I/O.

Each HBM node of `[host] spm_nodes` is a child resource provider of the
compute node's provider, named ROOT_SPM_NODE_<id>, with one inventory of
CUSTOM_SPM_HBM_GIB (total = max_unit = the node's whole GiB) and the traits
CUSTOM_SPM_MEMORY and CUSTOM_SPM_HOST_NODE_<id>.  A flavor asks one granular
group per device, so Placement places each device on one node, as the host
binds it.
"""
import uuid

RESOURCE_CLASS = "CUSTOM_SPM_HBM_GIB"
TRAIT = "CUSTOM_SPM_MEMORY"
GiB = 1 << 30

# The provider UUIDs are derived, not random: a run that died between
# creating a child and recording it finds the same child again.
_NAMESPACE = uuid.UUID("5b0c2a52-8d7e-4a8e-9a3f-2f6d3c1e9b17")


def node_trait(node_id):
    return "CUSTOM_SPM_HOST_NODE_%d" % node_id


def child_name(root_name, node_id):
    return "%s_SPM_NODE_%d" % (root_name, node_id)


def child_prefix(root_name):
    return "%s_SPM_NODE_" % root_name


def node_of_child(root_name, name):
    """The host node id a child provider's name stands for, or None."""
    prefix = child_prefix(root_name)
    if not name.startswith(prefix):
        return None
    tail = name[len(prefix):]
    return int(tail) if tail.isdigit() else None


def child_uuid(root_uuid, node_id):
    return str(uuid.uuid5(_NAMESPACE, "%s/%d" % (root_uuid, node_id)))


def inventory(total, reserved):
    return {RESOURCE_CLASS: {"total": total, "reserved": min(reserved, total),
                             "min_unit": 1, "max_unit": total, "step_size": 1,
                             "allocation_ratio": 1.0}}


def ceil_gib(nbytes):
    return (nbytes + GiB - 1) // GiB


def desired_nodes(host, foreign):
    """{node id: (total GiB, reserved GiB)} from `virt-spm host --json`,
    for the nodes that are online.

    total is the node's capacity in whole GiB (a started GiB is not
    offered).  reserved is what ledger holdings that Placement does not
    know (@foreign: a set of UUIDs, e.g. guests started outside Nova) hold
    there: a device confined to the node counts whole; a device bound to
    several nodes counts on each of them, so Placement never offers what
    the ledger would refuse.
    """
    nodes = {}
    held = {}
    for n in host.get("nodes", []):
        if not n.get("online", True):
            continue    # its memory is offline: offered nowhere (offline_nodes)
        nodes[n["id"]] = n["capacity"] // GiB
        held[n["id"]] = 0
    for h in host.get("holdings", []):
        if h.get("uuid") not in foreign:
            continue
        for d in h.get("devices", []):
            for node_id in parse_nodeset(d.get("nodeset", "")):
                if node_id in held:
                    held[node_id] += d.get("bytes", 0)
    return {i: (total, min(ceil_gib(held[i]), total)) for i, total in nodes.items()}


def offline_nodes(host):
    """Ids of the configured nodes whose memory the kernel has offline."""
    return {n["id"] for n in host.get("nodes", []) if not n.get("online", True)}


def parse_nodeset(text):
    """libvirt's node set syntax '2-3,5' (no exclusions in the ledger's)."""
    out = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        if "-" in part:
            lo, hi = part.split("-", 1)
            out.update(range(int(lo), int(hi) + 1))
        else:
            out.add(int(part))
    return out
