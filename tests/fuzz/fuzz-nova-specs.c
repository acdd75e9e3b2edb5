/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-nova-specs.c: a flavor's extra specs through the spm: parser
 * (xmlschema/spm-nova.c).  Input: one "key=value" a line, as Nova keeps
 * them.  What must hold: a clean one-line refusal, or a request whose
 * canonical properties name every per-device key the flavor gave (a key
 * the parser accepted and then never read, as spm:01.size was, is the
 * failure) and parse again to the same devices.
 */
#include "fuzz-common.h"

#include "spm-nova.h"

static GPtrArray *
spm_fuzz_specs(const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", 0);
    GPtrArray *specs = spm_nova_specs_new();

    for (guint i = 0; lines[i]; i++) {
        char *eq = strchr(lines[i], '=');

        if (!eq)
            continue;
        *eq = '\0';
        spm_nova_specs_add(specs, lines[i], eq + 1);
    }
    return specs;
}

/* "spm:N.field" with N all digits */
static gboolean
spm_fuzz_is_device_key(const char *key)
{
    const char *p = key + strlen("spm:");

    if (!g_str_has_prefix(key, "spm:") || !g_ascii_isdigit(*p))
        return FALSE;
    while (g_ascii_isdigit(*p))
        p++;
    return *p == '.';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autofree char *text = g_strndup((const char *)data, size);
    g_autoptr(GPtrArray) specs = NULL;
    g_autoptr(GPtrArray) again_specs = NULL;
    g_autoptr(SpmNovaRequest) req = NULL;
    g_autoptr(SpmNovaRequest) again = NULL;
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) props = NULL;

    if (strlen(text) != size)
        return 0;               /* Nova's strings hold no NUL */
    specs = spm_fuzz_specs(text);
    req = spm_nova_request_parse(specs, &error);
    if (!req) {
        SPM_FUZZ_CLEAN_ERROR(error);
        return 0;
    }
    if (req->profile || req->devices->len == 0)
        return 0;
    props = spm_nova_request_properties(req);
    for (guint i = 0; i < specs->len; i++) {
        const SpmNovaSpec *spec = specs->pdata[i];
        gboolean named = FALSE;

        if (!spm_fuzz_is_device_key(spec->key))
            continue;
        for (guint p = 0; props[p] && !named; p++) {
            gsize n = strlen(spec->key);

            named = strncmp(props[p], spec->key, n) == 0 && props[p][n] == '=';
        }
        SPM_FUZZ_CHECK(named, "'%s' was accepted and is not in the request", spec->key);
    }
    /* the canonical form reads back as the same devices */
    again_specs = spm_nova_specs_new();
    for (guint p = 0; props[p]; p++) {
        g_auto(GStrv) kv = g_strsplit(props[p], "=", 2);

        if (kv[0] && kv[1])
            spm_nova_specs_add(again_specs, kv[0], kv[1]);
    }
    again = spm_nova_request_parse(again_specs, &error);
    SPM_FUZZ_CHECK(again, "the canonical properties are refused: %s", error ? error->message : "");
    SPM_FUZZ_CHECK(again->devices->len == req->devices->len && again->total == req->total,
                   "the canonical properties read as other devices");
    for (guint i = 0; i < req->devices->len; i++) {
        const SpmMemDevice *a = req->devices->pdata[i];
        const SpmMemDevice *b = again->devices->pdata[i];

        SPM_FUZZ_CHECK(a->size == b->size && g_strcmp0(a->source.nodemask, b->source.nodemask) == 0,
                       "device %u reads back otherwise", i);
    }
    return 0;
}
