/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * plan-test-util.h: hand-built domains for the planner tests and benchmark
 * (the XML reader is not needed to test the planner).
 */
#pragma once

#include "spm-domain.h"
#include "spm-plan.h"

static inline SpmDomainDef *
pt_domain(SpmMachineKind kind)
{
    SpmDomainDef *def = spm_domain_def_new();

    def->name = g_strdup("test");
    def->virt_type = g_strdup("qemu");
    def->machine_kind = kind;
    def->machine = g_strdup(kind == SPM_MACHINE_Q35 ? "q35" : "pc");
    def->acpi = TRUE;
    def->vcpus = 2;
    return def;
}

static inline SpmNumaCell *
pt_cell(SpmDomainDef *def, guint64 memory)
{
    SpmNumaCell *cell = spm_numa_cell_new();

    cell->id = def->cells->len;
    cell->memory = memory;
    cell->cpus = g_strdup_printf("%u", cell->id);
    cell->line = 10 + cell->id;
    g_ptr_array_add(def->cells, cell);
    def->memory += memory;
    return cell;
}

static inline SpmMemDevice *
pt_mem(SpmDomainDef *def, SpmMemModel model, guint64 size, guint node, const char *alias)
{
    SpmMemDevice *m = spm_mem_device_new(model);

    m->size = size;
    m->node = node;
    m->has_node = TRUE;
    m->alias = g_strdup(alias);
    m->line = 100 + def->mems->len;
    g_ptr_array_add(def->mems, m);
    def->memory += size;
    return m;
}

static inline SpmMemDevice *
pt_spm(SpmDomainDef *def, guint64 size, guint node, const char *alias)
{
    return pt_mem(def, SPM_MEM_MODEL_SPM, size, node, alias);
}
