/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-device-rev.h: the revisions of QEMU's Soft Reserved memory device.
 *
 * QEMU 11.1 ships the device as "sp-mem"; the v8 patch series that never
 * reached a release called it "spm-memory".  They differ in the -device
 * driver, in what query-memory-devices answers, in the checks realize
 * makes (and their words), and in migration.  Every such fact lives in
 * one table (spm-device-rev.c), one row per revision; the argument
 * builder, the QEMU model, the audit's reader and the hook take them from
 * there.  Pure data, no I/O.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
    SPM_DEVICE_SP_MEM,          /* "sp-mem": QEMU 11.1 and later (the default) */
    SPM_DEVICE_SPM_MEMORY,      /* "spm-memory": the v8 patch series, legacy */
    SPM_DEVICE_LAST
} SpmDeviceRev;

/* Where realize checks the backend is not used by another device. */
typedef enum {
    SPM_DEVICE_BUSY_BEFORE_PLACEMENT,   /* v8: in realize, before the address is chosen */
    SPM_DEVICE_BUSY_AFTER_PLACEMENT,    /* 11.1: after memory_device_pre_plug() */
} SpmDeviceBusyCheck;

typedef struct {
    SpmDeviceRev rev;
    const char *driver;         /* -device driver; also the [qemu] device value */
    const char *summary;        /* for messages: "QEMU 11.1 and later" */
    const char *qmp_type;       /* query-memory-devices "type" */
    const char *qmp_addr_key;   /* its address member: "addr" or "memaddr" */
    /* QEMU itself lets a guest with the device migrate (v8: unmigratable vmstate) */
    gboolean migratable;
    /*
     * ...and the contents of the device's memory go with it.  Not for
     * QEMU 11.1.3's sp-mem (Debian sid, measured 2026-12-02): its memory
     * backend's RAM block is never registered for migration (`info
     * ramblock` shows it without a name, query-migrate's ram total leaves
     * it out), so a migration completes and the guest reads zeros where
     * its HBM was (test-migrate-libvirt.py writes and reads a pattern).
     */
    gboolean migrates_memory;

    /*
     * Realize, in QEMU's order.  A missing memdev: checked by the device
     * before placement with its own words (v8), or left to the generic
     * memory-device placement, which says "'memdev' property must be set"
     * once it found a device-memory region (11.1).
     */
    const char *memdev_missing;         /* NULL: the generic placement's check */
    SpmDeviceBusyCheck busy_check;
    char *(*busy_text)(const char *memdev);
    /* node >= the number of NUMA nodes, before placement; NULL: no check */
    char *(*node_range_text)(guint node, guint nb_numa_nodes);
    /* The node counted when there is no -numa at all (11.1 counts one). */
    guint min_numa_nodes;
    /* v8 only: an SPM node takes no -numa memdev RAM and no other memory device */
    char *(*node_has_ram_text)(guint node);
    char *(*node_taken_text)(guint node);
} SpmDeviceRevInfo;

/* The row of @rev; NULL outside the enum. */
const SpmDeviceRevInfo *spm_device_rev_info(SpmDeviceRev rev);

/* "sp-mem", "spm-memory"; NULL outside the enum. */
const char *spm_device_rev_to_string(SpmDeviceRev rev);

/* The revision whose driver is @name; FALSE when none is. */
gboolean spm_device_rev_from_string(const char *name, SpmDeviceRev *rev);

/* The revision whose query-memory-devices type is @type; FALSE when none is. */
gboolean spm_device_rev_from_qmp_type(const char *type, SpmDeviceRev *rev);

/*
 * Every revision for messages, the last joined by @conjunction ("or",
 * "nor"): "'sp-mem' (QEMU 11.1 and later) or 'spm-memory' (the v8 patch
 * series, legacy)".
 */
char *spm_device_rev_all_names(const char *conjunction);

G_END_DECLS
