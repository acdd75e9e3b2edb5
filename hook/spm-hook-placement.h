/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-hook-placement.h: at a Nova guest's prepare begin, ask Placement
 * which host node each SPM device was allocated from (docs/nova.md, "The
 * host follows Placement's choice").
 *
 * On when virt-spm.conf has a [placement] group:
 *
 *     [placement]
 *     nova_conf = /etc/nova/nova.conf   # nova-compute's [placement] credentials
 *     host = cn1                        # the compute node's provider (default: hostname)
 *     timeout = 10                      # seconds the start waits for Placement at most
 *
 * The question goes to virt-spm-placement-allocation (Python, keystoneauth1,
 * $VIRT_SPM_PLACEMENT_ALLOCATION in tests), run with a deadline.
 */
#pragma once

#include <glib.h>
#include "spm-domain.h"

G_BEGIN_DECLS

typedef enum {
    SPM_HOOK_PLACEMENT_OFF,         /* no [placement]: the ledger chooses */
    SPM_HOOK_PLACEMENT_BOUND,       /* every device on the node Placement allocated */
    SPM_HOOK_PLACEMENT_POOLED,      /* Placement holds the HBM pooled on the compute node */
    SPM_HOOK_PLACEMENT_UNREACHABLE, /* Placement could not answer: the ledger chooses, *warning says so */
    SPM_HOOK_PLACEMENT_REFUSED,     /* Placement answered, and not with this guest's HBM here: @error */
} SpmHookPlacementOutcome;

/*
 * Bind @def's SPM devices (after spm_nova_request_apply()) for the Nova
 * instance @uuid as [placement] of @kf says.  UNREACHABLE sets *@warning
 * (one line); REFUSED and a bad [placement] group set @error (one line).
 */
SpmHookPlacementOutcome spm_hook_placement_bind(GKeyFile *kf,
                                                SpmDomainDef *def,
                                                const char *uuid,
                                                char **warning,
                                                GError **error);

/*
 * The command that asks Placement, from [placement] of @kf (nullable: the
 * defaults): about instance @uuid, or with @uuid NULL for the host's view
 * (`--view`: each HBM child's total, reserved and used GiB, `virt-spm host
 * --placement`).  *timeout_s: the deadline to run it with.  NULL with
 * @error naming a bad key.
 */
GPtrArray *spm_hook_placement_argv(GKeyFile *kf, const char *uuid, guint *timeout_s,
                                   GError **error);

/* The helper's one error line: the last line of @text, without "error: ". */
char *spm_hook_placement_last_line(const char *text);

G_END_DECLS
