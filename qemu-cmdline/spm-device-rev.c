/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-device-rev.c: the one table of the device revisions.
 *
 * The texts are QEMU's, word for word (measured: the v8 build of QEMU
 * 10.2 and Debian's QEMU 11.1.3), because users search for them.  Each
 * formatted text is a small function, so the compiler checks its format.
 */
#include "spm-device-rev.h"

#include <string.h>

static char *
spm_busy_text(const char *memdev)
{
    return g_strdup_printf("memory backend '%s' is already in use", memdev);
}

static char *
spm_sp_mem_node_range(guint node, guint nb)
{
    return g_strdup_printf("'node' property value %u exceeds the number of NUMA nodes (%u)",
                           node, nb);
}

static char *
spm_v8_node_range(guint node, guint nb)
{
    return g_strdup_printf("spm-memory: node %u out of range (numa_state has %u nodes)",
                           node, nb);
}

static char *
spm_v8_node_has_ram(guint node)
{
    return g_strdup_printf("spm-memory: NUMA node %u already has memory attached via "
                           "-numa node,memdev=; SPM nodes must be SPM-only", node);
}

static char *
spm_v8_node_taken(guint node)
{
    return g_strdup_printf("spm-memory: NUMA node %u already has another memory device "
                           "plugged; SPM nodes must be SPM-only", node);
}

static const SpmDeviceRevInfo spm_device_revs[SPM_DEVICE_LAST] = {
    [SPM_DEVICE_SP_MEM] = {
        .rev = SPM_DEVICE_SP_MEM,
        .driver = "sp-mem",
        .summary = "QEMU 11.1 and later",
        .qmp_type = "sp-mem",
        .qmp_addr_key = "addr",
        .migratable = TRUE,
        .migrates_memory = FALSE,
        .memdev_missing = NULL,
        .busy_check = SPM_DEVICE_BUSY_AFTER_PLACEMENT,
        .busy_text = spm_busy_text,
        .node_range_text = spm_sp_mem_node_range,
        .min_numa_nodes = 1,
        .node_has_ram_text = NULL,
        .node_taken_text = NULL,
    },
    [SPM_DEVICE_SPM_MEMORY] = {
        .rev = SPM_DEVICE_SPM_MEMORY,
        .driver = "spm-memory",
        .summary = "the v8 patch series, legacy",
        .qmp_type = "spm-memory",
        .qmp_addr_key = "memaddr",
        .migratable = FALSE,
        .migrates_memory = FALSE,
        .memdev_missing = "'memdev' property is required",
        .busy_check = SPM_DEVICE_BUSY_BEFORE_PLACEMENT,
        .busy_text = spm_busy_text,
        .node_range_text = spm_v8_node_range,
        .min_numa_nodes = 0,
        .node_has_ram_text = spm_v8_node_has_ram,
        .node_taken_text = spm_v8_node_taken,
    },
};

const SpmDeviceRevInfo *
spm_device_rev_info(SpmDeviceRev rev)
{
    switch (rev) {
    case SPM_DEVICE_SP_MEM:
    case SPM_DEVICE_SPM_MEMORY:
        return &spm_device_revs[rev];
    case SPM_DEVICE_LAST:
        break;
    }
    return NULL;
}

const char *
spm_device_rev_to_string(SpmDeviceRev rev)
{
    const SpmDeviceRevInfo *info = spm_device_rev_info(rev);

    return info ? info->driver : NULL;
}

gboolean
spm_device_rev_from_string(const char *name, SpmDeviceRev *rev)
{
    for (guint i = 0; name && i < SPM_DEVICE_LAST; i++) {
        if (g_str_equal(name, spm_device_revs[i].driver)) {
            *rev = spm_device_revs[i].rev;
            return TRUE;
        }
    }
    return FALSE;
}

gboolean
spm_device_rev_from_qmp_type(const char *type, SpmDeviceRev *rev)
{
    for (guint i = 0; type && i < SPM_DEVICE_LAST; i++) {
        if (g_str_equal(type, spm_device_revs[i].qmp_type)) {
            *rev = spm_device_revs[i].rev;
            return TRUE;
        }
    }
    return FALSE;
}

char *
spm_device_rev_all_names(const char *conjunction)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; i < SPM_DEVICE_LAST; i++) {
        if (i > 0 && i + 1 == SPM_DEVICE_LAST)
            g_string_append_printf(s, " %s ", conjunction);
        else if (i > 0)
            g_string_append(s, ", ");
        g_string_append_printf(s, "'%s' (%s)", spm_device_revs[i].driver,
                               spm_device_revs[i].summary);
    }
    return g_string_free(s, FALSE);
}
