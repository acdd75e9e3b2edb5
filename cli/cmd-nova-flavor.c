/*
 * cmd-nova-flavor.c: `virt-spm nova flavor`: the flavor properties that
 * give a Nova guest SPM memory, checked offline with the rules the hook
 * applies at start (docs/nova.md).
 *
 *   virt-spm nova flavor --name gpu.hbm.2x spm:devices=2 spm:size=64GiB
 *   openstack flavor set gpu.hbm.2x --property spm:devices=2 ...
 *
 * With --check the arguments are a flavor's properties as they are: the
 * spm: ones must be valid, and Placement's resources:CUSTOM_SPM_HBM_GIB and
 * trait:CUSTOM_SPM_MEMORY=required must be there and agree with them, or
 * the scheduler would put the guest on a host without the HBM.
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
    GOptionEntry entries[] = {
        { "name", 'n', 0, G_OPTION_ARG_STRING, &name, "the flavor (default: FLAVOR)", "FLAVOR" },
        { "profile", 'p', 0, G_OPTION_ARG_STRING, &profile,
          "use the profile " VIRT_SPM_SYSCONFDIR "/profiles.d/NAME.conf", "NAME" },
        { "check", 0, 0, G_OPTION_ARG_NONE, &check,
          "check a flavor's properties (KEY=VALUE...) instead of printing them", NULL },
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
    if (!spm_nova_check_placement(req, others, check, error))
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
