/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fx-cmdline.h: a small parser for QEMU command lines as the fixtures and
 * the real-QEMU tests write them (one word per argument, JSON -device
 * without spaces), turning them into the QEMU model's inputs.
 */
#pragma once

#include <glib.h>
#include "spm-qemu-layout.h"

typedef struct {
    char *id;
    guint64 size;
    guint64 align;
} FxBackend;

typedef struct {
    SpmMachineConfig cfg;
    GPtrArray *backends;        /* FxBackend * */
    GArray *node_ids;           /* guint */
    GArray *devs;               /* SpmQemuMemDev */
    GStringChunk *strings;
} FxCmdline;

void fx_cmdline_free(FxCmdline *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(FxCmdline, fx_cmdline_free)

/* Parse @text (modified: stripped in place). */
FxCmdline *fx_parse(char *text);

/* NUMA check, machine layout, placement: as QEMU goes. */
gboolean fx_run(FxCmdline *c, SpmMachineLayout *layout, GError **error);

/* The device with @id, or NULL. */
const SpmQemuMemDev *fx_find_dev(const FxCmdline *c, const char *id);
