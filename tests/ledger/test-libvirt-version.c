/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-libvirt-version.c: the hook's libvirt version from the daemon's
 * binary (`BINARY --version`), cached by path, size and mtime.
 */
#include <string.h>
#include <glib/gstdio.h>

#include "spm-libvirt-version.h"

static char *
write_script(const char *dir, const char *name, const char *body)
{
    char *path = g_build_filename(dir, name, NULL);

    g_assert_true(g_file_set_contents(path, body, -1, NULL));
    g_assert_cmpint(g_chmod(path, 0755), ==, 0);
    return path;
}

static void
test_fake_daemon(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = g_dir_make_tmp("spm-lvver-XXXXXX", &err);
    g_autofree char *cache = g_build_filename(dir, "cache", NULL);
    g_autofree char *daemon = write_script(dir, "virtqemud",
                                           "#!/bin/sh\necho 'virtqemud (libvirt) 11.3.0'\n");
    g_autofree char *other = write_script(dir, "qemu-kvm", "#!/bin/sh\necho 'x (libvirt) 1.0.0'\n");
    g_autofree char *garbage = write_script(dir, "libvirtd", "#!/bin/sh\necho 'libvirtd version nine'\n");

    g_assert_no_error(err);
    g_assert_cmpuint(spm_libvirt_daemon_version(daemon, cache), ==, 11003000);
    /* an upgraded binary (another size) is asked again */
    g_free(write_script(dir, "virtqemud", "#!/bin/sh\necho 'virtqemud (libvirt) 11.10.0'\n"));
    g_assert_cmpuint(spm_libvirt_daemon_version(daemon, cache), ==, 11010000);

    /* not a libvirt daemon, or no version in its answer: unknown */
    g_assert_cmpuint(spm_libvirt_daemon_version(other, cache), ==, 0);
    g_assert_cmpuint(spm_libvirt_daemon_version(garbage, NULL), ==, 0);
    g_assert_cmpuint(spm_libvirt_daemon_version("/nonexistent/libvirtd", NULL), ==, 0);
    {
        g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);

        g_assert_cmpint(system(cmd), ==, 0);
    }
}

static void
test_cache_hit(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = g_dir_make_tmp("spm-lvver-XXXXXX", &err);
    g_autofree char *cache = g_build_filename(dir, "cache", NULL);
    g_autofree char *daemon = write_script(dir, "libvirtd", "#!/bin/sh\necho 'libvirtd (libvirt) 9.0.0'\n");
    g_autofree char *counter = g_build_filename(dir, "runs", NULL);
    g_autofree char *body = g_strdup_printf("#!/bin/sh\necho x >> '%s'\necho 'libvirtd (libvirt) 9.0.0'\n",
                                            counter);
    g_autofree char *runs = NULL;

    g_assert_no_error(err);
    g_free(daemon);
    daemon = write_script(dir, "libvirtd", body);
    for (int i = 0; i < 3; i++)
        g_assert_cmpuint(spm_libvirt_daemon_version(daemon, cache), ==, 9000000);
    g_assert_true(g_file_get_contents(counter, &runs, NULL, NULL));
    g_assert_cmpstr(runs, ==, "x\n"); /* asked once, then cached */
    /* a cache others could write is no cache: asked again */
    g_assert_cmpint(g_chmod(cache, 0777), ==, 0);
    g_assert_cmpuint(spm_libvirt_daemon_version(daemon, cache), ==, 9000000);
    g_free(runs);
    g_assert_true(g_file_get_contents(counter, &runs, NULL, NULL));
    g_assert_cmpstr(runs, ==, "x\nx\n");
    {
        g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", dir);

        g_assert_cmpint(system(cmd), ==, 0);
    }
}

static void
test_real_libvirtd(void)
{
    if (!g_file_test("/usr/sbin/libvirtd", G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_skip("/usr/sbin/libvirtd is not installed");
        return;
    }
    /* Debian 12: 9.0.0; whatever it is, `libvirtd --version` gives one */
    g_assert_cmpuint(spm_libvirt_daemon_version("/usr/sbin/libvirtd", NULL), >=, 9000000);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/libvirt-version/fake-daemon", test_fake_daemon);
    g_test_add_func("/libvirt-version/cache-hit", test_cache_hit);
    g_test_add_func("/libvirt-version/real-libvirtd", test_real_libvirtd);
    return g_test_run();
}
