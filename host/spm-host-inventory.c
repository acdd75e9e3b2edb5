/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-host-inventory.c: [host] spm_nodes, sysfs capacities, nodesets
 */
#include "spm-host-inventory.h"
#include "spm-env.h"
#include "spm-config.h"
#include "spm-error.h"
#include "spm-units.h"

#include <stdio.h>
#include <string.h>

/* Linux's largest MAX_NUMNODES (NODES_SHIFT 10). */
#define SPM_HOST_MAX_NODE_ID 1023
/* Far above any accelerator; keeps the ledger's sums far from overflow. */
#define SPM_HOST_MAX_CAPACITY ((guint64)1 << 50)

const char *
spm_host_sysfs_root(void)
{
    const char *env = spm_env(SPM_ENV_SYSFS_ROOT);

    return env && *env ? env : "/sys";
}

void
spm_host_inventory_free(SpmHostInventory *inv)
{
    if (!inv)
        return;
    g_array_unref(inv->nodes);
    g_array_unref(inv->candidates);
    g_free(inv->sysfs_root);
    g_free(inv);
}

static SpmHostInventory *
spm_host_inventory_new(const char *sysfs_root)
{
    SpmHostInventory *inv = g_new0(SpmHostInventory, 1);

    inv->nodes = g_array_new(FALSE, TRUE, sizeof(SpmHostNode));
    inv->candidates = g_array_new(FALSE, TRUE, sizeof(guint));
    inv->sysfs_root = g_strdup(sysfs_root ? sysfs_root : spm_host_sysfs_root());
    return inv;
}

gboolean
spm_host_inventory_is_empty(const SpmHostInventory *inv)
{
    return !inv || inv->nodes->len == 0;
}

int
spm_host_inventory_index(const SpmHostInventory *inv, guint id)
{
    for (guint i = 0; i < inv->nodes->len; i++) {
        if (g_array_index(inv->nodes, SpmHostNode, i).id == id)
            return i;
    }
    return -1;
}

guint64
spm_host_inventory_capacity(const SpmHostInventory *inv, SpmNodeBits bits)
{
    guint64 sum = 0;

    for (guint i = 0; i < inv->nodes->len; i++) {
        if (bits & (1u << i))
            sum += g_array_index(inv->nodes, SpmHostNode, i).capacity;
    }
    return sum;
}

/* MemTotal of SYSFS/devices/system/node/nodeN/meminfo ("Node 2 MemTotal: 67108864 kB"). */
static gboolean
spm_host_node_memtotal(const char *sysfs_root, guint id, guint64 *bytes, GError **error)
{
    g_autofree char *path = g_strdup_printf("%s/devices/system/node/node%u/meminfo",
                                            sysfs_root, id);
    g_autofree char *text = NULL;
    g_autoptr(GError) local = NULL;
    const char *p;
    guint64 kib;

    if (!g_file_get_contents(path, &text, NULL, &local)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "[host] spm_nodes: host node %u has no size and its capacity cannot be "
                    "read: %s", id, local->message);
        return FALSE;
    }
    if (!(p = strstr(text, "MemTotal:")) || sscanf(p, "MemTotal: %" G_GUINT64_FORMAT " kB", &kib) != 1 ||
        kib > G_MAXUINT64 / 1024) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "[host] spm_nodes: host node %u: '%s' has no MemTotal line", id, path);
        return FALSE;
    }
    *bytes = kib * 1024;
    return TRUE;
}

GArray *
spm_host_list_parse(const char *text)
{
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(guint));
    g_autofree char *copy = g_strstrip(g_strdup(text));
    g_auto(GStrv) parts = g_strsplit(copy, ",", -1);

    for (guint i = 0; parts[i]; i++) {
        guint64 a, b;
        char *dash = strchr(parts[i], '-');

        if (dash)
            *dash = '\0';
        if (!g_ascii_string_to_unsigned(parts[i], 10, 0, SPM_HOST_MAX_NODE_ID, &a, NULL))
            continue;
        b = a;
        if (dash && !g_ascii_string_to_unsigned(dash + 1, 10, a, SPM_HOST_MAX_NODE_ID, &b, NULL))
            continue;
        for (guint64 v = a; v <= b; v++) {
            guint id = v;

            g_array_append_val(ids, id);
        }
    }
    return ids;
}

/* Node ids of a kernel list file; an absent file is an empty list. */
static GArray *
spm_host_read_list(const char *path)
{
    g_autofree char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return g_array_new(FALSE, FALSE, sizeof(guint));
    return spm_host_list_parse(text);
}

static gboolean
spm_host_list_has(GArray *ids, guint id)
{
    for (guint i = 0; i < ids->len; i++) {
        if (g_array_index(ids, guint, i) == id)
            return TRUE;
    }
    return FALSE;
}

/* Memory-only nodes: in has_memory, not in has_cpu (both under node/). */
static void
spm_host_find_candidates(SpmHostInventory *inv)
{
    g_autofree char *mem_path = g_build_filename(inv->sysfs_root, "devices/system/node/has_memory", NULL);
    g_autofree char *cpu_path = g_build_filename(inv->sysfs_root, "devices/system/node/has_cpu", NULL);
    g_autoptr(GArray) mem = spm_host_read_list(mem_path);
    g_autoptr(GArray) cpu = spm_host_read_list(cpu_path);

    for (guint i = 0; i < mem->len; i++) {
        guint id = g_array_index(mem, guint, i);

        if (!spm_host_list_has(cpu, id))
            g_array_append_val(inv->candidates, id);
    }
}

/* Configured nodes the kernel shows without memory (see the header). */
static void
spm_host_mark_offline(SpmHostInventory *inv)
{
    g_autofree char *mem_path = g_build_filename(inv->sysfs_root, "devices/system/node/has_memory", NULL);
    g_autoptr(GArray) mem = NULL;

    if (!g_file_test(mem_path, G_FILE_TEST_IS_REGULAR))
        return;     /* no sysfs to ask: nothing is known offline */
    mem = spm_host_read_list(mem_path);
    for (guint i = 0; i < inv->nodes->len; i++) {
        SpmHostNode *node = &g_array_index(inv->nodes, SpmHostNode, i);
        g_autofree char *leaf = g_strdup_printf("devices/system/node/node%u", node->id);
        g_autofree char *dir = g_build_filename(inv->sysfs_root, leaf, NULL);

        node->offline = g_file_test(dir, G_FILE_TEST_IS_DIR) && !spm_host_list_has(mem, node->id);
    }
}

static gint
spm_host_node_cmp(gconstpointer a, gconstpointer b)
{
    const SpmHostNode *x = a, *y = b;

    return x->id < y->id ? -1 : x->id > y->id;
}

/* One "NODE[:SIZE]" entry. */
static gboolean
spm_host_parse_entry(SpmHostInventory *inv, const char *entry, GError **error)
{
    g_autofree char *shown = g_strstrip(g_strdup(entry));
    g_autofree char *copy = g_strdup(shown);
    char *colon = strchr(copy, ':');
    SpmHostNode node = { 0 };
    guint64 id;

    if (colon)
        *colon = '\0';
    g_strstrip(copy);
    if (!*copy || strspn(copy, "0123456789") != strlen(copy) ||
        !g_ascii_string_to_unsigned(copy, 10, 0, SPM_HOST_MAX_NODE_ID, &id, NULL)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "[host] spm_nodes: '%s' is not NODE or NODE:SIZE with a host node "
                    "number from 0 to %u (e.g. '2:64GiB')", shown,
                    SPM_HOST_MAX_NODE_ID);
        return FALSE;
    }
    node.id = id;
    if (spm_host_inventory_index(inv, node.id) >= 0) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "[host] spm_nodes: host node %u is listed twice", node.id);
        return FALSE;
    }
    if (colon) {
        g_autofree char *what = g_strdup_printf("[host] spm_nodes: size of host node %u", node.id);

        if (!*g_strstrip(colon + 1)) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "[host] spm_nodes: host node %u: a size must follow ':'", node.id);
            return FALSE;
        }
        if (!spm_config_parse_size(what, colon + 1, &node.capacity, error))
            return FALSE;
        if (node.capacity > SPM_HOST_MAX_CAPACITY) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "[host] spm_nodes: host node %u: '%s' is more than 1 PiB", node.id,
                        g_strstrip(colon + 1));
            return FALSE;
        }
        if (node.capacity == 0) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "[host] spm_nodes: host node %u has a size of 0", node.id);
            return FALSE;
        }
    } else {
        if (!spm_host_node_memtotal(inv->sysfs_root, node.id, &node.capacity, error))
            return FALSE;
        node.from_sysfs = TRUE;
    }
    if (inv->nodes->len >= SPM_HOST_MAX_NODES) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "[host] spm_nodes: more than %u host nodes", SPM_HOST_MAX_NODES);
        return FALSE;
    }
    g_array_append_val(inv->nodes, node);
    return TRUE;
}

SpmHostInventory *
spm_host_inventory_parse(const char *value, const char *sysfs_root, GError **error)
{
    g_autoptr(SpmHostInventory) inv = spm_host_inventory_new(sysfs_root);
    g_auto(GStrv) entries = NULL;

    spm_host_find_candidates(inv);
    if (!value)
        return g_steal_pointer(&inv);
    entries = g_strsplit(value, ",", -1);
    for (guint i = 0; entries[i]; i++) {
        /* a trailing comma or an empty value is not an entry */
        if (!*g_strstrip(entries[i])) {
            if (entries[i + 1] || i == 0) {
                g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                            "[host] spm_nodes: empty entry in '%s'", value);
                return NULL;
            }
            continue;
        }
        if (!spm_host_parse_entry(inv, entries[i], error))
            return NULL;
    }
    g_array_sort(inv->nodes, spm_host_node_cmp);
    spm_host_mark_offline(inv);
    return g_steal_pointer(&inv);
}

SpmHostInventory *
spm_host_inventory_load(GKeyFile *kf, const char *sysfs_root, GError **error)
{
    g_autofree char *value = NULL;

    if (kf && g_key_file_has_key(kf, "host", "spm_nodes", NULL))
        value = g_key_file_get_string(kf, "host", "spm_nodes", NULL);
    return spm_host_inventory_parse(value, sysfs_root, error);
}

static gboolean
spm_host_nodeset_id(const char *what, const char *nodeset, const char *text, guint *id,
                    GError **error)
{
    guint64 v;

    if (!*text || strspn(text, "0123456789") != strlen(text) ||
        !g_ascii_string_to_unsigned(text, 10, 0, SPM_HOST_MAX_NODE_ID, &v, NULL)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "%s '%s': '%s' is not a host NUMA node number", what, nodeset, text);
        return FALSE;
    }
    *id = v;
    return TRUE;
}

gboolean
spm_host_nodeset_parse(const SpmHostInventory *inv, const char *what,
                       const char *nodeset, SpmNodeBits *bits, GError **error)
{
    g_auto(GStrv) parts = NULL;
    g_autofree char *configured = NULL;
    SpmNodeBits set = 0;

    if (!nodeset || !*nodeset) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID, "%s is empty", what);
        return FALSE;
    }
    parts = g_strsplit(nodeset, ",", -1);
    /* libvirt applies the parts in order: "0-7,^4" */
    for (guint i = 0; parts[i]; i++) {
        const char *part = g_strstrip(parts[i]);
        gboolean exclude = part[0] == '^';
        const char *dash;
        guint a, b;

        if (exclude)
            part++;
        dash = strchr(part, '-');
        if (dash) {
            g_autofree char *first = g_strndup(part, dash - part);

            if (!spm_host_nodeset_id(what, nodeset, first, &a, error) ||
                !spm_host_nodeset_id(what, nodeset, dash + 1, &b, error))
                return FALSE;
            if (b < a) {
                g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                            "%s '%s': range '%s' runs backwards", what, nodeset, part);
                return FALSE;
            }
        } else {
            if (!spm_host_nodeset_id(what, nodeset, part, &a, error))
                return FALSE;
            b = a;
        }
        for (guint id = a; id <= b; id++) {
            int idx = spm_host_inventory_index(inv, id);

            if (exclude) {
                if (idx >= 0)
                    set &= ~(1u << idx);
                continue;
            }
            if (idx < 0) {
                configured = spm_host_nodeset_format(inv, (1u << inv->nodes->len) - 1);
                g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                            "%s '%s': host node %u is not in [host] spm_nodes (%s)",
                            what, nodeset, id, *configured ? configured : "none configured");
                return FALSE;
            }
            set |= 1u << idx;
        }
    }
    if (!set) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID, "%s '%s' names no host node",
                    what, nodeset);
        return FALSE;
    }
    *bits = set;
    return TRUE;
}

char *
spm_host_nodeset_format(const SpmHostInventory *inv, SpmNodeBits bits)
{
    GString *out = g_string_new(NULL);
    guint i = 0;

    /* inventory order is id order, so runs of consecutive ids are ranges */
    while (i < inv->nodes->len) {
        guint first, last, j;

        if (!(bits & (1u << i))) {
            i++;
            continue;
        }
        first = last = g_array_index(inv->nodes, SpmHostNode, i).id;
        for (j = i + 1; j < inv->nodes->len && (bits & (1u << j)) &&
             g_array_index(inv->nodes, SpmHostNode, j).id == last + 1; j++)
            last++;
        if (out->len)
            g_string_append_c(out, ',');
        if (first == last)
            g_string_append_printf(out, "%u", first);
        else
            g_string_append_printf(out, "%u-%u", first, last);
        i = j;
    }
    return g_string_free(out, FALSE);
}
