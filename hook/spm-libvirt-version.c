/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-libvirt-version.c: the libvirt daemon's version from its binary
 */
#include "spm-libvirt-version.h"
#include "spm-config.h"
#include "spm-run.h"
#include "spm-safe-dir.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SPM_VERSION_GROUP "libvirt"

static gboolean
spm_libvirt_is_daemon(const char *exe)
{
    g_autofree char *base = g_path_get_basename(exe);

    return g_str_equal(base, "libvirtd") || g_str_equal(base, "virtqemud");
}

static char *
spm_libvirt_stamp(const char *exe, const struct stat *st)
{
    return g_strdup_printf("%s %lld %lld.%09ld", exe, (long long)st->st_size,
                           (long long)st->st_mtim.tv_sec, (long)st->st_mtim.tv_nsec);
}

/* "libvirtd (libvirt) 9.0.0" -> 9000000; 0 when it does not answer so */
static guint
spm_libvirt_version_run(const char *exe)
{
    const char *argv[] = { exe, "--version", NULL };
    g_autofree char *output = NULL;
    const char *p;
    guint version = 0;

    if (!spm_run_capture(argv, FALSE, SPM_LIBVIRT_VERSION_TIMEOUT_MS, &output, NULL) ||
        !(p = strstr(output, "(libvirt) ")))
        return 0;
    p += strlen("(libvirt) ");
    {
        g_autofree char *v = g_strndup(p, strcspn(p, " \n"));

        if (!spm_config_parse_version(v, &version))
            return 0;
    }
    return version;
}

guint
spm_libvirt_daemon_version(const char *daemon_exe, const char *cache_dir)
{
    g_autofree char *exe = NULL;
    g_autofree char *stamp = NULL;
    g_autofree char *file = NULL;
    g_autoptr(GKeyFile) kf = g_key_file_new();
    struct stat st;
    guint version;

    if (daemon_exe) {
        exe = g_strdup(daemon_exe);
    } else {
        g_autofree char *link = g_strdup_printf("/proc/%d/exe", (int)getppid());

        if (!(exe = g_file_read_link(link, NULL)))
            return 0;
    }
    /* an upgraded daemon still running shows "/usr/sbin/libvirtd (deleted)": unknown */
    if (!spm_libvirt_is_daemon(exe) || stat(exe, &st) < 0)
        return 0;
    stamp = spm_libvirt_stamp(exe, &st);

    /* a version others could have written is no answer: ask, and cache nothing */
    if (cache_dir && !spm_safe_dir_ensure(cache_dir, SPM_SAFE_DIR_TRUSTED, 0755, NULL) &&
        errno != ENOENT)
        cache_dir = NULL;
    if (cache_dir) {
        g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, exe, -1);
        g_autofree char *base = g_strdup_printf("libvirt-%.32s.ini", sum);
        g_autofree char *cached = NULL;

        file = g_build_filename(cache_dir, base, NULL);
        if (g_key_file_load_from_file(kf, file, G_KEY_FILE_NONE, NULL) &&
            (cached = g_key_file_get_string(kf, SPM_VERSION_GROUP, "binary", NULL)) &&
            g_str_equal(cached, stamp) &&
            (version = g_key_file_get_integer(kf, SPM_VERSION_GROUP, "version", NULL)) > 0)
            return version;
    }

    if (!(version = spm_libvirt_version_run(exe)) || !file)
        return version;
    g_key_file_set_string(kf, SPM_VERSION_GROUP, "binary", stamp);
    g_key_file_set_integer(kf, SPM_VERSION_GROUP, "version", version);
    {
        g_autofree char *data = g_key_file_to_data(kf, NULL, NULL);

        /* best effort: the next start asks again when this fails */
        if (spm_safe_dir_ensure(cache_dir, SPM_SAFE_DIR_CREATE | SPM_SAFE_DIR_TRUSTED, 0755, NULL))
            g_file_set_contents(file, data, -1, NULL);
    }
    return version;
}
