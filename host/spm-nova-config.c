/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-nova-config.c: flavors, profiles and plan files of Nova guests
 */
#include "spm-nova-config.h"
#include "spm-env.h"
#include "spm-error.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "spm-build-config.h"

const char *
spm_nova_default_wrapper(void)
{
    return VIRT_SPM_LIBEXECDIR "/virt-spm/bin/qemu-system-x86_64";
}

char *
spm_nova_real_qemu(const SpmNovaConfig *cfg)
{
    g_autofree char *dir = g_path_get_dirname(cfg->wrapper);
    g_autofree char *base = g_path_get_basename(cfg->wrapper);
    g_autofree char *beside = g_build_filename(dir, "..", "real", base, NULL);
    const char *search = spm_env(SPM_ENV_PATH);
    g_auto(GStrv) path = g_strsplit(search ? search : "", ":", -1);
    GStatBuf self, st;
    gboolean have_self = g_stat(cfg->wrapper, &self) == 0;

    if (g_access(beside, X_OK) == 0)
        return g_steal_pointer(&beside);
    for (char **p = path; *p; p++) {
        g_autofree char *cand = NULL;

        if (!**p)
            continue;
        cand = g_build_filename(*p, base, NULL);
        if (g_stat(cand, &st) == 0 && S_ISREG(st.st_mode) && g_access(cand, X_OK) == 0 &&
            !(have_self && st.st_dev == self.st_dev && st.st_ino == self.st_ino))
            return g_steal_pointer(&cand);
    }
    return g_strdup("/usr/bin/qemu-system-x86_64");
}

static char *
spm_nova_config_string(GKeyFile *kf, const char *key, const char *def)
{
    g_autofree char *v = kf ? g_key_file_get_string(kf, "nova", key, NULL) : NULL;

    if (v && *g_strstrip(v))
        return g_steal_pointer(&v);
    return g_strdup(def);
}

SpmNovaConfig *
spm_nova_config_load(GKeyFile *kf, GError **error)
{
    g_autoptr(SpmNovaConfig) cfg = g_new0(SpmNovaConfig, 1);
    g_auto(GStrv) flavors = NULL;

    cfg->profiles_dir = spm_nova_config_string(kf, "profiles_dir",
                                               VIRT_SPM_SYSCONFDIR "/profiles.d");
    cfg->flavors_dir = spm_nova_config_string(kf, "flavors_dir",
                                              VIRT_SPM_SYSCONFDIR "/flavors.d");
    cfg->wrapper = spm_nova_config_string(kf, "wrapper", spm_nova_default_wrapper());
    cfg->flavors = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

    if (kf)
        flavors = g_key_file_get_string_list(kf, "nova", "flavors", NULL, NULL);
    for (char **f = flavors; f && *f; f++) {
        g_autofree char *entry = g_strstrip(g_strdup(*f));
        char *eq = strchr(entry, '=');
        g_autofree char *flavor = NULL;
        g_autofree char *profile = NULL;

        if (!*entry)
            continue;
        if (eq) {
            flavor = g_strstrip(g_strndup(entry, eq - entry));
            profile = g_strstrip(g_strdup(eq + 1));
        }
        if (!eq || !*flavor || !spm_nova_name_is_safe(profile)) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "[nova] flavors: '%s' is not FLAVOR=PROFILE (a profile name: letters, "
                        "digits, '.', '_', '-')", entry);
            return NULL;
        }
        if (g_hash_table_contains(cfg->flavors, flavor)) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "[nova] flavors: flavor '%s' is mapped twice", flavor);
            return NULL;
        }
        g_hash_table_insert(cfg->flavors, g_steal_pointer(&flavor), g_steal_pointer(&profile));
    }
    return g_steal_pointer(&cfg);
}

void
spm_nova_config_free(SpmNovaConfig *cfg)
{
    if (!cfg)
        return;
    g_free(cfg->profiles_dir);
    g_free(cfg->flavors_dir);
    g_clear_pointer(&cfg->flavors, g_hash_table_unref);
    g_free(cfg->wrapper);
    g_free(cfg);
}

GPtrArray *
spm_nova_profile_read(const char *path, const char *what, GError **error)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) local = NULL;
    g_autoptr(GPtrArray) specs = spm_nova_specs_new();
    g_auto(GStrv) keys = NULL;

    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &local)) {
        if (g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID, "%s does not exist (%s)", what, path);
        else
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID, "%s (%s): %s", what, path,
                        local->message);
        return NULL;
    }
    keys = g_key_file_get_keys(kf, SPM_NOVA_PROFILE_GROUP, NULL, NULL);
    if (!keys || !keys[0]) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "%s (%s): no [" SPM_NOVA_PROFILE_GROUP "] group with extra specs", what, path);
        return NULL;
    }
    for (char **k = keys; *k; k++) {
        g_autofree char *value = g_key_file_get_value(kf, SPM_NOVA_PROFILE_GROUP, *k, NULL);
        g_autofree char *key = g_strconcat(SPM_NOVA_SPEC_PREFIX, *k, NULL);

        spm_nova_specs_add(specs, key, value ? g_strstrip(value) : "");
    }
    return g_steal_pointer(&specs);
}

SpmNovaRequest *
spm_nova_request_load(const SpmNovaConfig *cfg, const GPtrArray *specs, const char *source,
                      GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autoptr(SpmNovaRequest) req = spm_nova_request_parse(specs, &local);
    g_autoptr(GPtrArray) profile = NULL;
    g_autofree char *path = NULL;
    g_autofree char *what = NULL;
    g_autofree char *name = NULL;

    if (!req) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID, "%s: %s", source, local->message);
        return NULL;
    }
    if (!req->profile)
        return g_steal_pointer(&req);

    /* One level: a profile names no other profile (spm_nova_request_parse
     * would accept it, so it is refused here). */
    name = g_strdup(req->profile);
    path = g_strdup_printf("%s/%s.conf", cfg->profiles_dir, name);
    what = g_strdup_printf("spm:profile: profile '%s'", name);
    if (!(profile = spm_nova_profile_read(path, what, &local))) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID, "%s: %s", source, local->message);
        return NULL;
    }
    g_clear_pointer(&req, spm_nova_request_free);
    if (!(req = spm_nova_request_parse(profile, &local)) || req->profile) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID, "%s: profile '%s' (%s): %s",
                    source, name, path,
                    local ? local->message : "spm:profile: a profile cannot name another one");
        return NULL;
    }
    return g_steal_pointer(&req);
}

SpmNovaRequest *
spm_nova_request_resolve(const SpmNovaConfig *cfg, const SpmNovaInstance *inst, char **source,
                         GError **error)
{
    g_autoptr(GPtrArray) specs = NULL;
    g_autofree char *where = NULL;
    g_autofree char *path = NULL;
    const char *flavor = inst->flavor ? inst->flavor : "?";
    const char *profile;

    if (inst->has_extra_specs) {
        /* Nova 32 and later: the flavor's own extra specs, and nothing else */
        where = g_strdup_printf("flavor '%s' (extra specs)", flavor);
        if (source)
            *source = g_strdup(where);
        return spm_nova_request_load(cfg, inst->specs, where, error);
    }

    if (inst->flavor && spm_nova_name_is_safe(inst->flavor)) {
        path = g_strdup_printf("%s/%s.conf", cfg->flavors_dir, inst->flavor);
        if (g_file_test(path, G_FILE_TEST_EXISTS)) {
            g_autoptr(GError) local = NULL;

            where = g_strdup_printf("flavor '%s' (%s)", flavor, path);
            if (source)
                *source = g_strdup(where);
            if (!(specs = spm_nova_profile_read(path, "flavor file", &local))) {
                g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID, "%s: %s", where, local->message);
                return NULL;
            }
            return spm_nova_request_load(cfg, specs, where, error);
        }
    }
    if (inst->flavor && (profile = g_hash_table_lookup(cfg->flavors, inst->flavor))) {
        where = g_strdup_printf("flavor '%s' ([nova] flavors)", flavor);
        if (source)
            *source = g_strdup(where);
        specs = spm_nova_specs_new();
        spm_nova_specs_add(specs, SPM_NOVA_SPEC_PREFIX "profile", profile);
        return spm_nova_request_load(cfg, specs, where, error);
    }
    /* Nova 26 to 31 and a flavor virt-spm does not know: it asks for nothing. */
    if (source)
        *source = g_strdup_printf("flavor '%s'", flavor);
    specs = spm_nova_specs_new();
    return spm_nova_request_parse(specs, error);
}

char *
spm_nova_request_unused_mapping(const SpmNovaConfig *cfg, const SpmNovaInstance *inst)
{
    g_autofree char *path = NULL;

    if (!inst->has_extra_specs || inst->specs->len > 0 || !inst->flavor)
        return NULL;
    if (spm_nova_name_is_safe(inst->flavor)) {
        path = g_strdup_printf("%s/%s.conf", cfg->flavors_dir, inst->flavor);
        if (!g_file_test(path, G_FILE_TEST_EXISTS))
            g_clear_pointer(&path, g_free);
    }
    if (!path && !g_hash_table_contains(cfg->flavors, inst->flavor))
        return NULL;
    return g_strdup_printf("flavor '%s': Nova wrote the flavor's extra specs (Nova 32 or "
                           "later) and none is an spm: one, so the guest gets no SPM memory; "
                           "%s is for Nova 26 to 31 and is not used: set the spm: extra specs "
                           "on the flavor", inst->flavor,
                           path ? path : "its entry in [nova] flavors");
}

char *
spm_nova_plan_path(const char *uuid, const char *ext)
{
    return g_strdup_printf("%s/%s.%s", spm_nova_plan_dir(), uuid, ext);
}
