/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-layout-unit: the QEMU model by hand, for what the fixtures do not
 * cover (pc machine, RAM splits, slots, AMD relocation, phys-bits,
 * alignment of hugepage and 4 KiB backends, slots, nvdimm, virtio-mem).
 */
#include <string.h>

#include "spm-error.h"
#include "spm-qemu-layout.h"
#include "spm-intervals.h"

#define ROUND_UP_GIB(x) (((x) + SPM_GiB - 1) / SPM_GiB * SPM_GiB)

static SpmMachineConfig
q35(guint64 ram)
{
    SpmMachineConfig c = { 0 };

    c.kind = SPM_MACHINE_Q35;
    c.ram_size = ram;
    c.phys_bits = 40;
    c.acpi = TRUE;
    c.amd_1tb_hole = TRUE;
    c.gigabyte_align = TRUE;
    c.nb_numa_nodes = 4;
    c.numa_node_has_ram = 1;
    /* most cases here were written for the v8 checks; test_sp_mem_rules has 11.1's */
    c.spm_device = SPM_DEVICE_SPM_MEMORY;
    return c;
}

static void
check_split(SpmMachineKind kind, gboolean gb_align, guint64 max_below, guint64 ram,
            guint64 below, guint64 above)
{
    SpmMachineConfig c = q35(ram);
    SpmMachineLayout l;
    g_autoptr(GError) err = NULL;

    c.kind = kind;
    c.gigabyte_align = gb_align;
    c.max_ram_below_4g = max_below;
    g_assert_true(spm_qemu_machine_layout(&c, &l, &err));
    g_assert_no_error(err);
    g_assert_cmphex(l.below_4g, ==, below);
    g_assert_cmphex(l.above_4g, ==, above);
    g_assert_cmphex(l.above_4g_start, ==, 4 * SPM_GiB);
    g_assert_false(l.has_device_memory);
    /* no device memory: hole64 right after RAM above 4G */
    g_assert_cmphex(l.pci_hole64_start, ==, 4 * SPM_GiB + ROUND_UP_GIB(above));
}

static void
test_split_q35(void)
{
    check_split(SPM_MACHINE_Q35, TRUE, 0, 1 * SPM_GiB, 1 * SPM_GiB, 0);
    /* 2.75 GiB = 0xB0000000: the big split applies from there */
    check_split(SPM_MACHINE_Q35, TRUE, 0, 0xB0000000, 2 * SPM_GiB, 768 * SPM_MiB);
    check_split(SPM_MACHINE_Q35, TRUE, 0, 0xB0000000 - 2 * SPM_MiB, 0xB0000000 - 2 * SPM_MiB, 0);
    check_split(SPM_MACHINE_Q35, TRUE, 0, 3584 * SPM_MiB, 2 * SPM_GiB, 1536 * SPM_MiB);
    check_split(SPM_MACHINE_Q35, TRUE, 0, 6 * SPM_GiB, 2 * SPM_GiB, 4 * SPM_GiB);
    /* max-ram-below-4g clamps */
    check_split(SPM_MACHINE_Q35, TRUE, 1 * SPM_GiB, 3584 * SPM_MiB, 1 * SPM_GiB, 2560 * SPM_MiB);
    check_split(SPM_MACHINE_Q35, TRUE, 1 * SPM_GiB, 512 * SPM_MiB, 512 * SPM_MiB, 0);
}

static void
test_split_pc(void)
{
    check_split(SPM_MACHINE_I440FX, TRUE, 0, 1 * SPM_GiB, 1 * SPM_GiB, 0);
    check_split(SPM_MACHINE_I440FX, TRUE, 0, 0xB0000000, 0xB0000000, 0);
    /* 3.5 GiB reaches the 0xE0000000 default: gigabyte-aligned split at 3 GiB */
    check_split(SPM_MACHINE_I440FX, TRUE, 0, 3584 * SPM_MiB, 3 * SPM_GiB, 512 * SPM_MiB);
    check_split(SPM_MACHINE_I440FX, TRUE, 0, 6 * SPM_GiB, 3 * SPM_GiB, 3 * SPM_GiB);
    /* without gigabyte alignment (very old machine types) 3.5 GiB stay below */
    check_split(SPM_MACHINE_I440FX, FALSE, 0, 6 * SPM_GiB, 3584 * SPM_MiB, 2560 * SPM_MiB);
    check_split(SPM_MACHINE_I440FX, TRUE, 2 * SPM_GiB, 3 * SPM_GiB, 2 * SPM_GiB, 1 * SPM_GiB);
}

static void
test_device_memory_size(void)
{
    SpmMachineConfig c = q35(1 * SPM_GiB);
    SpmMachineLayout l;
    g_autoptr(GError) err = NULL;

    c.maxmem = 16 * SPM_GiB;
    c.slots = 4;
    g_assert_true(spm_qemu_machine_layout(&c, &l, &err));
    g_assert_true(l.has_device_memory);
    g_assert_cmphex(l.devmem_base, ==, 0x100000000);
    g_assert_cmphex(l.devmem_size, ==, 0x4c0000000);
    g_assert_cmphex(l.pci_hole64_start, ==, 0x5c0000000);
    g_assert_cmphex(l.pci_hole64_size, ==, 32 * SPM_GiB);
    g_assert_cmphex(l.max_used_gpa, ==, 0x5c0000000 + 32 * SPM_GiB - 1);

    /* pc: 2 GiB hole64, base after RAM above 4G rounded up to 1 GiB */
    c = q35(3584 * SPM_MiB + 4 * SPM_MiB);
    c.kind = SPM_MACHINE_I440FX;
    c.maxmem = 8 * SPM_GiB;
    c.slots = 1;
    g_assert_true(spm_qemu_machine_layout(&c, &l, &err));
    g_assert_cmphex(l.above_4g, ==, 516 * SPM_MiB);
    g_assert_cmphex(l.devmem_base, ==, 5 * SPM_GiB);
    g_assert_cmphex(l.devmem_size, ==, 8 * SPM_GiB - c.ram_size + SPM_GiB);
    g_assert_cmphex(l.pci_hole64_size, ==, 2 * SPM_GiB);
    g_assert_cmphex(l.pci_hole64_start, ==, 11 * SPM_GiB);

    /* explicit hole64 */
    c.pci_hole64_size = 64 * SPM_GiB;
    g_assert_true(spm_qemu_machine_layout(&c, &l, &err));
    g_assert_cmphex(l.max_used_gpa, ==, 75 * SPM_GiB - 1);
}

static void
test_slots_and_maxmem_errors(void)
{
    SpmMachineConfig c = q35(1 * SPM_GiB);
    SpmMachineLayout l;
    g_autoptr(GError) err = NULL;

    c.maxmem = 300 * SPM_GiB;
    c.slots = 256;
    c.phys_bits = 48;
    g_assert_true(spm_qemu_machine_layout(&c, &l, &err));
    g_assert_cmphex(l.devmem_size, ==, 299 * SPM_GiB + 256 * SPM_GiB);

    c.slots = 257;
    g_assert_false(spm_qemu_machine_layout(&c, &l, &err));
    g_assert_error(err, SPM_ERROR, SPM_ERROR_INVALID);
    g_assert_cmpstr(err->message, ==, "unsupported amount of memory slots: 257");
    g_clear_error(&err);

    c.slots = 2;
    c.maxmem = 512 * SPM_MiB;
    g_assert_false(spm_qemu_machine_layout(&c, &l, &err));
    g_assert_cmpstr(err->message, ==, "invalid value of maxmem: maximum memory size (0x20000000) "
                    "must be at least the initial memory size (0x40000000)");
    g_clear_error(&err);

    c.maxmem = 2 * SPM_GiB + 512;
    g_assert_false(spm_qemu_machine_layout(&c, &l, &err));
    g_assert_cmpstr(err->message, ==, "maximum memory size must by aligned to multiple of 4096 bytes");
    g_clear_error(&err);

    /* maxmem == ram: no device memory, no error */
    c.maxmem = 1 * SPM_GiB;
    g_assert_true(spm_qemu_machine_layout(&c, &l, &err));
    g_assert_false(l.has_device_memory);
}

static SpmMachineConfig
epyc(void)
{
    SpmMachineConfig c = q35(2 * SPM_GiB);

    c.cpu_amd = TRUE;
    c.phys_bits = 48;
    c.slots = 4;
    c.maxmem = 1100 * SPM_GiB;
    return c;
}

static void
test_amd_1tb(void)
{
    SpmMachineConfig c = epyc();
    SpmMachineLayout l;
    g_autoptr(GError) err = NULL;

    /* -cpu EPYC,phys-bits=48 -m 2G,slots=4,maxmem=1100G (observed) */
    g_assert_true(spm_qemu_machine_layout(&c, &l, &err));
    g_assert_no_error(err);
    g_assert_true(l.relocated_1tb);
    g_assert_cmphex(l.above_4g_start, ==, SPM_AMD_ABOVE_1TB);
    g_assert_cmphex(l.above_4g, ==, 0);
    g_assert_cmphex(l.devmem_base, ==, 0x10000000000);
    g_assert_cmphex(l.max_used_gpa, ==, 0x21b7fffffff);

    /* machine types before 7.1 keep it at 4 GiB */
    c.amd_1tb_hole = FALSE;
    g_assert_true(spm_qemu_machine_layout(&c, &l, &err));
    g_assert_false(l.relocated_1tb);
    g_assert_cmphex(l.devmem_base, ==, 0x100000000);

    /* Intel vCPUs too */
    c = epyc();
    c.cpu_amd = FALSE;
    g_assert_true(spm_qemu_machine_layout(&c, &l, &err));
    g_assert_cmphex(l.devmem_base, ==, 0x100000000);

    /* just below the HT hole: stays; one more GiB: moves */
    c = epyc();
    c.maxmem = 2 * SPM_GiB + (0xFD00000000 - 4 * SPM_GiB - 32 * SPM_GiB) - 4 * SPM_GiB;
    g_assert_true(spm_qemu_machine_layout(&c, &l, &err));
    g_assert_cmphex(l.max_used_gpa, ==, 0xFD00000000 - 1);
    g_assert_false(l.relocated_1tb);
    c.maxmem += SPM_GiB;
    g_assert_true(spm_qemu_machine_layout(&c, &l, &err));
    g_assert_true(l.relocated_1tb);
    g_assert_cmphex(l.devmem_base, ==, SPM_TiB);
}

static void
test_phys_bits_error(void)
{
    SpmMachineConfig c = epyc();
    SpmMachineLayout l;
    g_autoptr(GError) err = NULL;

    c.phys_bits = 40;
    g_assert_false(spm_qemu_machine_layout(&c, &l, &err));
    g_assert_error(err, SPM_ERROR, SPM_ERROR_INVALID);
    g_assert_cmpstr(err->message, ==,
                    "Address space limit 0xffffffffff < 0x21b7fffffff phys-bits too low (40)");
    g_clear_error(&err);

    /* phys_bits 0 = QEMU's default 40 */
    c.phys_bits = 0;
    g_assert_false(spm_qemu_machine_layout(&c, &l, &err));
    g_assert_true(g_str_has_suffix(err->message, "phys-bits too low (40)"));
    g_clear_error(&err);

    c.phys_bits = 42;
    g_assert_true(spm_qemu_machine_layout(&c, &l, &err));
    g_assert_cmpuint(l.phys_bits, ==, 42);
}

static SpmQemuMemDev
dev(SpmQemuDevKind kind, const char *id, const char *memdev, guint64 size, guint64 align, guint node)
{
    SpmQemuMemDev d = { 0 };

    d.kind = kind;
    d.id = id;
    d.memdev = memdev;
    d.backend_size = size;
    d.backend_align = align;
    d.node = node;
    d.slot = -1;
    return d;
}

static SpmMachineConfig
small(SpmMachineLayout *l)
{
    SpmMachineConfig c = q35(1 * SPM_GiB);
    g_autoptr(GError) err = NULL;

    c.maxmem = 16 * SPM_GiB;
    c.slots = 4;
    g_assert_true(spm_qemu_machine_layout(&c, l, &err));
    return c;
}

static void
test_alignment_backends(void)
{
    SpmMachineLayout l;
    SpmMachineConfig c = small(&l);
    g_autoptr(GError) err = NULL;
    SpmQemuMemDev d[4];

    /* 4 KiB (memfd) first, then a 1 GiB hugetlb one: aligned up past it */
    d[0] = dev(SPM_QEMU_DEV_SPM, "a", "ma", 12 * SPM_KiB, 4 * SPM_KiB, 1);
    d[1] = dev(SPM_QEMU_DEV_SPM, "b", "mb", 1 * SPM_GiB, 1 * SPM_GiB, 2);
    d[2] = dev(SPM_QEMU_DEV_SPM, "c", "mc", 8 * SPM_KiB, 4 * SPM_KiB, 3);
    d[3] = dev(SPM_QEMU_DEV_PC_DIMM, "d", "md", 2 * SPM_MiB, 2 * SPM_MiB, 0);
    g_assert_true(spm_qemu_place(&c, &l, d, 4, &err));
    g_assert_no_error(err);
    g_assert_cmphex(d[0].placed_addr, ==, 0x100000000);
    g_assert_cmphex(d[1].placed_addr, ==, 0x140000000);
    /* first fit: the 4 KiB one goes into the gap after "a" */
    g_assert_cmphex(d[2].placed_addr, ==, 0x100003000);
    /* 2 MiB aligned: 0x100005000 rounds up to 0x100200000 */
    g_assert_cmphex(d[3].placed_addr, ==, 0x100200000);
    g_assert_cmpint(d[3].placed_slot, ==, 0);
    g_assert_cmpint(d[0].placed_slot, ==, -1);

    /* hugepage size multiple */
    d[0] = dev(SPM_QEMU_DEV_SPM, "h", "mh", 1536 * SPM_MiB, 1 * SPM_GiB, 1);
    g_assert_false(spm_qemu_place(&c, &l, d, 1, &err));
    g_assert_cmpstr(err->message, ==, "-device h: backend memory size must be multiple of 0x40000000");
    g_clear_error(&err);

    /* explicit address on 2 MiB pages but not on 1 GiB pages */
    d[0] = dev(SPM_QEMU_DEV_SPM, "h", "mh", 1 * SPM_GiB, 1 * SPM_GiB, 1);
    d[0].addr = 0x100200000;
    g_assert_false(spm_qemu_place(&c, &l, d, 1, &err));
    g_assert_cmpstr(err->message, ==, "-device h: address must be aligned to 0x40000000 bytes");
    g_clear_error(&err);
}

static void
test_dimm_slots_acpi(void)
{
    SpmMachineLayout l;
    SpmMachineConfig c = small(&l);
    g_autoptr(GError) err = NULL;
    SpmQemuMemDev d[3];

    /* key=value dimm takes slot 0 first; libvirt's JSON slot=0 is then busy (observed) */
    d[0] = dev(SPM_QEMU_DEV_PC_DIMM, "dimm0", "m0", 512 * SPM_MiB, 2 * SPM_MiB, 0);
    d[0].json = TRUE;
    d[0].slot = 0;
    d[1] = dev(SPM_QEMU_DEV_PC_DIMM, "cl", "m1", 512 * SPM_MiB, 2 * SPM_MiB, 0);
    g_assert_false(spm_qemu_place(&c, &l, d, 2, &err));
    g_assert_cmpstr(err->message, ==, "-device dimm0: slot 0 is busy");
    g_assert_cmpuint(d[1].order, ==, 0);
    g_assert_cmpuint(d[0].order, ==, 1);
    g_assert_cmpint(d[1].placed_slot, ==, 0);
    g_clear_error(&err);

    /* auto slots: first free */
    d[0].slot = 2;
    d[0].json = FALSE;
    d[2] = dev(SPM_QEMU_DEV_NVDIMM, "nv", "m2", 256 * SPM_MiB + 128 * SPM_KiB, 2 * SPM_MiB, 1);
    d[2].label_size = 128 * SPM_KiB;
    g_assert_true(spm_qemu_place(&c, &l, d, 3, &err));
    g_assert_cmpint(d[0].placed_slot, ==, 2);
    g_assert_cmpint(d[1].placed_slot, ==, 0);
    g_assert_cmpint(d[2].placed_slot, ==, 1);
    g_assert_cmphex(spm_qemu_dev_region_size(&d[2]), ==, 256 * SPM_MiB);
    g_assert_cmphex(d[2].placed_addr, ==, 0x100000000 + SPM_GiB);

    d[0].slot = 4;
    g_assert_false(spm_qemu_place(&c, &l, d, 1, &err));
    g_assert_cmpstr(err->message, ==, "-device dimm0: invalid slot number 4, valid range is [0-3]");
    g_clear_error(&err);

    c.acpi = FALSE;
    d[0].slot = -1;
    g_assert_false(spm_qemu_place(&c, &l, d, 1, &err));
    g_assert_cmpstr(err->message, ==, "-device dimm0: memory hotplug is not enabled: "
                    "missing acpi device or acpi disabled");
    g_clear_error(&err);

    /* the v8 spm-memory does not go through the PC plug handler: no ACPI check */
    d[0] = dev(SPM_QEMU_DEV_SPM, "s", "ms", 1 * SPM_GiB, 2 * SPM_MiB, 1);
    g_assert_true(spm_qemu_place(&c, &l, d, 1, &err));

    /* a dimm on a node an SPM device wants */
    c.acpi = TRUE;
    d[0] = dev(SPM_QEMU_DEV_PC_DIMM, NULL, "m0", 512 * SPM_MiB, 2 * SPM_MiB, 2);
    d[0].json = TRUE;
    d[1] = dev(SPM_QEMU_DEV_SPM, "s", "ms", 1 * SPM_GiB, 2 * SPM_MiB, 2);
    d[1].addr = 0x100000000;
    g_assert_true(spm_qemu_place(&c, &l, d, 2, &err));
    g_assert_cmphex(d[0].placed_addr, ==, 0x140000000);
    /* ...but with the dimm first, the SPM check fires */
    d[0].json = FALSE;
    d[1].json = TRUE;
    g_assert_false(spm_qemu_place(&c, &l, d, 2, &err));
    g_assert_cmpstr(err->message, ==, "-device s: spm-memory: NUMA node 2 already has another "
                    "memory device plugged; SPM nodes must be SPM-only");
    g_clear_error(&err);

    /* unnamed conflict */
    d[1].addr = 0x100000000 + 256 * SPM_MiB;
    d[1].node = 3;
    g_assert_false(spm_qemu_place(&c, &l, d, 2, &err));
    g_assert_cmpstr(err->message, ==, "-device s: address range conflicts with memory device id='(unnamed)'");
    g_clear_error(&err);

    /* busy backend for a dimm: realize's own words */
    d[0] = dev(SPM_QEMU_DEV_PC_DIMM, "x", "m0", 512 * SPM_MiB, 2 * SPM_MiB, 0);
    d[1] = dev(SPM_QEMU_DEV_PC_DIMM, "y", "m0", 512 * SPM_MiB, 2 * SPM_MiB, 0);
    g_assert_false(spm_qemu_place(&c, &l, d, 2, &err));
    g_assert_cmpstr(err->message, ==, "-device y: can't use already busy memdev: m0");
    g_clear_error(&err);
}

static void
test_fragmented_and_virtio_mem(void)
{
    SpmMachineLayout l;
    SpmMachineConfig c = q35(1 * SPM_GiB);
    g_autoptr(GError) err = NULL;
    SpmQemuMemDev d[3];

    c.maxmem = 3 * SPM_GiB;
    c.slots = 0;
    g_assert_true(spm_qemu_machine_layout(&c, &l, &err));
    g_assert_cmphex(l.devmem_size, ==, 2 * SPM_GiB);

    /* 512 MiB at +768 MiB leaves 768 + 768 MiB: a 1 GiB device has no place */
    d[0] = dev(SPM_QEMU_DEV_SPM, "a", "ma", 512 * SPM_MiB, 2 * SPM_MiB, 1);
    d[0].addr = 0x100000000 + 768 * SPM_MiB;
    d[1] = dev(SPM_QEMU_DEV_VIRTIO_MEM, "vm", "mv", 1 * SPM_GiB, 2 * SPM_MiB, 0);
    d[1].block_size = 128 * SPM_MiB;
    g_assert_false(spm_qemu_place(&c, &l, d, 2, &err));
    g_assert_cmpstr(err->message, ==, "-device vm: could not find position in guest address "
                    "space for memory device - memory fragmented due to alignments");
    g_clear_error(&err);

    /* virtio-mem aligns to its block size */
    d[0] = dev(SPM_QEMU_DEV_SPM, "a", "ma", 2 * SPM_MiB, 2 * SPM_MiB, 1);
    d[1].backend_size = 256 * SPM_MiB;
    g_assert_true(spm_qemu_place(&c, &l, d, 2, &err));
    g_assert_cmphex(d[1].placed_addr, ==, 0x100000000 + 128 * SPM_MiB);

    /* the running total, not the address, limits */
    d[0] = dev(SPM_QEMU_DEV_SPM, "a", "ma", 1 * SPM_GiB, 2 * SPM_MiB, 1);
    d[1] = dev(SPM_QEMU_DEV_SPM, "b", "mb", 1 * SPM_GiB, 2 * SPM_MiB, 2);
    d[2] = dev(SPM_QEMU_DEV_SPM, "c", "mc", 2 * SPM_MiB, 2 * SPM_MiB, 3);
    g_assert_false(spm_qemu_place(&c, &l, d, 3, &err));
    g_assert_cmpstr(err->message, ==, "-device c: not enough space, currently 0x80000000 in use "
                    "of total space for memory devices 0x80000000");
    /* devices before the failing one keep their results */
    g_assert_cmphex(d[1].placed_addr, ==, 0x140000000);
}

/* QEMU's first fit written the slow obvious way, over the devices placed before @k */
static guint64
naive_first_fit(const SpmMachineLayout *l, const SpmQemuMemDev *devs, guint n, guint k)
{
    const SpmQemuMemDev *d = &devs[k];
    guint64 align = d->backend_align;
    guint64 size = spm_qemu_dev_region_size(d);
    guint64 start = (l->devmem_base + align - 1) / align * align;
    gboolean moved = TRUE;

    while (moved) {
        moved = FALSE;
        for (guint i = 0; i < n; i++) {
            guint64 s, e;

            if (devs[i].order >= d->order)
                continue;
            s = devs[i].placed_addr;
            e = s + spm_qemu_dev_region_size(&devs[i]);
            if (s < start + size && start < e) {
                start = (e + align - 1) / align * align;
                moved = TRUE;
            }
        }
    }
    return start;
}

static void
test_first_fit_random(void)
{
    SpmMachineLayout l;
    SpmMachineConfig c = q35(1 * SPM_GiB);
    g_autoptr(GError) err = NULL;
    const guint n = 300;
    g_autofree SpmQemuMemDev *d = g_new0(SpmQemuMemDev, n);
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    static const guint64 aligns[] = { 4 * SPM_KiB, 2 * SPM_MiB, SPM_GiB };
    guint checked = 0;

    c.maxmem = 4 * SPM_TiB;
    c.slots = 0;
    c.phys_bits = 46;
    c.spm_device = SPM_DEVICE_SP_MEM;   /* no node rules: many SPM devices on node 1 */
    g_assert_true(spm_qemu_machine_layout(&c, &l, &err));

    for (guint round = 0; round < 20; round++) {
        guint slots8g[100];

        /* 20 fixed devices first (key=value, realized first) on distinct 8 GiB slots */
        for (guint i = 0; i < 100; i++)
            slots8g[i] = i;
        for (guint i = 0; i < 20; i++) {
            guint j = g_test_rand_int_range(i, 100), t = slots8g[i];

            slots8g[i] = slots8g[j];
            slots8g[j] = t;
        }
        for (guint i = 0; i < n; i++) {
            guint64 align = aligns[g_test_rand_int_range(0, 3)];
            char *id = g_strdup_printf("d%u-%u", round, i);

            g_ptr_array_add(names, id);
            d[i] = dev(SPM_QEMU_DEV_SPM, id, id, align * g_test_rand_int_range(1, 5), align, 1);
            if (i < 20)
                d[i].addr = l.devmem_base + 8 * SPM_GiB * slots8g[i];
            else
                d[i].json = g_test_rand_bit();   /* mix the realize order */
        }
        g_assert_true(spm_qemu_place(&c, &l, d, n, &err));
        g_assert_no_error(err);
        for (guint k = 0; k < n; k++) {
            if (d[k].addr)
                continue;
            g_assert_cmphex(d[k].placed_addr, ==, naive_first_fit(&l, d, n, k));
            checked++;
        }
    }
    g_test_message("%u first-fit placements checked", checked);
    g_assert_cmpuint(checked, ==, 20 * 280);
}

static void
test_numa_check(void)
{
    g_autoptr(GError) err = NULL;
    guint ok[] = { 0, 2, 1 };
    guint gap[] = { 0, 2 };
    guint dup[] = { 0, 1, 1 };
    guint big[] = { 128 };
    guint nb = 0;

    g_assert_true(spm_qemu_numa_check(ok, 3, &nb, &err));
    g_assert_cmpuint(nb, ==, 3);
    g_assert_true(spm_qemu_numa_check(NULL, 0, &nb, &err));
    g_assert_cmpuint(nb, ==, 0);
    g_assert_false(spm_qemu_numa_check(gap, 2, &nb, &err));
    g_assert_cmpstr(err->message, ==, "numa: Node ID missing: 1");
    g_clear_error(&err);
    g_assert_false(spm_qemu_numa_check(dup, 3, &nb, &err));
    g_assert_cmpstr(err->message, ==, "Duplicate NUMA nodeid: 1");
    g_clear_error(&err);
    g_assert_false(spm_qemu_numa_check(big, 1, &nb, &err));
    g_assert_cmpstr(err->message, ==, "Max number of NUMA nodes reached: 128");
}

static void
test_intervals(void)
{
    g_autoptr(SpmIntervals) set = spm_intervals_new();
    const SpmInterval *iv;
    int owner[3];

    g_assert_null(spm_intervals_first_reaching(set, 0));
    spm_intervals_add(set, 100, 199, &owner[1]);
    spm_intervals_add(set, 0, 9, &owner[0]);
    spm_intervals_add(set, 1000, G_MAXUINT64, &owner[2]);
    g_assert_cmpuint(spm_intervals_count(set), ==, 3);

    g_assert_true(spm_intervals_first_reaching(set, 0)->owner == &owner[0]);
    g_assert_true(spm_intervals_first_reaching(set, 9)->owner == &owner[0]);
    g_assert_true(spm_intervals_first_reaching(set, 10)->owner == &owner[1]);
    g_assert_true(spm_intervals_first_reaching(set, 150)->owner == &owner[1]);
    g_assert_true(spm_intervals_first_reaching(set, 200)->owner == &owner[2]);
    g_assert_true(spm_intervals_first_reaching(set, G_MAXUINT64)->owner == &owner[2]);

    iv = spm_intervals_first_reaching(set, 0);
    iv = spm_intervals_next(set, iv);
    g_assert_cmpuint(iv->start, ==, 100);
    iv = spm_intervals_next(set, iv);
    g_assert_cmphex(iv->last, ==, G_MAXUINT64);
    g_assert_null(spm_intervals_next(set, iv));
}

static void
test_driver_names(void)
{
    SpmDeviceRev rev = SPM_DEVICE_LAST;
    g_autofree char *names = spm_device_rev_all_names("nor");

    g_assert_cmpstr(spm_qemu_dev_kind_driver(SPM_QEMU_DEV_SPM, SPM_DEVICE_SP_MEM), ==, "sp-mem");
    g_assert_cmpstr(spm_qemu_dev_kind_driver(SPM_QEMU_DEV_SPM, SPM_DEVICE_SPM_MEMORY), ==,
                    "spm-memory");
    g_assert_cmpstr(spm_qemu_dev_kind_driver(SPM_QEMU_DEV_PC_DIMM, SPM_DEVICE_SP_MEM), ==, "pc-dimm");
    g_assert_cmpstr(spm_qemu_dev_kind_driver(SPM_QEMU_DEV_NVDIMM, SPM_DEVICE_SP_MEM), ==, "nvdimm");
    g_assert_cmpstr(spm_qemu_dev_kind_driver(SPM_QEMU_DEV_VIRTIO_MEM, SPM_DEVICE_SP_MEM), ==,
                    "virtio-mem-pci");
    g_assert_cmpstr(spm_qemu_dev_kind_driver(SPM_QEMU_DEV_VIRTIO_PMEM, SPM_DEVICE_SP_MEM), ==,
                    "virtio-pmem-pci");

    /* the revision table */
    g_assert_cmpstr(spm_device_rev_to_string(SPM_DEVICE_SP_MEM), ==, "sp-mem");
    g_assert_cmpstr(spm_device_rev_to_string(SPM_DEVICE_SPM_MEMORY), ==, "spm-memory");
    g_assert_null(spm_device_rev_to_string(SPM_DEVICE_LAST));
    g_assert_true(spm_device_rev_from_string("spm-memory", &rev));
    g_assert_cmpint(rev, ==, SPM_DEVICE_SPM_MEMORY);
    g_assert_false(spm_device_rev_from_string("sp_mem", &rev));
    g_assert_true(spm_device_rev_from_qmp_type("sp-mem", &rev));
    g_assert_cmpint(rev, ==, SPM_DEVICE_SP_MEM);
    g_assert_cmpstr(spm_device_rev_info(SPM_DEVICE_SP_MEM)->qmp_addr_key, ==, "addr");
    g_assert_cmpstr(spm_device_rev_info(SPM_DEVICE_SPM_MEMORY)->qmp_addr_key, ==, "memaddr");
    g_assert_true(spm_device_rev_info(SPM_DEVICE_SP_MEM)->migratable);
    g_assert_false(spm_device_rev_info(SPM_DEVICE_SPM_MEMORY)->migratable);
    g_assert_cmpstr(names, ==, "'sp-mem' (QEMU 11.1 and later) nor 'spm-memory' "
                    "(the v8 patch series, legacy)");
}

/* QEMU 11.1.3's sp-mem, each rule as measured on it. */
static void
test_sp_mem_rules(void)
{
    SpmMachineLayout l;
    SpmMachineConfig c = small(&l);
    g_autoptr(GError) err = NULL;
    SpmQemuMemDev d[3];

    c.spm_device = SPM_DEVICE_SP_MEM;
    c.nb_numa_nodes = 2;
    c.numa_node_has_ram = 1;

    /* two on one node, an sp-mem beside a DIMM, an sp-mem on a node with RAM: accepted */
    d[0] = dev(SPM_QEMU_DEV_SPM, "a", "ma", 1 * SPM_GiB, 2 * SPM_MiB, 1);
    d[1] = dev(SPM_QEMU_DEV_SPM, "b", "mb", 1 * SPM_GiB, 2 * SPM_MiB, 1);
    d[2] = dev(SPM_QEMU_DEV_PC_DIMM, "c", "mc", 512 * SPM_MiB, 2 * SPM_MiB, 1);
    g_assert_true(spm_qemu_place(&c, &l, d, 3, &err));
    g_assert_no_error(err);
    g_assert_cmphex(d[0].placed_addr, ==, 0x100000000);
    g_assert_cmphex(d[1].placed_addr, ==, 0x140000000);
    d[0].node = 0;
    g_assert_true(spm_qemu_place(&c, &l, d, 1, &err));

    /* node out of range, before anything else */
    d[0] = dev(SPM_QEMU_DEV_SPM, "d", NULL, 1 * SPM_GiB, 2 * SPM_MiB, 5);
    g_assert_false(spm_qemu_place(&c, &l, d, 1, &err));
    g_assert_cmpstr(err->message, ==, "-device d: 'node' property value 5 exceeds the number "
                    "of NUMA nodes (2)");
    g_clear_error(&err);
    /* without -numa QEMU counts one node */
    c.nb_numa_nodes = 0;
    d[0].node = 1;
    g_assert_false(spm_qemu_place(&c, &l, d, 1, &err));
    g_assert_cmpstr(err->message, ==, "-device d: 'node' property value 1 exceeds the number "
                    "of NUMA nodes (1)");
    g_clear_error(&err);
    c.nb_numa_nodes = 2;

    /* no memdev: the generic placement's words, once there is a region */
    d[0].node = 1;
    g_assert_false(spm_qemu_place(&c, &l, d, 1, &err));
    g_assert_cmpstr(err->message, ==, "-device d: 'memdev' property must be set");
    g_clear_error(&err);

    /* a busy backend is seen after placement: an unaligned address wins */
    d[0] = dev(SPM_QEMU_DEV_SPM, "a", "ma", 1 * SPM_GiB, 2 * SPM_MiB, 1);
    d[1] = dev(SPM_QEMU_DEV_SPM, "b", "ma", 1 * SPM_GiB, 2 * SPM_MiB, 1);
    d[1].addr = 0x200001000;
    g_assert_false(spm_qemu_place(&c, &l, d, 2, &err));
    g_assert_cmpstr(err->message, ==, "-device b: address must be aligned to 0x200000 bytes");
    g_clear_error(&err);
    d[1].addr = 0;
    g_assert_false(spm_qemu_place(&c, &l, d, 2, &err));
    g_assert_cmpstr(err->message, ==, "-device b: memory backend 'ma' is already in use");
    g_clear_error(&err);

    /* an unnamed one is named by its driver, sp-mem */
    d[0].id = NULL;
    d[0].node = 7;
    g_assert_false(spm_qemu_place(&c, &l, d, 1, &err));
    g_assert_cmpstr(err->message, ==, "-device sp-mem: 'node' property value 7 exceeds the "
                    "number of NUMA nodes (2)");
    g_clear_error(&err);

    /* no ACPI check */
    c.acpi = FALSE;
    d[0] = dev(SPM_QEMU_DEV_SPM, "a", "ma", 1 * SPM_GiB, 2 * SPM_MiB, 1);
    g_assert_true(spm_qemu_place(&c, &l, d, 1, &err));

    /* the same two on one node under the v8 rules */
    c.spm_device = SPM_DEVICE_SPM_MEMORY;
    d[1] = dev(SPM_QEMU_DEV_SPM, "b", "mb", 1 * SPM_GiB, 2 * SPM_MiB, 1);
    g_assert_false(spm_qemu_place(&c, &l, d, 2, &err));
    g_assert_cmpstr(err->message, ==, "-device b: spm-memory: NUMA node 1 already has another "
                    "memory device plugged; SPM nodes must be SPM-only");
    g_clear_error(&err);
    d[0].memdev = NULL;
    g_assert_false(spm_qemu_place(&c, &l, d, 1, &err));
    g_assert_cmpstr(err->message, ==, "-device a: 'memdev' property is required");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/layout/split/q35", test_split_q35);
    g_test_add_func("/layout/split/pc", test_split_pc);
    g_test_add_func("/layout/devmem/size", test_device_memory_size);
    g_test_add_func("/layout/devmem/slots-maxmem-errors", test_slots_and_maxmem_errors);
    g_test_add_func("/layout/amd/1tb-relocation", test_amd_1tb);
    g_test_add_func("/layout/phys-bits/error", test_phys_bits_error);
    g_test_add_func("/layout/place/alignment", test_alignment_backends);
    g_test_add_func("/layout/place/dimm-slots-acpi", test_dimm_slots_acpi);
    g_test_add_func("/layout/place/fragmented-virtio-mem", test_fragmented_and_virtio_mem);
    g_test_add_func("/layout/place/first-fit-random", test_first_fit_random);
    g_test_add_func("/layout/numa/check", test_numa_check);
    g_test_add_func("/layout/drivers", test_driver_names);
    g_test_add_func("/layout/place/sp-mem-rules", test_sp_mem_rules);
    g_test_add_func("/layout/intervals", test_intervals);
    return g_test_run();
}
