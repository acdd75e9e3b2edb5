/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fx-cmdline.c: QEMU command lines -> the QEMU model's inputs (tests only).
 */
#include <stdio.h>
#include <string.h>
#include <json-glib/json-glib.h>

#include "fx-cmdline.h"

static void
fx_backend_free(FxBackend *b)
{
    g_free(b->id);
    g_free(b);
}

void
fx_cmdline_free(FxCmdline *c)
{
    g_ptr_array_unref(c->backends);
    g_array_unref(c->node_ids);
    g_array_unref(c->devs);
    g_string_chunk_free(c->strings);
    g_free(c);
}

/* QEMU sizes: plain number = @default_unit bytes, or K/M/G/T suffix. */
static guint64
fx_size(const char *s, guint64 default_unit)
{
    char *end = NULL;
    guint64 v = g_ascii_strtoull(s, &end, 0);

    switch (g_ascii_toupper(*end)) {
    case '\0': return v * default_unit;
    case 'B': return v;
    case 'K': return v << 10;
    case 'M': return v << 20;
    case 'G': return v << 30;
    case 'T': return v << 40;
    }
    g_error("bad size '%s'", s);
    return 0;
}

/* "a,k=v,k2=v2" -> first (no '=') in *first, the rest in a table. */
static GHashTable *
fx_opts(const char *arg, char **first)
{
    GHashTable *t = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_auto(GStrv) parts = g_strsplit(arg, ",", -1);

    if (first)
        *first = NULL;
    for (guint i = 0; parts[i]; i++) {
        char *eq = strchr(parts[i], '=');

        if (!eq) {
            if (i == 0 && first)
                *first = g_strdup(parts[i]);
            else
                g_hash_table_insert(t, g_strdup(parts[i]), g_strdup("on"));
            continue;
        }
        *eq = '\0';
        g_hash_table_insert(t, g_strdup(parts[i]), g_strdup(eq + 1));
    }
    return t;
}

static const FxBackend *
fx_find_backend(FxCmdline *c, const char *id)
{
    for (guint i = 0; id && i < c->backends->len; i++) {
        FxBackend *b = g_ptr_array_index(c->backends, i);

        if (g_str_equal(b->id, id))
            return b;
    }
    return NULL;
}

static gboolean
fx_cpu_is_amd(const char *model)
{
    static const char *const amd[] = { "qemu64", "EPYC", "Opteron", "phenom", "athlon" };

    for (guint i = 0; i < G_N_ELEMENTS(amd); i++) {
        if (g_ascii_strncasecmp(model, amd[i], strlen(amd[i])) == 0)
            return TRUE;
    }
    return FALSE;
}

static void
fx_machine(FxCmdline *c, const char *arg)
{
    g_autofree char *type = NULL;
    g_autoptr(GHashTable) o = fx_opts(arg, &type);
    const char *v;
    guint major = 0, minor = 0;

    if (!type)
        type = g_strdup(g_hash_table_lookup(o, "type"));
    g_assert_nonnull(type);
    if (g_str_has_prefix(type, "pc-q35") || g_str_equal(type, "q35"))
        c->cfg.kind = SPM_MACHINE_Q35;
    else
        c->cfg.kind = SPM_MACHINE_I440FX;
    if (sscanf(type, "pc-%*[a-z0-9]-%u.%u", &major, &minor) == 2)
        c->cfg.amd_1tb_hole = major > 7 || (major == 7 && minor >= 1);
    if ((v = g_hash_table_lookup(o, "max-ram-below-4g")))
        c->cfg.max_ram_below_4g = fx_size(v, 1);
    if ((v = g_hash_table_lookup(o, "acpi")))
        c->cfg.acpi = !g_str_equal(v, "off");
}

static void
fx_object(FxCmdline *c, const char *arg)
{
    g_autofree char *type = NULL;
    g_autoptr(GHashTable) o = fx_opts(arg, &type);
    FxBackend *b = g_new0(FxBackend, 1);
    const char *v;

    b->id = g_strdup(g_hash_table_lookup(o, "id"));
    b->size = fx_size(g_hash_table_lookup(o, "size"), 1);
    if (g_str_equal(type, "memory-backend-ram")) {
        b->align = 2 * SPM_MiB;             /* anonymous RAM, x86_64 Linux host */
    } else {
        guint64 page = 4 * SPM_KiB;

        if ((v = g_hash_table_lookup(o, "hugetlb")) && g_str_equal(v, "on"))
            page = (v = g_hash_table_lookup(o, "hugetlbsize")) ? fx_size(v, 1) : 2 * SPM_MiB;
        if ((v = g_hash_table_lookup(o, "mem-path")) && g_str_has_prefix(v, "/dev/hugepages"))
            page = 2 * SPM_MiB;
        b->align = page;
        if ((v = g_hash_table_lookup(o, "align")) && fx_size(v, 1) > page)
            b->align = fx_size(v, 1);
    }
    g_ptr_array_add(c->backends, b);
}

/* The kind of @driver; an SPM device's driver also says the revision QEMU has. */
static SpmQemuDevKind
fx_dev_kind(FxCmdline *c, const char *driver)
{
    SpmDeviceRev rev;

    if (spm_device_rev_from_string(driver, &rev)) {
        c->cfg.spm_device = rev;
        return SPM_QEMU_DEV_SPM;
    }
    if (g_str_equal(driver, "pc-dimm"))
        return SPM_QEMU_DEV_PC_DIMM;
    if (g_str_equal(driver, "nvdimm"))
        return SPM_QEMU_DEV_NVDIMM;
    if (g_str_equal(driver, "virtio-mem-pci"))
        return SPM_QEMU_DEV_VIRTIO_MEM;
    g_assert_cmpstr(driver, ==, "virtio-pmem-pci");
    return SPM_QEMU_DEV_VIRTIO_PMEM;
}

/* Fill @d from property @key = @val (strings as on a key=value line). */
static void
fx_dev_prop(FxCmdline *c, SpmQemuMemDev *d, const char *key, const char *val)
{
    if (g_str_equal(key, "id"))
        d->id = g_string_chunk_insert(c->strings, val);
    else if (g_str_equal(key, "memdev"))
        d->memdev = g_string_chunk_insert(c->strings, val);
    else if (g_str_equal(key, "node"))
        d->node = (guint)g_ascii_strtoull(val, NULL, 0);
    else if (g_str_equal(key, "addr") || g_str_equal(key, "memaddr"))
        d->addr = g_ascii_strtoull(val, NULL, 0);
    else if (g_str_equal(key, "slot"))
        d->slot = (int)g_ascii_strtoll(val, NULL, 0);
    else if (g_str_equal(key, "label-size"))
        d->label_size = fx_size(val, 1);
    else if (g_str_equal(key, "block-size"))
        d->block_size = fx_size(val, 1);
}

static void
fx_device(FxCmdline *c, const char *arg)
{
    SpmQemuMemDev d = { 0 };
    const FxBackend *b;

    d.slot = -1;
    if (arg[0] == '{') {
        g_autoptr(JsonParser) p = json_parser_new();
        g_autoptr(GError) err = NULL;
        JsonObject *o;
        g_autoptr(GList) members = NULL;

        g_assert_true(json_parser_load_from_data(p, arg, -1, &err));
        g_assert_no_error(err);
        o = json_node_get_object(json_parser_get_root(p));
        d.json = TRUE;
        d.kind = fx_dev_kind(c, json_object_get_string_member(o, "driver"));
        members = json_object_get_members(o);
        for (GList *l = members; l; l = l->next) {
            JsonNode *n = json_object_get_member(o, l->data);
            g_autofree char *val = NULL;

            if (json_node_get_value_type(n) == G_TYPE_STRING)
                val = g_strdup(json_node_get_string(n));
            else
                val = g_strdup_printf("%" G_GINT64_FORMAT, json_node_get_int(n));
            fx_dev_prop(c, &d, l->data, val);
        }
    } else {
        g_autofree char *driver = NULL;
        g_autoptr(GHashTable) o = fx_opts(arg, &driver);
        GHashTableIter it;
        gpointer k, v;

        d.kind = fx_dev_kind(c, driver);
        g_hash_table_iter_init(&it, o);
        while (g_hash_table_iter_next(&it, &k, &v))
            fx_dev_prop(c, &d, k, v);
    }
    if ((b = fx_find_backend(c, d.memdev))) {
        d.backend_size = b->size;
        d.backend_align = b->align;
    }
    g_array_append_val(c->devs, d);
}

FxCmdline *
fx_parse(char *text)
{
    FxCmdline *c = g_new0(FxCmdline, 1);
    g_auto(GStrv) argv = NULL;
    const char *cpu = "qemu64";
    g_autofree char *cpu_owned = NULL;

    c->backends = g_ptr_array_new_with_free_func((GDestroyNotify)fx_backend_free);
    c->node_ids = g_array_new(FALSE, FALSE, sizeof(guint));
    c->devs = g_array_new(FALSE, TRUE, sizeof(SpmQemuMemDev));
    c->strings = g_string_chunk_new(256);
    c->cfg.kind = SPM_MACHINE_I440FX;
    c->cfg.amd_1tb_hole = TRUE;         /* unversioned = latest */
    c->cfg.acpi = TRUE;
    c->cfg.gigabyte_align = TRUE;
    c->cfg.phys_bits = 40;
    c->cfg.spm_device = SPM_DEVICE_SP_MEM;     /* until an SPM -device says otherwise */
    c->cfg.ram_size = 128 * SPM_MiB;

    /* the fixtures are one argument per word, JSON without spaces: no shell quoting */
    argv = g_strsplit_set(g_strstrip(text), " \t\n", -1);

    for (guint i = 0; argv[i]; i++) {
        const char *opt = argv[i];
        const char *arg = argv[i + 1];

        if (opt[0] != '-' || !arg || !*arg)
            continue;
        if (g_str_equal(opt, "-machine") || g_str_equal(opt, "-M")) {
            fx_machine(c, arg);
        } else if (g_str_equal(opt, "-m")) {
            g_autofree char *first = NULL;
            g_autoptr(GHashTable) o = fx_opts(arg, &first);
            const char *v;

            if (first)
                c->cfg.ram_size = fx_size(first, SPM_MiB);
            if ((v = g_hash_table_lookup(o, "size")))
                c->cfg.ram_size = fx_size(v, SPM_MiB);
            if ((v = g_hash_table_lookup(o, "slots")))
                c->cfg.slots = (guint)g_ascii_strtoull(v, NULL, 10);
            /* only the RAM size has the legacy suffix-less MiB; maxmem is bytes */
            if ((v = g_hash_table_lookup(o, "maxmem")))
                c->cfg.maxmem = fx_size(v, 1);
        } else if (g_str_equal(opt, "-cpu")) {
            g_autoptr(GHashTable) o = fx_opts(arg, &cpu_owned);
            const char *v;

            cpu = cpu_owned;
            if ((v = g_hash_table_lookup(o, "phys-bits")))
                c->cfg.phys_bits = (guint)g_ascii_strtoull(v, NULL, 10);
        } else if (g_str_equal(opt, "-object")) {
            fx_object(c, arg);
        } else if (g_str_equal(opt, "-numa")) {
            g_autofree char *type = NULL;
            g_autoptr(GHashTable) o = fx_opts(arg, &type);
            const char *v = g_hash_table_lookup(o, "nodeid");
            guint id = v ? (guint)g_ascii_strtoull(v, NULL, 10) : c->node_ids->len;

            g_assert_cmpstr(type, ==, "node");
            g_array_append_val(c->node_ids, id);
            if ((v = g_hash_table_lookup(o, "memdev")) && id < 64)
                c->cfg.numa_node_has_ram |= G_GUINT64_CONSTANT(1) << id;
        } else if (g_str_equal(opt, "-device")) {
            fx_device(c, arg);
        } else {
            continue;
        }
        i++;
    }
    c->cfg.cpu_amd = fx_cpu_is_amd(cpu);
    return c;
}

gboolean
fx_run(FxCmdline *c, SpmMachineLayout *layout, GError **error)
{
    if (!spm_qemu_numa_check((guint *)(void *)c->node_ids->data, c->node_ids->len,
                             &c->cfg.nb_numa_nodes, error))
        return FALSE;
    if (!spm_qemu_machine_layout(&c->cfg, layout, error))
        return FALSE;
    return spm_qemu_place(&c->cfg, layout, (SpmQemuMemDev *)(void *)c->devs->data,
                          c->devs->len, error);
}

const SpmQemuMemDev *
fx_find_dev(const FxCmdline *c, const char *id)
{
    for (guint j = 0; j < c->devs->len; j++) {
        const SpmQemuMemDev *cand = &g_array_index(c->devs, SpmQemuMemDev, j);

        if (g_strcmp0(cand->id, id) == 0)
            return cand;
    }
    return NULL;
}
