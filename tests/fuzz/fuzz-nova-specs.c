/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz-nova-specs.c: a flavor's extra specs through the spm: parser
 * (xmlschema/spm-nova.c).  Input: one "key=value" a line, as Nova keeps
 * them.  What must hold: a clean one-line refusal, or a request that
 * reads every per-device key the flavor gave (a key accepted and then
 * never read, as spm:01.size was, is the
 * failure: every accepted spm:N.size and spm:N.host_nodes is what device
 * N has) and whose canonical properties parse again to the same devices.
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

/* "spm:N.field" with N all digits: N and field */
static gboolean
spm_fuzz_device_key(const char *key, guint64 *index, const char **field)
{
    const char *p = key + strlen("spm:");
    const char *digits = p;

    if (!g_str_has_prefix(key, "spm:") || !g_ascii_isdigit(*p))
        return FALSE;
    while (g_ascii_isdigit(*p))
        p++;
    if (*p != '.' || p - digits > 9)
        return FALSE;
    *index = g_ascii_strtoull(digits, NULL, 10);
    *field = p + 1;
    return TRUE;
}

/* The size @value means on its own, as spm:size; 0 when refused. */
static guint64
spm_fuzz_size_of(const char *value)
{
    g_autoptr(GPtrArray) one = spm_nova_specs_new();
    g_autoptr(SpmNovaRequest) req = NULL;

    spm_nova_specs_add(one, "spm:size", value);
    req = spm_nova_request_parse(one, NULL);
    return req && req->devices->len ? ((SpmMemDevice *)req->devices->pdata[0])->size : 0;
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
    for (guint i = 0; i < specs->len; i++) {
        const SpmNovaSpec *spec = specs->pdata[i];
        const SpmMemDevice *dev;
        const char *field;
        guint64 index;

        if (!spm_fuzz_device_key(spec->key, &index, &field))
            continue;
        SPM_FUZZ_CHECK(index < req->devices->len, "'%s' accepted beyond the devices", spec->key);
        dev = req->devices->pdata[index];
        if (g_str_equal(field, "size"))
            SPM_FUZZ_CHECK(dev->size == spm_fuzz_size_of(spec->value),
                           "'%s=%s' accepted, device %" G_GUINT64_FORMAT " has another size",
                           spec->key, spec->value, index);
        else if (g_str_equal(field, "host_nodes"))
            SPM_FUZZ_CHECK(g_strcmp0(dev->source.nodemask, spec->value) == 0,
                           "'%s=%s' accepted, device %" G_GUINT64_FORMAT " has other nodes",
                           spec->key, spec->value, index);
    }
    props = spm_nova_request_properties(req);
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
