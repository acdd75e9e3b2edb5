/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * argv-test-plan.c: hand-built plans for tests (see argv-test-plan.h)
 */
#include "argv-test-plan.h"

static void
argv_test_device_free(SpmPlannedDevice *dev)
{
    g_free(dev->id);
    g_free(dev->backend.id);
    g_free(dev->backend.mem_path);
    g_free(dev->backend.host_nodes);
    g_free(dev);
}

ArgvTestPlan *
argv_test_plan_new(void)
{
    SpmPlan *plan = g_new0(SpmPlan, 1);

    plan->machine.kind = SPM_MACHINE_Q35;
    plan->machine_name = "q35";
    plan->devices = g_ptr_array_new_with_free_func((GDestroyNotify)argv_test_device_free);
    plan->nodes = g_array_new(FALSE, TRUE, sizeof(SpmPlannedNode));
    plan->warnings = g_ptr_array_new_with_free_func(g_free);
    return plan;
}

void
argv_test_plan_free(ArgvTestPlan *plan)
{
    if (!plan)
        return;
    g_ptr_array_unref(plan->devices);
    g_array_unref(plan->nodes);
    g_ptr_array_unref(plan->warnings);
    g_free(plan->stand_in_driver);
    g_free(plan);
}

SpmPlannedDevice *
argv_test_plan_add_device(ArgvTestPlan *plan,
                          const char *id,
                          SpmMemModel model,
                          guint64 addr,
                          guint64 size,
                          guint node,
                          guint order,
                          gboolean generated)
{
    SpmPlannedDevice *dev = g_new0(SpmPlannedDevice, 1);

    dev->id = g_strdup(id);
    dev->model = model;
    dev->addr = addr;
    dev->size = size;
    dev->align = 2 * 1024 * 1024;
    dev->node = node;
    dev->slot = -1;
    dev->explicit_addr = generated;
    dev->generated = generated;
    dev->order = order;
    dev->backend.kind = SPM_BACKEND_RAM;
    dev->backend.id = g_strdup_printf("mem-%s", id);
    dev->backend.size = size;
    dev->backend.region_align = dev->align;
    g_ptr_array_add(plan->devices, dev);
    return dev;
}

void
argv_test_plan_add_node(ArgvTestPlan *plan, guint id, SpmNumaKind kind,
                        guint64 memory)
{
    SpmPlannedNode node = { .id = id, .kind = kind, .memory = memory };

    g_array_append_val(plan->nodes, node);
}

void
argv_test_plan_add_warning(ArgvTestPlan *plan, const char *warning)
{
    g_ptr_array_add(plan->warnings, g_strdup(warning));
}
