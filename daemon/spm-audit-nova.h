/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-audit-nova.h: the plan of a Nova guest, for the audit.
 *
 * Nova's domains carry no virt-spm metadata: the hook planned them from
 * their flavor at prepare begin and stored the plan by UUID
 * (spm_nova_plan_dir()/UUID.json, tools/spm-hook-nova.c).  That stored
 * plan is what the guest was started with, so it is what QEMU is compared
 * with.
 */
#pragma once

#include <glib.h>
#include "spm-audit.h"

G_BEGIN_DECLS

/*
 * The stored plan of the domain @uuid, or NULL: with @error when it exists
 * but cannot be read, without when there is none (not a Nova guest with
 * SPM memory).
 */
SpmAuditPlan *spm_audit_nova_plan(const char *uuid, GError **error);

G_END_DECLS
