/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fx-qemu.h: run the real qemu-system-x86_64 (TCG, -S) on a memory
 * configuration and read back what it did: `info mtree` (RAM split,
 * device-memory region), `info memory-devices`, or its exit message.
 * Tests only.
 */
#pragma once

#include <glib.h>

typedef struct {
    guint64 below;
    guint64 above_start;
    guint64 above;
    gboolean has_devmem;
    guint64 devmem_base;
    guint64 devmem_size;
    char *error;                /* QEMU's message without its prefixes; NULL = started */
    int exit_status;
    GPtrArray *devs;            /* GHashTable * of "key" -> "value", incl. "id" */
    char *output;               /* everything QEMU printed */
} FxQemuResult;

void fx_qemu_result_clear(FxQemuResult *r);

/* The QEMU binary ($SPM_TEST_QEMU or qemu-system-x86_64 in PATH), or NULL. */
char *fx_qemu_find(void);

/* Run @qemu with @args (NULL-terminated) plus the monitor options. */
void fx_qemu_run(const char *qemu, const char *const *args, FxQemuResult *r);

/* A numeric value of a device, fails the test when missing. */
guint64 fx_qemu_dev_u64(GHashTable *kv, const char *key);
