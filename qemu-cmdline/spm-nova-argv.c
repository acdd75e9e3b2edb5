/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-nova-argv.c: the wrapper's edit list for a Nova guest with SPM memory
 */
#include "spm-nova-argv.h"
#include "spm-argv.h"
#include "spm-error.h"

#include <string.h>

static gboolean
spm_nova_argv_line(GString *out, const char *key, const char *value, GError **error)
{
    if (strpbrk(value, "\r\n")) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "QEMU argument '%s' holds a line break: it cannot be stored", value);
        return FALSE;
    }
    g_string_append_printf(out, "%s %s\n", key, value);
    return TRUE;
}

/* libvirt's -name guest=NAME: commas doubled, QEMU's escape. */
static char *
spm_nova_argv_name(const char *name)
{
    g_autofree char *quoted = spm_qemu_opt_quote(name);

    return g_strdup_printf("guest=%s", quoted);
}

char *
spm_nova_argv_edits(const SpmDomainDef *def,
                    const SpmPlan *plan,
                    guint64 ram,
                    GError **error)
{
    g_autoptr(GString) out = g_string_new(SPM_NOVA_PLAN_MAGIC "\n");
    g_auto(GStrv) args = NULL;
    g_autofree char *name = spm_nova_argv_name(def->name);
    g_autofree char *m = NULL;
    g_autofree char *m_set = NULL;
    g_autofree char *numa = g_strdup_printf("%u", def->cells->len);

    if (!def->uuid) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "domain '%s' has no <uuid>: the wrapper finds plans by UUID", def->name);
        return NULL;
    }
    /* What libvirt 9.0 writes without <maxMemory>: whole MiB of the initial memory. */
    m = g_strdup_printf("%" G_GUINT64_FORMAT, ram / (1024 * 1024));
    m_set = g_strdup_printf("size=%" G_GUINT64_FORMAT "k,slots=%u,maxmem=%" G_GUINT64_FORMAT "k",
                            ram / 1024, plan->max_memory_slots, plan->max_memory / 1024);
    if (!spm_nova_argv_line(out, SPM_NOVA_PLAN_KEY_UUID, def->uuid, error) ||
        !spm_nova_argv_line(out, SPM_NOVA_PLAN_KEY_NAME, name, error) ||
        !spm_nova_argv_line(out, SPM_NOVA_PLAN_KEY_M, m, error) ||
        !spm_nova_argv_line(out, SPM_NOVA_PLAN_KEY_M_SET, m_set, error) ||
        !spm_nova_argv_line(out, SPM_NOVA_PLAN_KEY_NUMA, numa, error))
        return NULL;

    if (plan->cell_synthesized) {
        /*
         * libvirt gave the RAM to the machine (-machine memory-backend=pc.ram)
         * and wrote no -numa: the two exclude each other, so node 0 takes
         * that backend instead (docs/nova.md, observed with QEMU 10.2).
         */
        guint vcpus = def->vcpus ? def->vcpus : 1;
        g_autofree char *cell = vcpus > 1
            ? g_strdup_printf("node,nodeid=0,cpus=0-%u,memdev=pc.ram", vcpus - 1)
            : g_strdup("node,nodeid=0,cpus=0,memdev=pc.ram");

        if (!spm_nova_argv_line(out, SPM_NOVA_PLAN_KEY_MACHINE_DROP, "memory-backend=pc.ram", error) ||
            !spm_nova_argv_line(out, SPM_NOVA_PLAN_KEY_ADD, "-numa", error) ||
            !spm_nova_argv_line(out, SPM_NOVA_PLAN_KEY_ADD, cell, error))
            return NULL;
    }
    if (!(args = spm_argv_build(plan, plan->stand_in_driver, error)))
        return NULL;
    for (char **a = args; *a; a++) {
        if (!spm_nova_argv_line(out, SPM_NOVA_PLAN_KEY_ADD, *a, error))
            return NULL;
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}
