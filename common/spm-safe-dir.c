/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-safe-dir.c: directories that root opens next to other users' files
 */
#define _GNU_SOURCE /* O_PATH */
#include "spm-safe-dir.h"
#include "spm-error.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib/gstdio.h>

/*
 * A group that may write in a directory above ours: root's, and Debian's
 * "staff", which owns /usr/local and /var/local (mode 2775) so that its
 * members can install local software; a member can already replace what
 * root runs from /usr/local/sbin, so trusting it with /var/local gives
 * nothing away.  Never for the directory itself, only above it.
 */
static gboolean
spm_safe_dir_trusted_group(gid_t gid)
{
    struct group *staff;

    if (gid == 0)
        return TRUE;
    staff = getgrnam("staff");
    return staff && staff->gr_gid == gid;
}

/*
 * Owned by root or by us, and only they may change its entries (above the
 * directory itself, @above: a trusted group too).
 */
static gboolean
spm_safe_dir_trusted(const struct stat *st, gboolean allow_sticky, gboolean above)
{
    if (st->st_uid != 0 && st->st_uid != geteuid())
        return FALSE;
    if (!(st->st_mode & (S_IWGRP | S_IWOTH)))
        return TRUE;
    if (above && !(st->st_mode & S_IWOTH) && spm_safe_dir_trusted_group(st->st_gid))
        return TRUE;
    return allow_sticky && (st->st_mode & S_ISVTX);
}

/*
 * Are the directory @fd and every directory above it trusted?  @fd itself
 * may be sticky and writable by others only if @sticky_ok.  FALSE with
 * @error naming @path and what is wrong.
 */
static gboolean
spm_safe_dir_check_chain(int fd, const char *path, gboolean sticky_ok, GError **error)
{
    int cur = dup(fd);
    gboolean first = TRUE;

    if (cur < 0) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "directory '%s': %s",
                    path, g_strerror(errno));
        return FALSE;
    }
    /* up through "..": the directories that really hold it, symbolic links or not */
    for (guint depth = 0;; depth++) {
        struct stat st, up_st;
        int up;

        if (fstat(cur, &st) < 0 || depth > 4096) {
            int saved = depth > 4096 ? ELOOP : errno;

            close(cur);
            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "directory '%s': %s",
                        path, g_strerror(saved));
            return FALSE;
        }
        if (!spm_safe_dir_trusted(&st, !first || sticky_ok, !first)) {
            close(cur);
            if (first)
                g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                            "directory '%s' is owned by uid %u with mode %04o: it must be "
                            "root's and writable by its owner only",
                            path, (guint)st.st_uid, (guint)(st.st_mode & 07777));
            else
                g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                            "a directory above '%s' (%u levels up) is owned by uid %u with "
                            "mode %04o: others could replace '%s'",
                            path, depth, (guint)st.st_uid, (guint)(st.st_mode & 07777), path);
            return FALSE;
        }
        first = FALSE;
        /* O_PATH: the check needs no read permission (nor an LSM's) on the directories */
        up = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (up < 0 || fstat(up, &up_st) < 0) {
            int saved = errno;

            if (up >= 0)
                close(up);
            close(cur);
            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "directory above '%s': %s",
                        path, g_strerror(saved));
            return FALSE;
        }
        close(cur);
        if (up_st.st_dev == st.st_dev && up_st.st_ino == st.st_ino) {
            close(up);      /* the root directory is its own parent */
            return TRUE;
        }
        cur = up;
    }
}

int
spm_safe_dir_open(const char *path, SpmSafeDirFlags flags, mode_t mode,
                  int *parent_fd, GError **error)
{
    g_autofree char *parent = g_path_get_dirname(path);
    g_autofree char *base = g_path_get_basename(path);
    const int oflags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
    struct stat st;
    int pfd, fd, saved;

    if (parent_fd)
        *parent_fd = -1;
    if (g_str_equal(base, "/") || g_str_equal(base, ".") || g_str_equal(base, "..")) {
        errno = EINVAL;
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "directory '%s': not a directory name",
                    path);
        return -1;
    }
    /*
     * Only mkdir(2) by path: it never follows a symbolic link it would
     * create over.  The last directory above is opened without following
     * one, since its own directory may be another user's.
     */
    if ((flags & SPM_SAFE_DIR_CREATE) && g_mkdir_with_parents(parent, 0755) < 0) {
        saved = errno;
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "cannot create directory '%s': %s",
                    parent, g_strerror(saved));
        errno = saved;
        return -1;
    }
    if ((pfd = open(parent, oflags)) < 0) {
        saved = errno;
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "directory '%s': %s", parent,
                    saved == ELOOP || saved == ENOTDIR ? "not a directory (a symbolic link "
                                                         "or a file): not followed"
                                                       : g_strerror(saved));
        errno = saved;
        return -1;
    }
    /* in a sticky parent (/tmp) others cannot move what is ours: checked below */
    if ((flags & SPM_SAFE_DIR_TRUSTED) && !spm_safe_dir_check_chain(pfd, parent, TRUE, error)) {
        close(pfd);
        errno = EPERM;
        return -1;
    }
    if ((flags & SPM_SAFE_DIR_CREATE) && mkdirat(pfd, base, mode) < 0 && errno != EEXIST) {
        saved = errno;
        close(pfd);
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "cannot create directory '%s': %s",
                    path, g_strerror(saved));
        errno = saved;
        return -1;
    }
    if ((fd = openat(pfd, base, oflags)) < 0) {
        saved = errno;
        close(pfd);
        if (saved == ELOOP || saved == ENOTDIR)
            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                        "'%s' is not a directory (a symbolic link or a file): left alone", path);
        else
            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "directory '%s': %s",
                        path, g_strerror(saved));
        errno = saved;
        return -1;
    }
    if (flags & SPM_SAFE_DIR_TRUSTED) {
        if (fstat(fd, &st) < 0) {
            saved = errno;
            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "directory '%s': %s",
                        path, g_strerror(saved));
            close(fd);
            close(pfd);
            errno = saved;
            return -1;
        }
        if (st.st_uid != geteuid()) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                        "directory '%s' is owned by uid %u, not by uid %u: refusing to use it",
                        path, (guint)st.st_uid, (guint)geteuid());
            close(fd);
            close(pfd);
            errno = EPERM;
            return -1;
        }
        if (!(flags & SPM_SAFE_DIR_FIX_MODE) && (st.st_mode & (S_IWGRP | S_IWOTH))) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                        "directory '%s' has mode %04o: others could have written in it",
                        path, (guint)(st.st_mode & 07777));
            close(fd);
            close(pfd);
            errno = EPERM;
            return -1;
        }
        /* an existing directory gets the mode a new one would have */
        if ((flags & SPM_SAFE_DIR_FIX_MODE) && (st.st_mode & 07777) != mode &&
            fchmod(fd, mode) < 0) {
            saved = errno;
            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "cannot give directory '%s' mode %04o: %s",
                        path, (guint)mode, g_strerror(saved));
            close(fd);
            close(pfd);
            errno = saved;
            return -1;
        }
    }
    if (parent_fd)
        *parent_fd = pfd;
    else
        close(pfd);
    return fd;
}

gboolean
spm_safe_dir_ensure(const char *path, SpmSafeDirFlags flags, mode_t mode, GError **error)
{
    int fd = spm_safe_dir_open(path, flags, mode, NULL, error);

    if (fd < 0)
        return FALSE;
    close(fd);
    return TRUE;
}

char *
spm_safe_file_read(int dir_fd, const char *dir, const char *name, gsize max, gsize *len,
                   GError **error)
{
    g_autofree char *buf = NULL;
    gsize have = 0;
    struct stat st;
    int fd, saved;

    fd = openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        saved = errno;
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "'%s/%s': %s", dir, name,
                    saved == ELOOP ? "is a symbolic link" : g_strerror(saved));
        errno = saved;
        return NULL;
    }
    if (fstat(fd, &st) < 0) {
        saved = errno;
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "'%s/%s': %s", dir, name,
                    g_strerror(saved));
        close(fd);
        errno = saved;
        return NULL;
    }
    if (!S_ISREG(st.st_mode) || (st.st_uid != 0 && st.st_uid != geteuid()) ||
        (st.st_mode & (S_IWGRP | S_IWOTH))) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                    "'%s/%s' is not a regular file of root's writable by root only "
                    "(uid %u, mode %06o): not trusted", dir, name, (guint)st.st_uid,
                    (guint)st.st_mode);
        close(fd);
        errno = EPERM;
        return NULL;
    }
    buf = g_malloc(max + 1);
    for (;;) {
        ssize_t n = read(fd, buf + have, max + 1 - have);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            saved = errno;
            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "cannot read '%s/%s': %s", dir, name,
                        g_strerror(saved));
            close(fd);
            errno = saved;
            return NULL;
        }
        if (n == 0)
            break;
        have += n;
        if (have > max) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "'%s/%s' is larger than %" G_GSIZE_FORMAT
                        " bytes", dir, name, max);
            close(fd);
            errno = EFBIG;
            return NULL;
        }
    }
    close(fd);
    buf[have] = '\0';
    if (len)
        *len = have;
    return g_steal_pointer(&buf);
}
