/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-plan.c: the planner, from a domain definition to what QEMU will do.
 *
 * Order of work: machine facts (vendor, phys-bits, hole64), RAM and NUMA
 * cells, ids and backends, the NUMA policy for SPM nodes, then addresses
 * and maxMemory together (they depend on each other through the region
 * size, the 64-bit PCI hole and AMD's 1 TiB relocation), then one run of
 * the QEMU model over the whole command line in QEMU's realize order, and
 * last the warnings about what the guest will not see.
 *
 * Cost: sorting plus sweeps over sorted arrays with binary search, so a
 * domain with thousands of devices plans in O(n log n).
 */
#include <stdio.h>
#include <string.h>

#include "spm-error.h"
#include "spm-units.h"
#include "spm-plan-private.h"
#include "spm-checked.h"
#include "spm-intervals.h"

#define SPM_PLAN_MAX_ITERATIONS 3
#define SPM_QEMU_MAX_NODES      128
#define SPM_QEMU_MAX_PHYS_BITS  52
#define SPM_DEFAULT_PHYS_BITS   40
#define SPM_DEFAULT_HOST_BITS   46
/* OVMF passes E820 Soft Reserved from this release on (docs/guest-view.md) */
#define SPM_OVMF_SOFT_RESERVED_YEAR  2026
#define SPM_OVMF_SOFT_RESERVED_MONTH 8

void
spm_plan_policy_init(SpmPlanPolicy *policy)
{
    memset(policy, 0, sizeof(*policy));
    policy->spm_align = SPM_GiB;
    policy->guard_gap = SPM_GiB;
    policy->strict = TRUE;
    policy->fixed_max_memory = FALSE;
}

void
spm_plan_policy_clear(SpmPlanPolicy *policy)
{
    spm_host_facts_clear(&policy->host);
    g_clear_pointer(&policy->stand_in_driver, g_free);
}

void
spm_host_facts_set_hugetlbfs(SpmHostFacts *facts, const SpmHugetlbfs *mounts, guint n)
{
    for (guint i = 0; i < facts->n_hugetlbfs; i++)
        g_free(facts->hugetlbfs[i].path);
    g_clear_pointer(&facts->hugetlbfs, g_free);
    facts->n_hugetlbfs = n;
    if (n == 0)
        return;
    facts->hugetlbfs = g_new0(SpmHugetlbfs, n);
    for (guint i = 0; i < n; i++) {
        facts->hugetlbfs[i].page_size = mounts[i].page_size;
        facts->hugetlbfs[i].path = g_strdup(mounts[i].path);
    }
}

void
spm_host_facts_copy(SpmHostFacts *dst, const SpmHostFacts *src)
{
    *dst = *src;
    dst->firmware_version = g_strdup(src->firmware_version);
    dst->memory_backing_dir = g_strdup(src->memory_backing_dir);
    dst->hugetlbfs = NULL;
    dst->n_hugetlbfs = 0;
    spm_host_facts_set_hugetlbfs(dst, src->hugetlbfs, src->n_hugetlbfs);
}

void
spm_host_facts_clear(SpmHostFacts *facts)
{
    spm_host_facts_set_hugetlbfs(facts, NULL, 0);
    g_clear_pointer(&facts->firmware_version, g_free);
    g_clear_pointer(&facts->memory_backing_dir, g_free);
}

char *
spm_plan_domain_dir(const char *base, const char *name)
{
    g_autofree char *leaf = NULL;

    /* a name libvirt accepts never has '/', but the XML may come from anywhere */
    if (!name || !*name || strchr(name, '/') || strlen(name) > 200)
        return NULL;
    leaf = g_strconcat(SPM_PLAN_DOMAIN_DIR_PREFIX, name, NULL);
    return g_build_filename(base, leaf, NULL);
}

char *
spm_plan_hugetlbfs_base(const char *mount)
{
    return g_build_filename(mount, "libvirt", "qemu", NULL);
}

const char *
spm_backend_kind_qom_type(SpmBackendKind kind)
{
    switch (kind) {
    case SPM_BACKEND_RAM:
        return "memory-backend-ram";
    case SPM_BACKEND_MEMFD:
        return "memory-backend-memfd";
    case SPM_BACKEND_FILE:
        return "memory-backend-file";
    }
    return NULL;
}

const char *
spm_numa_kind_to_string(SpmNumaKind kind)
{
    switch (kind) {
    case SPM_NUMA_CELL:
    case SPM_NUMA_SYNTHESIZED:
        return "cell";
    case SPM_NUMA_SPM:
        return "spm";
    }
    return "cell";
}

static void
spm_planned_device_free(SpmPlannedDevice *pd)
{
    if (!pd)
        return;
    g_free(pd->id);
    spm_plan_backend_clear(&pd->backend);
    g_free(pd);
}

void
spm_plan_free(SpmPlan *plan)
{
    if (!plan)
        return;
    if (plan->devices)
        g_ptr_array_unref(plan->devices);
    if (plan->nodes)
        g_array_unref(plan->nodes);
    if (plan->warnings)
        g_ptr_array_unref(plan->warnings);
    g_free(plan->stand_in_driver);
    g_free(plan);
}

const SpmPlannedDevice *
spm_plan_find_device(const SpmPlan *plan, const char *id)
{
    if (!plan || !id)
        return NULL;
    for (guint i = 0; i < plan->devices->len; i++) {
        const SpmPlannedDevice *pd = g_ptr_array_index(plan->devices, i);

        if (g_str_equal(pd->id, id))
            return pd;
    }
    return NULL;
}

/* ---- helpers ------------------------------------------------------------ */

static guint64
spm_sat_add(guint64 a, guint64 b)
{
    return a > G_MAXUINT64 - b ? G_MAXUINT64 : a + b;
}

G_GNUC_PRINTF(2, 3) static void
spm_plan_warn(SpmPlan *plan, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_ptr_array_add(plan->warnings, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

static gboolean
spm_is_libvirt_model(SpmMemModel model)
{
    return model != SPM_MEM_MODEL_SPM;
}

/* ---- machine ------------------------------------------------------------ */

static gboolean
spm_cpu_model_is_amd(const char *model)
{
    static const char *const prefixes[] = { "EPYC", "Opteron", "phenom", "athlon", "qemu64" };

    for (guint i = 0; i < G_N_ELEMENTS(prefixes); i++) {
        if (g_ascii_strncasecmp(model, prefixes[i], strlen(prefixes[i])) == 0)
            return TRUE;
    }
    return FALSE;
}

static gboolean
spm_cpu_mode_is_host(const char *mode)
{
    return g_strcmp0(mode, "host-passthrough") == 0 ||
           g_strcmp0(mode, "host-model") == 0 ||
           g_strcmp0(mode, "maximum") == 0;
}

static gboolean
spm_plan_cpu_amd(const SpmDomainDef *def, const SpmPlanPolicy *policy)
{
    if (g_strcmp0(def->virt_type, "kvm") == 0)
        return policy->host.host_cpu_amd;
    if (spm_cpu_mode_is_host(def->cpu_mode))
        return policy->host.host_cpu_amd;
    if (!def->cpu_model)
        return TRUE;            /* TCG's default qemu64 says AuthenticAMD */
    if (def->cpu_vendor && g_ascii_strcasecmp(def->cpu_vendor, "AMD") == 0)
        return TRUE;
    /* libvirt only checks <vendor> against the model: the model decides */
    return spm_cpu_model_is_amd(def->cpu_model);
}

static guint
spm_plan_phys_bits(const SpmDomainDef *def, const SpmPlanPolicy *policy)
{
    guint host = policy->host.host_phys_bits ? policy->host.host_phys_bits : SPM_DEFAULT_HOST_BITS;

    if (g_strcmp0(def->maxphysaddr_mode, "emulate") == 0 && def->maxphysaddr_bits)
        return def->maxphysaddr_bits;
    if (g_strcmp0(def->maxphysaddr_mode, "passthrough") == 0)
        return host;
    if (g_strcmp0(def->virt_type, "kvm") == 0 &&
        (g_strcmp0(def->cpu_mode, "host-passthrough") == 0 ||
         g_strcmp0(def->cpu_mode, "maximum") == 0))
        return host;
    return SPM_DEFAULT_PHYS_BITS;
}

static void
spm_plan_machine(const SpmDomainDef *def, const SpmPlanPolicy *policy, SpmPlan *plan)
{
    SpmMachineConfig *cfg = &plan->machine;

    cfg->kind = def->machine_kind;
    plan->machine_name = def->machine_kind == SPM_MACHINE_Q35 ? "q35" : "pc";
    cfg->amd_1tb_hole = def->machine_major == 0 || def->machine_major > 7 ||
                        (def->machine_major == 7 && def->machine_minor >= 1);
    cfg->cpu_amd = spm_plan_cpu_amd(def, policy);
    cfg->phys_bits = spm_plan_phys_bits(def, policy);
    cfg->pci_hole64_size = def->has_pcihole64 ? def->pcihole64 : 0;
    cfg->gigabyte_align = TRUE;
    cfg->acpi = def->acpi;
    /* the device's own realize rules (v8 keeps an SPM node to itself) */
    cfg->spm_device = policy->device;
}

/* ---- RAM and NUMA ------------------------------------------------------- */

static gboolean
spm_plan_ram_and_cells(const SpmDomainDef *def, SpmPlan *plan, guint64 devices_size,
                       GError **error)
{
    guint64 ram = 0;

    for (guint i = 0; i < def->cells->len; i++) {
        const SpmNumaCell *cell = g_ptr_array_index(def->cells, i);
        SpmPlannedNode node = { 0 };

        if (cell->id != i) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "numa/cell id='%u' (line %u): cells must be numbered 0..N-1 in order",
                        cell->id, cell->line);
            return FALSE;
        }
        if (!spm_checked_add(ram, cell->memory, &ram)) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "numa/cell id='%u' memory: the sum of the cells overflows", cell->id);
            return FALSE;
        }
        node.id = i;
        node.kind = SPM_NUMA_CELL;
        node.memory = cell->memory;
        g_array_append_val(plan->nodes, node);
        if (cell->memory && i < 64)
            plan->machine.numa_node_has_ram |= G_GUINT64_CONSTANT(1) << i;
    }

    if (def->cells->len == 0) {
        SpmPlannedNode node = { 0 };

        /* <memory> counts the memory devices too, as in libvirt */
        if (def->memory <= devices_size) {
            g_autofree char *m = spm_units_format(def->memory);
            g_autofree char *d = spm_units_format(devices_size);

            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "memory %s: the memory devices take %s of it, which leaves no RAM",
                        m, d);
            return FALSE;
        }
        ram = def->memory - devices_size;
        node.id = 0;
        node.kind = SPM_NUMA_SYNTHESIZED;
        node.memory = ram;
        g_array_append_val(plan->nodes, node);
        plan->machine.numa_node_has_ram |= 1;
        plan->cell_synthesized = TRUE;
    }
    if (ram == 0) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "numa/cell memory: the cells hold no RAM");
        return FALSE;
    }
    plan->machine.ram_size = ram;
    return TRUE;
}

static int
spm_cmp_node_dev(gconstpointer a, gconstpointer b)
{
    const SpmPlannedDevice *x = *(SpmPlannedDevice *const *)a;
    const SpmPlannedDevice *y = *(SpmPlannedDevice *const *)b;

    if (x->node != y->node)
        return x->node < y->node ? -1 : 1;
    return x->def->line < y->def->line ? -1 : x->def->line > y->def->line;
}

/*
 * virt-spm's own policy (strict, on by default), whatever QEMU allows
 * (11.1's sp-mem lets devices share a node and sit on a node with RAM):
 * the guest's accelerator driver finds its memory by NUMA node, so each
 * HBM block must be one node of its own, to be one claim.
 */
#define SPM_PLAN_OWN_NODE_RULE \
    "virt-spm gives each SPM device a guest NUMA node of its own, without RAM (one HBM " \
    "block = one NUMA node = one claim of the guest's driver)"

/* SPM nodes: strict ownership, contiguity; appends SPM nodes to plan->nodes. */
static gboolean
spm_plan_numa(const SpmPlanPolicy *policy, SpmPlan *plan, GPtrArray *devs, GError **error)
{
    guint ncells = plan->nodes->len;
    g_autoptr(GPtrArray) spm = g_ptr_array_new();
    guint next = ncells;

    for (guint i = 0; i < devs->len; i++) {
        SpmPlannedDevice *pd = g_ptr_array_index(devs, i);

        if (spm_is_libvirt_model(pd->model)) {
            if (pd->node >= ncells) {
                g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                            SPM_PLAN_DEV_FMT " target/node %u: libvirt's memory devices must be "
                            "on a <numa> cell (0..%u)", pd->id, pd->node, ncells - 1);
                return FALSE;
            }
            continue;
        }
        if (!pd->def->has_node) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        SPM_PLAN_DEV_FMT " (line %u): target/node is required",
                        pd->id, pd->def->line);
            return FALSE;
        }
        if (pd->node >= SPM_QEMU_MAX_NODES) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        SPM_PLAN_DEV_FMT " target/node %u: QEMU supports at most %u NUMA nodes",
                        pd->id, pd->node, SPM_QEMU_MAX_NODES);
            return FALSE;
        }
        if (pd->node < ncells) {
            if (policy->strict) {
                g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                            SPM_PLAN_DEV_FMT " target/node %u is a <numa> cell with RAM: "
                            SPM_PLAN_OWN_NODE_RULE "; use node %u or above, or set [plan] "
                            "strict = false", pd->id, pd->node, ncells);
                return FALSE;
            }
            continue;
        }
        g_ptr_array_add(spm, pd);
    }

    g_ptr_array_sort(spm, spm_cmp_node_dev);
    for (guint i = 0; i < spm->len; i++) {
        const SpmPlannedDevice *pd = g_ptr_array_index(spm, i);
        SpmPlannedNode node = { 0 };

        if (i > 0) {
            const SpmPlannedDevice *prev = g_ptr_array_index(spm, i - 1);

            if (prev->node == pd->node) {
                if (policy->strict) {
                    g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                                SPM_PLAN_DEV_FMT " target/node %u: node already used by "
                                SPM_PLAN_DEV_FMT ": " SPM_PLAN_OWN_NODE_RULE "; use another "
                                "node, or set [plan] strict = false",
                                pd->id, pd->node, prev->id);
                    return FALSE;
                }
                continue;
            }
        }
        if (pd->node != next) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        SPM_PLAN_DEV_FMT " target/node %u: guest NUMA nodes must be "
                        "contiguous, node %u is missing", pd->id, pd->node, next);
            return FALSE;
        }
        node.id = pd->node;
        node.kind = SPM_NUMA_SPM;
        g_array_append_val(plan->nodes, node);
        next++;
    }
    plan->machine.nb_numa_nodes = plan->nodes->len;
    return TRUE;
}

/* ---- SPM addresses ------------------------------------------------------ */

typedef struct {
    guint64 start;
    guint64 end;                /* exclusive */
    const SpmPlannedDevice *dev;
} SpmSpan;

static int
spm_cmp_span(gconstpointer a, gconstpointer b)
{
    const SpmSpan *x = a, *y = b;

    return x->start < y->start ? -1 : x->start > y->start;
}

/* A remembered first-fit result: later searches for bigger devices start there. */
typedef struct {
    guint64 size;
    guint64 align;
    guint64 found;
    gboolean valid;
} SpmFitHint;

/*
 * Explicit SPM bases: aligned, not below the region, no overlap, never
 * adjacent; then first fit for the others with the guard gap around every
 * SPM device.
 */
static gboolean
spm_plan_spm_addresses(const SpmPlanPolicy *policy, guint64 base, GPtrArray *devs,
                       GError **error)
{
    g_autoptr(GArray) spans = g_array_new(FALSE, FALSE, sizeof(SpmSpan));
    g_autoptr(SpmIntervals) taken = spm_intervals_new();
    /* even with guard_gap 0 two planned SPM devices must never touch */
    guint64 gap = MAX(policy->guard_gap, 1);
    SpmFitHint hint = { 0 };

    for (guint i = 0; i < devs->len; i++) {
        SpmPlannedDevice *pd = g_ptr_array_index(devs, i);
        SpmSpan s;

        if (pd->model != SPM_MEM_MODEL_SPM || !pd->def->has_base)
            continue;
        pd->addr = pd->def->base;
        if (pd->addr % pd->align) {
            g_autofree char *a = spm_units_format(pd->align);

            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        SPM_PLAN_DEV_FMT " address base 0x%" G_GINT64_MODIFIER "x is not "
                        "aligned to the backend alignment %s", pd->id, pd->addr, a);
            return FALSE;
        }
        if (pd->addr < base) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        SPM_PLAN_DEV_FMT " address base 0x%" G_GINT64_MODIFIER "x is below "
                        "the device-memory region, which starts at 0x%" G_GINT64_MODIFIER "x",
                        pd->id, pd->addr, base);
            return FALSE;
        }
        if (!spm_checked_add(pd->addr, pd->size, &s.end)) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        SPM_PLAN_DEV_FMT " address base 0x%" G_GINT64_MODIFIER "x: the device "
                        "does not fit in 64 bits", pd->id, pd->addr);
            return FALSE;
        }
        s.start = pd->addr;
        s.dev = pd;
        g_array_append_val(spans, s);
    }
    g_array_sort(spans, spm_cmp_span);
    for (guint i = 1; i < spans->len; i++) {
        const SpmSpan *a = &g_array_index(spans, SpmSpan, i - 1);
        const SpmSpan *b = &g_array_index(spans, SpmSpan, i);

        if (a->end > b->start) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        SPM_PLAN_DEV_FMT " address base 0x%" G_GINT64_MODIFIER "x overlaps "
                        SPM_PLAN_DEV_FMT " [0x%" G_GINT64_MODIFIER "x-0x%" G_GINT64_MODIFIER "x]",
                        b->dev->id, b->start, a->dev->id, a->start, a->end - 1);
            return FALSE;
        }
        if (a->end == b->start) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        SPM_PLAN_DEV_FMT " address base 0x%" G_GINT64_MODIFIER "x starts right "
                        "where " SPM_PLAN_DEV_FMT " ends: the guest would merge both into one "
                        "Soft Reserved range; leave a gap", b->dev->id, b->start, a->dev->id);
            return FALSE;
        }
    }
    for (guint i = 0; i < spans->len; i++) {
        const SpmSpan *sp = &g_array_index(spans, SpmSpan, i);

        spm_intervals_add(taken, sp->start, sp->end - 1, sp->dev);
    }

    /*
     * libvirt's devices with a fixed <address base> are there too: keep the
     * SPM devices off them.  One that collides with a fixed SPM device is
     * left out here; QEMU's own error reports it in the final run.
     */
    for (guint i = 0; i < devs->len; i++) {
        const SpmPlannedDevice *pd = g_ptr_array_index(devs, i);
        const SpmInterval *o;
        guint64 end;

        if (pd->model == SPM_MEM_MODEL_SPM || !pd->def->has_base ||
            !spm_checked_add(pd->def->base, pd->size, &end))
            continue;
        o = spm_intervals_first_reaching(taken, pd->def->base);
        if (o && o->start < end)
            continue;
        spm_intervals_add(taken, pd->def->base, end - 1, pd);
    }

    for (guint i = 0; i < devs->len; i++) {
        SpmPlannedDevice *pd = g_ptr_array_index(devs, i);
        guint64 align = MAX(policy->spm_align, pd->align);
        guint64 cand;

        if (pd->model != SPM_MEM_MODEL_SPM || pd->def->has_base)
            continue;
        if (align == 0)
            align = 1;

        if (hint.valid && hint.align == align && pd->size >= hint.size)
            cand = hint.found;
        else if (!spm_checked_align_up(base, align, &cand))
            goto overflow;

        /*
         * cand is free when no taken range comes within the guard gap of
         * [cand, cand + size): the first range reaching cand - gap decides
         * (ranges are disjoint and ordered), else jump past it.
         */
        for (;;) {
            guint64 end_gap;
            const SpmInterval *o;

            if (!spm_checked_add(cand, pd->size, &end_gap) || !spm_checked_add(end_gap, gap, &end_gap))
                goto overflow;
            o = spm_intervals_first_reaching(taken, cand > gap ? cand - gap : 0);
            if (!o || o->start >= end_gap)
                break;
            if (!spm_checked_align_up(spm_sat_add(spm_sat_add(o->last, 1), gap), align, &cand) ||
                cand == G_MAXUINT64)
                goto overflow;
        }
        pd->addr = cand;
        hint.valid = TRUE;
        hint.align = align;
        hint.size = pd->size;
        hint.found = cand;
        spm_intervals_add(taken, cand, cand + pd->size - 1, pd);
    }
    return TRUE;

 overflow:
    g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                "memory devices: no room left below 2^64 for the SPM devices");
    return FALSE;
}

/* ---- the QEMU run ------------------------------------------------------- */

static SpmQemuDevKind
spm_qemu_kind(SpmMemModel model)
{
    switch (model) {
    case SPM_MEM_MODEL_SPM:
        return SPM_QEMU_DEV_SPM;
    case SPM_MEM_MODEL_NVDIMM:
        return SPM_QEMU_DEV_NVDIMM;
    case SPM_MEM_MODEL_VIRTIO_MEM:
        return SPM_QEMU_DEV_VIRTIO_MEM;
    case SPM_MEM_MODEL_VIRTIO_PMEM:
        return SPM_QEMU_DEV_VIRTIO_PMEM;
    case SPM_MEM_MODEL_DIMM:
    case SPM_MEM_MODEL_LAST:
        break;
    }
    return SPM_QEMU_DEV_PC_DIMM;
}

/*
 * The -device list as QEMU gets it: ours key=value, libvirt's JSON.  With a
 * stand-in (pc-dimm on a QEMU without an SPM device), our key=value pc-dimms
 * would take the lowest free slots before libvirt's DIMMs ask for theirs
 * ("slot 0 is busy", docs/qemu.md), so they get the highest slots.
 */
static SpmQemuMemDev *
spm_plan_qemu_devs(const SpmPlan *plan, GPtrArray *devs)
{
    SpmQemuMemDev *q = g_new0(SpmQemuMemDev, devs->len ? devs->len : 1);
    g_autofree gboolean *taken = g_new0(gboolean, plan->machine.slots + 1);
    int top = (int)plan->machine.slots - 1;

    /* libvirt's DIMMs keep the slots libvirt gives them; stand-ins take the highest free ones */
    for (guint i = 0; i < devs->len; i++) {
        const SpmPlannedDevice *pd = g_ptr_array_index(devs, i);

        if (pd->model != SPM_MEM_MODEL_SPM && pd->slot >= 0 &&
            (guint)pd->slot < plan->machine.slots)
            taken[pd->slot] = TRUE;
    }

    for (guint i = 0; i < devs->len; i++) {
        const SpmPlannedDevice *pd = g_ptr_array_index(devs, i);

        q[i].kind = spm_qemu_kind(pd->model);
        if (pd->model == SPM_MEM_MODEL_SPM && plan->stand_in_driver) {
            q[i].kind = SPM_QEMU_DEV_PC_DIMM;
            q[i].id = pd->id;
            q[i].memdev = pd->backend.id;
            q[i].backend_size = pd->backend.size;
            q[i].backend_align = pd->backend.region_align;
            q[i].node = pd->node;
            q[i].addr = pd->addr;
            while (top >= 0 && taken[top])
                top--;
            q[i].slot = top;    /* -1 when none is left: the model reports it as QEMU would */
            if (top >= 0)
                taken[top] = TRUE;
            q[i].json = FALSE;
            continue;
        }
        q[i].id = pd->id;
        q[i].memdev = pd->backend.id;
        q[i].backend_size = pd->backend.size;
        q[i].backend_align = pd->backend.region_align;
        q[i].label_size = pd->def->label_size;
        q[i].block_size = pd->model == SPM_MEM_MODEL_VIRTIO_MEM ? pd->def->block_size : 0;
        q[i].node = pd->node;
        q[i].addr = pd->model == SPM_MEM_MODEL_SPM ? pd->addr
                    : (pd->def->has_base ? pd->def->base : 0);
        q[i].slot = pd->model == SPM_MEM_MODEL_DIMM || pd->model == SPM_MEM_MODEL_NVDIMM
                    ? pd->slot : -1;
        q[i].json = spm_is_libvirt_model(pd->model);
    }
    return q;
}

static void
spm_qemu_error(GError **error, GError *qemu)
{
    g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID, "QEMU would refuse the domain: %s",
                qemu->message);
}

/*
 * Where QEMU's first fit puts libvirt's devices when the region is large
 * enough: the model run on an unbounded region.  Returns the end of the
 * highest device (exclusive) in *end.
 */
static gboolean
spm_plan_simulate(const SpmPlan *plan, const SpmMachineLayout *layout, GPtrArray *devs,
                  guint64 *end, GError **error)
{
    SpmMachineConfig cfg = plan->machine;
    SpmMachineLayout big = *layout;
    g_autofree SpmQemuMemDev *q = spm_plan_qemu_devs(plan, devs);
    g_autoptr(GError) local = NULL;

    big.has_device_memory = TRUE;
    big.devmem_size = G_MAXUINT64 - big.devmem_base;
    cfg.maxmem = G_MAXUINT64;
    if (!spm_qemu_place(&cfg, &big, q, devs->len, &local)) {
        spm_qemu_error(error, local);
        return FALSE;
    }
    *end = layout->devmem_base;
    for (guint i = 0; i < devs->len; i++) {
        SpmPlannedDevice *pd = g_ptr_array_index(devs, i);
        guint64 e = q[i].placed_addr + pd->size;

        pd->addr = q[i].placed_addr;
        if (e > *end)
            *end = e;
    }
    return TRUE;
}

/* Layout without the phys-bits verdict, which comes once maxmem is final. */
static gboolean
spm_layout_unchecked(const SpmMachineConfig *cfg, SpmMachineLayout *layout, GError **error)
{
    SpmMachineConfig c = *cfg;

    if (c.phys_bits == 0 || c.phys_bits > 32)
        c.phys_bits = 63;
    return spm_qemu_machine_layout(&c, layout, error);
}

static gboolean
spm_plan_max_memory(const SpmDomainDef *def, const SpmPlanPolicy *policy, SpmPlan *plan,
                    GPtrArray *devs, GError **error)
{
    SpmMachineConfig *cfg = &plan->machine;
    guint64 ram = cfg->ram_size;
    guint64 total = 0;
    guint nslots = 0;
    guint max_slot = 0;
    guint slots;
    guint64 maxmem;

    for (guint i = 0; i < devs->len; i++) {
        const SpmPlannedDevice *pd = g_ptr_array_index(devs, i);

        if (!spm_checked_add(total, pd->size, &total))
            goto overflow;
        if (pd->model == SPM_MEM_MODEL_DIMM || pd->model == SPM_MEM_MODEL_NVDIMM) {
            nslots++;
            /* a slot written in the XML must exist */
            if (pd->slot >= 0 && (guint)pd->slot + 1 > max_slot)
                max_slot = pd->slot + 1;
        }
    }

    /* Stand-ins for SPM devices are pc-dimms: each needs a slot of its own. */
    if (plan->stand_in_driver)
        nslots += spm_domain_def_count_model(def, SPM_MEM_MODEL_SPM);
    slots = def->max_memory_slots ? def->max_memory_slots : 1;
    slots = MAX(slots, MAX(nslots, max_slot));
    if (slots > SPM_MAX_RAM_SLOTS) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "maxMemory slots %u: QEMU supports at most %u", slots, SPM_MAX_RAM_SLOTS);
        return FALSE;
    }
    if (def->has_max_memory && policy->fixed_max_memory && slots > def->max_memory_slots) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "maxMemory slots '%u': the domain has %u DIMM/NVDIMM devices and the policy "
                    "forbids raising it", def->max_memory_slots, nslots);
        return FALSE;
    }
    cfg->slots = slots;

    maxmem = def->has_max_memory ? def->max_memory : 0;
    if (maxmem <= ram) {
        guint64 need;

        if (!spm_checked_add(ram, total, &need))
            goto overflow;
        if (def->has_max_memory && policy->fixed_max_memory) {
            g_autofree char *have = spm_units_format(maxmem);
            g_autofree char *want = spm_units_format(need);

            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "maxMemory %s is too small: the memory devices need %s "
                        "(RAM plus devices), and the policy forbids raising it", have, want);
            return FALSE;
        }
        if (!spm_checked_align_up(need, SPM_GiB, &maxmem))
            goto overflow;
    }

    for (guint iter = 0;; iter++) {
        guint64 end;
        guint64 span;
        guint64 need;
        guint64 slots_bytes = (guint64)slots * SPM_GiB;

        cfg->maxmem = maxmem;
        if (!spm_layout_unchecked(cfg, &plan->layout, error))
            return FALSE;
        if (!spm_plan_spm_addresses(policy, plan->layout.devmem_base, devs, error))
            return FALSE;
        if (!spm_plan_simulate(plan, &plan->layout, devs, &end, error))
            return FALSE;

        /* maxmem - ram >= total, and the region must reach the highest end */
        span = end - plan->layout.devmem_base;
        need = MAX(total, span > slots_bytes ? span - slots_bytes : 0);
        if (!spm_checked_add(need, ram, &need))
            goto overflow;
        if (maxmem >= need)
            break;

        if (def->has_max_memory && policy->fixed_max_memory) {
            g_autofree char *have = spm_units_format(def->max_memory);
            g_autofree char *want = spm_units_format(need);

            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "maxMemory %s is too small: the memory devices need %s "
                        "(RAM plus devices and gaps), and the policy forbids raising it",
                        have, want);
            return FALSE;
        }
        if (iter + 1 >= SPM_PLAN_MAX_ITERATIONS) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "maxMemory: no stable layout after %u attempts (the device-memory "
                        "region keeps moving)", SPM_PLAN_MAX_ITERATIONS);
            return FALSE;
        }
        if (!spm_checked_align_up(need, SPM_GiB, &maxmem))
            goto overflow;
    }

    plan->max_memory = maxmem;
    plan->max_memory_slots = slots;
    if (!def->has_max_memory || def->max_memory != maxmem || def->max_memory_slots != slots) {
        g_autofree char *to = spm_units_format(maxmem);

        plan->max_memory_raised = TRUE;
        if (def->has_max_memory && def->max_memory) {
            g_autofree char *from = spm_units_format(def->max_memory);

            if (def->max_memory != maxmem)
                spm_plan_warn(plan, "maxMemory raised from %s to %s", from, to);
            if (def->max_memory_slots != slots)
                spm_plan_warn(plan, "maxMemory slots raised from %u to %u",
                              def->max_memory_slots, slots);
        } else {
            spm_plan_warn(plan, "maxMemory set to %s with %u slot%s: memory devices need it",
                          to, slots, slots == 1 ? "" : "s");
        }
    }
    return TRUE;

 overflow:
    g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                "maxMemory: the memory devices do not fit in 64 bits");
    return FALSE;
}

static guint
spm_bits_for(guint64 max_gpa)
{
    guint bits = 0;

    while (bits < 64 && (max_gpa >> bits) != 0)
        bits++;
    return bits;
}

static gboolean
spm_plan_phys_bits_check(const SpmDomainDef *def, const SpmPlanPolicy *policy, SpmPlan *plan,
                         GError **error)
{
    SpmMachineLayout checked;
    g_autoptr(GError) local = NULL;
    guint need;

    if (spm_qemu_machine_layout(&plan->machine, &checked, &local)) {
        plan->layout = checked;
        return TRUE;
    }
    need = spm_bits_for(plan->layout.max_used_gpa);
    if (need > SPM_QEMU_MAX_PHYS_BITS) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "%s; it would need %u bits, more than QEMU's %u: reduce the memory devices",
                    local->message, need, SPM_QEMU_MAX_PHYS_BITS);
        return FALSE;
    }
    if (g_strcmp0(def->virt_type, "kvm") == 0 && policy->host.host_phys_bits &&
        need > policy->host.host_phys_bits) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "%s; it would need <maxphysaddr mode='emulate' bits='%u'/> but the host "
                    "has only %u address bits", local->message, need,
                    policy->host.host_phys_bits);
        return FALSE;
    }
    g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                "%s; set <maxphysaddr mode='emulate' bits='%u'/> in <cpu>", local->message, need);
    return FALSE;
}

static gboolean
spm_plan_qemu_run(SpmPlan *plan, GPtrArray *devs, GError **error)
{
    g_autofree SpmQemuMemDev *q = spm_plan_qemu_devs(plan, devs);
    g_autoptr(GError) local = NULL;

    if (!spm_qemu_place(&plan->machine, &plan->layout, q, devs->len, &local)) {
        spm_qemu_error(error, local);
        return FALSE;
    }
    for (guint i = 0; i < devs->len; i++) {
        SpmPlannedDevice *pd = g_ptr_array_index(devs, i);

        /* the planned SPM addresses are on the command line: QEMU takes them */
        g_assert(pd->model != SPM_MEM_MODEL_SPM || q[i].placed_addr == pd->addr);
        pd->addr = q[i].placed_addr;
        pd->slot = q[i].placed_slot;
        pd->order = q[i].order;
    }
    return TRUE;
}

/* ---- warnings ----------------------------------------------------------- */

static gboolean
spm_ovmf_passes_soft_reserved(const char *version)
{
    guint year = 0, month = 0;

    /* "edk2-2026.08", "edk2-2026.08-1", "edk2-stable202608" */
    if (!version)
        return FALSE;
    if (sscanf(version, "edk2-stable%4u%2u", &year, &month) != 2 &&
        sscanf(version, "edk2-%u.%u", &year, &month) != 2)
        return FALSE;
    return year > SPM_OVMF_SOFT_RESERVED_YEAR ||
           (year == SPM_OVMF_SOFT_RESERVED_YEAR && month >= SPM_OVMF_SOFT_RESERVED_MONTH);
}

/* The first SPM device and the first of libvirt's own, in document order. */
static void
spm_plan_first_devices(GPtrArray *devs, const SpmPlannedDevice **first_spm,
                       const SpmPlannedDevice **first_libvirt)
{
    *first_spm = NULL;
    *first_libvirt = NULL;
    for (guint i = 0; i < devs->len; i++) {
        const SpmPlannedDevice *pd = g_ptr_array_index(devs, i);

        if (pd->model == SPM_MEM_MODEL_SPM) {
            if (!*first_spm || pd->def->line < (*first_spm)->def->line)
                *first_spm = pd;
        } else if (!*first_libvirt || pd->def->line < (*first_libvirt)->def->line) {
            *first_libvirt = pd;
        }
    }
}

/*
 * libvirt before 9.1.0 fails the start of a domain that mixes SPM with its
 * own memory devices: it reads query-memory-devices and refuses the kind it
 * does not know.  9.1.0 and later (12.8 measured) log a warning and go on
 * (docs/libvirt.md).  Refuse on a libvirt known to be older; warn when the
 * version is unknown.
 */
static gboolean
spm_plan_check_libvirt(const SpmPlanPolicy *policy, SpmPlan *plan, GPtrArray *devs,
                       GError **error)
{
    const SpmPlannedDevice *first_spm, *first_libvirt;
    guint v = policy->host.libvirt_version;

    spm_plan_first_devices(devs, &first_spm, &first_libvirt);
    /* A pc-dimm stand-in is a device libvirt knows: nothing to refuse. */
    if (!first_spm || !first_libvirt || plan->stand_in_driver)
        return TRUE;

    if (v && v < SPM_LIBVIRT_SKIPS_UNKNOWN_MEMDEV) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_UNSUPPORTED,
                    SPM_PLAN_DEV_FMT " (model '%s') with SPM memory: libvirt %u.%u.%u fails "
                    "the start of a domain mixing SPM with libvirt's memory devices "
                    "(\"%s memory device info is not handled yet\"); libvirt "
                    "%u.%u.%u or later skips the kind it does not know, or remove the %s device",
                    first_libvirt->id, spm_mem_model_to_string(first_libvirt->model),
                    v / 1000000, v / 1000 % 1000, v % 1000,
                    spm_device_rev_info(plan->device)->qmp_type,
                    SPM_LIBVIRT_SKIPS_UNKNOWN_MEMDEV / 1000000,
                    SPM_LIBVIRT_SKIPS_UNKNOWN_MEMDEV / 1000 % 1000,
                    SPM_LIBVIRT_SKIPS_UNKNOWN_MEMDEV % 1000,
                    spm_mem_model_to_string(first_libvirt->model));
        return FALSE;
    }
    if (!v)
        spm_plan_warn(plan, "libvirt: version unknown; libvirt before %u.%u.%u fails to "
                      "start a domain mixing SPM with libvirt's memory devices such as "
                      SPM_PLAN_DEV_FMT " (\"%s memory device info is not handled "
                      "yet\")",
                      SPM_LIBVIRT_SKIPS_UNKNOWN_MEMDEV / 1000000,
                      SPM_LIBVIRT_SKIPS_UNKNOWN_MEMDEV / 1000 % 1000,
                      SPM_LIBVIRT_SKIPS_UNKNOWN_MEMDEV % 1000, first_libvirt->id,
                      spm_device_rev_info(plan->device)->qmp_type);
    return TRUE;
}

/* What the planner only warns of: it never refuses here. */
static void
spm_plan_warnings(const SpmDomainDef *def, const SpmPlanPolicy *policy, SpmPlan *plan,
                  GPtrArray *devs)
{
    const SpmPlannedDevice *first_spm, *first_libvirt;
    guint last_node;

    spm_plan_first_devices(devs, &first_spm, &first_libvirt);
    if (!first_spm)
        return;

    if (!def->firmware_efi) {
        spm_plan_warn(plan, "firmware: SeaBIOS drops Soft Reserved (E820 type 0xefffffff): the "
                      "guest sees the SRAT entries but no Soft Reserved range; use UEFI (OVMF "
                      "edk2-2026.08 or later)");
    } else if (!spm_ovmf_passes_soft_reserved(policy->host.firmware_version)) {
        spm_plan_warn(plan, "firmware: OVMF before edk2-2026.08 drops Soft Reserved (E820 type "
                      "0xefffffff) and this one is %s: the guest sees the SRAT entries but no "
                      "Soft Reserved range",
                      policy->host.firmware_version ? policy->host.firmware_version
                                                    : "of unknown version");
    }

    last_node = plan->nodes->len - 1;
    if (g_array_index(plan->nodes, SpmPlannedNode, last_node).kind == SPM_NUMA_SPM) {
        const SpmPlannedDevice *owner = NULL;

        for (guint i = 0; i < devs->len && !owner; i++) {
            const SpmPlannedDevice *pd = g_ptr_array_index(devs, i);

            if (pd->model == SPM_MEM_MODEL_SPM && pd->node == last_node)
                owner = pd;
        }
        /* What a booted guest shows of it: docs/guest-view.md. */
        spm_plan_warn(plan, "numa: QEMU lists the hotpluggable SRAT placeholder for the rest of "
                      "device memory on the last node, %u, the SPM node of " SPM_PLAN_DEV_FMT
                      ": DIMMs still land on their own nodes, but the guest's SRAT (and "
                      "movable_node) shows hotpluggable ranges on the SPM node",
                      last_node, owner ? owner->id : "?");
    }

    /*
     * Linux adds a DIMM's memory in whole memory blocks and refuses a range
     * whose start or size is not block-aligned.  QEMU packs DIMMs right
     * after the SPM devices, so an SPM size that is not a multiple of the
     * block moves every DIMM after it off the block grid.
     */
    for (guint i = 0; i < devs->len; i++) {
        const SpmPlannedDevice *pd = g_ptr_array_index(devs, i);
        g_autofree char *size = NULL;

        if (pd->model != SPM_MEM_MODEL_DIMM ||
            (pd->addr % SPM_GUEST_MEMORY_BLOCK == 0 && pd->size % SPM_GUEST_MEMORY_BLOCK == 0))
            continue;
        size = spm_units_format(pd->size);
        spm_plan_warn(plan, SPM_PLAN_DEV_FMT ": a DIMM of %s at 0x%" G_GINT64_MODIFIER "x is not "
                      "aligned to Linux's memory blocks (128 MiB, more in large guests): the "
                      "guest's kernel will not add it; make SPM devices and DIMMs multiples of "
                      "128 MiB",
                      pd->id, size, pd->addr);
    }
}

/* ---- entry -------------------------------------------------------------- */

static int
spm_cmp_addr(gconstpointer a, gconstpointer b)
{
    const SpmPlannedDevice *x = *(SpmPlannedDevice *const *)a;
    const SpmPlannedDevice *y = *(SpmPlannedDevice *const *)b;

    return x->addr < y->addr ? -1 : x->addr > y->addr;
}

SpmPlan *
spm_plan_build(const SpmDomainDef *def, const SpmPlanPolicy *policy, GError **error)
{
    g_autoptr(SpmPlan) plan = g_new0(SpmPlan, 1);
    SpmPlanPolicy defaults;
    guint64 devices_size = 0;
    GPtrArray *devs;

    if (!policy) {
        spm_plan_policy_init(&defaults);
        policy = &defaults;
    }
    plan->devices = g_ptr_array_new_with_free_func((GDestroyNotify)spm_planned_device_free);
    plan->nodes = g_array_new(FALSE, TRUE, sizeof(SpmPlannedNode));
    plan->warnings = g_ptr_array_new_with_free_func(g_free);
    plan->stand_in_driver = g_strdup(policy->stand_in_driver);
    plan->device = policy->device;
    devs = plan->devices;

    spm_plan_machine(def, policy, plan);

    if (def->mems->len && !def->acpi) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "features/acpi: memory devices need ACPI; add <acpi/> to <features>");
        return NULL;
    }

    /* documents order: ids, backends, sizes */
    for (guint i = 0; i < def->mems->len; i++) {
        const SpmMemDevice *m = g_ptr_array_index(def->mems, i);
        SpmPlannedDevice *pd = g_new0(SpmPlannedDevice, 1);

        pd->def = m;
        pd->model = m->model;
        pd->node = m->has_node ? m->node : 0;
        pd->slot = -1;
        pd->generated = m->model == SPM_MEM_MODEL_SPM;
        pd->explicit_addr = m->model == SPM_MEM_MODEL_SPM || m->has_base;
        g_ptr_array_add(devs, pd);
    }
    if (!spm_plan_assign_libvirt_slots(devs, error) ||
        !spm_plan_assign_ids(devs, error))
        return NULL;
    for (guint i = 0; i < devs->len; i++) {
        SpmPlannedDevice *pd = g_ptr_array_index(devs, i);

        if (!spm_plan_backend_fill(def, policy, pd, error))
            return NULL;
        if (!spm_checked_add(devices_size, pd->backend.size, &devices_size)) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "memory devices: their sizes overflow 64 bits");
            return NULL;
        }
    }

    if (!spm_plan_ram_and_cells(def, plan, devices_size, error))
        return NULL;
    if (!spm_plan_numa(policy, plan, devs, error))
        return NULL;

    if (devs->len == 0) {
        plan->machine.maxmem = def->has_max_memory ? def->max_memory : 0;
        plan->machine.slots = def->max_memory_slots;
        plan->max_memory = plan->machine.maxmem;
        plan->max_memory_slots = plan->machine.slots;
        if (!spm_layout_unchecked(&plan->machine, &plan->layout, error))
            return NULL;
    } else if (!spm_plan_max_memory(def, policy, plan, devs, error)) {
        return NULL;
    }
    if (!spm_plan_phys_bits_check(def, policy, plan, error))
        return NULL;
    if (devs->len && !spm_plan_qemu_run(plan, devs, error))
        return NULL;
    if (!spm_plan_check_libvirt(policy, plan, devs, error))
        return NULL;
    spm_plan_warnings(def, policy, plan, devs);

    g_ptr_array_sort(devs, spm_cmp_addr);
    return g_steal_pointer(&plan);
}
