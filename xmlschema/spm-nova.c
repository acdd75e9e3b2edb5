/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-nova.c: Nova's domain metadata and the spm: flavor extra specs
 */
#include "spm-nova.h"
#include "spm-checked.h"
#include "spm-error.h"
#include "spm-units.h"
#include "spm-xml.h"
#include "spm-xml-node.h"

#include <stdlib.h>
#include <string.h>

#define SPM_GiB (G_GUINT64_CONSTANT(1) << 30)

static const char *const spm_nova_global_keys[] = {
    "devices", "size", "pagesize", "access", "profile",
};
static const char *const spm_nova_device_keys[] = { "size", "host_nodes" };

static void
spm_nova_spec_free(SpmNovaSpec *spec)
{
    g_free(spec->key);
    g_free(spec->value);
    g_free(spec);
}

GPtrArray *
spm_nova_specs_new(void)
{
    return g_ptr_array_new_with_free_func((GDestroyNotify)spm_nova_spec_free);
}

void
spm_nova_specs_add(GPtrArray *specs, const char *key, const char *value)
{
    SpmNovaSpec *spec = g_new0(SpmNovaSpec, 1);

    spec->key = g_strdup(key);
    spec->value = g_strdup(value);
    g_ptr_array_add(specs, spec);
}

/* ---- the domain's metadata ---------------------------------------------- */

/* Nova's elements: in any version of its namespace. */
static gboolean
spm_nova_is_element(xmlNodePtr node, const char *name)
{
    return spm_xml_element_in(node, name, SPM_NOVA_XMLNS_BASE, SPM_XML_NS_PREFIX);
}

static xmlNodePtr
spm_nova_child(xmlNodePtr parent, const char *name)
{
    return spm_xml_child_in(parent, name, SPM_NOVA_XMLNS_BASE, SPM_XML_NS_PREFIX);
}

SpmNovaInstance *
spm_nova_instance_read(xmlNodePtr root)
{
    g_autoptr(SpmNovaInstance) inst = NULL;
    xmlNodePtr instance = spm_nova_child(spm_xml_child(root, "metadata"), "instance");
    xmlNodePtr flavor;
    xmlNodePtr extra;

    if (!instance)
        return NULL;
    inst = g_new0(SpmNovaInstance, 1);
    inst->specs = spm_nova_specs_new();
    flavor = spm_nova_child(instance, "flavor");
    inst->flavor = spm_xml_prop(flavor, "name");
    extra = spm_nova_child(flavor, "extraSpecs");
    inst->has_extra_specs = extra != NULL;
    for (xmlNodePtr n = extra ? extra->children : NULL; n; n = n->next) {
        g_autofree char *key = NULL;
        g_autofree char *value = NULL;

        if (!spm_nova_is_element(n, "extraSpec") || !(key = spm_xml_prop(n, "name")) ||
            !g_str_has_prefix(key, SPM_NOVA_SPEC_PREFIX))
            continue;
        value = spm_xml_text(n);
        spm_nova_specs_add(inst->specs, key, g_strstrip(value));
    }
    return g_steal_pointer(&inst);
}

void
spm_nova_instance_free(SpmNovaInstance *inst)
{
    if (!inst)
        return;
    g_free(inst->flavor);
    g_clear_pointer(&inst->specs, g_ptr_array_unref);
    g_free(inst);
}

gboolean
spm_nova_name_is_safe(const char *name)
{
    if (!name || !*name || name[0] == '.' || strlen(name) > 255)
        return FALSE;
    for (const char *p = name; *p; p++) {
        if (!g_ascii_isalnum(*p) && !strchr("._-", *p))
            return FALSE;
    }
    return TRUE;
}

/* ---- the extra specs ---------------------------------------------------- */

void
spm_nova_request_free(SpmNovaRequest *req)
{
    if (!req)
        return;
    g_free(req->profile);
    g_clear_pointer(&req->devices, g_ptr_array_unref);
    g_free(req);
}

static gboolean
spm_nova_error(GError **error, const char *key, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static gboolean
spm_nova_error(GError **error, const char *key, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID, "%s: %s", key, msg);
    return FALSE;
}

/* "64GiB", "64 GiB", "65536": a scaled integer, libvirt's units, default KiB. */
static gboolean
spm_nova_parse_size(const char *key, const char *value, guint64 *out, GError **error)
{
    const char *unit = value;
    g_autofree char *number = NULL;
    g_autofree char *suffix = NULL;

    while (g_ascii_isdigit(*unit))
        unit++;
    number = g_strndup(value, unit - value);
    suffix = g_strstrip(g_strdup(unit));
    if (!spm_units_parse(key, number, *suffix ? suffix : NULL, 1024, out, error))
        return FALSE;
    if (*out == 0)
        return spm_nova_error(error, key, "size must not be 0");
    return TRUE;
}

static gboolean
spm_nova_known_global(const char *name)
{
    for (gsize i = 0; i < G_N_ELEMENTS(spm_nova_global_keys); i++) {
        if (g_str_equal(name, spm_nova_global_keys[i]))
            return TRUE;
    }
    return FALSE;
}

/*
 * "3.size" -> index 3, field "size"; FALSE when @name is not of the
 * per-device form.
 */
static gboolean
spm_nova_split_device_key(const char *name, guint64 *index, const char **field)
{
    const char *dot = strchr(name, '.');
    g_autofree char *digits = NULL;

    if (!dot || dot == name)
        return FALSE;
    digits = g_strndup(name, dot - name);
    for (const char *p = digits; *p; p++) {
        if (!g_ascii_isdigit(*p))
            return FALSE;
    }
    if (!g_ascii_string_to_unsigned(digits, 10, 0, G_MAXUINT32, index, NULL))
        return FALSE;
    *field = dot + 1;
    return TRUE;
}

static const char *
spm_nova_lookup(GHashTable *keys, const char *name)
{
    return g_hash_table_lookup(keys, name);
}

static int
spm_nova_cmp_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * Every key on its own first (known, one spelling per device index), then
 * against the others (the device exists), each pass in the keys' sorted
 * order: the first error a flavor gets does not depend on a hash table's
 * order, and the Python validators (nova/virt_spm_nova) find the same one.
 */
static gboolean
spm_nova_check_keys(GHashTable *keys, guint ndevices, GError **error)
{
    guint n = 0;
    g_autofree const char **names = (const char **)g_hash_table_get_keys_as_array(keys, &n);

    qsort(names, n, sizeof(*names), spm_nova_cmp_names);
    for (guint i = 0; i < n; i++) {
        const char *name = names[i];
        g_autofree char *key = g_strconcat(SPM_NOVA_SPEC_PREFIX, name, NULL);
        const char *field;
        guint64 index;
        gboolean known = FALSE;

        if (spm_nova_known_global(name))
            continue;
        if (!spm_nova_split_device_key(name, &index, &field))
            return spm_nova_error(error, key, "unknown extra spec (spm:devices, spm:size, "
                                  "spm:N.size, spm:N.host_nodes, spm:pagesize, spm:access, "
                                  "spm:profile)");
        /*
         * The devices are looked up as "%u.size": "01.size" would be
         * accepted here and never read, and "1.size" beside it would pass
         * as no conflict.  One spelling per index.
         */
        if (name[0] == '0' && name[1] != '.')
            return spm_nova_error(error, key, "device index '%.*s' is not written in its "
                                  "canonical form (spm:%" G_GUINT64_FORMAT ".%s)",
                                  (int)(field - 1 - name), name, index, field);
        for (gsize k = 0; k < G_N_ELEMENTS(spm_nova_device_keys); k++)
            known = known || g_str_equal(field, spm_nova_device_keys[k]);
        if (!known)
            return spm_nova_error(error, key, "unknown extra spec (per device: "
                                  "spm:N.size, spm:N.host_nodes)");
    }
    for (guint i = 0; i < n; i++) {
        g_autofree char *key = g_strconcat(SPM_NOVA_SPEC_PREFIX, names[i], NULL);
        const char *field;
        guint64 index;

        if (!spm_nova_known_global(names[i]) &&
            spm_nova_split_device_key(names[i], &index, &field) && index >= ndevices)
            return spm_nova_error(error, key, "device %" G_GUINT64_FORMAT " does not "
                                  "exist (spm:devices=%u: devices 0 to %u)",
                                  index, ndevices, ndevices - 1);
    }
    return TRUE;
}

SpmNovaRequest *
spm_nova_request_parse(const GPtrArray *specs, GError **error)
{
    g_autoptr(SpmNovaRequest) req = g_new0(SpmNovaRequest, 1);
    g_autoptr(GHashTable) keys = g_hash_table_new(g_str_hash, g_str_equal);
    const char *value;
    guint64 ndevices = 1;
    guint64 size = 0;

    req->devices = g_ptr_array_new_with_free_func((GDestroyNotify)spm_mem_device_free);
    for (guint i = 0; i < specs->len; i++) {
        const SpmNovaSpec *spec = g_ptr_array_index(specs, i);
        const char *name;

        if (!g_str_has_prefix(spec->key, SPM_NOVA_SPEC_PREFIX))
            continue;
        name = spec->key + strlen(SPM_NOVA_SPEC_PREFIX);
        if (g_hash_table_contains(keys, name)) {
            spm_nova_error(error, spec->key, "given twice");
            return NULL;
        }
        g_hash_table_insert(keys, (gpointer)name, spec->value);
    }
    if (g_hash_table_size(keys) == 0)
        return g_steal_pointer(&req);

    if ((value = spm_nova_lookup(keys, "profile"))) {
        if (g_hash_table_size(keys) > 1) {
            spm_nova_error(error, "spm:profile", "cannot be combined with other spm: extra "
                           "specs: the profile says it all");
            return NULL;
        }
        if (!spm_nova_name_is_safe(value)) {
            spm_nova_error(error, "spm:profile", "'%s' is not a profile name (letters, "
                           "digits, '.', '_', '-'; not starting with '.')", value);
            return NULL;
        }
        req->profile = g_strdup(value);
        return g_steal_pointer(&req);
    }

    if ((value = spm_nova_lookup(keys, "devices")) &&
        (!g_ascii_string_to_unsigned(value, 10, 1, SPM_NOVA_MAX_DEVICES, &ndevices, NULL) ||
         !g_ascii_isdigit(value[0]))) {
        spm_nova_error(error, "spm:devices", "'%s' is not a number of devices (1-%u)",
                       value, SPM_NOVA_MAX_DEVICES);
        return NULL;
    }
    if (!spm_nova_check_keys(keys, (guint)ndevices, error))
        return NULL;
    if ((value = spm_nova_lookup(keys, "size")) &&
        !spm_nova_parse_size("spm:size", value, &size, error))
        return NULL;
    if ((value = spm_nova_lookup(keys, "pagesize")) &&
        !spm_nova_parse_size("spm:pagesize", value, &req->pagesize, error))
        return NULL;
    if ((value = spm_nova_lookup(keys, "access"))) {
        if (g_str_equal(value, "shared")) {
            req->access = SPM_ACCESS_SHARED;
        } else if (g_str_equal(value, "private")) {
            req->access = SPM_ACCESS_PRIVATE;
        } else {
            spm_nova_error(error, "spm:access", "unknown value '%s' (shared, private)", value);
            return NULL;
        }
    }

    for (guint i = 0; i < ndevices; i++) {
        g_autoptr(SpmMemDevice) dev = spm_mem_device_new(SPM_MEM_MODEL_SPM);
        g_autofree char *size_name = g_strdup_printf("%u.size", i);
        g_autofree char *nodes_name = g_strdup_printf("%u.host_nodes", i);
        g_autofree char *size_key = g_strconcat(SPM_NOVA_SPEC_PREFIX, size_name, NULL);
        g_autofree char *nodes_key = g_strconcat(SPM_NOVA_SPEC_PREFIX, nodes_name, NULL);

        dev->alias = g_strdup_printf("ua-spm%u", i);
        dev->access = req->access;
        dev->source.pagesize = req->pagesize;
        dev->size = size;
        dev->line = i;
        if ((value = spm_nova_lookup(keys, size_name)) &&
            !spm_nova_parse_size(size_key, value, &dev->size, error))
            return NULL;
        if (dev->size == 0) {
            spm_nova_error(error, size_key, "required extra spec is missing (or give spm:size "
                           "for every device)");
            return NULL;
        }
        if ((value = spm_nova_lookup(keys, nodes_name))) {
            if (!spm_nodeset_is_valid(value)) {
                spm_nova_error(error, nodes_key, "'%s' is not a node set such as '0-3,5'", value);
                return NULL;
            }
            dev->source.nodemask = g_strdup(value);
        }
        if (!spm_checked_add(req->total, dev->size, &req->total)) {
            spm_nova_error(error, size_key, "the sizes of the devices overflow 64 bits");
            return NULL;
        }
        g_ptr_array_add(req->devices, g_steal_pointer(&dev));
    }
    return g_steal_pointer(&req);
}

gboolean
spm_nova_request_apply(const SpmNovaRequest *req, SpmDomainDef *def, GError **error)
{
    guint base = def->cells->len ? def->cells->len : 1;

    if (spm_domain_def_count_model(def, SPM_MEM_MODEL_SPM) > 0) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "domain '%s' has SPM devices of its own and a flavor with spm: extra "
                    "specs: use one or the other", def->name);
        return FALSE;
    }
    if (def->cells->len == 0 &&
        !spm_checked_add(def->memory, req->total, &def->memory)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "memory: the domain's RAM and the spm: devices overflow 64 bits");
        return FALSE;
    }
    for (guint i = 0; i < req->devices->len; i++) {
        const SpmMemDevice *src = g_ptr_array_index(req->devices, i);
        SpmMemDevice *dev = spm_mem_device_new(SPM_MEM_MODEL_SPM);

        dev->alias = g_strdup(src->alias);
        dev->access = src->access;
        dev->discard = src->discard;
        dev->source.nodemask = g_strdup(src->source.nodemask);
        dev->source.pagesize = src->source.pagesize;
        dev->size = src->size;
        dev->node = base + i;
        dev->has_node = TRUE;
        dev->line = src->line;
        g_ptr_array_add(def->mems, dev);
    }
    return TRUE;
}

guint64
spm_nova_request_gib(const SpmNovaRequest *req)
{
    return req->total / SPM_GiB + (req->total % SPM_GiB ? 1 : 0);
}

static char *
spm_nova_format_size(guint64 bytes)
{
    guint64 v;
    const char *unit = spm_units_best(bytes, &v);

    return g_strdup_printf("%" G_GUINT64_FORMAT "%s", v, g_str_equal(unit, "bytes") ? "B" : unit);
}

static GStrv
spm_nova_strv(GPtrArray *b)
{
    g_ptr_array_add(b, NULL);
    return (GStrv)g_ptr_array_steal(b, NULL);
}

GStrv
spm_nova_request_properties(const SpmNovaRequest *req)
{
    g_autoptr(GPtrArray) b = g_ptr_array_new_with_free_func(g_free);
    gboolean same = TRUE;
    guint n = req->devices->len;

    if (req->profile) {
        g_ptr_array_add(b, g_strdup_printf("spm:profile=%s", req->profile));
        return spm_nova_strv(b);
    }
    if (n == 0)
        return spm_nova_strv(b);
    for (guint i = 1; i < n; i++) {
        const SpmMemDevice *a = g_ptr_array_index(req->devices, 0);
        const SpmMemDevice *d = g_ptr_array_index(req->devices, i);

        same = same && a->size == d->size;
    }
    g_ptr_array_add(b, g_strdup_printf("spm:devices=%u", n));
    if (same) {
        const SpmMemDevice *d = g_ptr_array_index(req->devices, 0);
        g_autofree char *s = spm_nova_format_size(d->size);

        g_ptr_array_add(b, g_strdup_printf("spm:size=%s", s));
    }
    for (guint i = 0; i < n; i++) {
        const SpmMemDevice *d = g_ptr_array_index(req->devices, i);

        if (!same) {
            g_autofree char *s = spm_nova_format_size(d->size);

            g_ptr_array_add(b, g_strdup_printf("spm:%u.size=%s", i, s));
        }
        if (d->source.nodemask)
            g_ptr_array_add(b, g_strdup_printf("spm:%u.host_nodes=%s", i, d->source.nodemask));
    }
    if (req->pagesize) {
        g_autofree char *s = spm_nova_format_size(req->pagesize);

        g_ptr_array_add(b, g_strdup_printf("spm:pagesize=%s", s));
    }
    if (req->access != SPM_ACCESS_DEFAULT)
        g_ptr_array_add(b, g_strdup_printf("spm:access=%s",
                                               req->access == SPM_ACCESS_SHARED ? "shared" : "private"));
    g_ptr_array_add(b, g_strdup_printf("resources:%s=%" G_GUINT64_FORMAT,
                                           SPM_NOVA_RESOURCE_CLASS, spm_nova_request_gib(req)));
    g_ptr_array_add(b, g_strdup_printf("trait:%s=required", SPM_NOVA_TRAIT));
    return spm_nova_strv(b);
}
