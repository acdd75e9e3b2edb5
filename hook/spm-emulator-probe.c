/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-emulator-probe.c: does a QEMU binary have a device, and which SPM
 * device revision is it?
 */
#include "spm-emulator-probe.h"
#include "spm-env.h"
#include "spm-error.h"
#include "spm-run.h"
#include "spm-safe-dir.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#define SPM_PROBE_GROUP "probe"

const char *
spm_emulator_cache_dir(void)
{
    const char *env = spm_env(SPM_ENV_HOOK_CACHE_DIR);

    return env && *env ? env : SPM_EMULATOR_CACHE_DIR;
}

/* One file per (binary, driver): the name hashes both. */
static char *
spm_emulator_cache_file(const char *cache_dir, const char *emulator, const char *driver)
{
    g_autofree char *key = g_strdup_printf("%s\n%s", emulator, driver);
    g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, key, -1);
    g_autofree char *base = g_strdup_printf("emulator-%.32s.ini", sum);

    return g_build_filename(cache_dir, base, NULL);
}

static char *
spm_emulator_stamp(const struct stat *st)
{
    return g_strdup_printf("%lld.%09ld", (long long)st->st_mtim.tv_sec, (long)st->st_mtim.tv_nsec);
}

/* TRUE and *has_device when the cache holds an answer for this very binary. */
static gboolean
spm_emulator_cache_lookup(const char *file, const char *emulator, const char *driver,
                          const struct stat *st, gboolean *has_device)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *path = NULL;
    g_autofree char *drv = NULL;
    g_autofree char *mtime = NULL;
    g_autofree char *stamp = spm_emulator_stamp(st);
    g_autoptr(GError) error = NULL;
    guint64 size;
    gboolean has;

    if (!g_key_file_load_from_file(kf, file, G_KEY_FILE_NONE, NULL))
        return FALSE;
    path = g_key_file_get_string(kf, SPM_PROBE_GROUP, "emulator", NULL);
    drv = g_key_file_get_string(kf, SPM_PROBE_GROUP, "driver", NULL);
    mtime = g_key_file_get_string(kf, SPM_PROBE_GROUP, "mtime", NULL);
    size = g_key_file_get_uint64(kf, SPM_PROBE_GROUP, "size", NULL);
    has = g_key_file_get_boolean(kf, SPM_PROBE_GROUP, "has_device", &error);
    if (error || g_strcmp0(path, emulator) != 0 || g_strcmp0(drv, driver) != 0 ||
        g_strcmp0(mtime, stamp) != 0 || size != (guint64)st->st_size)
        return FALSE;
    *has_device = has;
    return TRUE;
}

static void
spm_emulator_cache_store(const char *cache_dir, const char *file, const char *emulator,
                         const char *driver, const struct stat *st, gboolean has_device)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *stamp = spm_emulator_stamp(st);
    g_autofree char *data = NULL;

    g_key_file_set_string(kf, SPM_PROBE_GROUP, "emulator", emulator);
    g_key_file_set_string(kf, SPM_PROBE_GROUP, "driver", driver);
    g_key_file_set_uint64(kf, SPM_PROBE_GROUP, "size", st->st_size);
    g_key_file_set_string(kf, SPM_PROBE_GROUP, "mtime", stamp);
    g_key_file_set_boolean(kf, SPM_PROBE_GROUP, "has_device", has_device);
    data = g_key_file_to_data(kf, NULL, NULL);
    /* best effort: the next start probes again when this fails */
    if (spm_safe_dir_ensure(cache_dir, SPM_SAFE_DIR_CREATE | SPM_SAFE_DIR_TRUSTED, 0755, NULL))
        g_file_set_contents(file, data, -1, NULL);
}

/* SPM_EMULATOR_PROBE_TIMEOUT_MS, or $VIRT_SPM_HOOK_PROBE_TIMEOUT_MS for tests. */
static guint
spm_emulator_probe_timeout_ms(void)
{
    const char *env = spm_env(SPM_ENV_HOOK_PROBE_TIMEOUT_MS);
    guint64 ms;

    if (env && g_ascii_string_to_unsigned(env, 10, 1, G_MAXUINT, &ms, NULL))
        return (guint)ms;
    return SPM_EMULATOR_PROBE_TIMEOUT_MS;
}

/* Run EMULATOR -device DRIVER,help and read its answer, within the timeout. */
static gboolean
spm_emulator_probe_run(const char *emulator, const char *driver,
                       gboolean *has_device, GError **error)
{
    g_autofree char *arg = g_strdup_printf("%s,help", driver);
    g_autofree char *header = g_strdup_printf("%s options:", driver);
    g_autofree char *first_line = NULL;
    g_autofree char *output = NULL;
    const char *argv[] = { emulator, "-device", arg, NULL };

    if (!spm_run_capture(argv, TRUE, spm_emulator_probe_timeout_ms(), &output, error))
        return FALSE;

    /* QEMU 7.2 exits 0 either way: the text tells */
    if (strstr(output, header) && strstr(output, "memdev")) {
        *has_device = TRUE;
    } else if (strstr(output, "not found")) {
        *has_device = FALSE;
    } else {
        first_line = g_strndup(output, strcspn(output, "\n"));
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                    "'%s -device %s' answered '%s', not QEMU's device help",
                    emulator, arg, first_line);
        return FALSE;
    }
    return TRUE;
}

gboolean
spm_emulator_probe(const char *emulator,
                   const char *driver,
                   const char *cache_dir,
                   gboolean *has_device,
                   GError **error)
{
    g_autofree char *file = NULL;
    struct stat st;

    if (stat(emulator, &st) < 0) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "emulator '%s': %s",
                    emulator, g_strerror(errno));
        return FALSE;
    }
    /* an answer others could have written is no answer: probe, and cache nothing */
    if (cache_dir && !spm_safe_dir_ensure(cache_dir, SPM_SAFE_DIR_TRUSTED, 0755, NULL) &&
        errno != ENOENT)
        cache_dir = NULL;
    if (cache_dir) {
        file = spm_emulator_cache_file(cache_dir, emulator, driver);
        if (spm_emulator_cache_lookup(file, emulator, driver, &st, has_device))
            return TRUE;
    }
    if (!spm_emulator_probe_run(emulator, driver, has_device, error))
        return FALSE;
    if (cache_dir)
        spm_emulator_cache_store(cache_dir, file, emulator, driver, &st, *has_device);
    return TRUE;
}

gboolean
spm_emulator_probe_cached(const char *emulator,
                          const char *driver,
                          gboolean *has_device,
                          gpointer opaque,
                          GError **error)
{
    return spm_emulator_probe(emulator, driver, opaque, has_device, error);
}

gboolean
spm_emulator_find_device(const char *emulator,
                         SpmEmulatorProbeFunc probe,
                         gpointer probe_opaque,
                         gboolean *found,
                         SpmDeviceRev *rev,
                         GError **error)
{
    *found = FALSE;
    for (guint i = 0; i < SPM_DEVICE_LAST; i++) {
        const SpmDeviceRevInfo *info = spm_device_rev_info((SpmDeviceRev)i);
        gboolean has = FALSE;

        if (!probe(emulator, info->driver, &has, probe_opaque, error))
            return FALSE;
        if (has) {
            *found = TRUE;
            *rev = info->rev;
            return TRUE;
        }
    }
    return TRUE;
}

char *
spm_emulator_no_device_text(const char *emulator)
{
    g_autofree char *names = spm_device_rev_all_names("nor");

    return g_strdup_printf("emulator '%s' has neither %s", emulator, names);
}
