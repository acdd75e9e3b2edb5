/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * argv-test-plan.h: hand-built SpmPlan structs for the argv and format
 * tests, independent of the planner (spm_plan_build).
 */
#pragma once

#include <glib.h>
#include "spm-plan.h"

G_BEGIN_DECLS

/* Own type name so the autoptr cleanup is ours, not spm_plan_free(). */
typedef SpmPlan ArgvTestPlan;

/* An empty q35 plan: no devices, no nodes, no warnings. */
ArgvTestPlan *argv_test_plan_new(void);
void argv_test_plan_free(ArgvTestPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ArgvTestPlan, argv_test_plan_free)

/*
 * Append a device with a memory-backend-ram backend "mem-<id>" of the same
 * size, align 2 MiB, slot -1, explicit_addr == generated.  Returns it for
 * further tweaks (strings in it are owned by the plan: set them with
 * g_strdup).
 */
SpmPlannedDevice *argv_test_plan_add_device(ArgvTestPlan *plan,
                                            const char *id,
                                            SpmMemModel model,
                                            guint64 addr,
                                            guint64 size,
                                            guint node,
                                            guint order,
                                            gboolean generated);

void argv_test_plan_add_node(ArgvTestPlan *plan, guint id, SpmNumaKind kind,
                             guint64 memory);

void argv_test_plan_add_warning(ArgvTestPlan *plan, const char *warning);

G_END_DECLS
