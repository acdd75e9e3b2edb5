/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-memdev-info.h: QEMU's query-memory-devices reply as plain data.
 *
 * Strict on purpose: a reply that is not exactly what QEMU sends (wrong
 * types, missing fields, negative, fractional or out-of-range numbers,
 * duplicate ids) is an error as a whole, never a partial list that an
 * audit could mistake for a match.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct {
    char *type;         /* "sp-mem", "spm-memory", "dimm", "nvdimm", "virtio-mem", ... */
    char *id;           /* NULL when the device has none */
    guint64 addr;       /* addr (sp-mem, dimm, nvdimm) or memaddr (v8 spm-memory, virtio-*, sgx-epc) */
    guint64 size;       /* bytes of the region it takes (virtio-mem: max-size) */
    guint node;
    gboolean has_node;  /* virtio-pmem has none */
    char *memdev;       /* "/objects/ID"; NULL when QEMU reports none */
    int slot;           /* dimm/nvdimm; -1 otherwise */
} SpmMemdevInfo;

void spm_memdev_info_free(SpmMemdevInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpmMemdevInfo, spm_memdev_info_free)

/* The "return" value of query-memory-devices: a GPtrArray of SpmMemdevInfo. */
GPtrArray *spm_memdev_info_parse(JsonNode *ret, GError **error);

/* The same from JSON text: the array itself, a QMP reply {"return": [...]},
 * or a fixture file {"query-memory-devices": [...]}. */
GPtrArray *spm_memdev_info_parse_text(const char *text, gsize len, GError **error);

/* "/objects/spm0" -> "spm0"; NULL when @memdev is not of that form. */
const char *spm_memdev_info_backend_id(const SpmMemdevInfo *info);

G_END_DECLS
