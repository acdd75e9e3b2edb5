/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-placement-bind.h: bind a Nova guest's SPM devices to the host nodes
 * Placement allocated them from (docs/nova.md, "The host follows
 * Placement's choice").
 *
 * Each HBM node is a child provider of the compute node, and a flavor asks
 * one granular group per device (resources_spmN), so Placement took each
 * device's GiB from one child.  Placement records only the GiB per
 * provider, not the group: the binding is rebuilt as an exact cover -- each
 * device on one allocated node, each node's devices summing to exactly the
 * GiB allocated there.  Any such cover gives every node the use Placement
 * counts, which is what must agree.
 *
 * Pure: the answer is parsed from the text virt-spm-placement-allocation
 * printed; no I/O.
 */
#pragma once

#include <glib.h>
#include "spm-domain.h"

G_BEGIN_DECLS

typedef struct {
    guint node;                 /* host node id, from the child's name */
    guint64 gib;                /* CUSTOM_SPM_HBM_GIB allocated from it */
} SpmPlacementNodeUse;

typedef struct {
    char *consumer;
    char *host;                 /* the compute node's provider name */
    gboolean registered;        /* the host has SPM child providers */
    gboolean allocated;         /* the consumer holds any allocation */
    GArray *nodes;              /* SpmPlacementNodeUse, by node id */
    guint64 root_gib;           /* from the compute node itself (pooled provider file) */
    char *elsewhere;            /* other providers holding its HBM, ", "-joined; NULL = none */
} SpmPlacementAllocation;

void spm_placement_allocation_free(SpmPlacementAllocation *a);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpmPlacementAllocation, spm_placement_allocation_free)

/* The JSON object virt-spm-placement-allocation prints; errors say what is wrong in it. */
SpmPlacementAllocation *spm_placement_allocation_parse(const char *text, GError **error);

/*
 * Give each SPM device of @def the host node Placement allocated it from
 * (@def changed in place: source.nodemask).  A device bound by the flavor
 * (spm:N.host_nodes) stays on its node, which must be one Placement
 * allocated.  *bound is FALSE (and @def untouched) when Placement holds
 * the guest's HBM on the compute node itself (the pooled provider file,
 * no per-node view): the ledger chooses.  FALSE with SPM_ERROR_INVALID
 * and one line when the allocation is not the guest's HBM on this host:
 * none at all, on other providers, or GiB no cover of the devices gives.
 */
gboolean spm_placement_bind(const SpmPlacementAllocation *a,
                            SpmDomainDef *def,
                            gboolean *bound,
                            GError **error);

G_END_DECLS
