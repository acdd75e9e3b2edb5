# SPDX-License-Identifier: LGPL-2.1-or-later
"""A fake /sys/devices/system/node for the tests that read the host's NUMA
nodes (VIRT_SPM_SYSFS_ROOT points the programs at it)."""
import os


def fake_sysfs(root, node_gib, cpus):
    """Nodes 0..len(node_gib)-1 with node_gib[n] GiB each; @cpus: the nodes
    that have CPUs (the others are memory-only, as HBM nodes are)."""
    base = os.path.join(root, "devices", "system", "node")
    for n, gib in enumerate(node_gib):
        os.makedirs(os.path.join(base, "node%d" % n))
        with open(os.path.join(base, "node%d" % n, "meminfo"), "w") as f:
            f.write("Node %d MemTotal:       %d kB\nNode %d MemFree:  1 kB\n"
                    % (n, gib * 1024 * 1024, n))
    with open(os.path.join(base, "has_memory"), "w") as f:
        f.write("0-%d\n" % (len(node_gib) - 1))
    with open(os.path.join(base, "has_cpu"), "w") as f:
        f.write(cpus + "\n")
