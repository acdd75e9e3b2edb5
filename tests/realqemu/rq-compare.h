/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rq-compare.h: what QEMU and libvirt report, against the plan.
 *
 * Each function collects every difference it finds into one
 * SPM_ERROR_MISMATCH message ("; "-separated), so a failing case shows
 * all of them at once.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include "spm-plan.h"

G_BEGIN_DECLS

/* The plan in a few lines (region, then every device), for messages. */
char *rq_plan_describe(const SpmPlan *plan);

/*
 * query-memory-devices (its "return" array): every device planned, with
 * the planned type, addr, size, node, slot and backend (spm-memory for SPM
 * devices unless the plan has a stand-in, pc-dimm for the rest), and every
 * planned device reported.
 */
gboolean rq_compare_devices(JsonNode *ret, const SpmPlan *plan, GError **error);

/* No SPM device ends where another begins (the guest would merge them). */
gboolean rq_check_spm_apart(const SpmPlan *plan, GError **error);

/* `info mtree`: device-memory, ram-below-4g and ram-above-4g against the plan's layout. */
gboolean rq_compare_mtree(const char *mtree, const SpmPlan *plan, GError **error);

/* The "return" member of a QMP reply passed through libvirt (a copy). */
JsonNode *rq_qmp_return(const char *reply, GError **error);

/* libvirt's live <address type='dimm' slot= base=> of its DIMMs against the plan. */
gboolean rq_compare_live_xml(const char *live, const SpmPlan *plan, GError **error);

/*
 * libvirt's stored (inactive) definition against the converted one and
 * the user's definition @user: generated arguments still current under
 * @policy, <memory> and <maxMemory> kept, SPM devices in the metadata,
 * and reverse giving back the user's memory figures and devices.
 */
gboolean rq_compare_stored(const char *stored, const char *converted, const SpmDomainDef *user,
                           const SpmPlanPolicy *policy, GError **error);

G_END_DECLS
