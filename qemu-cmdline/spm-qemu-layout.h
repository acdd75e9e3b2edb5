/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-qemu-layout.h: what QEMU itself does with a memory configuration.
 *
 * A faithful model of x86 pc/q35 machine memory layout and of the generic
 * memory-device placement, with no policy of its own:
 * given the machine and the memory devices in the order QEMU realizes them,
 * it returns the addresses QEMU will choose, or the error QEMU will raise
 * with QEMU's own wording.  The planner (spm-plan.h) decides what to ask
 * for; this file predicts what QEMU answers.  Pure code, no I/O.
 */
#pragma once

#include <glib.h>
#include "spm-domain.h"
#include "spm-device-rev.h"

G_BEGIN_DECLS

#define SPM_KiB (G_GUINT64_CONSTANT(1) << 10)
#define SPM_MiB (G_GUINT64_CONSTANT(1) << 20)
#define SPM_GiB (G_GUINT64_CONSTANT(1) << 30)
#define SPM_TiB (G_GUINT64_CONSTANT(1) << 40)

/* The HyperTransport hole of AMD hosts and where RAM moves to avoid it. */
#define SPM_AMD_HT_START   G_GUINT64_CONSTANT(0xFD00000000)
#define SPM_AMD_ABOVE_1TB  G_GUINT64_CONSTANT(0x10000000000)

/* ACPI_MAX_RAM_SLOTS */
#define SPM_MAX_RAM_SLOTS 256

/* Everything about the machine that changes where memory goes. */
typedef struct {
    SpmMachineKind kind;
    guint64 ram_size;           /* -m size */
    guint64 maxmem;             /* -m maxmem; 0 = not given */
    guint slots;                /* -m slots */
    guint64 max_ram_below_4g;   /* -machine max-ram-below-4g; 0 = default */
    guint64 pci_hole64_size;    /* 0 = machine default (q35 32 GiB, pc 2 GiB) */
    gboolean gigabyte_align;    /* pc: 3 GiB below 4G when RAM >= 3.5 GiB (all pc-i440fx >= 2.x) */
    gboolean cpu_amd;           /* vCPU vendor is AMD (TCG qemu64 is; KVM takes the host's) */
    gboolean amd_1tb_hole;      /* machine type >= 7.1 */
    guint phys_bits;            /* vCPU phys-bits (QEMU default 40) */
    gboolean acpi;              /* ACPI enabled: needed by pc-dimm and SPM */
    guint nb_numa_nodes;        /* -numa node count (contiguous 0..n-1) */
    guint64 numa_node_has_ram;  /* bit N: node N has -numa node,memdev=; nodes < 64 */
    SpmDeviceRev spm_device;    /* which SPM device QEMU has: its realize checks and words */
} SpmMachineConfig;

/* The machine's memory map as QEMU computes it before any device. */
typedef struct {
    guint64 below_4g;           /* RAM below 4 GiB */
    guint64 above_4g;           /* RAM above 4 GiB */
    guint64 above_4g_start;     /* 4 GiB, or 1 TiB after AMD relocation */
    gboolean relocated_1tb;
    gboolean has_device_memory; /* maxmem > ram */
    guint64 devmem_base;
    guint64 devmem_size;
    guint64 pci_hole64_start;
    guint64 pci_hole64_size;
    guint64 max_used_gpa;       /* highest guest-physical address in use */
    guint phys_bits;
} SpmMachineLayout;

typedef enum {
    SPM_QEMU_DEV_SPM,           /* sp-mem, or the v8 spm-memory (SpmMachineConfig.spm_device) */
    SPM_QEMU_DEV_PC_DIMM,       /* pc-dimm */
    SPM_QEMU_DEV_NVDIMM,        /* nvdimm */
    SPM_QEMU_DEV_VIRTIO_MEM,    /* virtio-mem-pci */
    SPM_QEMU_DEV_VIRTIO_PMEM,   /* virtio-pmem-pci */
} SpmQemuDevKind;

/* QEMU's driver name for @kind, e.g. "pc-dimm"; SPM devices: @spm's ("sp-mem"). */
const char *spm_qemu_dev_kind_driver(SpmQemuDevKind kind, SpmDeviceRev spm);

/* One -device of a memory device, as QEMU receives it. */
typedef struct {
    SpmQemuDevKind kind;
    const char *id;             /* may be NULL (QEMU says "(unnamed)") */
    const char *memdev;         /* backend id; NULL = missing */
    guint64 backend_size;       /* size of the backend object */
    guint64 backend_align;      /* the backend memory region's alignment */
    guint64 label_size;         /* nvdimm label-size (taken off the region) */
    guint64 block_size;         /* virtio-mem block-size (min alignment) */
    guint node;
    guint64 addr;               /* requested address; 0 = QEMU chooses */
    int slot;                   /* pc-dimm/nvdimm slot; -1 = QEMU chooses */
    gboolean json;              /* -device {...}: realized after all key=value ones */

    /* results, filled by spm_qemu_place() */
    guint64 placed_addr;
    int placed_slot;
    guint order;                /* realize position, 0-based */
} SpmQemuMemDev;

/*
 * Compute the memory map of @cfg.  Fails like QEMU's machine init does
 * (phys-bits too low, too many slots, maxmem smaller than RAM).
 */
gboolean spm_qemu_machine_layout(const SpmMachineConfig *cfg,
                                 SpmMachineLayout *layout,
                                 GError **error);

/*
 * Realize @devs in QEMU's order (key=value devices in array order, then
 * JSON devices in array order) and place each one.  On success every
 * device has placed_addr, placed_slot and order set.  On failure the error
 * message is "-device <id>: <QEMU's message>", QEMU's message word for
 * word, and devices realized before the failing one keep their results.
 */
gboolean spm_qemu_place(const SpmMachineConfig *cfg,
                        const SpmMachineLayout *layout,
                        SpmQemuMemDev *devs,
                        guint ndevs,
                        GError **error);

/*
 * QEMU's -numa node checks (numa_complete_configuration()): ids below 128,
 * no duplicates, no gaps ("numa: Node ID missing: 1").  @node_ids in
 * command-line order; *nb_numa_nodes (may be NULL) gets highest id + 1.
 */
gboolean spm_qemu_numa_check(const guint *node_ids,
                             guint n_ids,
                             guint *nb_numa_nodes,
                             GError **error);

/* The memory region size a device occupies (nvdimm: minus label, aligned down). */
guint64 spm_qemu_dev_region_size(const SpmQemuMemDev *dev);

G_END_DECLS
