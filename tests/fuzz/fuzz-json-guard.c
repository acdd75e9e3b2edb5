/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-json-guard.c: the JSON guard against json-glib 1.6 itself.  The
 * first byte picks the depth limit (1 to 32), the rest is the message.
 * What must hold: whatever the guard lets through, json-glib reads no
 * deeper than the limit (the guard and json-glib agree on where strings,
 * single-quoted ones included, begin and end), and a refusal is one
 * clean line.  The seeds start with ' (depth 8, the control socket's).
 */
#include "fuzz-common.h"

#include <json-glib/json-glib.h>

#include "spm-json-guard.h"

/* Depth of @node, containers counted as json-glib nests them. */
static guint
spm_fuzz_depth(JsonNode *node, guint limit)
{
    guint deepest = 0;

    if (JSON_NODE_HOLDS_OBJECT(node)) {
        g_autoptr(GList) members = json_object_get_values(json_node_get_object(node));

        for (GList *l = members; l; l = l->next) {
            guint d = spm_fuzz_depth(l->data, limit);   /* once: MAX() would call it twice */

            deepest = MAX(deepest, d);
        }
    } else if (JSON_NODE_HOLDS_ARRAY(node)) {
        JsonArray *a = json_node_get_array(node);

        for (guint i = 0; i < json_array_get_length(a); i++) {
            guint d = spm_fuzz_depth(json_array_get_element(a, i), limit);

            deepest = MAX(deepest, d);
        }
    } else {
        return 0;
    }
    /* deeper than the limit already failed the check below: stop there */
    return MIN(deepest + 1, limit + 1);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) node = NULL;
    guint max_depth;

    if (size < 1)
        return 0;
    max_depth = 1 + data[0] % SPM_JSON_MAX_DEPTH;
    node = spm_json_guard_parse((const char *)data + 1, size - 1, max_depth, &error);
    if (!node) {
        SPM_FUZZ_CLEAN_ERROR(error);
        return 0;
    }
    SPM_FUZZ_CHECK(spm_fuzz_depth(node, max_depth) <= max_depth,
                   "json-glib read deeper than the guard's limit of %u", max_depth);
    return 0;
}
