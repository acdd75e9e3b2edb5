/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-test-sid-root.c: the tests' libvirtd in the Debian sid root.
 */
#include "spm-test-sid-root.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

#include "spm-test-libvirt.h"

char *
spm_test_sid_root(char **skip)
{
    const char *env = g_getenv(SPM_TEST_SID_ROOT_ENV);
    g_autofree char *root = NULL;
    g_autofree char *libvirtd = NULL;

    *skip = NULL;
    if (!env || !*env) {
        *skip = g_strdup(SPM_TEST_SID_ROOT_ENV " is not set (scripts/setup-sid-root.sh makes the root)");
        return NULL;
    }
    root = g_canonicalize_filename(env, NULL);
    libvirtd = g_build_filename(root, "usr", "sbin", "libvirtd", NULL);
    if (!g_file_test(libvirtd, G_FILE_TEST_IS_EXECUTABLE)) {
        *skip = g_strdup_printf("no libvirtd in the sid root %s (scripts/setup-sid-root.sh)", root);
        return NULL;
    }
    return g_steal_pointer(&root);
}

char *
spm_test_sid_in_root(const char *root, const char *path)
{
    gsize n = strlen(root);

    g_assert_true(strncmp(path, root, n) == 0 && (n == 0 || path[n] == '/'));
    return g_strdup(path + n);
}

char *
spm_test_sid_hook_build(const char *src)
{
    return g_build_filename("/var/build/virt-spm-tests", src, NULL);
}

/* Run @argv; its stdout in *out (may be NULL); its exit status, -1 when it could not run. */
static int
spm_test_sid_run(const char *const *argv, char **out)
{
    g_autofree char *err_text = NULL;
    g_autoptr(GError) err = NULL;
    int status = 0;

    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, &err_text,
                      &status, &err)) {
        fprintf(stderr, "# %s: %s\n", argv[0], err->message);
        return -1;
    }
    if (err_text && *err_text)
        fprintf(stderr, "# %s", err_text);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

char *
spm_test_sid_root_setup(const char *src, const char *root, gboolean *failed)
{
    g_autofree char *sid = g_build_filename(src, "scripts", "sid-libvirtd.sh", NULL);
    g_autofree char *builder = g_build_filename(src, "scripts", "build-in-sid-root.sh", NULL);
    g_autofree char *build = spm_test_sid_hook_build(src);
    g_autofree char *uri = NULL;
    g_autofree char *built = NULL;     /* (the builder prints the build directory) */
    g_autofree char *hooks = g_build_filename(root, "etc", "libvirt", "hooks", "qemu.d", NULL);
    g_autofree char *pidfile = g_build_filename(root, "run", "libvirtd.pid", NULL);
    g_autofree char *start = g_strdup_printf("%s %s up", sid, root);
    const char *up[] = { sid, root, "up", NULL };
    const char *make[] = { builder, root, src, build, NULL };
    gint64 t0 = g_get_monotonic_time();
    int rc;

    *failed = FALSE;
    if ((rc = spm_test_sid_run(up, &uri)) == 77)
        return g_strdup_printf("no libvirtd in the root %s (scripts/setup-sid-root.sh)", root);
    if (rc != 0) {
        *failed = TRUE;
        return g_strdup_printf("%s %s up failed", sid, root);
    }
    g_strstrip(uri);
    printf("# libvirtd of %s answers on %s (%.1f s)\n", root, uri,
           (g_get_monotonic_time() - t0) / 1e6);
    t0 = g_get_monotonic_time();
    if ((rc = spm_test_sid_run(make, &built)) != 0) {
        *failed = rc != 77;
        return g_strdup_printf("%s could not build the hook inside %s", builder, root);
    }
    printf("# virt-spm built inside the root in %s (%.1f s)\n", build,
           (g_get_monotonic_time() - t0) / 1e6);

    g_setenv(SPM_TEST_LIBVIRT_URI_ENV, uri, TRUE);
    g_setenv("SPM_TEST_HOOK_DIR", hooks, TRUE);
    g_setenv("SPM_TEST_LIBVIRTD_PIDFILE", pidfile, TRUE);
    g_setenv("SPM_TEST_LIBVIRTD_START", start, TRUE);
    return NULL;
}
