/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-config.c: virt-spm.conf and host facts
 */
#include "spm-config.h"
#include "spm-env.h"
#include "spm-error.h"
#include "spm-hugepages.h"
#include "spm-units.h"

#include <stdio.h>
#include <string.h>
#include <libvirt/libvirt.h>

gboolean
spm_config_parse_size(const char *what, const char *value, guint64 *bytes, GError **error)
{
    g_autofree char *copy = g_strstrip(g_strdup(value));
    char *unit = copy;

    while (g_ascii_isdigit(*unit))
        unit++;
    /* spm_units_parse wants the number and the unit apart: "1GiB" -> "1", "GiB" */
    g_autofree char *number = g_strndup(copy, unit - copy);
    g_autofree char *suffix = g_strdup(g_strstrip(unit));

    return spm_units_parse(what, number, *suffix ? suffix : "b", 1, bytes, error);
}

static gboolean
spm_config_get_size(GKeyFile *kf, const char *group, const char *key,
                    guint64 *out, GError **error)
{
    g_autofree char *value = g_key_file_get_string(kf, group, key, NULL);
    g_autofree char *what = g_strdup_printf("[%s] %s", group, key);

    if (!value)
        return TRUE;
    return spm_config_parse_size(what, value, out, error);
}

static gboolean
spm_config_get_bool(GKeyFile *kf, const char *group, const char *key,
                    gboolean *out, GError **error)
{
    g_autoptr(GError) local = NULL;
    gboolean v;

    if (!g_key_file_has_key(kf, group, key, NULL))
        return TRUE;
    v = g_key_file_get_boolean(kf, group, key, &local);
    if (local) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "[%s] %s: expected true or false", group, key);
        return FALSE;
    }
    *out = v;
    return TRUE;
}

gboolean
spm_config_parse_version(const char *str, guint *version)
{
    g_auto(GStrv) parts = g_strsplit(str, ".", 4);
    guint64 v[3] = { 0, 0, 0 };
    guint n = g_strv_length(parts);

    if (n < 1 || n > 3)
        return FALSE;
    for (guint i = 0; i < n; i++) {
        if (!g_ascii_string_to_unsigned(parts[i], 10, 0, 999, &v[i], NULL))
            return FALSE;
    }
    *version = v[0] * 1000000 + v[1] * 1000 + v[2];
    return TRUE;
}

const char *
spm_config_schema_path(void)
{
    const char *env = spm_env(SPM_ENV_SCHEMA);

    if (env && *env)
        return env;
    if (g_file_test(VIRT_SPM_DATADIR "/schemas/spm.rng", G_FILE_TEST_EXISTS))
        return VIRT_SPM_DATADIR "/schemas/spm.rng";
    return VIRT_SPM_SOURCE_ROOT "/xmlschema/spm.rng";
}

void
spm_host_facts_detect(SpmHostFacts *facts)
{
    g_autofree char *cpuinfo = NULL;
    g_auto(GStrv) lines = NULL;
    /*
     * The libvirt virt-spm was built against: the host's, on a distribution.
     * Linking libvirt to ask it would cost more than the whole plan; the
     * hook, which must know for sure, asks virGetVersion() itself.
     */
    const char *qemu_conf = spm_env(SPM_ENV_QEMU_CONF);

    facts->libvirt_version = LIBVIR_VERSION_NUMBER;
    /* where libvirt keeps guest memory files and huge pages (spm-hugepages.h) */
    spm_hugepages_detect(facts, qemu_conf && *qemu_conf ? qemu_conf : SPM_LIBVIRT_QEMU_CONF,
                         "/proc/mounts");

    if (!g_file_get_contents("/proc/cpuinfo", &cpuinfo, NULL, NULL))
        return;
    lines = g_strsplit(cpuinfo, "\n", -1);
    for (char **l = lines; *l; l++) {
        const char *colon = strchr(*l, ':');

        if (!colon)
            continue;
        if (g_str_has_prefix(*l, "vendor_id")) {
            facts->host_cpu_amd = strstr(colon, "AuthenticAMD") != NULL ||
                                  strstr(colon, "HygonGenuine") != NULL;
        } else if (g_str_has_prefix(*l, "address sizes")) {
            guint bits = 0;

            if (sscanf(colon + 1, " %u bits physical", &bits) == 1)
                facts->host_phys_bits = bits;
            break; /* the first CPU says it all */
        }
    }
}

gboolean
spm_config_apply_keyfile(SpmConfig *config, GKeyFile *kf, GError **error)
{
    g_autofree char *vendor = NULL;

    if (!spm_config_get_size(kf, "plan", "spm_align", &config->policy.spm_align, error) ||
        !spm_config_get_size(kf, "plan", "guard_gap", &config->policy.guard_gap, error) ||
        !spm_config_get_bool(kf, "plan", "strict", &config->policy.strict, error) ||
        !spm_config_get_bool(kf, "plan", "fixed_max_memory", &config->policy.fixed_max_memory, error))
        return FALSE;

    vendor = g_key_file_get_string(kf, "host", "cpu_vendor", NULL);
    if (vendor)
        config->policy.host.host_cpu_amd = g_ascii_strcasecmp(vendor, "AMD") == 0;
    if (g_key_file_has_key(kf, "host", "phys_bits", NULL)) {
        gint64 bits = g_key_file_get_int64(kf, "host", "phys_bits", NULL);

        if (bits < 32 || bits > 64) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "[host] phys_bits: '%" G_GINT64_FORMAT "' is not between 32 and 64", bits);
            return FALSE;
        }
        config->policy.host.host_phys_bits = bits;
    }
    {
        g_autofree char *lv = g_key_file_get_string(kf, "host", "libvirt_version", NULL);

        if (lv && !spm_config_parse_version(lv, &config->policy.host.libvirt_version)) {
            g_autofree char *shown = spm_error_printable(lv, 64);

            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "[host] libvirt_version: '%s' is not a version like 9.0.0", shown);
            return FALSE;
        }
    }
    {
        g_autofree char *fw = g_key_file_get_string(kf, "host", "firmware_version", NULL);

        if (fw) {
            g_free(config->policy.host.firmware_version);
            config->policy.host.firmware_version = g_steal_pointer(&fw);
        }
    }
    {
        g_autofree char *dir = g_key_file_get_string(kf, "host", "memory_backing_dir", NULL);

        if (dir) {
            if (!g_path_is_absolute(dir)) {
                g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                            "[host] memory_backing_dir: '%s' is not an absolute path", dir);
                return FALSE;
            }
            g_free(config->policy.host.memory_backing_dir);
            config->policy.host.memory_backing_dir = g_steal_pointer(&dir);
        }
    }
    if (g_key_file_has_key(kf, "host", "hugetlbfs_mount", NULL)) {
        g_autofree char *mounts = g_key_file_get_string(kf, "host", "hugetlbfs_mount", NULL);

        if (!spm_hugepages_parse_setting(mounts ? mounts : "", &config->policy.host, error))
            return FALSE;
    }
    /*
     * [qemu] device: the SPM device of the QEMU that runs the domains, for
     * when the domain's <emulator> cannot be asked (default sp-mem).
     */
    {
        g_autofree char *dev = g_key_file_get_string(kf, "qemu", "device", NULL);

        if (dev && !spm_device_rev_from_string(g_strstrip(dev), &config->policy.device)) {
            g_autofree char *shown = spm_error_printable(dev, 64);
            g_autofree char *names = spm_device_rev_all_names("or");

            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "[qemu] device: '%s' is not %s", shown, names);
            return FALSE;
        }
    }
    /* Tests only: run SPM devices as another driver on a QEMU without an SPM device. */
    if (g_key_file_has_key(kf, "test", "stand_in_driver", NULL)) {
        g_free(config->policy.stand_in_driver);
        config->policy.stand_in_driver = g_key_file_get_string(kf, "test", "stand_in_driver", NULL);
    }
    if (g_key_file_has_key(kf, "daemon", "uri", NULL)) {
        g_free(config->uri);
        config->uri = g_key_file_get_string(kf, "daemon", "uri", NULL);
    }
    return TRUE;
}

SpmConfig *
spm_config_new(void)
{
    SpmConfig *config = g_atomic_rc_box_new0(SpmConfig);

    spm_plan_policy_init(&config->policy);
    config->keyfile = g_key_file_new();
    return config;
}

SpmConfig *
spm_config_load(const char *path, GError **error)
{
    g_autoptr(SpmConfig) config = spm_config_new();
    const char *file = path ? path : VIRT_SPM_SYSCONFDIR "/virt-spm.conf";
    g_autoptr(GError) local = NULL;

    spm_host_facts_detect(&config->policy.host);

    if (!g_key_file_load_from_file(config->keyfile, file, G_KEY_FILE_NONE, &local)) {
        if (!path && g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return g_steal_pointer(&config);
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "configuration file '%s': %s", file, local->message);
        return NULL;
    }

    if (!spm_config_apply_keyfile(config, config->keyfile, error))
        return NULL;
    return g_steal_pointer(&config);
}

SpmConfig *
spm_config_ref(SpmConfig *config)
{
    return g_atomic_rc_box_acquire(config);
}

static void
spm_config_clear(gpointer data)
{
    SpmConfig *config = data;

    spm_plan_policy_clear(&config->policy);
    g_free(config->uri);
    if (config->keyfile)
        g_key_file_unref(config->keyfile);
}

void
spm_config_unref(SpmConfig *config)
{
    if (config)
        g_atomic_rc_box_release_full(config, spm_config_clear);
}
