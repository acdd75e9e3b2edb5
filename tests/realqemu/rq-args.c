/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rq-args.c: QEMU command lines for the real-QEMU tests.
 */
#include "rq-args.h"

#include "spm-argv.h"
#include "spm-error.h"

const SpmPlannedDevice *
rq_plan_device_of(const SpmPlan *plan, const SpmMemDevice *m)
{
    for (guint i = 0; i < plan->devices->len; i++) {
        const SpmPlannedDevice *pd = g_ptr_array_index(plan->devices, i);

        if (pd->def == m)
            return pd;
    }
    return NULL;
}

static void
rq_args_add(GStrvBuilder *b, const char *opt, char *value)
{
    g_strv_builder_add(b, opt);
    g_strv_builder_add(b, value);
    g_free(value);
}

/* -machine, -m and -smp, as libvirt writes them. */
static void
rq_args_machine(GStrvBuilder *b, gboolean i440fx, guint64 ram, guint64 maxmem, guint slots,
                guint vcpus, guint phys_bits)
{
    if (phys_bits)
        rq_args_add(b, "-cpu", g_strdup_printf("qemu64,phys-bits=%u", phys_bits));
    rq_args_add(b, "-machine", g_strdup_printf("%s,accel=tcg",
                                               i440fx ? "pc-i440fx-7.2" : "pc-q35-7.2"));
    if (maxmem)
        rq_args_add(b, "-m", g_strdup_printf("size=%" G_GUINT64_FORMAT "k,slots=%u,maxmem=%"
                                             G_GUINT64_FORMAT "k", ram / 1024, slots,
                                             maxmem / 1024));
    else
        rq_args_add(b, "-m", g_strdup_printf("size=%" G_GUINT64_FORMAT "k", ram / 1024));
    rq_args_add(b, "-smp", g_strdup_printf("%u,sockets=%u,cores=1,threads=1", vcpus, vcpus));
}

/* A NUMA cell with its RAM backend, as libvirt writes it. */
static void
rq_args_cell(GStrvBuilder *b, guint id, const char *cpus, guint64 size)
{
    rq_args_add(b, "-object", g_strdup_printf("{\"qom-type\":\"memory-backend-ram\",\"id\":"
                                              "\"ram-node%u\",\"size\":%" G_GUINT64_FORMAT "}",
                                              id, size));
    rq_args_add(b, "-numa", g_strdup_printf("node,nodeid=%u,cpus=%s,memdev=ram-node%u",
                                            id, cpus, id));
}

/* A libvirt DIMM in JSON form; @slot < 0 and @addr 0 leave them to QEMU. */
static void
rq_args_dimm(GStrvBuilder *b, const char *id, const char *memdev, guint64 size, guint node,
             int slot, guint64 addr)
{
    g_autoptr(GString) dev = g_string_new(NULL);

    rq_args_add(b, "-object", g_strdup_printf("{\"qom-type\":\"memory-backend-ram\",\"id\":"
                                              "\"%s\",\"size\":%" G_GUINT64_FORMAT "}",
                                              memdev, size));
    g_string_append_printf(dev, "{\"driver\":\"pc-dimm\",\"node\":%u", node);
    if (slot >= 0)
        g_string_append_printf(dev, ",\"slot\":%d", slot);
    if (addr)
        g_string_append_printf(dev, ",\"addr\":%" G_GUINT64_FORMAT, addr);
    g_string_append_printf(dev, ",\"memdev\":\"%s\",\"id\":\"%s\"}", memdev, id);
    rq_args_add(b, "-device", g_string_free(g_steal_pointer(&dev), FALSE));
}

static void
rq_args_tail(GStrvBuilder *b)
{
    const char *tail[] = { "-nodefaults", "-display", "none", "-S", NULL };

    g_strv_builder_addv(b, tail);
}

/* The command line of a planned domain: libvirt's part, then the plan's words. */
GStrv
rq_plan_args(const RqDomain *d, const SpmDomainDef *def, const SpmPlan *plan, GError **error)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    g_auto(GStrv) spm = NULL;

    rq_args_machine(b, d->i440fx, plan->machine.ram_size, plan->max_memory,
                    plan->max_memory_slots, def->vcpus, d->phys_bits);
    for (guint i = 0; i < plan->nodes->len; i++) {
        const SpmPlannedNode *node = &g_array_index(plan->nodes, SpmPlannedNode, i);
        g_autofree char *cpus = NULL;

        if (node->kind == SPM_NUMA_SPM)
            continue;
        for (guint c = 0; c < def->cells->len; c++) {
            const SpmNumaCell *cell = g_ptr_array_index(def->cells, c);

            if (cell->id == node->id)
                cpus = g_strdup(cell->cpus);
        }
        if (!cpus && node->kind == SPM_NUMA_SYNTHESIZED)
            cpus = def->vcpus > 1 ? g_strdup_printf("0-%u", def->vcpus - 1) : g_strdup("0");
        if (!cpus) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "plan node %u (%s) is no cell of the domain", node->id,
                        spm_numa_kind_to_string(node->kind));
            return NULL;
        }
        rq_args_cell(b, node->id, cpus, node->memory);
    }
    for (guint i = 0; i < def->mems->len; i++) {
        const SpmMemDevice *m = g_ptr_array_index(def->mems, i);
        const SpmPlannedDevice *pd;

        if (m->model == SPM_MEM_MODEL_SPM && m->has_base &&
            (pd = rq_plan_device_of(plan, m)) && pd->addr != m->base) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_MISMATCH,
                        "SPM '%s': plan addr 0x%" G_GINT64_MODIFIER "x, XML base 0x%"
                        G_GINT64_MODIFIER "x", pd->id, pd->addr, m->base);
            return NULL;
        }
        if (m->model != SPM_MEM_MODEL_DIMM)
            continue;
        if (!(pd = rq_plan_device_of(plan, m))) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "dimm at line %u is not in the plan", m->line);
            return NULL;
        }
        if (m->has_base && pd->addr != m->base) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_MISMATCH,
                        "dimm '%s': plan addr 0x%" G_GINT64_MODIFIER "x, XML base 0x%"
                        G_GINT64_MODIFIER "x", pd->id, pd->addr, m->base);
            return NULL;
        }
        rq_args_dimm(b, pd->id, pd->backend.id, pd->backend.size, pd->node, pd->slot,
                     m->has_base ? m->base : 0);
    }
    if (!(spm = spm_argv_build(plan, plan->stand_in_driver, error)))
        return NULL;
    g_strv_builder_addv(b, (const char **)spm);
    rq_args_tail(b);
    return g_strv_builder_end(b);
}

static const char *
rq_dev_id(const RqDomain *d, guint i, char *buf, gsize len)
{
    if (d->devs[i].alias)
        return d->devs[i].alias;
    g_snprintf(buf, len, "%s%u", d->devs[i].kind == RQ_DEV_SPM ? "spm" : "dimm", i);
    return buf;
}

/* The raw arguments of a domain, without any planning: what the user asked for. */
GStrv
rq_raw_args(const RqDomain *d)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    guint ncells = rq_domain_ncells(d);
    guint64 ram = 0;
    guint top_slot = d->slots;

    for (guint i = 0; i < ncells; i++)
        ram += d->cells[i];
    rq_args_machine(b, d->i440fx, ram, d->max_memory, d->slots, rq_domain_vcpus(d),
                    d->phys_bits);
    for (guint i = 0; i < ncells; i++) {
        g_autofree char *cpus = g_strdup_printf("%u", i);

        rq_args_cell(b, i, cpus, d->cells[i]);
    }
    for (guint i = 0; i < RQ_MAX_DEVS && d->devs[i].kind; i++) {
        const RqDev *m = &d->devs[i];
        char buf[32];
        const char *id = rq_dev_id(d, i, buf, sizeof(buf));
        g_autofree char *memdev = g_strconcat("mem", id, NULL);

        if (m->kind == RQ_DEV_DIMM)
            rq_args_dimm(b, id, memdev, m->size, m->node, m->has_slot ? (int)m->slot : -1,
                         m->base);
    }
    /* the SPM devices as pc-dimm, key=value, at the end like <qemu:commandline>,
     * on the highest slots as the planner does (a key=value pc-dimm without
     * a slot takes slot 0 before libvirt's JSON DIMMs, docs/qemu.md) */
    for (guint i = 0; i < RQ_MAX_DEVS && d->devs[i].kind; i++) {
        const RqDev *m = &d->devs[i];
        char buf[32];
        const char *id = rq_dev_id(d, i, buf, sizeof(buf));
        g_autoptr(GString) dev = g_string_new(NULL);

        if (m->kind != RQ_DEV_SPM)
            continue;
        rq_args_add(b, "-numa", g_strdup_printf("node,nodeid=%u", m->node));
        rq_args_add(b, "-object", g_strdup_printf("memory-backend-ram,id=mem%s,size=%"
                                                  G_GUINT64_FORMAT, id, m->size));
        g_string_append_printf(dev, "pc-dimm,id=%s,memdev=mem%s,node=%u", id, id, m->node);
        if (top_slot)
            g_string_append_printf(dev, ",slot=%u", --top_slot);
        if (m->base)
            g_string_append_printf(dev, ",addr=0x%" G_GINT64_MODIFIER "x", m->base);
        rq_args_add(b, "-device", g_string_free(g_steal_pointer(&dev), FALSE));
    }
    rq_args_tail(b);
    return g_strv_builder_end(b);
}
