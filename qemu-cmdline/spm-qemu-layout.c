/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-qemu-layout.c: a model of what QEMU (7.2 .. 11.1, x86 pc/q35) does
 * with a memory configuration.
 *
 * Two halves: the machine memory map (RAM split, device-memory region,
 * 64-bit PCI hole, AMD 1 TiB relocation, phys-bits check) and the
 * placement of memory devices in realize order (the generic memory-device
 * first fit plus the per-device checks of pc-dimm, nvdimm, virtio-mem and
 * the SPM device of each revision: sp-mem of QEMU 11.1, spm-memory of the
 * v8 patch series, whose checks and words spm-device-rev.c lists).  Error
 * texts are QEMU's, word for word, because users search for them.  No policy here: the planner decides what to ask for.
 */
#include <string.h>

#include "spm-error.h"
#include "spm-qemu-layout.h"
#include "spm-checked.h"
#include "spm-intervals.h"

#define SPM_Q35_LOWMEM_SPLIT       G_GUINT64_CONSTANT(0xB0000000)
#define SPM_Q35_LOWMEM_BIG         G_GUINT64_CONSTANT(0x80000000)
#define SPM_I440FX_LOWMEM_DEFAULT  G_GUINT64_CONSTANT(0xE0000000)
#define SPM_I440FX_LOWMEM_GB_ALIGN G_GUINT64_CONSTANT(0xC0000000)
#define SPM_4GiB                   (G_GUINT64_CONSTANT(4) << 30)
#define SPM_TARGET_PAGE_SIZE       G_GUINT64_CONSTANT(4096)
#define SPM_DEFAULT_PHYS_BITS      40
#define SPM_MAX_NODES              128 /* QEMU's MAX_NODES */

const char *
spm_qemu_dev_kind_driver(SpmQemuDevKind kind, SpmDeviceRev spm)
{
    switch (kind) {
    case SPM_QEMU_DEV_SPM:
        return spm_device_rev_info(spm) ? spm_device_rev_info(spm)->driver : "unknown";
    case SPM_QEMU_DEV_PC_DIMM:
        return "pc-dimm";
    case SPM_QEMU_DEV_NVDIMM:
        return "nvdimm";
    case SPM_QEMU_DEV_VIRTIO_MEM:
        return "virtio-mem-pci";
    case SPM_QEMU_DEV_VIRTIO_PMEM:
        return "virtio-pmem-pci";
    }
    return "unknown";
}

/* Round @v up to @align (a power of two or any non-zero value); FALSE on overflow. */
static void
spm_overflow_error(GError **error, const char *what)
{
    g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                "%s: address arithmetic overflows 64 bits", what);
}

/* RAM below and above 4 GiB, as pc_q35_init() / pc_init1() split it. */
static void
spm_split_ram(const SpmMachineConfig *cfg, guint64 *below, guint64 *above)
{
    guint64 ram = cfg->ram_size;
    guint64 lowmem;

    if (cfg->kind == SPM_MACHINE_Q35) {
        lowmem = ram >= SPM_Q35_LOWMEM_SPLIT ? SPM_Q35_LOWMEM_BIG : SPM_Q35_LOWMEM_SPLIT;
        if (cfg->max_ram_below_4g && lowmem > cfg->max_ram_below_4g)
            lowmem = cfg->max_ram_below_4g;
    } else {
        lowmem = cfg->max_ram_below_4g ? cfg->max_ram_below_4g : SPM_I440FX_LOWMEM_DEFAULT;
        if (ram >= lowmem && cfg->gigabyte_align && lowmem > SPM_I440FX_LOWMEM_GB_ALIGN)
            lowmem = SPM_I440FX_LOWMEM_GB_ALIGN;
    }

    if (ram >= lowmem) {
        *below = lowmem;
        *above = ram - lowmem;
    } else {
        *below = ram;
        *above = 0;
    }
}

/*
 * Device memory, hole64 and highest used GPA for a given start of RAM
 * above 4 GiB.  Mirrors pc_get_device_memory_range(), pc_pci_hole64_start()
 * and pc_max_used_gpa().
 */
static gboolean
spm_compute_above(const SpmMachineConfig *cfg,
                  SpmMachineLayout *layout,
                  GError **error)
{
    guint64 above_end;
    guint64 hole_start;
    guint64 tmp;

    if (!spm_checked_add(layout->above_4g_start, layout->above_4g, &above_end))
        goto overflow;

    layout->has_device_memory = cfg->maxmem > cfg->ram_size;
    if (layout->has_device_memory) {
        guint64 slots_bytes = (guint64)cfg->slots * SPM_GiB;

        if (!spm_checked_align_up(above_end, SPM_GiB, &layout->devmem_base) ||
            !spm_checked_add(cfg->maxmem - cfg->ram_size, slots_bytes, &layout->devmem_size) ||
            !spm_checked_add(layout->devmem_base, layout->devmem_size, &hole_start))
            goto overflow;
    } else {
        layout->devmem_base = 0;
        layout->devmem_size = 0;
        hole_start = above_end;
    }
    if (!spm_checked_align_up(hole_start, SPM_GiB, &layout->pci_hole64_start))
        goto overflow;

    if (layout->phys_bits <= 32) {
        layout->max_used_gpa = (G_GUINT64_CONSTANT(1) << layout->phys_bits) - 1;
    } else {
        if (!spm_checked_add(layout->pci_hole64_start, layout->pci_hole64_size, &tmp) || tmp == 0)
            goto overflow;
        layout->max_used_gpa = tmp - 1;
    }
    return TRUE;

 overflow:
    spm_overflow_error(error, "-m maxmem");
    return FALSE;
}

gboolean
spm_qemu_machine_layout(const SpmMachineConfig *cfg,
                        SpmMachineLayout *layout,
                        GError **error)
{
    guint64 max_phys;

    memset(layout, 0, sizeof(*layout));
    layout->phys_bits = cfg->phys_bits ? cfg->phys_bits : SPM_DEFAULT_PHYS_BITS;
    if (layout->phys_bits > 63) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "phys-bits should be between 32 and 52 (but is %u)",
                    layout->phys_bits);
        return FALSE;
    }

    /* machine_parse_memory / vl.c: -m checks */
    if (cfg->maxmem && cfg->maxmem < cfg->ram_size) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "invalid value of maxmem: maximum memory size (0x%" G_GINT64_MODIFIER
                    "x) must be at least the initial memory size (0x%" G_GINT64_MODIFIER "x)",
                    cfg->maxmem, cfg->ram_size);
        return FALSE;
    }

    spm_split_ram(cfg, &layout->below_4g, &layout->above_4g);
    layout->above_4g_start = SPM_4GiB;
    layout->pci_hole64_size = cfg->pci_hole64_size ? cfg->pci_hole64_size
        : (cfg->kind == SPM_MACHINE_Q35 ? 32 * SPM_GiB : 2 * SPM_GiB);

    /* pc_memory_init(): device memory checks */
    if (cfg->maxmem > cfg->ram_size) {
        if (cfg->slots > SPM_MAX_RAM_SLOTS) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "unsupported amount of memory slots: %u", cfg->slots);
            return FALSE;
        }
        if (cfg->maxmem % SPM_TARGET_PAGE_SIZE) {
            /* sic: QEMU's wording */
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "maximum memory size must by aligned to multiple of %u bytes",
                        (guint)SPM_TARGET_PAGE_SIZE);
            return FALSE;
        }
    }

    if (!spm_compute_above(cfg, layout, error))
        return FALSE;

    /* Machine types >= 7.1 move RAM above 4G to 1 TiB on AMD vCPUs. */
    if (cfg->cpu_amd && cfg->amd_1tb_hole && layout->max_used_gpa >= SPM_AMD_HT_START) {
        layout->above_4g_start = SPM_AMD_ABOVE_1TB;
        layout->relocated_1tb = TRUE;
        if (!spm_compute_above(cfg, layout, error))
            return FALSE;
    }

    max_phys = (G_GUINT64_CONSTANT(1) << layout->phys_bits) - 1;
    if (layout->max_used_gpa > max_phys) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "Address space limit 0x%" G_GINT64_MODIFIER "x < 0x%" G_GINT64_MODIFIER
                    "x phys-bits too low (%u)",
                    max_phys, layout->max_used_gpa, layout->phys_bits);
        return FALSE;
    }
    return TRUE;
}

gboolean
spm_qemu_numa_check(const guint *node_ids,
                    guint n_ids,
                    guint *nb_numa_nodes,
                    GError **error)
{
    gboolean present[SPM_MAX_NODES] = { FALSE };
    guint nb = 0;

    for (guint i = 0; i < n_ids; i++) {
        guint id = node_ids[i];

        if (id >= SPM_MAX_NODES) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "Max number of NUMA nodes reached: %u", id);
            return FALSE;
        }
        if (present[id]) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "Duplicate NUMA nodeid: %u", id);
            return FALSE;
        }
        present[id] = TRUE;
        if (id + 1 > nb)
            nb = id + 1;
    }
    for (guint i = 0; i < nb; i++) {
        if (!present[i]) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "numa: Node ID missing: %u", i);
            return FALSE;
        }
    }
    if (nb_numa_nodes)
        *nb_numa_nodes = nb;
    return TRUE;
}

guint64
spm_qemu_dev_region_size(const SpmQemuMemDev *dev)
{
    guint64 size;

    if (dev->kind != SPM_QEMU_DEV_NVDIMM)
        return dev->backend_size;
    /* nvdimm_prepare_memory_region(): the label comes off the end, aligned down */
    if (dev->label_size >= dev->backend_size)
        return 0;
    size = dev->backend_size - dev->label_size;
    if (dev->backend_align)
        size -= size % dev->backend_align;
    return size;
}

/* ---- placement ---------------------------------------------------------- */

typedef struct {
    const SpmMachineConfig *cfg;
    const SpmMachineLayout *layout;
    SpmIntervals *placed;       /* realized devices' ranges, owner = SpmQemuMemDev */
    GHashTable *backends;       /* memdev id -> realized device, "mapped" backends */
    GHashTable *node_users;     /* node -> TRUE: a realized device with a node property */
    guint8 slot_used[SPM_MAX_RAM_SLOTS];
    guint64 used_region_size;

    /*
     * The last first fit: every aligned address below hint_addr was taken
     * for a device of hint_size, so it is for any bigger one with the same
     * alignment too (devices are only ever added).  Starting there gives
     * QEMU's exact answer without walking the whole region again.
     */
    gboolean hint_valid;
    guint64 hint_align;
    guint64 hint_size;
    guint64 hint_addr;
} SpmPlaceState;

/* One device's error, as QEMU prefixes it; the device is named by id, else by driver. */
G_GNUC_PRINTF(4, 5) static void
spm_dev_error(const SpmPlaceState *st, GError **error, const SpmQemuMemDev *dev,
              const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID, "-device %s: %s",
                dev->id ? dev->id : spm_qemu_dev_kind_driver(dev->kind, st->cfg->spm_device), msg);
}

/* The same with a text made by the revision table. */
static void
spm_dev_error_take(const SpmPlaceState *st, GError **error, const SpmQemuMemDev *dev, char *text)
{
    spm_dev_error(st, error, dev, "%s", text);
    g_free(text);
}

static gboolean
spm_kind_has_node(SpmQemuDevKind kind)
{
    return kind != SPM_QEMU_DEV_VIRTIO_PMEM;
}

/*
 * memory_device_pre_plug(): region present, room left, alignment, and a
 * free range (the hint or first fit).  Returns the address in *addr.
 */
static gboolean
spm_memory_device_pre_plug(SpmPlaceState *st,
                           const SpmQemuMemDev *dev,
                           guint64 *addr,
                           GError **error)
{
    const SpmMachineLayout *layout = st->layout;
    guint64 total = st->cfg->maxmem > st->cfg->ram_size ? st->cfg->maxmem - st->cfg->ram_size : 0;
    guint64 size = spm_qemu_dev_region_size(dev);
    guint64 align = dev->backend_align;
    guint64 as_start = layout->devmem_base;
    guint64 as_last = layout->devmem_base + layout->devmem_size - 1;
    guint64 start;
    guint64 last;
    const SpmInterval *p;

    if (!layout->has_device_memory) {
        /* QEMU >= 8.1 wording; 7.2 said "memory devices (e.g. for memory hotplug) are
         * not enabled, please specify the maxmem option".  The SPM devices are 10.2+. */
        spm_dev_error(st, error, dev, "the configuration is not prepared for memory devices"
                      " (e.g., for memory hotplug), consider specifying the maxmem option");
        return FALSE;
    }
    if (!dev->memdev) {
        /* get_memory_region() of pc-dimm / nvdimm and friends */
        spm_dev_error(st, error, dev, "'memdev' property must be set");
        return FALSE;
    }

    /* memory_device_check_addable() */
    if (st->used_region_size + size < st->used_region_size ||
        st->used_region_size + size > total) {
        spm_dev_error(st, error, dev, "not enough space, currently 0x%" G_GINT64_MODIFIER
                      "x in use of total space for memory devices 0x%" G_GINT64_MODIFIER "x",
                      st->used_region_size, total);
        return FALSE;
    }

    if (dev->kind == SPM_QEMU_DEV_VIRTIO_MEM && dev->block_size > align)
        align = dev->block_size;
    if (align == 0)
        align = 1;

    if (dev->addr && dev->addr % align) {
        spm_dev_error(st, error, dev, "address must be aligned to 0x%" G_GINT64_MODIFIER "x bytes",
                      align);
        return FALSE;
    }
    if (size % align) {
        spm_dev_error(st, error, dev, "backend memory size must be multiple of 0x%"
                      G_GINT64_MODIFIER "x", align);
        return FALSE;
    }

    if (dev->addr) {
        start = dev->addr;
        if (size == 0 || start > G_MAXUINT64 - (size - 1) ||
            start < as_start || start + (size - 1) > as_last) {
            spm_dev_error(st, error, dev, "can't add memory device [0x%" G_GINT64_MODIFIER "x:0x%"
                          G_GINT64_MODIFIER "x], usable range for memory devices [0x%"
                          G_GINT64_MODIFIER "x:0x%" G_GINT64_MODIFIER "x]",
                          start, size, as_start, layout->devmem_size);
            return FALSE;
        }
        last = start + size - 1;
        p = spm_intervals_first_reaching(st->placed, start);
        if (p && p->start <= last) {
            const SpmQemuMemDev *other = p->owner;

            spm_dev_error(st, error, dev, "address range conflicts with memory device id='%s'",
                          other->id ? other->id : "(unnamed)");
            return FALSE;
        }
        *addr = start;
        return TRUE;
    }

    if (size == 0 || !spm_checked_align_up(as_start, align, &start) ||
        start > G_MAXUINT64 - (size - 1)) {
        spm_dev_error(st, error, dev, "can't add memory device, device too big");
        return FALSE;
    }
    if (st->hint_valid && st->hint_align == align && size >= st->hint_size &&
        st->hint_addr > start && st->hint_addr <= G_MAXUINT64 - (size - 1))
        start = st->hint_addr;
    last = start + size - 1;

    /*
     * First fit, as QEMU walks the devices sorted by address: skip those
     * ending before the candidate (binary search: they cannot conflict),
     * then move the candidate past each conflicting device.
     */
    for (p = spm_intervals_first_reaching(st->placed, start); p;
         p = spm_intervals_next(st->placed, p)) {
        if (p->start > last)
            break;
        if (p->last == G_MAXUINT64 || !spm_checked_align_up(p->last + 1, align, &start) ||
            start > G_MAXUINT64 - (size - 1)) {
            start = 0;
            last = 0;
            size = 0;
            break;
        }
        last = start + size - 1;
    }
    if (size == 0 || start < as_start || last > as_last) {
        spm_dev_error(st, error, dev, "could not find position in guest address space for "
                      "memory device - memory fragmented due to alignments");
        return FALSE;
    }
    st->hint_valid = TRUE;
    st->hint_align = align;
    st->hint_size = size;
    st->hint_addr = start;
    *addr = start;
    return TRUE;
}

/* pc_memory_pre_plug() + pc_dimm_pre_plug(): ACPI and slot. */
static gboolean
spm_dimm_pre_plug(SpmPlaceState *st, const SpmQemuMemDev *dev, int *slot, GError **error)
{
    guint nslots = st->cfg->slots;

    if (!st->cfg->acpi) {
        spm_dev_error(st, error, dev,
                      "memory hotplug is not enabled: missing acpi device or acpi disabled");
        return FALSE;
    }
    if (dev->slot >= 0 && (guint)dev->slot >= nslots) {
        spm_dev_error(st, error, dev, "invalid slot number %d, valid range is [0-%"
                      G_GINT64_MODIFIER "u]", dev->slot, (guint64)nslots - 1);
        return FALSE;
    }
    if (nslots == 0) {
        spm_dev_error(st, error, dev, "no slots where allocated, please specify the 'slots' option");
        return FALSE;
    }
    if (dev->slot >= 0) {
        if (st->slot_used[dev->slot]) {
            spm_dev_error(st, error, dev, "slot %d is busy", dev->slot);
            return FALSE;
        }
        *slot = dev->slot;
        return TRUE;
    }
    for (guint s = 0; s < nslots && s < SPM_MAX_RAM_SLOTS; s++) {
        if (!st->slot_used[s]) {
            *slot = (int)s;
            return TRUE;
        }
    }
    spm_dev_error(st, error, dev, "no free slots available");
    return FALSE;
}

/*
 * The SPM device's realize() before placement, as its revision does it:
 * v8 checks memdev, a busy backend and its node rules here; sp-mem only
 * the node's range.
 */
static gboolean
spm_spm_checks(SpmPlaceState *st, const SpmQemuMemDev *dev, GError **error)
{
    const SpmMachineConfig *cfg = st->cfg;
    const SpmDeviceRevInfo *rev = spm_device_rev_info(cfg->spm_device);
    guint nb = MAX(cfg->nb_numa_nodes, rev->min_numa_nodes);

    if (rev->memdev_missing && !dev->memdev) {
        spm_dev_error(st, error, dev, "%s", rev->memdev_missing);
        return FALSE;
    }
    if (rev->busy_check == SPM_DEVICE_BUSY_BEFORE_PLACEMENT && dev->memdev &&
        g_hash_table_contains(st->backends, dev->memdev)) {
        spm_dev_error_take(st, error, dev, rev->busy_text(dev->memdev));
        return FALSE;
    }
    if (rev->node_range_text && dev->node >= nb) {
        spm_dev_error_take(st, error, dev, rev->node_range_text(dev->node, nb));
        return FALSE;
    }
    if (rev->node_has_ram_text && dev->node < 64 &&
        (cfg->numa_node_has_ram & (G_GUINT64_CONSTANT(1) << dev->node))) {
        spm_dev_error_take(st, error, dev, rev->node_has_ram_text(dev->node));
        return FALSE;
    }
    if (rev->node_taken_text &&
        g_hash_table_contains(st->node_users, GUINT_TO_POINTER(dev->node))) {
        spm_dev_error_take(st, error, dev, rev->node_taken_text(dev->node));
        return FALSE;
    }
    return TRUE;
}

/* The SPM device's realize() after placement: sp-mem's busy backend. */
static gboolean
spm_spm_realize_checks(SpmPlaceState *st, const SpmQemuMemDev *dev, GError **error)
{
    const SpmDeviceRevInfo *rev = spm_device_rev_info(st->cfg->spm_device);

    if (rev->busy_check == SPM_DEVICE_BUSY_AFTER_PLACEMENT &&
        g_hash_table_contains(st->backends, dev->memdev)) {
        spm_dev_error_take(st, error, dev, rev->busy_text(dev->memdev));
        return FALSE;
    }
    return TRUE;
}

/* realize() of pc-dimm/nvdimm, after pre_plug placed it. */
static gboolean
spm_dimm_realize_checks(SpmPlaceState *st, const SpmQemuMemDev *dev, GError **error)
{
    guint nb = st->cfg->nb_numa_nodes;

    if (g_hash_table_contains(st->backends, dev->memdev)) {
        spm_dev_error(st, error, dev, "can't use already busy memdev: %s", dev->memdev);
        return FALSE;
    }
    if ((nb > 0 && dev->node >= nb) || (nb == 0 && dev->node)) {
        spm_dev_error(st, error, dev, "'DIMM property node has value %u' which exceeds the "
                      "number of numa nodes: %u", dev->node, nb ? nb : 1);
        return FALSE;
    }
    return TRUE;
}

static gboolean
spm_realize_one(SpmPlaceState *st, SpmQemuMemDev *dev, GError **error)
{
    gboolean is_dimm = dev->kind == SPM_QEMU_DEV_PC_DIMM || dev->kind == SPM_QEMU_DEV_NVDIMM;
    guint64 addr = 0;
    int slot = -1;

    if (dev->kind == SPM_QEMU_DEV_SPM) {
        if (!spm_spm_checks(st, dev, error))
            return FALSE;
    } else if (is_dimm) {
        if (!spm_dimm_pre_plug(st, dev, &slot, error))
            return FALSE;
    }

    if (!spm_memory_device_pre_plug(st, dev, &addr, error))
        return FALSE;

    if (is_dimm && !spm_dimm_realize_checks(st, dev, error))
        return FALSE;
    if (dev->kind == SPM_QEMU_DEV_SPM && !spm_spm_realize_checks(st, dev, error))
        return FALSE;
    /* the virtio devices look at their backend in realize, after pre_plug */
    if (dev->kind == SPM_QEMU_DEV_VIRTIO_MEM && g_hash_table_contains(st->backends, dev->memdev)) {
        spm_dev_error(st, error, dev, "'memdev' property specifies a busy memdev: %s", dev->memdev);
        return FALSE;
    }
    if (dev->kind == SPM_QEMU_DEV_VIRTIO_PMEM && g_hash_table_contains(st->backends, dev->memdev)) {
        spm_dev_error(st, error, dev, "can't use already busy memdev: %s", dev->memdev);
        return FALSE;
    }

    /* plugged: record it */
    dev->placed_addr = addr;
    dev->placed_slot = slot;
    spm_intervals_add(st->placed, addr, addr + spm_qemu_dev_region_size(dev) - 1, dev);
    st->used_region_size += spm_qemu_dev_region_size(dev);
    g_hash_table_insert(st->backends, (gpointer)dev->memdev, dev);
    if (spm_kind_has_node(dev->kind))
        g_hash_table_add(st->node_users, GUINT_TO_POINTER(dev->node));
    if (slot >= 0 && slot < SPM_MAX_RAM_SLOTS)
        st->slot_used[slot] = 1;
    return TRUE;
}

gboolean
spm_qemu_place(const SpmMachineConfig *cfg,
               const SpmMachineLayout *layout,
               SpmQemuMemDev *devs,
               guint ndevs,
               GError **error)
{
    SpmPlaceState st = { 0 };
    gboolean ok = TRUE;
    guint order = 0;

    st.cfg = cfg;
    st.layout = layout;
    st.placed = spm_intervals_new();
    st.backends = g_hash_table_new(g_str_hash, g_str_equal);
    st.node_users = g_hash_table_new(g_direct_hash, g_direct_equal);

    for (guint i = 0; i < ndevs; i++) {
        devs[i].placed_addr = 0;
        devs[i].placed_slot = -1;
        devs[i].order = 0;
    }

    /* key=value devices first, then JSON ones: QEMU's observed realize order */
    for (int pass = 0; pass < 2 && ok; pass++) {
        for (guint i = 0; i < ndevs && ok; i++) {
            if (devs[i].json != (pass == 1))
                continue;
            devs[i].order = order++;
            ok = spm_realize_one(&st, &devs[i], error);
        }
    }

    spm_intervals_free(st.placed);
    g_hash_table_unref(st.backends);
    g_hash_table_unref(st.node_users);
    return ok;
}
