/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-nova-flavor.c: `virt-spm nova flavor`: the flavor properties that
 * give a Nova guest SPM memory, checked offline with the rules the hook
 * applies at start (docs/nova.md).
 *
 *   virt-spm nova flavor --name gpu.hbm.2x spm:devices=2 spm:size=64GiB
 *   openstack flavor set gpu.hbm.2x --property spm:devices=2 ...
 *
 * Placement's part is one granular request group per device, for hosts
 * whose HBM nodes are child providers (`virt-spm nova placement-sync`):
 *   resources_spmN:CUSTOM_SPM_HBM_GIB=GIB trait_spmN:CUSTOM_SPM_MEMORY=required
 *   [trait_spmN:CUSTOM_SPM_HOST_NODE_H=required for spm:N.host_nodes=H]
 *   group_policy=none (two devices may share a host node, as the ledger admits)
 * or, with --pooled, the single resources:CUSTOM_SPM_HBM_GIB of the hosts
 * that use the provider file (`virt-spm nova provider-config`).
 *
 * With --check the arguments are a flavor's properties as they are: the
 * spm: ones must be valid, and Placement's properties (either form) must be
 * there and agree with them, or the scheduler would put the guest on a host
 * without the HBM.
 */
#include <stdio.h>
#include <string.h>

#include "spm-config.h"
#include "spm-error.h"
#include "spm-nova-config.h"
#include "spm-nova.h"
#include "virt-spm-commands.h"

#define SPM_NOVA_RESOURCE_KEY "resources:" SPM_NOVA_RESOURCE_CLASS
#define SPM_NOVA_TRAIT_KEY "trait:" SPM_NOVA_TRAIT

/* Quote for a POSIX shell only what needs it. */
static char *
spm_nova_shell_word(const char *word)
{
    for (const char *p = word; *p; p++) {
        if (!g_ascii_isalnum(*p) && !strchr("_-.:=/,+@%", *p))
            return g_shell_quote(word);
    }
    return g_strdup(word);
}

#define SPM_NOVA_GROUP_PREFIX "resources_spm"
#define SPM_NOVA_GROUP_TRAIT_PREFIX "trait_spm"
#define SPM_GIB (G_GUINT64_CONSTANT(1) << 30)

static guint64
spm_nova_device_gib(const SpmMemDevice *d)
{
    return d->size / SPM_GIB + (d->size % SPM_GIB ? 1 : 0);
}

/* A group is one provider, that is one host node: a node set of several cannot be asked. */
static gboolean
spm_nova_single_node(const char *nodemask)
{
    for (const char *p = nodemask; *p; p++) {
        if (!g_ascii_isdigit(*p))
            return FALSE;
    }
    return *nodemask != '\0';
}

/* Device @i's granular group: its amount, the trait, and its host node when bound. */
static gboolean
spm_nova_group_properties(const SpmMemDevice *d, guint i, GPtrArray *out, GError **error)
{
    g_ptr_array_add(out, g_strdup_printf(SPM_NOVA_GROUP_PREFIX "%u:" SPM_NOVA_RESOURCE_CLASS
                                         "=%" G_GUINT64_FORMAT, i, spm_nova_device_gib(d)));
    g_ptr_array_add(out, g_strdup_printf(SPM_NOVA_GROUP_TRAIT_PREFIX "%u:" SPM_NOVA_TRAIT
                                         "=required", i));
    if (d->source.nodemask) {
        if (!spm_nova_single_node(d->source.nodemask)) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "spm:%u.host_nodes=%s: a Placement request group is one host node; "
                        "give one node, or use --pooled with the provider file",
                        i, d->source.nodemask);
            return FALSE;
        }
        g_ptr_array_add(out, g_strdup_printf(SPM_NOVA_GROUP_TRAIT_PREFIX
                                             "%u:CUSTOM_SPM_HOST_NODE_%s=required",
                                             i, d->source.nodemask));
    }
    return TRUE;
}

static gboolean
spm_nova_is_granular_key(const char *key)
{
    return g_str_has_prefix(key, SPM_NOVA_GROUP_PREFIX) ||
           g_str_has_prefix(key, SPM_NOVA_GROUP_TRAIT_PREFIX);
}

/* --check of the granular form: exactly the groups the devices need. */
static gboolean
spm_nova_check_granular(const SpmNovaRequest *req, GHashTable *others, GError **error)
{
    g_autoptr(GPtrArray) want = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GHashTable) wanted = g_hash_table_new(g_str_hash, g_str_equal);
    const char *policy = g_hash_table_lookup(others, "group_policy");
    GHashTableIter it;
    gpointer key, value;

    if (g_hash_table_contains(others, SPM_NOVA_RESOURCE_KEY)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "%s and " SPM_NOVA_GROUP_PREFIX "N: the pooled and the per-node forms exclude "
                    "each other", SPM_NOVA_RESOURCE_KEY);
        return FALSE;
    }
    for (guint i = 0; i < req->devices->len; i++) {
        if (!spm_nova_group_properties(g_ptr_array_index(req->devices, i), i, want, error))
            return FALSE;
    }
    for (guint i = 0; i < want->len; i++) {
        char *prop = want->pdata[i];
        char *eq = strchr(prop, '=');
        const char *have;

        *eq = '\0';
        g_hash_table_add(wanted, prop);
        have = g_hash_table_lookup(others, prop);
        if (!have || !g_str_equal(have, eq + 1)) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "%s=%s %s: Placement must place each SPM device on one HBM node", prop,
                        eq + 1, have ? "disagrees with the property given" : "is missing");
            return FALSE;
        }
    }
    g_hash_table_iter_init(&it, others);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        if (spm_nova_is_granular_key(key) && g_str_has_suffix(key, ":" SPM_NOVA_RESOURCE_CLASS) &&
            !g_hash_table_contains(wanted, key)) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "%s=%s: the spm: extra specs ask for %u SPM device%s", (char *)key,
                        (char *)value, req->devices->len, req->devices->len == 1 ? "" : "s");
            return FALSE;
        }
    }
    if (req->devices->len > 1 && (!policy || !g_str_equal(policy, "none"))) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "group_policy=%s: expected 'none' (two devices may share a host node)",
                    policy ? policy : "(missing)");
        return FALSE;
    }
    return TRUE;
}

/* The Placement properties given must be what the spm: ones need. */
static gboolean
spm_nova_check_placement(const SpmNovaRequest *req, GHashTable *others, gboolean check,
                         GError **error)
{
    const char *res = g_hash_table_lookup(others, SPM_NOVA_RESOURCE_KEY);
    const char *trait = g_hash_table_lookup(others, SPM_NOVA_TRAIT_KEY);
    g_autofree char *want = g_strdup_printf("%" G_GUINT64_FORMAT, spm_nova_request_gib(req));

    if (res && !g_str_equal(res, want)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "%s=%s: the spm: extra specs ask for %s GiB", SPM_NOVA_RESOURCE_KEY, res, want);
        return FALSE;
    }
    if (trait && !g_str_equal(trait, "required")) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "%s=%s: expected 'required'", SPM_NOVA_TRAIT_KEY, trait);
        return FALSE;
    }
    if (check && req->devices->len > 0 && !res) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "%s=%s is missing: without it Placement may pick a host without the HBM",
                    SPM_NOVA_RESOURCE_KEY, want);
        return FALSE;
    }
    if (check && req->devices->len > 0 && !trait) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "%s=required is missing: without it Placement may pick a host without "
                    "virt-spm", SPM_NOVA_TRAIT_KEY);
        return FALSE;
    }
    return TRUE;
}

gboolean
spm_cmd_nova_flavor(int argc, char **argv, const SpmGlobalOptions *global, int *st,
                    GError **error)
{
    g_autofree char *name = NULL;
    g_autofree char *profile = NULL;
    gboolean check = FALSE;
    gboolean pooled = FALSE;
    gboolean granular = FALSE;
    GOptionEntry entries[] = {
        { "name", 'n', 0, G_OPTION_ARG_STRING, &name, "the flavor (default: FLAVOR)", "FLAVOR" },
        { "profile", 'p', 0, G_OPTION_ARG_STRING, &profile,
          "use the profile " VIRT_SPM_SYSCONFDIR "/profiles.d/NAME.conf", "NAME" },
        { "check", 0, 0, G_OPTION_ARG_NONE, &check,
          "check a flavor's properties (KEY=VALUE...) instead of printing them", NULL },
        { "pooled", 0, 0, G_OPTION_ARG_NONE, &pooled,
          "print one pooled " SPM_NOVA_RESOURCE_CLASS " (hosts with the provider file) instead of "
          "a request group per device", NULL },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("[SPEC...] - SPM memory of a Nova flavor");
    g_autoptr(GError) local = NULL;
    g_auto(GStrv) args = g_new0(char *, argc + 1);
    g_autoptr(SpmConfig) config = NULL;
    g_autoptr(SpmNovaConfig) cfg = NULL;
    g_autoptr(GPtrArray) specs = spm_nova_specs_new();
    g_autoptr(GHashTable) others = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_autoptr(SpmNovaRequest) req = NULL;
    g_autoptr(GString) line = NULL;
    g_auto(GStrv) props = NULL;
    g_autofree char *source = NULL;

    for (int i = 0; i < argc; i++)
        args[i] = g_strdup(argv[i]);
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse_strv(ctx, &args, &local)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_USAGE, "nova flavor: %s", local->message);
        return FALSE;
    }
    for (char **a = args + 1; *a; a++) {
        const char *eq = strchr(*a, '=');
        g_autofree char *key = NULL;

        if (!eq || eq == *a) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_USAGE,
                        "nova flavor: '%s' is not a property KEY=VALUE (e.g. spm:size=64GiB)", *a);
            return FALSE;
        }
        key = g_strndup(*a, eq - *a);
        granular = granular || spm_nova_is_granular_key(key);
        if (g_str_has_prefix(key, SPM_NOVA_SPEC_PREFIX))
            spm_nova_specs_add(specs, key, eq + 1);
        else
            g_hash_table_replace(others, g_steal_pointer(&key), g_strdup(eq + 1));
    }
    if (profile) {
        if (specs->len > 0) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_USAGE,
                        "nova flavor: --profile and spm: extra specs exclude each other");
            return FALSE;
        }
        spm_nova_specs_add(specs, SPM_NOVA_SPEC_PREFIX "profile", profile);
    }
    if (specs->len == 0 && !check) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_USAGE,
                    "nova flavor: give --profile NAME or spm: extra specs (spm:size=64GiB ...)");
        return FALSE;
    }

    if (!(config = spm_config_load(global->config_path, error)) ||
        !(cfg = spm_nova_config_load(config->keyfile, error)))
        return FALSE;
    source = g_strdup_printf("flavor '%s'", name ? name : "FLAVOR");
    if (!(req = spm_nova_request_load(cfg, specs, source, error)))
        return FALSE;
    if (granular ? !spm_nova_check_granular(req, others, error)
                 : !spm_nova_check_placement(req, others, check, error))
        return FALSE;

    if (check) {
        if (req->devices->len == 0)
            printf("%s asks for no SPM memory\n", source);
        else
            printf("%s: %u SPM device%s, %" G_GUINT64_FORMAT " GiB of " SPM_NOVA_RESOURCE_CLASS "\n",
                   source, req->devices->len, req->devices->len == 1 ? "" : "s",
                   spm_nova_request_gib(req));
        return TRUE;
    }

    props = spm_nova_request_properties(req);
    if (profile) {
        /* A profile stays a profile in the flavor: its file may change later;
         * its devices decide Placement's amount. */
        g_autoptr(GPtrArray) kept = g_ptr_array_new_with_free_func(g_free);

        g_ptr_array_add(kept, g_strdup_printf(SPM_NOVA_SPEC_PREFIX "profile=%s", profile));
        for (char **p = props; *p; p++) {
            if (!g_str_has_prefix(*p, SPM_NOVA_SPEC_PREFIX))
                g_ptr_array_add(kept, g_strdup(*p));
        }
        g_ptr_array_add(kept, NULL);
        g_strfreev(props);
        props = (GStrv)g_ptr_array_steal(kept, NULL);
    }
    if (!pooled && req->devices->len > 0) {
        /* the pooled pair gives way to one group per device */
        g_autoptr(GPtrArray) groups = g_ptr_array_new_with_free_func(g_free);

        for (char **p = props; *p; p++) {
            if (!g_str_has_prefix(*p, SPM_NOVA_RESOURCE_KEY "=") &&
                !g_str_has_prefix(*p, SPM_NOVA_TRAIT_KEY "="))
                g_ptr_array_add(groups, g_strdup(*p));
        }
        for (guint i = 0; i < req->devices->len; i++) {
            if (!spm_nova_group_properties(g_ptr_array_index(req->devices, i), i, groups, error))
                return FALSE;
        }
        if (req->devices->len > 1)
            g_ptr_array_add(groups, g_strdup("group_policy=none"));
        g_ptr_array_add(groups, NULL);
        g_strfreev(props);
        props = (GStrv)g_ptr_array_steal(groups, NULL);
    }
    {
        g_autofree char *flavor = spm_nova_shell_word(name ? name : "FLAVOR");

        line = g_string_new("openstack flavor set ");
        g_string_append(line, flavor);
    }
    for (char **p = props; *p; p++) {
        g_autofree char *word = spm_nova_shell_word(*p);

        g_string_append_printf(line, " --property %s", word);
    }
    printf("%s\n", line->str);
    return TRUE;
}
