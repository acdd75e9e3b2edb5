/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-plan: the planner, one test per decision and per error, plus the
 * fixtures' configurations re-expressed as domains (the addresses must be
 * the ones the real QEMU chose) and a 1,000-device domain.
 */
#include <string.h>

#include "spm-error.h"
#include "spm-plan.h"
#include "plan-test-util.h"

static SpmPlanPolicy policy;

static void
policy_reset(void)
{
    spm_plan_policy_clear(&policy);
    spm_plan_policy_init(&policy);
    policy.host.libvirt_version = 11003000;
    policy.host.firmware_version = g_strdup("edk2-2026.08");
}

static SpmPlan *
plan_ok(const SpmDomainDef *def)
{
    g_autoptr(GError) err = NULL;
    SpmPlan *plan = spm_plan_build(def, &policy, &err);

    if (!plan)
        g_error("plan failed: %s", err->message);
    g_assert_no_error(err);
    return plan;
}

static void
plan_fails(const SpmDomainDef *def, int code, const char *message)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(SpmPlan) plan = spm_plan_build(def, &policy, &err);

    g_assert_null(plan);
    g_assert_nonnull(err);
    if (strcmp(err->message, message) != 0)
        g_error("expected '%s'\n     got '%s'", message, err->message);
    g_assert_error(err, SPM_ERROR, code);
}

static gboolean
has_warning(const SpmPlan *plan, const char *prefix)
{
    for (guint i = 0; i < plan->warnings->len; i++) {
        if (g_str_has_prefix(g_ptr_array_index(plan->warnings, i), prefix))
            return TRUE;
    }
    return FALSE;
}

static SpmDomainDef *
efi_domain(void)
{
    SpmDomainDef *def = pt_domain(SPM_MACHINE_Q35);

    def->firmware_efi = TRUE;
    return def;
}

static void
test_policy_defaults(void)
{
    SpmPlanPolicy p;

    spm_plan_policy_init(&p);
    g_assert_cmphex(p.spm_align, ==, SPM_GiB);
    g_assert_cmphex(p.guard_gap, ==, SPM_GiB);
    g_assert_true(p.strict);
    g_assert_false(p.fixed_max_memory);
    p.host.firmware_version = g_strdup("x");
    spm_plan_policy_clear(&p);
    g_assert_null(p.host.firmware_version);

    g_assert_cmpstr(spm_backend_kind_qom_type(SPM_BACKEND_RAM), ==, "memory-backend-ram");
    g_assert_cmpstr(spm_backend_kind_qom_type(SPM_BACKEND_MEMFD), ==, "memory-backend-memfd");
    g_assert_cmpstr(spm_backend_kind_qom_type(SPM_BACKEND_FILE), ==, "memory-backend-file");
    g_assert_cmpstr(spm_numa_kind_to_string(SPM_NUMA_CELL), ==, "cell");
    g_assert_cmpstr(spm_numa_kind_to_string(SPM_NUMA_SPM), ==, "spm");
    g_assert_cmpstr(spm_numa_kind_to_string(SPM_NUMA_SYNTHESIZED), ==, "cell");
    g_assert_cmpuint(SPM_LIBVIRT_SKIPS_UNKNOWN_MEMDEV, ==, 9001000);
}

/* single-natural / single-explicit-addr: 1 GiB RAM, 1 GiB SPM on node 1 */
static void
test_fixture_single(void)
{
    g_autoptr(SpmDomainDef) def = efi_domain();
    g_autoptr(SpmPlan) plan = NULL;
    const SpmPlannedDevice *d;

    pt_cell(def, SPM_GiB);
    pt_spm(def, SPM_GiB, 1, NULL);
    def->has_max_memory = TRUE;
    def->max_memory = 16 * SPM_GiB;
    def->max_memory_slots = 4;
    plan = plan_ok(def);

    g_assert_cmpstr(plan->machine_name, ==, "q35");
    g_assert_cmphex(plan->layout.devmem_base, ==, 0x100000000);
    g_assert_cmphex(plan->layout.devmem_size, ==, 0x4c0000000);
    g_assert_false(plan->max_memory_raised);
    g_assert_cmpuint(plan->devices->len, ==, 1);
    d = g_ptr_array_index(plan->devices, 0);
    g_assert_cmpstr(d->id, ==, "spm0");
    g_assert_cmphex(d->addr, ==, 0x100000000);
    g_assert_cmphex(d->size, ==, SPM_GiB);
    g_assert_cmphex(d->align, ==, 2 * SPM_MiB);
    g_assert_true(d->explicit_addr);
    g_assert_true(d->generated);
    g_assert_cmpint(d->slot, ==, -1);
    g_assert_cmpuint(d->backend.kind, ==, SPM_BACKEND_RAM);
    g_assert_cmpstr(d->backend.id, ==, "memspm0");
    g_assert_cmpuint(plan->nodes->len, ==, 2);
    g_assert_cmpuint(g_array_index(plan->nodes, SpmPlannedNode, 0).kind, ==, SPM_NUMA_CELL);
    g_assert_cmpuint(g_array_index(plan->nodes, SpmPlannedNode, 1).kind, ==, SPM_NUMA_SPM);
    g_assert_cmpuint(plan->machine.nb_numa_nodes, ==, 2);
    g_assert_cmpint(plan->device, ==, SPM_DEVICE_SP_MEM);          /* the default */
    g_assert_cmpint(plan->machine.spm_device, ==, SPM_DEVICE_SP_MEM);
    g_assert_cmphex(plan->machine.numa_node_has_ram, ==, 1);

    /* single-explicit-addr: base 0x200000000 honoured */
    g_clear_pointer(&plan, spm_plan_free);
    ((SpmMemDevice *)g_ptr_array_index(def->mems, 0))->base = 0x200000000;
    ((SpmMemDevice *)g_ptr_array_index(def->mems, 0))->has_base = TRUE;
    plan = plan_ok(def);
    g_assert_cmphex(spm_plan_find_device(plan, "spm0")->addr, ==, 0x200000000);
}

/* big-ram-above-4g: 6 GiB RAM, 8 GiB SPM: region at 0x200000000 */
static void
test_fixture_big_ram(void)
{
    g_autoptr(SpmDomainDef) def = efi_domain();
    g_autoptr(SpmPlan) plan = NULL;

    pt_cell(def, 6 * SPM_GiB);
    pt_spm(def, 8 * SPM_GiB, 1, "ua-dev0");
    def->has_max_memory = TRUE;
    def->max_memory = 40 * SPM_GiB;
    def->max_memory_slots = 2;
    plan = plan_ok(def);
    g_assert_cmphex(plan->layout.below_4g, ==, 2 * SPM_GiB);
    g_assert_cmphex(plan->layout.devmem_base, ==, 0x200000000);
    g_assert_cmphex(plan->layout.devmem_base + plan->layout.devmem_size - 1, ==, 0xaffffffff);
    g_assert_cmphex(spm_plan_find_device(plan, "ua-dev0")->addr, ==, 0x200000000);
}

/* two-gap: the planner leaves the guard gap QEMU's natural placement lacks */
static void
test_fixture_two_gap(void)
{
    g_autoptr(SpmDomainDef) def = efi_domain();
    g_autoptr(SpmPlan) plan = NULL;

    pt_cell(def, SPM_GiB);
    pt_spm(def, SPM_GiB, 1, "ua-dev0");
    pt_spm(def, SPM_GiB, 2, "ua-dev1");
    def->has_max_memory = TRUE;
    def->max_memory = 16 * SPM_GiB;
    def->max_memory_slots = 4;
    plan = plan_ok(def);
    g_assert_cmphex(spm_plan_find_device(plan, "ua-dev0")->addr, ==, 0x100000000);
    g_assert_cmphex(spm_plan_find_device(plan, "ua-dev1")->addr, ==, 0x180000000);
    g_assert_cmpuint(plan->nodes->len, ==, 3);
}

/* spm-plus-dimm / dimm-first-json-order: SPM first (key=value), then libvirt's DIMM */
static void
test_fixture_spm_plus_dimm(void)
{
    g_autoptr(SpmDomainDef) def = efi_domain();
    g_autoptr(SpmPlan) plan = NULL;
    const SpmPlannedDevice *dimm, *spm;

    pt_cell(def, 512 * SPM_MiB);
    pt_cell(def, 512 * SPM_MiB);
    /* the DIMM first in the document: QEMU still realizes it after the SPM device */
    pt_mem(def, SPM_MEM_MODEL_DIMM, 512 * SPM_MiB, 1, NULL);
    pt_spm(def, SPM_GiB, 2, NULL);
    def->has_max_memory = TRUE;
    def->max_memory = 16 * SPM_GiB;
    def->max_memory_slots = 4;
    plan = plan_ok(def);

    spm = spm_plan_find_device(plan, "spm0");
    dimm = spm_plan_find_device(plan, "dimm0");
    g_assert_nonnull(spm);
    g_assert_nonnull(dimm);
    g_assert_cmphex(spm->addr, ==, 0x100000000);
    g_assert_cmphex(dimm->addr, ==, 0x140000000);
    g_assert_cmpint(dimm->slot, ==, 0);
    g_assert_cmpuint(spm->order, ==, 0);
    g_assert_cmpuint(dimm->order, ==, 1);
    g_assert_false(dimm->explicit_addr);
    g_assert_false(dimm->generated);
    g_assert_cmpstr(dimm->backend.id, ==, "memdimm0");
    /* sorted by address */
    g_assert_true(g_ptr_array_index(plan->devices, 0) == spm);
    g_assert_true(g_ptr_array_index(plan->devices, 1) == dimm);
    g_assert_cmpuint(plan->nodes->len, ==, 3);
    g_assert_cmphex(plan->machine.numa_node_has_ram, ==, 3);
}

static void
test_ram_without_cells(void)
{
    g_autoptr(SpmDomainDef) def = efi_domain();
    g_autoptr(SpmPlan) plan = NULL;
    const SpmPlannedNode *n0;

    def->memory = 2 * SPM_GiB;
    pt_spm(def, SPM_GiB, 1, NULL);      /* <memory> becomes 3 GiB, devices included */
    plan = plan_ok(def);
    g_assert_true(plan->cell_synthesized);
    g_assert_cmphex(plan->machine.ram_size, ==, 2 * SPM_GiB);
    n0 = &g_array_index(plan->nodes, SpmPlannedNode, 0);
    g_assert_cmpuint(n0->kind, ==, SPM_NUMA_SYNTHESIZED);
    g_assert_cmphex(n0->memory, ==, 2 * SPM_GiB);
    g_assert_cmpstr(spm_numa_kind_to_string(n0->kind), ==, "cell");
    g_assert_cmpuint(plan->nodes->len, ==, 2);

    /* nothing left for RAM */
    def->memory = SPM_GiB;
    plan_fails(def, SPM_ERROR_INVALID,
               "memory 1 GiB: the memory devices take 1 GiB of it, which leaves no RAM");
}

static void
test_cells_order(void)
{
    g_autoptr(SpmDomainDef) def = efi_domain();
    SpmNumaCell *c;

    pt_cell(def, SPM_GiB);
    c = pt_cell(def, SPM_GiB);
    c->id = 2;
    pt_spm(def, SPM_GiB, 3, NULL);
    plan_fails(def, SPM_ERROR_INVALID,
               "numa/cell id='2' (line 11): cells must be numbered 0..N-1 in order");
}

static void
test_acpi_required(void)
{
    g_autoptr(SpmDomainDef) def = efi_domain();

    pt_cell(def, SPM_GiB);
    pt_spm(def, SPM_GiB, 1, NULL);
    def->acpi = FALSE;
    plan_fails(def, SPM_ERROR_INVALID,
               "features/acpi: memory devices need ACPI; add <acpi/> to <features>");
}

static void
test_ids(void)
{
    g_autoptr(SpmDomainDef) def = efi_domain();
    g_autoptr(SpmPlan) plan = NULL;
    SpmMemDevice *m;

    pt_cell(def, SPM_GiB);
    pt_spm(def, SPM_GiB, 1, "ua-hbm0");
    pt_mem(def, SPM_MEM_MODEL_DIMM, 256 * SPM_MiB, 0, NULL);
    pt_spm(def, SPM_GiB, 2, NULL);
    pt_mem(def, SPM_MEM_MODEL_DIMM, 256 * SPM_MiB, 0, NULL);
    m = pt_mem(def, SPM_MEM_MODEL_VIRTIO_MEM, 256 * SPM_MiB, 0, NULL);
    m->block_size = 2 * SPM_MiB;
    plan = plan_ok(def);
    g_assert_nonnull(spm_plan_find_device(plan, "ua-hbm0"));
    /* SPM ids count SPM devices: the second one is spm1 */
    g_assert_nonnull(spm_plan_find_device(plan, "spm1"));
    g_assert_null(spm_plan_find_device(plan, "spm0"));
    g_assert_nonnull(spm_plan_find_device(plan, "dimm0"));
    g_assert_nonnull(spm_plan_find_device(plan, "dimm1"));
    g_assert_nonnull(spm_plan_find_device(plan, "virtiomem0"));
    g_assert_null(spm_plan_find_device(plan, "nope"));
    g_assert_cmpstr(spm_plan_find_device(plan, "ua-hbm0")->backend.id, ==, "memua-hbm0");
    g_assert_cmpstr(spm_plan_find_device(plan, "spm1")->backend.id, ==, "memspm1");

    /* libvirt's user alias rule */
    g_free(((SpmMemDevice *)g_ptr_array_index(def->mems, 0))->alias);
    ((SpmMemDevice *)g_ptr_array_index(def->mems, 0))->alias = g_strdup("hbm0");
    plan_fails(def, SPM_ERROR_INVALID,
               "memory alias name='hbm0' (line 100): a user alias must start with 'ua-' "
               "followed by letters, digits, '_' or '-'");
    g_free(((SpmMemDevice *)g_ptr_array_index(def->mems, 0))->alias);
    ((SpmMemDevice *)g_ptr_array_index(def->mems, 0))->alias = g_strdup("ua-a,b");
    plan_fails(def, SPM_ERROR_INVALID,
               "memory alias name='ua-a,b' (line 100): a user alias must start with 'ua-' "
               "followed by letters, digits, '_' or '-'");

    /* duplicates, both lines named */
    g_free(((SpmMemDevice *)g_ptr_array_index(def->mems, 0))->alias);
    ((SpmMemDevice *)g_ptr_array_index(def->mems, 0))->alias = g_strdup("ua-x");
    ((SpmMemDevice *)g_ptr_array_index(def->mems, 2))->alias = g_strdup("ua-x");
    plan_fails(def, SPM_ERROR_INVALID,
               "memory id 'ua-x' (line 102) is already the id of the memory at line 100");
}

static const SpmPlannedDevice *
plan_one(SpmDomainDef *def, SpmPlan **out)
{
    *out = plan_ok(def);
    return spm_plan_find_device(*out, "ua-m");
}

static void
test_backends(void)
{
    g_autoptr(SpmDomainDef) def = efi_domain();
    SpmPlan *plan = NULL;
    const SpmPlannedDevice *d;
    SpmMemDevice *m;

    pt_cell(def, SPM_GiB);
    m = pt_spm(def, SPM_GiB, 1, "ua-m");

    /* default: anonymous RAM, 2 MiB */
    d = plan_one(def, &plan);
    g_assert_cmpuint(d->backend.kind, ==, SPM_BACKEND_RAM);
    g_assert_cmphex(d->backend.region_align, ==, 2 * SPM_MiB);
    g_assert_cmphex(d->backend.size, ==, SPM_GiB);
    g_assert_false(d->backend.has_share);
    g_assert_false(d->backend.prealloc);
    g_assert_null(d->backend.mem_path);
    g_clear_pointer(&plan, spm_plan_free);

    /* memfd: host page */
    def->backing = SPM_BACKING_MEMFD;
    d = plan_one(def, &plan);
    g_assert_cmpuint(d->backend.kind, ==, SPM_BACKEND_MEMFD);
    g_assert_cmphex(d->backend.region_align, ==, 4 * SPM_KiB);
    g_assert_cmphex(d->align, ==, 4 * SPM_KiB);
    g_assert_false(d->backend.hugetlb);
    g_clear_pointer(&plan, spm_plan_free);

    /* memfd + hugepages 1 GiB: hugetlb=on hugetlbsize */
    def->hugepages = TRUE;
    def->hugepage_size = SPM_GiB;
    d = plan_one(def, &plan);
    g_assert_cmpuint(d->backend.kind, ==, SPM_BACKEND_MEMFD);
    g_assert_true(d->backend.hugetlb);
    g_assert_cmphex(d->backend.hugetlbsize, ==, SPM_GiB);
    g_assert_cmphex(d->backend.region_align, ==, SPM_GiB);
    g_clear_pointer(&plan, spm_plan_free);

    /* hugepages without memfd: still memfd, pages of exactly that size (issue 13) */
    def->backing = SPM_BACKING_DEFAULT;
    d = plan_one(def, &plan);
    g_assert_cmpuint(d->backend.kind, ==, SPM_BACKEND_MEMFD);
    g_assert_true(d->backend.hugetlb);
    g_assert_cmphex(d->backend.hugetlbsize, ==, SPM_GiB);
    g_assert_cmphex(d->backend.page_size, ==, SPM_GiB);
    g_assert_null(d->backend.mem_path);
    g_assert_cmphex(d->backend.region_align, ==, SPM_GiB);
    g_clear_pointer(&plan, spm_plan_free);

    /* the device's <pagesize> wins over <memoryBacking> */
    m->source.pagesize = 2 * SPM_MiB;
    d = plan_one(def, &plan);
    g_assert_cmphex(d->backend.region_align, ==, 2 * SPM_MiB);
    g_assert_cmphex(d->backend.hugetlbsize, ==, 2 * SPM_MiB);
    g_clear_pointer(&plan, spm_plan_free);

    /* <path> + <alignsize>: file with align= */
    m->source.path = g_strdup("/dev/dax0.0");
    m->source.alignsize = 2 * SPM_MiB;
    m->source.nodemask = g_strdup("2-3");
    m->access = SPM_ACCESS_SHARED;
    m->discard = SPM_TRISTATE_NO;
    def->prealloc = TRUE;
    def->access = SPM_ACCESS_PRIVATE;
    d = plan_one(def, &plan);
    g_assert_cmpuint(d->backend.kind, ==, SPM_BACKEND_FILE);
    g_assert_cmpstr(d->backend.mem_path, ==, "/dev/dax0.0");
    g_assert_cmphex(d->backend.align, ==, 2 * SPM_MiB);
    g_assert_cmphex(d->backend.region_align, ==, 2 * SPM_MiB);
    g_assert_cmpstr(d->backend.host_nodes, ==, "2-3");
    g_assert_true(d->backend.has_share);
    g_assert_true(d->backend.share);
    g_assert_true(d->backend.has_discard_data);
    g_assert_false(d->backend.discard_data);
    g_assert_true(d->backend.prealloc);
    g_clear_pointer(&plan, spm_plan_free);

    /* <path> without align or pagesize: the host page; access from memoryBacking */
    m->source.alignsize = 0;
    m->source.pagesize = 0;
    def->hugepages = FALSE;
    m->access = SPM_ACCESS_DEFAULT;
    m->discard = SPM_TRISTATE_ABSENT;
    def->discard = SPM_TRISTATE_YES;
    d = plan_one(def, &plan);
    g_assert_cmphex(d->backend.region_align, ==, 4 * SPM_KiB);
    g_assert_cmphex(d->backend.align, ==, 0);
    g_assert_true(d->backend.has_share);
    g_assert_false(d->backend.share);
    g_assert_true(d->backend.discard_data);
    g_clear_pointer(&plan, spm_plan_free);
}

static void
test_backend_sizes(void)
{
    g_autoptr(SpmDomainDef) def = efi_domain();
    g_autoptr(SpmPlan) plan = NULL;
    SpmMemDevice *spm, *dimm;

    pt_cell(def, SPM_GiB);
    spm = pt_spm(def, 1025 * SPM_MiB, 1, "ua-odd");
    plan_fails(def, SPM_ERROR_INVALID,
               "memory 'ua-odd' target/size 1025 MiB is not a multiple of the backend "
               "alignment 2 MiB");
    spm->size = 0;
    plan_fails(def, SPM_ERROR_INVALID, "memory 'ua-odd' (line 100) target/size is 0");
    spm->size = 1536 * SPM_MiB;
    def->hugepages = TRUE;
    def->hugepage_size = SPM_GiB;
    plan_fails(def, SPM_ERROR_INVALID,
               "memory 'ua-odd' target/size 1536 MiB is not a multiple of the backend "
               "alignment 1 GiB");
    def->hugepages = FALSE;

    /* libvirt's DIMMs are rounded up to 2 MiB, as libvirt does */
    dimm = pt_mem(def, SPM_MEM_MODEL_DIMM, 1023 * SPM_KiB, 0, NULL);
    plan = plan_ok(def);
    g_assert_cmphex(spm_plan_find_device(plan, "dimm0")->size, ==, 2 * SPM_MiB);
    g_assert_cmphex(spm_plan_find_device(plan, "dimm0")->backend.size, ==, 2 * SPM_MiB);
    (void)dimm;
}

static void
test_numa_strict(void)
{
    g_autoptr(SpmDomainDef) def = efi_domain();
    SpmMemDevice *a, *b;

    pt_cell(def, SPM_GiB);
    pt_cell(def, SPM_GiB);
    a = pt_spm(def, SPM_GiB, 1, "ua-a");
    b = pt_spm(def, SPM_GiB, 2, "ua-b");
    plan_fails(def, SPM_ERROR_INVALID,
               "memory 'ua-a' target/node 1 is a <numa> cell with RAM: virt-spm gives each SPM "
               "device a guest NUMA node of its own, without RAM (one HBM block = one NUMA node "
               "= one claim of the guest's driver); use node 2 or above, or set [plan] strict "
               "= false");
    a->node = 2;
    plan_fails(def, SPM_ERROR_INVALID,
               "memory 'ua-b' target/node 2: node already used by memory 'ua-a': virt-spm gives "
               "each SPM device a guest NUMA node of its own, without RAM (one HBM block = one "
               "NUMA node = one claim of the guest's driver); use another node, or set [plan] "
               "strict = false");
    b->node = 4;
    plan_fails(def, SPM_ERROR_INVALID,
               "memory 'ua-b' target/node 4: guest NUMA nodes must be contiguous, node 3 "
               "is missing");
    b->node = 3;
    a->has_node = FALSE;
    plan_fails(def, SPM_ERROR_INVALID, "memory 'ua-a' (line 100): target/node is required");
    a->has_node = TRUE;
    a->node = 200;
    plan_fails(def, SPM_ERROR_INVALID,
               "memory 'ua-a' target/node 200: QEMU supports at most 128 NUMA nodes");
    a->node = 2;

    /* libvirt's devices live on cells */
    pt_mem(def, SPM_MEM_MODEL_DIMM, 512 * SPM_MiB, 3, "ua-d");
    plan_fails(def, SPM_ERROR_INVALID,
               "memory 'ua-d' target/node 3: libvirt's memory devices must be on a <numa> "
               "cell (0..1)");
}

/* the brief's example text */
static void
test_numa_gap_message(void)
{
    g_autoptr(SpmDomainDef) def = efi_domain();

    pt_cell(def, SPM_GiB);
    pt_cell(def, SPM_GiB);
    pt_spm(def, SPM_GiB, 3, "ua-b");
    plan_fails(def, SPM_ERROR_INVALID,
               "memory 'ua-b' target/node 3: guest NUMA nodes must be contiguous, node 2 is missing");
}

static void
test_numa_non_strict(void)
{
    g_autoptr(SpmDomainDef) def = efi_domain();
    g_autoptr(SpmPlan) plan = NULL;

    policy.strict = FALSE;
    pt_cell(def, SPM_GiB);
    pt_spm(def, SPM_GiB, 0, "ua-oncell");
    pt_spm(def, SPM_GiB, 1, "ua-a");
    pt_spm(def, SPM_GiB, 1, "ua-b");
    /* QEMU 11.1's sp-mem lets devices share a node and sit on one with RAM */
    plan = plan_ok(def);
    g_assert_cmpint(plan->machine.spm_device, ==, SPM_DEVICE_SP_MEM);
    g_assert_cmpuint(plan->nodes->len, ==, 2);
    g_assert_cmphex(spm_plan_find_device(plan, "ua-oncell")->addr, ==, 0x100000000);
    g_assert_cmphex(spm_plan_find_device(plan, "ua-a")->addr, ==, 0x180000000);
    g_assert_cmphex(spm_plan_find_device(plan, "ua-b")->addr, ==, 0x200000000);

    /* the legacy v8 spm-memory refuses both, whatever virt-spm's policy says */
    policy.device = SPM_DEVICE_SPM_MEMORY;
    plan_fails(def, SPM_ERROR_INVALID,
               "QEMU would refuse the domain: -device ua-oncell: spm-memory: NUMA node 0 "
               "already has memory attached via -numa node,memdev=; SPM nodes must be SPM-only");
}

static void
test_addresses_explicit(void)
{
    g_autoptr(SpmDomainDef) def = efi_domain();
    g_autoptr(SpmPlan) plan = NULL;
    SpmMemDevice *a, *b;

    pt_cell(def, SPM_GiB);
    a = pt_spm(def, SPM_GiB, 1, "ua-a");
    b = pt_spm(def, SPM_GiB, 2, "ua-b");
    pt_spm(def, 2 * SPM_GiB, 3, "ua-c");
    /* a fixed at +1.5 GiB: b cannot sit before it (no room for the guard gap) */
    a->has_base = TRUE;
    a->base = 0x160000000;
    plan = plan_ok(def);
    g_assert_cmphex(spm_plan_find_device(plan, "ua-a")->addr, ==, 0x160000000);
    /* after a + gap = 0x1e0000000, aligned up to the 1 GiB planning alignment */
    g_assert_cmphex(spm_plan_find_device(plan, "ua-b")->addr, ==, 0x200000000);
    g_assert_cmphex(spm_plan_find_device(plan, "ua-c")->addr, ==, 0x280000000);
    g_clear_pointer(&plan, spm_plan_free);

    /* a at +2 GiB: b fits exactly at the base, 1 GiB gap before a; c (2 GiB) goes after a */
    a->base = 0x180000000;
    plan = plan_ok(def);
    g_assert_cmphex(spm_plan_find_device(plan, "ua-b")->addr, ==, 0x100000000);
    g_assert_cmphex(spm_plan_find_device(plan, "ua-c")->addr, ==, 0x200000000);
    g_clear_pointer(&plan, spm_plan_free);

    /* first fit: a small device placed after a big one still fills the early hole */
    a->base = 0x180000000;
    ((SpmMemDevice *)g_ptr_array_index(def->mems, 1))->size = 2 * SPM_GiB;
    ((SpmMemDevice *)g_ptr_array_index(def->mems, 2))->size = SPM_GiB;
    plan = plan_ok(def);
    g_assert_cmphex(spm_plan_find_device(plan, "ua-b")->addr, ==, 0x200000000);
    g_assert_cmphex(spm_plan_find_device(plan, "ua-c")->addr, ==, 0x100000000);
    g_clear_pointer(&plan, spm_plan_free);
    ((SpmMemDevice *)g_ptr_array_index(def->mems, 1))->size = SPM_GiB;
    ((SpmMemDevice *)g_ptr_array_index(def->mems, 2))->size = 2 * SPM_GiB;

    a->base = 0x180001000;
    plan_fails(def, SPM_ERROR_INVALID,
               "memory 'ua-a' address base 0x180001000 is not aligned to the backend "
               "alignment 2 MiB");
    a->base = 0x80000000;
    plan_fails(def, SPM_ERROR_INVALID,
               "memory 'ua-a' address base 0x80000000 is below the device-memory region, "
               "which starts at 0x100000000");
    a->base = 0x100000000;
    b->has_base = TRUE;
    b->base = 0x120000000;
    plan_fails(def, SPM_ERROR_INVALID,
               "memory 'ua-b' address base 0x120000000 overlaps memory 'ua-a' "
               "[0x100000000-0x13fffffff]");
    b->base = 0x140000000;
    plan_fails(def, SPM_ERROR_INVALID,
               "memory 'ua-b' address base 0x140000000 starts right where memory 'ua-a' ends: "
               "the guest would merge both into one Soft Reserved range; leave a gap");
    /* a small gap is the user's choice */
    b->base = 0x140200000;
    plan = plan_ok(def);
    g_assert_cmphex(spm_plan_find_device(plan, "ua-b")->addr, ==, 0x140200000);
}

static void
test_addresses_policy(void)
{
    g_autoptr(SpmDomainDef) def = efi_domain();
    g_autoptr(SpmPlan) plan = NULL;

    policy.spm_align = 2 * SPM_MiB;
    policy.guard_gap = 4 * SPM_MiB;
    pt_cell(def, SPM_GiB);
    pt_spm(def, 6 * SPM_MiB, 1, "ua-a");
    pt_spm(def, 2 * SPM_MiB, 2, "ua-b");
    plan = plan_ok(def);
    g_assert_cmphex(spm_plan_find_device(plan, "ua-a")->addr, ==, 0x100000000);
    g_assert_cmphex(spm_plan_find_device(plan, "ua-b")->addr, ==, 0x100000000 + 10 * SPM_MiB);
    g_clear_pointer(&plan, spm_plan_free);

    /* guard_gap 0 still never packs two SPM devices back to back */
    policy.guard_gap = 0;
    plan = plan_ok(def);
    g_assert_cmphex(spm_plan_find_device(plan, "ua-b")->addr, ==, 0x100000000 + 8 * SPM_MiB);
}

static void
test_max_memory(void)
{
    g_autoptr(SpmDomainDef) def = efi_domain();
    g_autoptr(SpmPlan) plan = NULL;

    pt_cell(def, SPM_GiB);
    pt_spm(def, 4 * SPM_GiB, 1, "ua-a");
    pt_spm(def, 4 * SPM_GiB, 2, "ua-b");

    /* none given: RAM + devices + the gap, rounded to 1 GiB */
    plan = plan_ok(def);
    g_assert_true(plan->max_memory_raised);
    g_assert_cmpuint(plan->max_memory_slots, ==, 1);
    /* span 4 + 1 + 4 = 9 GiB, 1 slot GiB: maxmem - ram >= 8 GiB -> 9 GiB */
    g_assert_cmphex(plan->max_memory, ==, 9 * SPM_GiB);
    g_assert_cmphex(plan->layout.devmem_size, ==, 9 * SPM_GiB);
    g_assert_true(has_warning(plan, "maxMemory set to 9 GiB with 1 slot: memory devices need it"));
    g_clear_pointer(&plan, spm_plan_free);

    /* too small: raised, with a warning */
    def->has_max_memory = TRUE;
    def->max_memory = 4 * SPM_GiB;
    def->max_memory_slots = 1;
    plan = plan_ok(def);
    g_assert_true(plan->max_memory_raised);
    g_assert_cmphex(plan->max_memory, ==, 9 * SPM_GiB);
    g_assert_true(has_warning(plan, "maxMemory raised from 4 GiB to 9 GiB"));
    g_clear_pointer(&plan, spm_plan_free);

    /* big enough: kept */
    def->max_memory = 64 * SPM_GiB;
    def->max_memory_slots = 2;
    plan = plan_ok(def);
    g_assert_false(plan->max_memory_raised);
    g_assert_cmphex(plan->max_memory, ==, 64 * SPM_GiB);
    g_assert_cmpuint(plan->max_memory_slots, ==, 2);
    g_assert_cmphex(plan->layout.devmem_size, ==, 65 * SPM_GiB);
    g_clear_pointer(&plan, spm_plan_free);

    /* fixed: an error naming the value and the need */
    policy.fixed_max_memory = TRUE;
    def->max_memory = 8 * SPM_GiB;
    def->max_memory_slots = 1;
    plan_fails(def, SPM_ERROR_INVALID,
               "maxMemory 8 GiB is too small: the memory devices need 9 GiB (RAM plus devices "
               "and gaps), and the policy forbids raising it");
    def->max_memory = 1 * SPM_GiB;
    plan_fails(def, SPM_ERROR_INVALID,
               "maxMemory 1 GiB is too small: the memory devices need 9 GiB (RAM plus devices), "
               "and the policy forbids raising it");
    def->max_memory = 9 * SPM_GiB;
    plan = plan_ok(def);
    g_assert_false(plan->max_memory_raised);
}

static void
test_slots(void)
{
    g_autoptr(SpmDomainDef) def = efi_domain();
    g_autoptr(SpmPlan) plan = NULL;

    pt_cell(def, SPM_GiB);
    pt_spm(def, SPM_GiB, 1, NULL);
    pt_mem(def, SPM_MEM_MODEL_DIMM, 256 * SPM_MiB, 0, NULL);
    pt_mem(def, SPM_MEM_MODEL_DIMM, 256 * SPM_MiB, 0, NULL);
    pt_mem(def, SPM_MEM_MODEL_DIMM, 256 * SPM_MiB, 0, NULL);
    def->has_max_memory = TRUE;
    def->max_memory = 64 * SPM_GiB;
    def->max_memory_slots = 2;
    plan = plan_ok(def);
    g_assert_cmpuint(plan->max_memory_slots, ==, 3);
    g_assert_cmpuint(plan->machine.slots, ==, 3);
    g_assert_true(plan->max_memory_raised);
    g_assert_true(has_warning(plan, "maxMemory slots raised from 2 to 3"));
    /* the DIMMs: slots 0..2, packed after the SPM device (QEMU's first fit) */
    g_assert_cmpint(spm_plan_find_device(plan, "dimm2")->slot, ==, 2);
    g_assert_cmphex(spm_plan_find_device(plan, "dimm0")->addr, ==, 0x140000000);
    g_assert_cmphex(spm_plan_find_device(plan, "dimm1")->addr, ==, 0x150000000);

    policy.fixed_max_memory = TRUE;
    plan_fails(def, SPM_ERROR_INVALID,
               "maxMemory slots '2': the domain has 3 DIMM/NVDIMM devices and the policy "
               "forbids raising it");
    policy.fixed_max_memory = FALSE;
    def->max_memory_slots = 300;
    plan_fails(def, SPM_ERROR_INVALID, "maxMemory slots 300: QEMU supports at most 256");
}

static void
test_backend_hugepage_defaults(void)
{
    g_autoptr(SpmDomainDef) def = efi_domain();
    g_autoptr(SpmPlan) plan = NULL;
    const SpmPlannedDevice *d;

    pt_cell(def, SPM_GiB);
    pt_spm(def, SPM_GiB, 1, "ua-m");
    /* <hugepages/> without a size: the default huge page, 2 MiB */
    def->hugepages = TRUE;
    plan = plan_ok(def);
    d = spm_plan_find_device(plan, "ua-m");
    g_assert_cmpuint(d->backend.kind, ==, SPM_BACKEND_MEMFD);
    g_assert_cmphex(d->backend.hugetlbsize, ==, 2 * SPM_MiB);
    g_assert_cmphex(d->backend.region_align, ==, 2 * SPM_MiB);
    g_clear_pointer(&plan, spm_plan_free);

    /* a "huge" page of the normal page size is no huge page (libvirt) */
    def->hugepage_size = 4 * SPM_KiB;
    plan = plan_ok(def);
    d = spm_plan_find_device(plan, "ua-m");
    g_assert_cmpuint(d->backend.kind, ==, SPM_BACKEND_RAM);
    g_clear_pointer(&plan, spm_plan_free);

    /* <source type='file'/>: a file in libvirt's memory backing directory */
    def->hugepages = FALSE;
    def->backing = SPM_BACKING_FILE;
    plan = plan_ok(def);
    d = spm_plan_find_device(plan, "ua-m");
    g_assert_cmpuint(d->backend.kind, ==, SPM_BACKEND_FILE);
    g_assert_cmphex(d->backend.region_align, ==, 4 * SPM_KiB);
    g_assert_true(d->backend.domain_dir);
    g_assert_true(g_str_has_prefix(d->backend.mem_path, "/var/lib/libvirt/qemu/ram/virt-spm-"));
}

static void
test_libvirt_device_conflict(void)
{
    g_autoptr(SpmDomainDef) def = efi_domain();
    SpmMemDevice *d;

    SpmMemDevice *s;

    pt_cell(def, SPM_GiB);
    s = pt_spm(def, SPM_GiB, 1, NULL);
    s->has_base = TRUE;
    s->base = 0x100000000;
    d = pt_mem(def, SPM_MEM_MODEL_DIMM, 512 * SPM_MiB, 0, NULL);
    d->has_base = TRUE;
    d->base = 0x120000000;
    d->slot = 0;                /* libvirt wants a slot with a base */
    /* both fixed: QEMU realizes the SPM device first, then refuses the DIMM */
    plan_fails(def, SPM_ERROR_INVALID,
               "QEMU would refuse the domain: -device dimm0: address range conflicts with "
               "memory device id='spm0'");
}

/* a libvirt DIMM pinned at the region base: the SPM devices keep off it */
static void
test_libvirt_fixed_base(void)
{
    g_autoptr(SpmDomainDef) def = efi_domain();
    g_autoptr(SpmPlan) plan = NULL;
    SpmMemDevice *d;

    pt_cell(def, SPM_GiB);
    pt_spm(def, SPM_GiB, 1, NULL);
    d = pt_mem(def, SPM_MEM_MODEL_DIMM, 512 * SPM_MiB, 0, NULL);
    d->has_base = TRUE;
    d->base = 0x100000000;
    d->slot = 0;                /* libvirt wants a slot with a base */
    pt_spm(def, SPM_GiB, 2, NULL);
    plan = plan_ok(def);
    g_assert_cmphex(spm_plan_find_device(plan, "dimm0")->addr, ==, 0x100000000);
    g_assert_true(spm_plan_find_device(plan, "dimm0")->explicit_addr);
    g_assert_cmphex(spm_plan_find_device(plan, "spm0")->addr, ==, 0x180000000);
    g_assert_cmphex(spm_plan_find_device(plan, "spm1")->addr, ==, 0x200000000);
    /* devices sorted by address: the DIMM first */
    g_assert_cmpstr(((SpmPlannedDevice *)g_ptr_array_index(plan->devices, 0))->id, ==, "dimm0");
}

/* libvirt refuses a DIMM base without a slot; the plan says so first */
static void
test_libvirt_base_needs_slot(void)
{
    g_autoptr(SpmDomainDef) def = efi_domain();
    SpmMemDevice *d;

    pt_cell(def, SPM_GiB);
    pt_spm(def, SPM_GiB, 1, NULL);
    d = pt_mem(def, SPM_MEM_MODEL_DIMM, 512 * SPM_MiB, 0, NULL);
    d->has_base = TRUE;
    d->base = 0x180000000;
    plan_fails(def, SPM_ERROR_INVALID,
               "memory model='dimm' (line 101): address base=0x180000000 needs slot= as well "
               "(libvirt refuses a base without a slot)");
}

/*
 * libvirt's slots: explicit ones first, then the lowest free one in
 * document order; DIMMs are named after their slot; stand-ins take the
 * highest free slots, never one a DIMM asks for (real-QEMU test findings).
 */
static void
test_libvirt_slots(void)
{
    g_autoptr(SpmDomainDef) def = efi_domain();
    g_autoptr(SpmPlan) plan = NULL;
    SpmPlanPolicy pol;
    SpmMemDevice *a, *b;

    pt_cell(def, SPM_GiB);
    def->has_max_memory = TRUE;
    def->max_memory = 8 * SPM_GiB;
    def->max_memory_slots = 3;
    a = pt_mem(def, SPM_MEM_MODEL_DIMM, 256 * SPM_MiB, 0, NULL);
    b = pt_mem(def, SPM_MEM_MODEL_DIMM, 256 * SPM_MiB, 0, NULL);
    b->slot = 2;
    b->has_base = TRUE;
    b->base = 0x160000000;
    pt_spm(def, 256 * SPM_MiB, 1, NULL);
    (void)a;

    spm_plan_policy_init(&pol);
    pol.stand_in_driver = g_strdup("pc-dimm");
    pol.host.libvirt_version = 9000000;
    plan = spm_plan_build(def, &pol, NULL);
    g_assert_nonnull(plan);
    g_assert_cmpint(spm_plan_find_device(plan, "dimm0")->slot, ==, 0);
    g_assert_cmpint(spm_plan_find_device(plan, "dimm2")->slot, ==, 2);
    g_assert_cmpint(spm_plan_find_device(plan, "spm0")->slot, ==, 1);
    spm_plan_policy_clear(&pol);
}

/* Live XML: libvirt's own DIMM carries libvirt's alias; that is its id */
static void
test_libvirt_alias(void)
{
    g_autoptr(SpmDomainDef) def = efi_domain();
    g_autoptr(SpmPlan) plan = NULL;
    SpmMemDevice *d;
    SpmMemDevice *s;

    pt_cell(def, SPM_GiB);
    pt_spm(def, SPM_GiB, 1, "ua-hbm0");
    d = pt_mem(def, SPM_MEM_MODEL_DIMM, 512 * SPM_MiB, 0, NULL);
    d->alias = g_strdup("dimm0");
    plan = plan_ok(def);
    g_assert_nonnull(spm_plan_find_device(plan, "dimm0"));
    g_clear_pointer(&plan, spm_plan_free);

    /* ours must still follow the user alias rule */
    s = g_ptr_array_index(def->mems, 0);
    g_free(s->alias);
    s->alias = g_strdup("hbm0");
    plan_fails(def, SPM_ERROR_INVALID,
               "memory alias name='hbm0' (line 100): a user alias must start with "
               "'ua-' followed by letters, digits, '_' or '-'");
}

static void
test_cpu_decisions(void)
{
    g_autoptr(SpmDomainDef) def = efi_domain();
    g_autoptr(SpmPlan) plan = NULL;

    pt_cell(def, SPM_GiB);
#define REPLAN() do { g_clear_pointer(&plan, spm_plan_free); plan = plan_ok(def); } while (0)
    REPLAN();
    /* TCG qemu64 is AMD; unversioned machine = latest: the 1 TiB hole applies */
    g_assert_true(plan->machine.cpu_amd);
    g_assert_true(plan->machine.amd_1tb_hole);
    g_assert_cmpuint(plan->machine.phys_bits, ==, 40);

    def->machine_major = 7;
    def->machine_minor = 0;
    REPLAN();
    g_assert_false(plan->machine.amd_1tb_hole);
    def->machine_minor = 1;
    REPLAN();
    g_assert_true(plan->machine.amd_1tb_hole);
    def->machine_major = 10;
    def->machine_minor = 0;
    REPLAN();
    g_assert_true(plan->machine.amd_1tb_hole);

    def->cpu_model = g_strdup("Skylake-Server");
    REPLAN();
    g_assert_false(plan->machine.cpu_amd);
    g_free(def->cpu_model);
    def->cpu_model = g_strdup("epyc-Genoa");
    REPLAN();
    g_assert_true(plan->machine.cpu_amd);
    g_free(def->cpu_model);
    def->cpu_model = g_strdup("Skylake-Server");
    def->cpu_vendor = g_strdup("AMD");
    REPLAN();
    g_assert_true(plan->machine.cpu_amd);
    g_free(def->cpu_vendor);
    def->cpu_vendor = g_strdup("Intel");
    REPLAN();
    g_assert_false(plan->machine.cpu_amd);

    def->cpu_mode = g_strdup("host-passthrough");
    policy.host.host_cpu_amd = TRUE;
    REPLAN();
    g_assert_true(plan->machine.cpu_amd);
    g_assert_cmpuint(plan->machine.phys_bits, ==, 40);    /* TCG: not the host's bits */

    /* KVM: the host decides, host-passthrough takes the host's bits */
    g_free(def->virt_type);
    def->virt_type = g_strdup("kvm");
    policy.host.host_cpu_amd = FALSE;
    policy.host.host_phys_bits = 52;
    REPLAN();
    g_assert_false(plan->machine.cpu_amd);
    g_assert_cmpuint(plan->machine.phys_bits, ==, 52);
    policy.host.host_phys_bits = 0;
    REPLAN();
    g_assert_cmpuint(plan->machine.phys_bits, ==, 46);

    def->maxphysaddr_mode = g_strdup("emulate");
    def->maxphysaddr_bits = 44;
    REPLAN();
    g_assert_cmpuint(plan->machine.phys_bits, ==, 44);
    g_free(def->maxphysaddr_mode);
    def->maxphysaddr_mode = g_strdup("passthrough");
    policy.host.host_phys_bits = 48;
    REPLAN();
    g_assert_cmpuint(plan->machine.phys_bits, ==, 48);

    /* pcihole64 and machine name */
    def->has_pcihole64 = TRUE;
    def->pcihole64 = 64 * SPM_GiB;
    def->machine_kind = SPM_MACHINE_I440FX;
    REPLAN();
    g_assert_cmphex(plan->machine.pci_hole64_size, ==, 64 * SPM_GiB);
    g_assert_cmpstr(plan->machine_name, ==, "pc");
#undef REPLAN
}

/* -cpu EPYC -m 2G,maxmem=1100G: the region moves to 1 TiB, phys-bits must follow */
static void
test_amd_relocation_and_phys_bits(void)
{
    g_autoptr(SpmDomainDef) def = efi_domain();
    g_autoptr(SpmPlan) plan = NULL;

    def->cpu_model = g_strdup("EPYC");
    pt_cell(def, 2 * SPM_GiB);
    pt_spm(def, 1024 * SPM_GiB, 1, "ua-big");
    plan_fails(def, SPM_ERROR_INVALID,
               "Address space limit 0xffffffffff < 0x2083fffffff phys-bits too low (40); "
               "set <maxphysaddr mode='emulate' bits='42'/> in <cpu>");

    def->maxphysaddr_mode = g_strdup("emulate");
    def->maxphysaddr_bits = 42;
    plan = plan_ok(def);
    g_assert_true(plan->layout.relocated_1tb);
    g_assert_cmphex(plan->layout.devmem_base, ==, 0x10000000000);
    g_assert_cmphex(spm_plan_find_device(plan, "ua-big")->addr, ==, 0x10000000000);
    g_assert_cmphex(plan->max_memory, ==, 1026 * SPM_GiB);

    /* an explicit base below 1 TiB no longer fits after the relocation */
    ((SpmMemDevice *)g_ptr_array_index(def->mems, 0))->has_base = TRUE;
    ((SpmMemDevice *)g_ptr_array_index(def->mems, 0))->base = 0x100000000;
    plan_fails(def, SPM_ERROR_INVALID,
               "memory 'ua-big' address base 0x100000000 is below the device-memory region, "
               "which starts at 0x10000000000");

    /* KVM on a host with fewer bits */
    ((SpmMemDevice *)g_ptr_array_index(def->mems, 0))->has_base = FALSE;
    def->maxphysaddr_bits = 40;
    g_free(def->virt_type);
    def->virt_type = g_strdup("kvm");
    policy.host.host_cpu_amd = TRUE;
    policy.host.host_phys_bits = 41;
    plan_fails(def, SPM_ERROR_INVALID,
               "Address space limit 0xffffffffff < 0x2083fffffff phys-bits too low (40); it "
               "would need <maxphysaddr mode='emulate' bits='42'/> but the host has only 41 "
               "address bits");
}

/*
 * Linux adds DIMMs in whole 128 MiB memory blocks: a DIMM whose size is off
 * the grid is lost, and so is every DIMM QEMU packs after it.
 */
static void
test_warnings_dimm_blocks(void)
{
    g_autoptr(SpmDomainDef) def = pt_domain(SPM_MACHINE_Q35);
    g_autoptr(SpmPlan) plan = NULL;
    SpmMemDevice *odd;

    pt_cell(def, SPM_GiB);
    pt_spm(def, SPM_GiB, 1, "ua-hbm");
    odd = pt_mem(def, SPM_MEM_MODEL_DIMM, 128 * SPM_MiB, 0, "ua-first");
    pt_mem(def, SPM_MEM_MODEL_DIMM, 256 * SPM_MiB, 0, "ua-second");
    plan = plan_ok(def);
    g_assert_false(has_warning(plan, "memory 'ua-first'"));
    g_assert_false(has_warning(plan, "memory 'ua-second'"));
    g_clear_pointer(&plan, spm_plan_free);

    odd->size = 192 * SPM_MiB;
    plan = plan_ok(def);
    g_assert_true(has_warning(plan, "memory 'ua-first': a DIMM of 192 MiB at 0x140000000 is not "
                              "aligned to Linux's memory blocks"));
    g_assert_true(has_warning(plan, "memory 'ua-second': a DIMM of 256 MiB at 0x14c000000 is not "
                              "aligned"));
}

static void
test_warnings_firmware(void)
{
    g_autoptr(SpmDomainDef) def = pt_domain(SPM_MACHINE_Q35);
    g_autoptr(SpmPlan) plan = NULL;

    pt_cell(def, SPM_GiB);
    pt_cell(def, SPM_GiB);
    pt_spm(def, SPM_GiB, 2, "ua-last");
    plan = plan_ok(def);
    g_assert_true(has_warning(plan, "firmware: SeaBIOS drops Soft Reserved (E820 type 0xefffffff)"));
    g_assert_true(has_warning(plan, "numa: QEMU lists the hotpluggable SRAT placeholder for the "
                              "rest of device memory on the last node, 2, the SPM node of "
                              "memory 'ua-last'"));
    g_clear_pointer(&plan, spm_plan_free);

    def->firmware_efi = TRUE;
    plan = plan_ok(def);                /* edk2-2026.08 */
    g_assert_false(has_warning(plan, "firmware:"));
    g_clear_pointer(&plan, spm_plan_free);

    g_free(policy.host.firmware_version);
    policy.host.firmware_version = g_strdup("edk2-2025.02");
    plan = plan_ok(def);
    g_assert_true(has_warning(plan, "firmware: OVMF before edk2-2026.08 drops Soft Reserved "
                              "(E820 type 0xefffffff) and this one is edk2-2025.02"));
    g_clear_pointer(&plan, spm_plan_free);

    g_clear_pointer(&policy.host.firmware_version, g_free);
    plan = plan_ok(def);
    g_assert_true(has_warning(plan, "firmware: OVMF before edk2-2026.08 drops Soft Reserved "
                              "(E820 type 0xefffffff) and this one is of unknown version"));
    g_clear_pointer(&plan, spm_plan_free);

    policy.host.firmware_version = g_strdup("edk2-stable202611");
    plan = plan_ok(def);
    g_assert_false(has_warning(plan, "firmware:"));
    g_clear_pointer(&plan, spm_plan_free);

    /* no SPM device: nothing to warn about */
    g_ptr_array_set_size(def->mems, 0);
    def->firmware_efi = FALSE;
    plan = plan_ok(def);
    g_assert_cmpuint(plan->warnings->len, ==, 0);
    g_assert_cmpuint(plan->devices->len, ==, 0);
    g_assert_false(plan->layout.has_device_memory);
}

static void
test_libvirt_version(void)
{
    g_autoptr(SpmDomainDef) def = efi_domain();
    g_autoptr(SpmPlan) plan = NULL;
    g_autoptr(GError) err = NULL;

    pt_cell(def, SPM_GiB);
    pt_spm(def, SPM_GiB, 1, NULL);
    pt_mem(def, SPM_MEM_MODEL_DIMM, 512 * SPM_MiB, 0, NULL);

    policy.host.libvirt_version = 9000000;
    /* libvirt's words name the query-memory-devices type of the device planned for */
    plan_fails(def, SPM_ERROR_UNSUPPORTED,
               "memory 'dimm0' (model 'dimm') with SPM memory: libvirt 9.0.0 fails the start "
               "of a domain mixing SPM with libvirt's memory devices (\"sp-mem memory "
               "device info is not handled yet\"); libvirt 9.1.0 or later skips the kind it does not know, or "
               "remove the dimm device");
    policy.device = SPM_DEVICE_SPM_MEMORY;
    plan_fails(def, SPM_ERROR_UNSUPPORTED,
               "memory 'dimm0' (model 'dimm') with SPM memory: libvirt 9.0.0 fails the start "
               "of a domain mixing SPM with libvirt's memory devices (\"spm-memory memory "
               "device info is not handled yet\"); libvirt 9.1.0 or later skips the kind it does not know, or "
               "remove the dimm device");
    policy.device = SPM_DEVICE_SP_MEM;

    policy.host.libvirt_version = 0;
    plan = plan_ok(def);
    g_assert_true(has_warning(plan, "libvirt: version unknown; libvirt before 9.1.0 fails"));
    g_clear_pointer(&plan, spm_plan_free);

    policy.host.libvirt_version = 9001000;   /* the first release that skips */
    plan = plan_ok(def);
    g_assert_false(has_warning(plan, "libvirt:"));
    g_clear_pointer(&plan, spm_plan_free);

    policy.host.libvirt_version = 11003000;
    plan = plan_ok(def);
    g_assert_false(has_warning(plan, "libvirt:"));
    g_clear_pointer(&plan, spm_plan_free);

    /* libvirt 9.0 is fine without libvirt memory devices */
    policy.host.libvirt_version = 9000000;
    g_ptr_array_remove_index(def->mems, 1);
    plan = plan_ok(def);
    g_assert_cmpuint(plan->devices->len, ==, 1);
}

/* 1,000 SPM devices (non-strict: QEMU has 128 NUMA nodes at most) */
static void
test_thousand_devices(void)
{
    g_autoptr(SpmDomainDef) def = efi_domain();
    g_autoptr(SpmPlan) plan = NULL;
    guint64 prev_end = 0;

    policy.strict = FALSE;
    def->maxphysaddr_mode = g_strdup("emulate");
    def->maxphysaddr_bits = 48;
    pt_cell(def, 4 * SPM_GiB);
    for (guint i = 0; i < 1000; i++) {
        SpmMemDevice *m = pt_spm(def, SPM_GiB, 1 + i % 100, NULL);

        /* every tenth one pinned, further up, to mix fixed and free placement */
        if (i % 10 == 9) {
            m->has_base = TRUE;
            m->base = 0x40000000000 + (guint64)i * 3 * SPM_GiB;
        }
    }
    plan = plan_ok(def);
    g_assert_cmpuint(plan->devices->len, ==, 1000);
    g_assert_cmpuint(plan->nodes->len, ==, 101);
    for (guint i = 0; i < plan->devices->len; i++) {
        const SpmPlannedDevice *d = g_ptr_array_index(plan->devices, i);

        /* sorted, and never adjacent: at least the guard gap between them */
        if (i > 0)
            g_assert_cmphex(d->addr, >=, prev_end + SPM_GiB);
        prev_end = d->addr + d->size;
        g_assert_cmphex(d->addr + d->size, <=,
                        plan->layout.devmem_base + plan->layout.devmem_size);
    }
    g_assert_cmphex(spm_plan_find_device(plan, "spm9")->addr, ==, 0x40000000000 + 27 * SPM_GiB);
}

static void
run_with_policy(gconstpointer data)
{
    GTestFunc fn = (GTestFunc)data;

    policy_reset();
    fn();
}

static void
add(const char *path, GTestFunc fn)
{
    g_test_add_data_func(path, (gconstpointer)fn, run_with_policy);
}

int
main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    add("/plan/policy/defaults", test_policy_defaults);
    add("/plan/fixture/single", test_fixture_single);
    add("/plan/fixture/big-ram-above-4g", test_fixture_big_ram);
    add("/plan/fixture/two-gap", test_fixture_two_gap);
    add("/plan/fixture/spm-plus-dimm", test_fixture_spm_plus_dimm);
    add("/plan/ram/without-cells", test_ram_without_cells);
    add("/plan/numa/cells-order", test_cells_order);
    add("/plan/acpi/required", test_acpi_required);
    add("/plan/ids", test_ids);
    add("/plan/backend/kinds", test_backends);
    add("/plan/backend/sizes", test_backend_sizes);
    add("/plan/backend/hugepage-defaults", test_backend_hugepage_defaults);
    add("/plan/numa/strict", test_numa_strict);
    add("/plan/numa/gap-message", test_numa_gap_message);
    add("/plan/numa/non-strict", test_numa_non_strict);
    add("/plan/addr/explicit", test_addresses_explicit);
    add("/plan/addr/policy", test_addresses_policy);
    add("/plan/maxmem/raise-fixed", test_max_memory);
    add("/plan/maxmem/slots", test_slots);
    add("/plan/qemu/libvirt-conflict", test_libvirt_device_conflict);
    add("/plan/addr/libvirt-fixed-base", test_libvirt_fixed_base);
    add("/plan/libvirt/base-needs-slot", test_libvirt_base_needs_slot);
    add("/plan/libvirt/slots", test_libvirt_slots);
    add("/plan/libvirt/alias", test_libvirt_alias);
    add("/plan/machine/cpu", test_cpu_decisions);
    add("/plan/machine/amd-phys-bits", test_amd_relocation_and_phys_bits);
    add("/plan/warnings/firmware-placeholder", test_warnings_firmware);
    add("/plan/warnings/dimm-blocks", test_warnings_dimm_blocks);
    add("/plan/warnings/libvirt-version", test_libvirt_version);
    add("/plan/scale/1000-devices", test_thousand_devices);
    ret = g_test_run();
    spm_plan_policy_clear(&policy);
    return ret;
}
