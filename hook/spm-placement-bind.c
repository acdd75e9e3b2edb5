/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-placement-bind.c: SPM devices to the host nodes Placement allocated
 */
#include "spm-placement-bind.h"
#include "spm-error.h"

#include <json-glib/json-glib.h>

#define SPM_PLACEMENT_RC "CUSTOM_SPM_HBM_GIB"
#define SPM_GIB (G_GUINT64_CONSTANT(1) << 30)

void
spm_placement_allocation_free(SpmPlacementAllocation *a)
{
    if (!a)
        return;
    g_free(a->consumer);
    g_free(a->host);
    if (a->nodes)
        g_array_unref(a->nodes);
    g_free(a->elsewhere);
    g_free(a);
}

static gint
spm_placement_node_cmp(gconstpointer a, gconstpointer b)
{
    const SpmPlacementNodeUse *x = a, *y = b;

    return x->node < y->node ? -1 : x->node > y->node;
}

static gboolean
spm_placement_gib(JsonNode *n, const char *what, guint64 *out, GError **error)
{
    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64 ||
        json_node_get_int(n) < 0) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "Placement's answer: %s is not a number of GiB", what);
        return FALSE;
    }
    *out = (guint64)json_node_get_int(n);
    return TRUE;
}

SpmPlacementAllocation *
spm_placement_allocation_parse(const char *text, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    g_autoptr(SpmPlacementAllocation) a = g_new0(SpmPlacementAllocation, 1);
    JsonObject *o, *nodes;
    JsonArray *elsewhere;
    JsonNode *root;

    a->nodes = g_array_new(FALSE, FALSE, sizeof(SpmPlacementNodeUse));
    if (!json_parser_load_from_data(parser, text, -1, NULL) ||
        !(root = json_parser_get_root(parser)) || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID, "Placement's answer is not a JSON object");
        return NULL;
    }
    o = json_node_get_object(root);
    a->consumer = g_strdup(json_object_get_string_member_with_default(o, "consumer", ""));
    a->host = g_strdup(json_object_get_string_member_with_default(o, "host", ""));
    a->registered = json_object_get_boolean_member_with_default(o, "registered", FALSE);
    a->allocated = json_object_get_boolean_member_with_default(o, "allocated", FALSE);
    if (json_object_has_member(o, "root_gib") &&
        !spm_placement_gib(json_object_get_member(o, "root_gib"), "root_gib", &a->root_gib, error))
        return NULL;
    nodes = json_object_has_member(o, "nodes") ? json_object_get_object_member(o, "nodes") : NULL;
    if (nodes) {
        g_autoptr(GList) names = json_object_get_members(nodes);

        for (GList *l = names; l; l = l->next) {
            SpmPlacementNodeUse use = { 0 };
            guint64 id;

            if (!g_ascii_string_to_unsigned(l->data, 10, 0, G_MAXINT, &id, NULL)) {
                g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                            "Placement's answer: '%s' is not a host node", (char *)l->data);
                return NULL;
            }
            use.node = id;
            if (!spm_placement_gib(json_object_get_member(nodes, l->data), l->data, &use.gib, error))
                return NULL;
            if (use.gib)
                g_array_append_val(a->nodes, use);
        }
        g_array_sort(a->nodes, spm_placement_node_cmp);
    }
    elsewhere = json_object_has_member(o, "elsewhere") ?
                json_object_get_array_member(o, "elsewhere") : NULL;
    if (elsewhere && json_array_get_length(elsewhere) > 0) {
        GString *s = g_string_new(NULL);

        for (guint i = 0; i < json_array_get_length(elsewhere); i++) {
            const char *name = json_array_get_string_element(elsewhere, i);

            g_string_append_printf(s, "%s%s", i ? ", " : "", name ? name : "?");
        }
        a->elsewhere = g_string_free(s, FALSE);
    }
    return g_steal_pointer(&a);
}

static guint64
spm_placement_device_gib(const SpmMemDevice *dev)
{
    /* as `virt-spm nova flavor` asks: a started GiB is a whole one */
    return dev->size / SPM_GIB + (dev->size % SPM_GIB ? 1 : 0);
}

/*
 * Devices @i.. onto the nodes' @left GiB; @fixed[i] is a node index or -1.
 * A handful of devices and nodes: plain backtracking.
 */
static gboolean
spm_placement_cover(guint i, guint n, const guint64 *gib, const gint *fixed,
                    guint64 *left, guint nn, guint *choice)
{
    if (i == n) {
        for (guint k = 0; k < nn; k++) {
            if (left[k])
                return FALSE;
        }
        return TRUE;
    }
    for (guint k = 0; k < nn; k++) {
        if ((fixed[i] >= 0 && (guint)fixed[i] != k) || left[k] < gib[i])
            continue;
        left[k] -= gib[i];
        choice[i] = k;
        if (spm_placement_cover(i + 1, n, gib, fixed, left, nn, choice))
            return TRUE;
        left[k] += gib[i];
    }
    return FALSE;
}

static char *
spm_placement_describe(const SpmPlacementAllocation *a)
{
    GString *s = g_string_new(NULL);

    for (guint k = 0; k < a->nodes->len; k++) {
        const SpmPlacementNodeUse *u = &g_array_index(a->nodes, SpmPlacementNodeUse, k);

        g_string_append_printf(s, "%shost node %u: %" G_GUINT64_FORMAT " GiB", k ? ", " : "",
                               u->node, u->gib);
    }
    return g_string_free(s, FALSE);
}

gboolean
spm_placement_bind(const SpmPlacementAllocation *a, SpmDomainDef *def, gboolean *bound,
                   GError **error)
{
    g_autoptr(GPtrArray) devs = g_ptr_array_new();
    g_autofree guint64 *gib = NULL;
    g_autofree gint *fixed = NULL;
    g_autofree guint64 *left = NULL;
    g_autofree guint *choice = NULL;
    g_autofree char *have = NULL;
    GString *sizes;
    guint nn = a->nodes->len;

    *bound = FALSE;
    if (a->elsewhere) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "Placement holds instance %s's " SPM_PLACEMENT_RC " on %s, not on compute "
                    "node '%s'", a->consumer, a->elsewhere, a->host);
        return FALSE;
    }
    if (nn == 0 && a->root_gib > 0)
        return TRUE;    /* the pooled provider file: Placement has no per-node view */
    if (nn == 0) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "Placement holds no " SPM_PLACEMENT_RC " of compute node '%s' for instance "
                    "%s (%s; the flavor needs the properties `virt-spm nova flavor` prints)",
                    a->host, a->consumer,
                    a->allocated ? "its allocation has none" : "it has no allocation at all");
        return FALSE;
    }

    for (guint i = 0; i < def->mems->len; i++) {
        SpmMemDevice *dev = def->mems->pdata[i];

        if (dev->model == SPM_MEM_MODEL_SPM && !dev->source.path)
            g_ptr_array_add(devs, dev);
    }
    gib = g_new0(guint64, devs->len + 1);
    fixed = g_new0(gint, devs->len + 1);
    choice = g_new0(guint, devs->len + 1);
    left = g_new0(guint64, nn + 1);
    for (guint k = 0; k < nn; k++)
        left[k] = g_array_index(a->nodes, SpmPlacementNodeUse, k).gib;
    sizes = g_string_new(NULL);
    for (guint i = 0; i < devs->len; i++) {
        const SpmMemDevice *dev = devs->pdata[i];

        gib[i] = spm_placement_device_gib(dev);
        g_string_append_printf(sizes, "%s%" G_GUINT64_FORMAT " GiB", i ? ", " : "", gib[i]);
        fixed[i] = -1;
        if (dev->source.nodemask) {
            guint64 node;

            if (!g_ascii_string_to_unsigned(dev->source.nodemask, 10, 0, G_MAXINT, &node, NULL)) {
                g_string_free(sizes, TRUE);
                g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                            "SPM device %u is bound to host nodes '%s', but Placement allocates "
                            "each device from one node", i, dev->source.nodemask);
                return FALSE;
            }
            for (guint k = 0; k < nn; k++) {
                if (g_array_index(a->nodes, SpmPlacementNodeUse, k).node == node)
                    fixed[i] = k;
            }
            if (fixed[i] < 0)
                fixed[i] = nn;  /* a node Placement gave nothing: no cover */
        }
    }
    if (!spm_placement_cover(0, devs->len, gib, fixed, left, nn, choice)) {
        have = spm_placement_describe(a);
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "Placement's allocation for instance %s on compute node '%s' (%s) does not "
                    "fit its %u SPM device%s (%s)", a->consumer, a->host, have, devs->len,
                    devs->len == 1 ? "" : "s", sizes->str);
        g_string_free(sizes, TRUE);
        return FALSE;
    }
    g_string_free(sizes, TRUE);
    for (guint i = 0; i < devs->len; i++) {
        SpmMemDevice *dev = devs->pdata[i];

        g_free(dev->source.nodemask);
        dev->source.nodemask = g_strdup_printf("%u",
                                               g_array_index(a->nodes, SpmPlacementNodeUse,
                                                             choice[i]).node);
    }
    *bound = TRUE;
    return TRUE;
}
