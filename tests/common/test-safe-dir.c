/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-safe-dir.c: common/spm-safe-dir.c, the directories root opens next
 * to other users' files: no symbolic link in the last place, the chain
 * above closed to others (a sticky directory aside), modes given or
 * refused, files read only when trusted.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "spm-error.h"
#include "spm-safe-dir.h"

static char *top;

static void
test_open_and_create(void)
{
    g_autofree char *dir = g_build_filename(top, "a", "b", "c", NULL);
    g_autoptr(GError) error = NULL;
    GStatBuf st;
    int fd, pfd;

    /* missing, not to be created: ENOENT */
    g_assert_cmpint(spm_safe_dir_open(dir, 0, 0, NULL, &error), ==, -1);
    g_assert_cmpint(errno, ==, ENOENT);
    g_clear_error(&error);

    fd = spm_safe_dir_open(dir, SPM_SAFE_DIR_CREATE | SPM_SAFE_DIR_TRUSTED, 0700, &pfd, &error);
    g_assert_no_error(error);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pfd, >=, 0);
    g_assert_cmpint(g_stat(dir, &st), ==, 0);
    g_assert_cmpuint(st.st_mode & 07777, ==, 0700);
    close(fd);
    close(pfd);
}

static void
test_no_link(void)
{
    g_autofree char *real = g_build_filename(top, "real", NULL);
    g_autofree char *link = g_build_filename(top, "link", NULL);
    g_autofree char *below = g_build_filename(top, "link", "x", NULL);
    g_autofree char *through = g_build_filename(real, "x", NULL);
    g_autoptr(GError) error = NULL;

    g_assert_cmpint(g_mkdir(real, 0755), ==, 0);
    g_assert_cmpint(symlink(real, link), ==, 0);
    /* the last component */
    g_assert_cmpint(spm_safe_dir_open(link, SPM_SAFE_DIR_CREATE, 0700, NULL, &error), ==, -1);
    g_assert_nonnull(strstr(error->message, "is not a directory (a symbolic link or a file)"));
    g_clear_error(&error);
    /* the directory above */
    g_assert_cmpint(spm_safe_dir_open(below, SPM_SAFE_DIR_CREATE, 0700, NULL, &error), ==, -1);
    g_assert_nonnull(strstr(error->message, "(a symbolic link or a file): not followed"));
    g_assert_false(g_file_test(through, G_FILE_TEST_EXISTS));
}

static void
test_trusted(void)
{
    g_autofree char *up = g_build_filename(top, "up", NULL);
    g_autofree char *dir = g_build_filename(up, "mid", "dir", NULL);
    g_autofree char *mid = g_build_filename(up, "mid", NULL);
    g_autoptr(GError) error = NULL;
    GStatBuf st;

    g_assert_true(spm_safe_dir_ensure(dir, SPM_SAFE_DIR_CREATE | SPM_SAFE_DIR_TRUSTED, 0755, &error));
    g_assert_no_error(error);

    /* writable by others: refused, or given the mode with FIX_MODE */
    g_assert_cmpint(g_chmod(dir, 0777), ==, 0);
    g_assert_false(spm_safe_dir_ensure(dir, SPM_SAFE_DIR_TRUSTED, 0755, &error));
    g_assert_nonnull(strstr(error->message, "has mode 0777: others could have written in it"));
    g_clear_error(&error);
    g_assert_true(spm_safe_dir_ensure(dir, SPM_SAFE_DIR_TRUSTED | SPM_SAFE_DIR_FIX_MODE, 0755, &error));
    g_assert_cmpint(g_stat(dir, &st), ==, 0);
    g_assert_cmpuint(st.st_mode & 07777, ==, 0755);

    /* a directory above writable by others: refused; sticky, as /tmp: fine */
    g_assert_cmpint(g_chmod(up, 0777), ==, 0);
    g_assert_false(spm_safe_dir_ensure(dir, SPM_SAFE_DIR_TRUSTED | SPM_SAFE_DIR_FIX_MODE, 0755, &error));
    g_assert_nonnull(strstr(error->message, "others could replace"));
    g_clear_error(&error);
    g_assert_cmpint(g_chmod(up, 01777), ==, 0);
    g_assert_true(spm_safe_dir_ensure(dir, SPM_SAFE_DIR_TRUSTED, 0755, &error));
    g_assert_no_error(error);
    /* the directory right above may be sticky too */
    g_assert_cmpint(g_chmod(mid, 01777), ==, 0);
    g_assert_true(spm_safe_dir_ensure(dir, SPM_SAFE_DIR_TRUSTED, 0755, &error));
    g_assert_no_error(error);
    g_assert_cmpint(g_chmod(mid, 0755), ==, 0);
    g_assert_cmpint(g_chmod(up, 0755), ==, 0);

    if (geteuid() == 0) {
        /* another user's: refused */
        g_assert_cmpint(chown(dir, 65534, 65534), ==, 0);
        g_assert_false(spm_safe_dir_ensure(dir, SPM_SAFE_DIR_TRUSTED | SPM_SAFE_DIR_FIX_MODE, 0755,
                                           &error));
        g_assert_nonnull(strstr(error->message, "is owned by uid 65534, not by uid 0"));
        g_clear_error(&error);
        g_assert_cmpint(chown(dir, 0, 0), ==, 0);
    }

    if (geteuid() == 0 && getgrnam("staff")) {
        gid_t staff = getgrnam("staff")->gr_gid;

        /* above: Debian's /var/local, root:staff 2775, is trusted ... */
        g_assert_cmpint(chown(up, 0, staff), ==, 0);
        g_assert_cmpint(g_chmod(up, 02775), ==, 0);
        g_assert_true(spm_safe_dir_ensure(dir, SPM_SAFE_DIR_TRUSTED, 0755, &error));
        g_assert_no_error(error);
        /* ... another group that may write there is not ... */
        g_assert_cmpint(chown(up, 0, 65534), ==, 0);
        g_assert_false(spm_safe_dir_ensure(dir, SPM_SAFE_DIR_TRUSTED, 0755, &error));
        g_assert_nonnull(strstr(error->message, "others could replace"));
        g_clear_error(&error);
        /* ... and the directory itself may not be staff's to write in */
        g_assert_cmpint(chown(up, 0, 0), ==, 0);
        g_assert_cmpint(g_chmod(up, 0755), ==, 0);
        g_assert_cmpint(chown(dir, 0, staff), ==, 0);
        g_assert_cmpint(g_chmod(dir, 0775), ==, 0);
        g_assert_false(spm_safe_dir_ensure(dir, SPM_SAFE_DIR_TRUSTED, 0755, &error));
        g_assert_nonnull(strstr(error->message, "has mode 0775"));
        g_clear_error(&error);
        g_assert_cmpint(chown(dir, 0, 0), ==, 0);
        g_assert_cmpint(g_chmod(dir, 0755), ==, 0);
    }
}

static void
test_file_read(void)
{
    g_autofree char *dir = g_build_filename(top, "files", NULL);
    g_autofree char *file = g_build_filename(dir, "f", NULL);
    g_autofree char *fifo = g_build_filename(dir, "fifo", NULL);
    g_autofree char *link = g_build_filename(dir, "link", NULL);
    g_autoptr(GError) error = NULL;
    g_autofree char *text = NULL;
    gsize len = 0;
    int fd;

    fd = spm_safe_dir_open(dir, SPM_SAFE_DIR_CREATE | SPM_SAFE_DIR_TRUSTED, 0755, NULL, &error);
    g_assert_cmpint(fd, >=, 0);
    g_assert_true(g_file_set_contents(file, "12345678", -1, NULL));
    g_assert_cmpint(g_chmod(file, 0644), ==, 0);
    text = spm_safe_file_read(fd, dir, "f", 8, &len, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(text, ==, "12345678");
    g_assert_cmpuint(len, ==, 8);
    /* one byte over */
    g_assert_null(spm_safe_file_read(fd, dir, "f", 7, &len, &error));
    g_assert_nonnull(strstr(error->message, "is larger than 7 bytes"));
    g_clear_error(&error);
    /* writable by others */
    g_assert_cmpint(g_chmod(file, 0646), ==, 0);
    g_assert_null(spm_safe_file_read(fd, dir, "f", 64, &len, &error));
    g_assert_nonnull(strstr(error->message, "not trusted"));
    g_clear_error(&error);
    /* a FIFO: refused at once */
    g_assert_cmpint(mkfifo(fifo, 0644), ==, 0);
    g_assert_null(spm_safe_file_read(fd, dir, "fifo", 64, &len, &error));
    g_assert_nonnull(strstr(error->message, "not a regular file"));
    g_clear_error(&error);
    /* a link */
    g_assert_cmpint(symlink(file, link), ==, 0);
    g_assert_null(spm_safe_file_read(fd, dir, "link", 64, &len, &error));
    g_assert_nonnull(strstr(error->message, "is a symbolic link"));
    g_clear_error(&error);
    /* missing: ENOENT */
    g_assert_null(spm_safe_file_read(fd, dir, "none", 64, &len, &error));
    g_assert_cmpint(errno, ==, ENOENT);
    close(fd);
}

int
main(int argc, char **argv)
{
    g_autofree char *cmd = NULL;
    int rc;

    g_test_init(&argc, &argv, NULL);
    top = g_dir_make_tmp("spm-safe-dir-XXXXXX", NULL);
    g_test_add_func("/safe-dir/open-and-create", test_open_and_create);
    g_test_add_func("/safe-dir/no-link", test_no_link);
    g_test_add_func("/safe-dir/trusted", test_trusted);
    g_test_add_func("/safe-dir/file-read", test_file_read);
    rc = g_test_run();
    cmd = g_strdup_printf("rm -rf '%s'", top);
    if (system(cmd) != 0)
        rc = 1;
    g_free(top);
    return rc;
}
