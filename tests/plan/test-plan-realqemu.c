/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-plan-realqemu: plans checked against the real QEMU 7.2 (TCG).
 *
 * The planner's promise is "this is exactly what QEMU will do".  For a set
 * of domains, the plan is turned into a QEMU command line with stand-ins
 * for what QEMU 7.2 lacks: each SPM device becomes a key=value
 * virtio-mem-pci (a memory device that takes no DIMM slot, so the region
 * size stays the plan's) with memaddr= the planned address and the SPM
 * node; libvirt's own DIMMs are JSON pc-dimms as libvirt writes them.
 * QEMU must put every device at the planned address and slot, and make
 * the device-memory region the plan says.  Skipped without QEMU.
 */
#include <string.h>

#include "spm-error.h"
#include "spm-plan.h"
#include "plan-test-util.h"
#include "fx-qemu.h"

static GPtrArray *
plan_to_argv(const SpmDomainDef *def, const SpmPlan *plan)
{
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
    guint64 ram_total = 0;

#define ARG(...) g_ptr_array_add(a, g_strdup_printf(__VA_ARGS__))
    ARG("-machine");
    ARG("%s", plan->machine_name);
    ARG("-cpu");
    ARG("%s,phys-bits=%u", def->cpu_model ? def->cpu_model : "qemu64", plan->machine.phys_bits);
    ARG("-m");
    ARG("%" G_GUINT64_FORMAT "M,slots=%u,maxmem=%" G_GUINT64_FORMAT,
        plan->machine.ram_size / SPM_MiB, plan->machine.slots, plan->machine.maxmem);

    for (guint i = 0; i < plan->nodes->len; i++) {
        const SpmPlannedNode *n = &g_array_index(plan->nodes, SpmPlannedNode, i);

        if (n->memory) {
            ARG("-object");
            ARG("memory-backend-ram,id=cell%u,size=%" G_GUINT64_FORMAT ",reserve=off",
                n->id, n->memory);
            ARG("-numa");
            if (n->id == 0)
                ARG("node,nodeid=%u,cpus=0,memdev=cell%u", n->id, n->id);
            else
                ARG("node,nodeid=%u,memdev=cell%u", n->id, n->id);
            ram_total += n->memory;
        } else {
            ARG("-numa");
            ARG("node,nodeid=%u", n->id);
        }
    }
    g_assert_cmphex(ram_total, ==, plan->machine.ram_size);

    /* document order, as the argument builder and libvirt write them */
    for (guint i = 0; i < def->mems->len; i++) {
        const SpmMemDevice *m = g_ptr_array_index(def->mems, i);
        const SpmPlannedDevice *pd = NULL;

        for (guint j = 0; j < plan->devices->len && !pd; j++) {
            const SpmPlannedDevice *cand = g_ptr_array_index(plan->devices, j);

            if (cand->def == m)
                pd = cand;
        }
        if (!pd)
            g_error("device at line %u is not in the plan", m->line);
        ARG("-object");
        ARG("memory-backend-ram,id=%s,size=%" G_GUINT64_FORMAT ",reserve=off",
            pd->backend.id, pd->backend.size);
        ARG("-device");
        if (pd->model == SPM_MEM_MODEL_SPM && plan->stand_in_driver) {
            /* the planner's own stand-in: a key=value pc-dimm on a reserved slot */
            ARG("%s,id=%s,memdev=%s,node=%u,addr=0x%" G_GINT64_MODIFIER "x,slot=%d",
                plan->stand_in_driver, pd->id, pd->backend.id, pd->node, pd->addr, pd->slot);
        } else if (pd->model == SPM_MEM_MODEL_SPM) {
            ARG("virtio-mem-pci,id=%s,memdev=%s,node=%u,memaddr=0x%" G_GINT64_MODIFIER "x,"
                "requested-size=0", pd->id, pd->backend.id, pd->node, pd->addr);
        } else {
            g_autoptr(GString) j = g_string_new(NULL);

            g_assert_cmpint(pd->model, ==, SPM_MEM_MODEL_DIMM);
            g_string_append_printf(j, "{\"driver\":\"pc-dimm\",\"id\":\"%s\",\"memdev\":\"%s\","
                                   "\"node\":%u", pd->id, pd->backend.id, pd->node);
            if (m->slot >= 0)
                g_string_append_printf(j, ",\"slot\":%d", m->slot);
            if (m->has_base)
                g_string_append_printf(j, ",\"addr\":%" G_GUINT64_FORMAT, m->base);
            g_string_append(j, "}");
            ARG("%s", j->str);
        }
    }
#undef ARG
    g_ptr_array_add(a, NULL);
    return a;
}

static void
check_against_qemu(const SpmDomainDef *def, const SpmPlanPolicy *policy)
{
    g_autofree char *qemu = fx_qemu_find();
    g_autoptr(GError) err = NULL;
    g_autoptr(SpmPlan) plan = NULL;
    g_autoptr(GPtrArray) argv = NULL;
    g_autofree char *joined = NULL;
    FxQemuResult r;

    if (!qemu) {
        g_test_skip("qemu-system-x86_64 not found");
        return;
    }
    plan = spm_plan_build(def, policy, &err);
    if (!plan)
        g_error("plan: %s", err->message);
    argv = plan_to_argv(def, plan);
    joined = g_strjoinv(" ", (char **)argv->pdata);
    g_test_message("QEMU: %s", joined);
    fx_qemu_run(qemu, (const char *const *)argv->pdata, &r);
    if (r.error)
        g_error("QEMU refused the plan: %s", r.error);

    g_assert_true(r.has_devmem);
    g_assert_cmphex(r.devmem_base, ==, plan->layout.devmem_base);
    g_assert_cmphex(r.devmem_size, ==, plan->layout.devmem_size);
    g_assert_cmphex(r.below, ==, plan->layout.below_4g);
    g_assert_cmphex(r.above, ==, plan->layout.above_4g);
    g_assert_cmpuint(r.devs->len, ==, plan->devices->len);
    for (guint i = 0; i < r.devs->len; i++) {
        GHashTable *kv = g_ptr_array_index(r.devs, i);
        const SpmPlannedDevice *pd = spm_plan_find_device(plan, g_hash_table_lookup(kv, "id"));

        if (!pd)
            g_error("QEMU reports a device the plan lacks");
        g_test_message("%s: QEMU %s, plan 0x%" G_GINT64_MODIFIER "x", pd->id,
                       (char *)(g_hash_table_lookup(kv, "addr") ? g_hash_table_lookup(kv, "addr")
                                : g_hash_table_lookup(kv, "memaddr")), pd->addr);
        if (pd->model == SPM_MEM_MODEL_SPM && plan->stand_in_driver) {
            g_assert_cmphex(fx_qemu_dev_u64(kv, "addr"), ==, pd->addr);
            g_assert_cmpint((int)fx_qemu_dev_u64(kv, "slot"), ==, pd->slot);
            g_assert_cmpuint(fx_qemu_dev_u64(kv, "node"), ==, pd->node);
        } else if (pd->model == SPM_MEM_MODEL_SPM) {
            g_assert_cmphex(fx_qemu_dev_u64(kv, "memaddr"), ==, pd->addr);
            g_assert_cmphex(fx_qemu_dev_u64(kv, "max-size"), ==, pd->size);
            g_assert_cmpuint(fx_qemu_dev_u64(kv, "node"), ==, pd->node);
        } else {
            g_assert_cmphex(fx_qemu_dev_u64(kv, "addr"), ==, pd->addr);
            g_assert_cmphex(fx_qemu_dev_u64(kv, "size"), ==, pd->size);
            g_assert_cmpint((int)fx_qemu_dev_u64(kv, "slot"), ==, pd->slot);
        }
    }
    fx_qemu_result_clear(&r);
}

static SpmPlanPolicy policy;

/* the spm-plus-dimm fixture as a domain: the DIMM first in the document */
static void
test_spm_plus_dimm(void)
{
    g_autoptr(SpmDomainDef) def = pt_domain(SPM_MACHINE_Q35);

    pt_cell(def, 512 * SPM_MiB);
    pt_cell(def, 512 * SPM_MiB);
    pt_mem(def, SPM_MEM_MODEL_DIMM, 512 * SPM_MiB, 1, NULL);
    pt_spm(def, SPM_GiB, 2, NULL);
    def->has_max_memory = TRUE;
    def->max_memory = 16 * SPM_GiB;
    def->max_memory_slots = 4;
    check_against_qemu(def, &policy);
}

/* several SPM devices, one pinned, DIMMs with and without slots, maxMemory raised */
static void
test_mixed(void)
{
    g_autoptr(SpmDomainDef) def = pt_domain(SPM_MACHINE_Q35);
    SpmMemDevice *m;

    pt_cell(def, 2 * SPM_GiB);
    pt_cell(def, 2 * SPM_GiB);
    pt_spm(def, 2 * SPM_GiB, 2, "ua-hbm0");
    m = pt_mem(def, SPM_MEM_MODEL_DIMM, 256 * SPM_MiB, 0, NULL);
    m->slot = 1;
    m = pt_spm(def, SPM_GiB, 3, "ua-hbm1");
    m->has_base = TRUE;
    m->base = 0x500000000;
    pt_spm(def, 512 * SPM_MiB, 4, "ua-hbm2");
    pt_mem(def, SPM_MEM_MODEL_DIMM, 1023 * SPM_KiB, 1, NULL);   /* rounded to 2 MiB */
    pt_mem(def, SPM_MEM_MODEL_DIMM, 512 * SPM_MiB, 1, "ua-dimm");
    def->has_max_memory = TRUE;
    def->max_memory = 6 * SPM_GiB;
    def->max_memory_slots = 2;
    check_against_qemu(def, &policy);
}

/* a libvirt DIMM with a fixed base where the SPM device would go */
static void
test_libvirt_fixed_base(void)
{
    g_autoptr(SpmDomainDef) def = pt_domain(SPM_MACHINE_Q35);
    SpmMemDevice *d;

    pt_cell(def, SPM_GiB);
    d = pt_mem(def, SPM_MEM_MODEL_DIMM, 512 * SPM_MiB, 0, NULL);
    d->has_base = TRUE;
    d->base = 0x100000000;
    d->slot = 0;
    pt_spm(def, SPM_GiB, 1, NULL);
    pt_mem(def, SPM_MEM_MODEL_DIMM, 512 * SPM_MiB, 0, NULL);
    check_against_qemu(def, &policy);
}

/* pc-dimm standing in for spm-memory: libvirt's slot=0 DIMM must still get slot 0 */
static void
test_stand_in_pc_dimm(void)
{
    g_autoptr(SpmDomainDef) def = pt_domain(SPM_MACHINE_Q35);
    SpmPlanPolicy p;
    SpmMemDevice *d;

    spm_plan_policy_init(&p);
    p.host.libvirt_version = 9000000;      /* a stand-in needs no newer libvirt */
    p.stand_in_driver = g_strdup("pc-dimm");
    pt_cell(def, SPM_GiB);
    pt_spm(def, SPM_GiB, 1, "ua-hbm0");
    d = pt_mem(def, SPM_MEM_MODEL_DIMM, 512 * SPM_MiB, 0, NULL);
    d->slot = 0;
    pt_spm(def, SPM_GiB, 2, "ua-hbm1");
    pt_mem(def, SPM_MEM_MODEL_DIMM, 512 * SPM_MiB, 0, NULL);
    check_against_qemu(def, &p);
    spm_plan_policy_clear(&p);
}

/* no <numa>, no <maxMemory>, on pc with RAM above 4G */
static void
test_pc_no_numa(void)
{
    g_autoptr(SpmDomainDef) def = pt_domain(SPM_MACHINE_I440FX);

    def->memory = 3584 * SPM_MiB;
    pt_spm(def, 4 * SPM_GiB, 1, NULL);
    pt_spm(def, 2 * SPM_GiB, 2, NULL);
    pt_mem(def, SPM_MEM_MODEL_DIMM, 512 * SPM_MiB, 0, NULL);
    check_against_qemu(def, &policy);
}

/* AMD vCPU, a region past the HyperTransport hole: moved to 1 TiB */
static void
test_amd_relocation(void)
{
    g_autoptr(SpmDomainDef) def = pt_domain(SPM_MACHINE_Q35);
    g_autoptr(SpmPlan) plan = NULL;
    g_autoptr(GError) err = NULL;

    def->cpu_model = g_strdup("EPYC");
    def->maxphysaddr_mode = g_strdup("emulate");
    def->maxphysaddr_bits = 48;
    pt_cell(def, 2 * SPM_GiB);
    pt_spm(def, 1000 * SPM_GiB, 1, "ua-big");
    pt_mem(def, SPM_MEM_MODEL_DIMM, 1 * SPM_GiB, 0, NULL);
    plan = spm_plan_build(def, &policy, &err);
    g_assert_no_error(err);
    g_assert_true(plan->layout.relocated_1tb);
    check_against_qemu(def, &policy);
}

int
main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    spm_plan_policy_init(&policy);
    policy.host.libvirt_version = 11003000;
    g_test_add_func("/plan/realqemu/spm-plus-dimm", test_spm_plus_dimm);
    g_test_add_func("/plan/realqemu/mixed", test_mixed);
    g_test_add_func("/plan/realqemu/pc-no-numa", test_pc_no_numa);
    g_test_add_func("/plan/realqemu/stand-in-pc-dimm", test_stand_in_pc_dimm);
    g_test_add_func("/plan/realqemu/libvirt-fixed-base", test_libvirt_fixed_base);
    g_test_add_func("/plan/realqemu/amd-relocation", test_amd_relocation);
    ret = g_test_run();
    spm_plan_policy_clear(&policy);
    return ret;
}
