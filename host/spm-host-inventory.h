/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-host-inventory.h: which host NUMA nodes hold accelerator memory (HBM)
 * that virt-spm may hand out, and how much of each.
 *
 * The inventory comes from `[host] spm_nodes` in virt-spm.conf:
 *
 *     [host]
 *     spm_nodes = 2:64GiB, 3:64GiB    # NODE[:SIZE], SIZE with libvirt's units
 *
 * A node listed without a size gets the MemTotal of
 * SYSFS/devices/system/node/nodeN/meminfo.  SYSFS is "/sys" or, for tests,
 * $VIRT_SPM_SYSFS_ROOT.  No `spm_nodes` key means no inventory: nothing is
 * reserved and nothing refused (virt-spm behaves as before the ledger).
 *
 * A configured node that SYSFS/devices/system/node/nodeN shows but
 * SYSFS/devices/system/node/has_memory does not list has had its memory
 * taken offline (daxctl offline-memory, or memory blocks set offline): it
 * is marked offline, and Placement is not offered it.  A node sysfs does
 * not show at all is taken as configured (a driver still coming up, a test
 * machine): QEMU's bind to it fails at start with the kernel's reason.
 *
 * Node sets use libvirt's nodeset syntax ("2-3,5", "^" exclusions) and are
 * kept as bitmasks over the position of each node in the inventory (not over
 * the kernel's node ids, which may be large and sparse), so at most
 * SPM_HOST_MAX_NODES nodes may be configured.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Keeps the exact set accounting (spm-ledger.h) small: 2^16 subsets. */
#define SPM_HOST_MAX_NODES 16

/* A set of inventory nodes: bit i = inventory->nodes[i]. */
typedef guint32 SpmNodeBits;

typedef struct {
    guint id;                   /* kernel NUMA node id */
    guint64 capacity;           /* bytes virt-spm may hand out on it */
    gboolean from_sysfs;        /* capacity is the node's MemTotal */
    gboolean offline;           /* the kernel has the node but no memory online on it */
} SpmHostNode;

typedef struct {
    GArray *nodes;              /* SpmHostNode, sorted by id, unique */
    GArray *candidates;         /* guint ids of memory-only nodes (memory, no CPUs)
                                 * found in sysfs, configured or not */
    char *sysfs_root;
} SpmHostInventory;

/* $VIRT_SPM_SYSFS_ROOT or "/sys". */
const char *spm_host_sysfs_root(void);

/*
 * The inventory of this host from @kf (`[host] spm_nodes`; @kf may be NULL)
 * and @sysfs_root (NULL = spm_host_sysfs_root()).  Errors (SPM_ERROR_INVALID)
 * name the key and the entry: malformed entries, duplicate or out-of-range
 * node ids, zero sizes, too many nodes, a size-less node whose meminfo
 * cannot be read.  Memory-only candidates are best effort (no sysfs, none).
 */
SpmHostInventory *spm_host_inventory_load(GKeyFile *kf, const char *sysfs_root, GError **error);

/* Parse one `spm_nodes` value (tests, and the loader above). */
SpmHostInventory *spm_host_inventory_parse(const char *value, const char *sysfs_root,
                                           GError **error);

void spm_host_inventory_free(SpmHostInventory *inv);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpmHostInventory, spm_host_inventory_free)

/* TRUE when no node is configured (no ledger accounting at all). */
gboolean spm_host_inventory_is_empty(const SpmHostInventory *inv);

/* Position of node @id in inv->nodes, or -1. */
int spm_host_inventory_index(const SpmHostInventory *inv, guint id);

/*
 * libvirt nodeset syntax ("2-3,5", "0-7,^4") to inventory bits.  Fails,
 * naming @what and the value, on bad syntax, an empty set, or a node that
 * is not in the inventory ("host node 7 is not in [host] spm_nodes (2-3)").
 */
gboolean spm_host_nodeset_parse(const SpmHostInventory *inv, const char *what,
                                const char *nodeset, SpmNodeBits *bits, GError **error);

/*
 * The ids of a plain node list ("0-3,5", the kernel's format), leniently:
 * parts that are not numbers or ranges of 0..1023 are skipped.  For what
 * virt-spm wrote itself or the kernel reports; user input goes through
 * spm_host_nodeset_parse().
 */
GArray *spm_host_list_parse(const char *text);

/* Inventory bits to the shortest nodeset string of kernel ids, "2-3,5". */
char *spm_host_nodeset_format(const SpmHostInventory *inv, SpmNodeBits bits);

/* Sum of the capacities of @bits. */
guint64 spm_host_inventory_capacity(const SpmHostInventory *inv, SpmNodeBits bits);

G_END_DECLS
