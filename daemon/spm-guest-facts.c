/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-guest-facts.c: strict readers of what a guest reports (see
 * spm-guest-facts.h)
 */
#include <string.h>

#include "spm-error.h"
#include "spm-guest-facts.h"
#include "spm-qmp.h"

/* Nesting of an agent reply: {"return": [ {...} ]} needs 3. */
#define SPM_GUEST_MAX_DEPTH 8
#define SPM_GUEST_MAX_NAME 64

void
spm_iomem_entry_free(SpmIomemEntry *e)
{
    if (!e)
        return;
    g_free(e->name);
    g_free(e);
}

static gboolean
spm_guest_is_string(JsonNode *node)
{
    return node && JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING;
}

static gboolean
spm_guest_is_int(JsonNode *node)
{
    return node && JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_INT64;
}

static gboolean
spm_guest_is_bool(JsonNode *node)
{
    return node && JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_BOOLEAN;
}

static gboolean
spm_guest_fail(GError **error, const char *command, const char *what)
{
    g_set_error(error, SPM_ERROR, SPM_ERROR_QMP, "%s: agent reply %s", command, what);
    return FALSE;
}

/* The "return" member of an agent reply (owned by *root: the same node). */
static JsonNode *
spm_guest_reply_return(const char *command, const char *text, gsize len,
                       JsonNode **root, GError **error)
{
    *root = NULL;
    if (memchr(text, '\0', len)) {
        spm_guest_fail(error, command, "contains a NUL byte");
        return NULL;
    }
    *root = spm_qmp_reply_parse_from("agent", command, text, len, SPM_GUEST_MAX_REPLY,
                                     SPM_GUEST_MAX_DEPTH, error);
    return *root;
}

static gint
spm_guest_block_cmp(gconstpointer a, gconstpointer b)
{
    const SpmGuestBlock *x = a, *y = b;

    return x->index < y->index ? -1 : x->index > y->index;
}

GArray *
spm_guest_blocks_parse(const char *text, gsize len, GError **error)
{
    static const char cmd[] = "guest-get-memory-blocks";
    g_autoptr(JsonNode) root = NULL;
    g_autoptr(GArray) blocks = g_array_new(FALSE, FALSE, sizeof(SpmGuestBlock));
    JsonNode *ret = spm_guest_reply_return(cmd, text, len, &root, error);
    JsonArray *arr;
    guint n;

    if (!ret)
        return NULL;
    if (!JSON_NODE_HOLDS_ARRAY(ret)) {
        spm_guest_fail(error, cmd, "is not an array");
        return NULL;
    }
    arr = json_node_get_array(ret);
    n = json_array_get_length(arr);
    if (n > SPM_GUEST_MAX_BLOCKS) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_QMP,
                    "%s: agent reply lists %u memory blocks, more than %d",
                    cmd, n, SPM_GUEST_MAX_BLOCKS);
        return NULL;
    }
    for (guint i = 0; i < n; i++) {
        JsonNode *el = json_array_get_element(arr, i);
        JsonObject *o = JSON_NODE_HOLDS_OBJECT(el) ? json_node_get_object(el) : NULL;
        JsonNode *idx = o ? json_object_get_member(o, "phys-index") : NULL;
        JsonNode *online = o ? json_object_get_member(o, "online") : NULL;
        SpmGuestBlock b;

        if (!spm_guest_is_int(idx) || json_node_get_int(idx) < 0 || !spm_guest_is_bool(online)) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_QMP,
                        "%s: agent reply: block %u has no unsigned 'phys-index' "
                        "or boolean 'online'", cmd, i);
            return NULL;
        }
        b.index = json_node_get_int(idx);
        b.online = json_node_get_boolean(online);
        g_array_append_val(blocks, b);
    }
    g_array_sort(blocks, spm_guest_block_cmp);
    for (guint i = 1; i < blocks->len; i++) {
        if (g_array_index(blocks, SpmGuestBlock, i).index ==
            g_array_index(blocks, SpmGuestBlock, i - 1).index) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_QMP,
                        "%s: agent reply lists memory block %" G_GUINT64_FORMAT " twice",
                        cmd, g_array_index(blocks, SpmGuestBlock, i).index);
            return NULL;
        }
    }
    return g_steal_pointer(&blocks);
}

gboolean
spm_guest_block_size_parse(const char *text, gsize len, guint64 *size, GError **error)
{
    static const char cmd[] = "guest-get-memory-block-info";
    g_autoptr(JsonNode) root = NULL;
    JsonNode *ret = spm_guest_reply_return(cmd, text, len, &root, error);
    JsonNode *n;
    gint64 v;

    if (!ret)
        return FALSE;
    n = JSON_NODE_HOLDS_OBJECT(ret) ? json_object_get_member(json_node_get_object(ret), "size")
                                    : NULL;
    if (!spm_guest_is_int(n))
        return spm_guest_fail(error, cmd, "has no integer 'size'");
    v = json_node_get_int(n);
    if (v < 4096 || v > (G_GINT64_CONSTANT(64) << 30) || (v & (v - 1))) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_QMP,
                    "%s: memory block size %" G_GINT64_FORMAT
                    " is not a power of two between 4 KiB and 64 GiB", cmd, v);
        return FALSE;
    }
    *size = v;
    return TRUE;
}

gboolean
spm_guest_file_handle_parse(const char *text, gsize len, gint64 *handle, GError **error)
{
    static const char cmd[] = "guest-file-open";
    g_autoptr(JsonNode) root = NULL;
    JsonNode *ret = spm_guest_reply_return(cmd, text, len, &root, error);

    if (!ret)
        return FALSE;
    if (!spm_guest_is_int(ret) || json_node_get_int(ret) < 0)
        return spm_guest_fail(error, cmd, "is not a file handle");
    *handle = json_node_get_int(ret);
    return TRUE;
}

GBytes *
spm_guest_file_read_parse(const char *text, gsize len, gsize max, gboolean *eof,
                          GError **error)
{
    static const char cmd[] = "guest-file-read";
    g_autoptr(JsonNode) root = NULL;
    JsonNode *ret = spm_guest_reply_return(cmd, text, len, &root, error);
    JsonObject *o;
    JsonNode *count, *buf, *eofn;
    const char *b64;
    gsize b64len;
    guchar *data;
    gsize n;

    if (!ret)
        return NULL;
    o = JSON_NODE_HOLDS_OBJECT(ret) ? json_node_get_object(ret) : NULL;
    count = o ? json_object_get_member(o, "count") : NULL;
    buf = o ? json_object_get_member(o, "buf-b64") : NULL;
    eofn = o ? json_object_get_member(o, "eof") : NULL;
    if (!spm_guest_is_int(count) || !spm_guest_is_string(buf) || !spm_guest_is_bool(eofn)) {
        spm_guest_fail(error, cmd, "lacks integer 'count', string 'buf-b64' or boolean 'eof'");
        return NULL;
    }
    b64 = json_node_get_string(buf);
    b64len = strlen(b64);
    /* 4 characters of base64 per 3 bytes: refuse before decoding */
    if (b64len / 4 * 3 > max + 2 || b64len % 4 ||
        strspn(b64, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=") != b64len) {
        spm_guest_fail(error, cmd, "'buf-b64' is not base64 of at most the bytes asked for");
        return NULL;
    }
    data = g_base64_decode(b64, &n);
    if (n > max || json_node_get_int(count) != (gint64) n) {
        g_free(data);
        spm_guest_fail(error, cmd, "'count' does not match 'buf-b64'");
        return NULL;
    }
    *eof = json_node_get_boolean(eofn);
    return g_bytes_new_take(data, n);
}

static gboolean
spm_guest_hex(const char *s, gsize len, guint64 *out)
{
    guint64 v = 0;

    if (len == 0 || len > 16)
        return FALSE;
    for (gsize i = 0; i < len; i++) {
        int d = g_ascii_xdigit_value(s[i]);

        if (d < 0)
            return FALSE;
        v = v << 4 | (guint64) d;
    }
    *out = v;
    return TRUE;
}

static gboolean
spm_iomem_fail(GError **error, guint line, const char *what)
{
    g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID, "/proc/iomem: line %u: %s", line, what);
    return FALSE;
}

/* One line (without its newline) into @e. */
static gboolean
spm_iomem_line(const char *s, gsize len, guint lineno, SpmIomemEntry *e, GError **error)
{
    gsize spaces = 0, dash, colon;
    const char *name;
    gsize name_len;

    while (spaces < len && s[spaces] == ' ')
        spaces++;
    if (spaces % 2 || spaces / 2 > SPM_GUEST_MAX_IOMEM_DEPTH)
        return spm_iomem_fail(error, lineno, "indentation is not two spaces per level, at most 16");
    for (dash = spaces; dash < len && s[dash] != '-'; dash++)
        ;
    for (colon = dash; colon + 2 < len && memcmp(s + colon, " : ", 3) != 0; colon++)
        ;
    if (dash >= len || colon + 2 >= len ||
        !spm_guest_hex(s + spaces, dash - spaces, &e->start) ||
        !spm_guest_hex(s + dash + 1, colon - dash - 1, &e->end))
        return spm_iomem_fail(error, lineno, "not 'START-END : NAME' in hexadecimal");
    if (e->end < e->start)
        return spm_iomem_fail(error, lineno, "range ends before it starts");
    name = s + colon + 3;
    name_len = len - colon - 3;
    if (name_len == 0 || name_len > SPM_GUEST_MAX_NAME)
        return spm_iomem_fail(error, lineno, "name is empty or longer than 64 bytes");
    for (gsize i = 0; i < name_len; i++) {
        if (!g_ascii_isprint(name[i]))
            return spm_iomem_fail(error, lineno, "name has a byte that is not printable ASCII");
    }
    e->depth = spaces / 2;
    e->name = g_strndup(name, name_len);
    return TRUE;
}

GPtrArray *
spm_iomem_parse(const char *text, gsize len, GError **error)
{
    g_autoptr(GPtrArray) entries = g_ptr_array_new_with_free_func((GDestroyNotify) spm_iomem_entry_free);
    /* the open entry of each level, to check that children nest */
    SpmIomemEntry *parents[SPM_GUEST_MAX_IOMEM_DEPTH + 1] = { NULL };
    gsize pos = 0;
    guint lineno = 0;

    if (len > SPM_GUEST_MAX_FILE) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "/proc/iomem: %" G_GSIZE_FORMAT " bytes, more than %d", len, SPM_GUEST_MAX_FILE);
        return NULL;
    }
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        gsize line_len = nl ? (gsize) (nl - (text + pos)) : len - pos;
        g_autoptr(SpmIomemEntry) e = g_new0(SpmIomemEntry, 1);

        lineno++;
        if (!nl)
            return spm_iomem_fail(error, lineno, "no newline at the end (cut short?)"), NULL;
        if (entries->len >= SPM_GUEST_MAX_IOMEM_ENTRIES)
            return spm_iomem_fail(error, lineno, "more than 4096 entries"), NULL;
        if (!spm_iomem_line(text + pos, line_len, lineno, e, error))
            return NULL;
        if (e->depth > 0) {
            SpmIomemEntry *p = parents[e->depth - 1];

            if (!p)
                return spm_iomem_fail(error, lineno, "indented deeper than the line before"), NULL;
            if (e->start < p->start || e->end > p->end)
                return spm_iomem_fail(error, lineno, "range is outside its parent's"), NULL;
        }
        parents[e->depth] = e;
        for (guint d = e->depth + 1; d <= SPM_GUEST_MAX_IOMEM_DEPTH; d++)
            parents[d] = NULL;
        g_ptr_array_add(entries, g_steal_pointer(&e));
        pos += line_len + 1;
    }
    return g_steal_pointer(&entries);
}

gboolean
spm_iomem_addresses_hidden(const GPtrArray *entries)
{
    for (guint i = 0; i < entries->len; i++) {
        const SpmIomemEntry *e = g_ptr_array_index(entries, i);

        if (e->start || e->end)
            return FALSE;
    }
    return entries->len > 0;
}

gboolean
spm_guest_sysfs_int_parse(const char *text, gsize len, gint64 min, gint64 max,
                          gint64 *out, GError **error)
{
    char buf[33];
    char *end;
    gint64 v;

    if (len > 32 || memchr(text, '\0', len)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID, "sysfs value is not one short line");
        return FALSE;
    }
    memcpy(buf, text, len);
    buf[len] = '\0';
    if (len && buf[len - 1] == '\n')
        buf[--len] = '\0';
    if (len == 0 || !(g_ascii_isdigit(buf[0]) || (buf[0] == '-' && g_ascii_isdigit(buf[1])))) {
        /* the guest's bytes: one printable line */
        g_autofree char *p = spm_error_printable(buf, 32);

        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID, "sysfs value '%s' is not an integer", p);
        return FALSE;
    }
    v = g_ascii_strtoll(buf, &end, 10);
    if (*end || v < min || v > max) {
        g_autofree char *p = spm_error_printable(buf, 32);

        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "sysfs value '%s' is not an integer from %" G_GINT64_FORMAT
                    " to %" G_GINT64_FORMAT, p, min, max);
        return FALSE;
    }
    *out = v;
    return TRUE;
}

static gboolean
spm_guest_digits(const char *s, gsize len)
{
    if (len == 0 || len > 4)
        return FALSE;
    for (gsize i = 0; i < len; i++) {
        if (!g_ascii_isdigit(s[i]))
            return FALSE;
    }
    return TRUE;
}

gboolean
spm_guest_is_dax_name(const char *name)
{
    const char *dot;

    if (!g_str_has_prefix(name, "dax"))
        return FALSE;
    name += 3;
    dot = strchr(name, '.');
    return dot && spm_guest_digits(name, dot - name) && spm_guest_digits(dot + 1, strlen(dot + 1));
}
