/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-memdev-info.c: strict reader of query-memory-devices
 */
#include <string.h>

#include "spm-error.h"
#include "spm-json-guard.h"
#include "spm-memdev-info.h"
#include "spm-device-rev.h"

/* Beyond any guest-physical address QEMU can use (phys-bits <= 52 on x86),
 * so a larger value is a broken or hostile reply. */
#define SPM_MEMDEV_MAX_ADDR (G_GUINT64_CONSTANT(1) << 57)

void
spm_memdev_info_free(SpmMemdevInfo *info)
{
    if (!info)
        return;
    g_free(info->type);
    g_free(info->id);
    g_free(info->memdev);
    g_free(info);
}

/* Longest string accepted from QEMU (ids, types, QOM paths). */
#define SPM_MEMDEV_MAX_STRING 1024

static gboolean
spm_memdev_get_uint(JsonObject *data, const char *type, guint index, const char *key,
                    gboolean required, guint64 max, guint64 *out, gboolean *present,
                    GError **error)
{
    JsonNode *n = json_object_get_member(data, key);
    gint64 v;

    if (present)
        *present = FALSE;
    if (!n) {
        if (!required)
            return TRUE;
        g_set_error(error, SPM_ERROR, SPM_ERROR_QMP,
                    "query-memory-devices: device %u (%s) has no '%s'", index, type, key);
        return FALSE;
    }
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_QMP,
                    "query-memory-devices: device %u (%s): '%s' is not an integer",
                    index, type, key);
        return FALSE;
    }
    v = json_node_get_int(n);
    if (v < 0 || (guint64) v > max) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_QMP,
                    "query-memory-devices: device %u (%s): '%s' value %" G_GINT64_FORMAT
                    " is out of range", index, type, key, v);
        return FALSE;
    }
    *out = v;
    if (present)
        *present = TRUE;
    return TRUE;
}

static gboolean
spm_memdev_get_string(JsonObject *data, const char *type, guint index, const char *key,
                      gboolean required, char **out, GError **error)
{
    JsonNode *n = json_object_get_member(data, key);

    if (!n) {
        if (!required)
            return TRUE;
        g_set_error(error, SPM_ERROR, SPM_ERROR_QMP,
                    "query-memory-devices: device %u (%s) has no '%s'", index, type, key);
        return FALSE;
    }
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_QMP,
                    "query-memory-devices: device %u (%s): '%s' is not a string",
                    index, type, key);
        return FALSE;
    }
    /*
     * QEMU's types, ids and QOM paths are short and printable; anything
     * else is a broken or hostile peer, and would reach verdicts, the
     * journal and one-line messages.
     */
    for (const char *p = json_node_get_string(n); *p; p++) {
        if ((guchar)*p < 0x20 || *p == 0x7f || p - json_node_get_string(n) >= SPM_MEMDEV_MAX_STRING) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_QMP,
                        "query-memory-devices: device %u (%s): '%s' is not a short printable string",
                        index, type, key);
            return FALSE;
        }
    }
    *out = g_strdup(json_node_get_string(n));
    return TRUE;
}

/* Which address key, whether node/memdev are required, which size key. */
typedef struct {
    const char *type;
    const char *addr_key;
    const char *size_key;
    gboolean node_required;
    gboolean memdev_required;
    gboolean has_slot;
} SpmMemdevKind;

/* libvirt's and QEMU's own kinds; the SPM devices come from spm-device-rev.h */
static const SpmMemdevKind spm_memdev_kinds[] = {
    { "dimm", "addr", "size", TRUE, TRUE, TRUE },
    { "nvdimm", "addr", "size", TRUE, TRUE, TRUE },
    { "virtio-mem", "memaddr", "max-size", TRUE, TRUE, FALSE },
    { "virtio-pmem", "memaddr", "size", FALSE, TRUE, FALSE },
    { "sgx-epc", "memaddr", "size", TRUE, TRUE, FALSE },
};

static SpmMemdevInfo *
spm_memdev_info_parse_one(JsonNode *elem, guint index, GError **error)
{
    g_autoptr(SpmMemdevInfo) info = g_new0(SpmMemdevInfo, 1);
    const SpmMemdevKind *kind = NULL;
    SpmMemdevKind unknown = { NULL, NULL, "size", FALSE, FALSE, FALSE };
    SpmMemdevKind spm_kind = { NULL, NULL, "size", TRUE, TRUE, FALSE };
    SpmDeviceRev rev;
    JsonObject *obj;
    JsonNode *datanode;
    JsonObject *data;
    guint64 node = 0;
    guint64 slot = 0;
    gboolean has_slot = FALSE;

    info->slot = -1;
    if (!JSON_NODE_HOLDS_OBJECT(elem)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_QMP,
                    "query-memory-devices: device %u is not an object", index);
        return NULL;
    }
    obj = json_node_get_object(elem);
    if (!spm_memdev_get_string(obj, "?", index, "type", TRUE, &info->type, error))
        return NULL;
    datanode = json_object_get_member(obj, "data");
    if (!datanode || !JSON_NODE_HOLDS_OBJECT(datanode)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_QMP,
                    "query-memory-devices: device %u (%s) has no 'data' object", index, info->type);
        return NULL;
    }
    data = json_node_get_object(datanode);

    for (gsize i = 0; i < G_N_ELEMENTS(spm_memdev_kinds); i++) {
        if (g_str_equal(spm_memdev_kinds[i].type, info->type))
            kind = &spm_memdev_kinds[i];
    }
    if (!kind && spm_device_rev_from_qmp_type(info->type, &rev)) {
        /* sp-mem says "addr", the v8 spm-memory "memaddr": the revision table knows */
        spm_kind.type = info->type;
        spm_kind.addr_key = spm_device_rev_info(rev)->qmp_addr_key;
        kind = &spm_kind;
    }
    if (!kind) {
        /* A kind this code does not know still sits in the region: read
         * its address whichever key it uses, so the audit can report it. */
        kind = &unknown;
        unknown.addr_key = json_object_has_member(data, "memaddr") ? "memaddr" : "addr";
    }

    if (!spm_memdev_get_string(data, info->type, index, "id", FALSE, &info->id, error) ||
        !spm_memdev_get_uint(data, info->type, index, kind->addr_key, TRUE,
                             SPM_MEMDEV_MAX_ADDR, &info->addr, NULL, error) ||
        !spm_memdev_get_uint(data, info->type, index, kind->size_key, TRUE,
                             SPM_MEMDEV_MAX_ADDR, &info->size, NULL, error) ||
        !spm_memdev_get_uint(data, info->type, index, "node", kind->node_required,
                             G_MAXUINT32, &node, &info->has_node, error) ||
        !spm_memdev_get_string(data, info->type, index, "memdev", kind->memdev_required,
                               &info->memdev, error) ||
        !spm_memdev_get_uint(data, info->type, index, "slot", kind->has_slot,
                             G_MAXINT32, &slot, &has_slot, error))
        return NULL;
    info->node = node;
    if (has_slot)
        info->slot = slot;
    if (info->addr + info->size > SPM_MEMDEV_MAX_ADDR) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_QMP,
                    "query-memory-devices: device %u (%s): range 0x%" G_GINT64_MODIFIER "x+0x%"
                    G_GINT64_MODIFIER "x is out of range", index, info->type, info->addr, info->size);
        return NULL;
    }
    return g_steal_pointer(&info);
}

GPtrArray *
spm_memdev_info_parse(JsonNode *ret, GError **error)
{
    g_autoptr(GPtrArray) list = g_ptr_array_new_with_free_func((GDestroyNotify) spm_memdev_info_free);
    g_autoptr(GHashTable) ids = g_hash_table_new(g_str_hash, g_str_equal);
    JsonArray *arr;

    if (!ret || !JSON_NODE_HOLDS_ARRAY(ret)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_QMP,
                    "query-memory-devices: the reply is not an array");
        return NULL;
    }
    arr = json_node_get_array(ret);
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        SpmMemdevInfo *info = spm_memdev_info_parse_one(json_array_get_element(arr, i), i, error);

        if (!info)
            return NULL;
        g_ptr_array_add(list, info);
        if (info->id && !g_hash_table_add(ids, info->id)) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_QMP,
                        "query-memory-devices: device id '%s' appears twice", info->id);
            return NULL;
        }
    }
    return g_steal_pointer(&list);
}

GPtrArray *
spm_memdev_info_parse_text(const char *text, gsize len, GError **error)
{
    g_autoptr(JsonNode) root = spm_json_guard_parse(text, len, SPM_JSON_MAX_DEPTH, error);
    JsonNode *ret = root;

    if (!root)
        return NULL;
    if (JSON_NODE_HOLDS_OBJECT(root)) {
        JsonObject *obj = json_node_get_object(root);

        if (json_object_has_member(obj, "error")) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_QMP,
                        "query-memory-devices: the reply is an error");
            return NULL;
        }
        ret = json_object_get_member(obj, "return");
        if (!ret)
            ret = json_object_get_member(obj, "query-memory-devices");
    }
    return spm_memdev_info_parse(ret, error);
}

const char *
spm_memdev_info_backend_id(const SpmMemdevInfo *info)
{
    if (!info->memdev || !g_str_has_prefix(info->memdev, "/objects/") ||
        !info->memdev[strlen("/objects/")])
        return NULL;
    return info->memdev + strlen("/objects/");
}
