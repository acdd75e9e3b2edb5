/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-memdir.c: the per-domain directories of file-backed SPM devices
 */
#include "spm-memdir.h"
#include "spm-error.h"
#include "spm-safe-dir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <glib/gstdio.h>

GPtrArray *
spm_memdir_planned(const SpmPlan *plan)
{
    GPtrArray *dirs = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; i < plan->devices->len; i++) {
        const SpmPlannedDevice *pd = g_ptr_array_index(plan->devices, i);

        if (pd->generated && pd->backend.domain_dir && pd->backend.mem_path &&
            !g_ptr_array_find_with_equal_func(dirs, pd->backend.mem_path, g_str_equal, NULL))
            g_ptr_array_add(dirs, g_strdup(pd->backend.mem_path));
    }
    return dirs;
}

GPtrArray *
spm_memdir_candidates(const SpmHostFacts *facts, const char *name)
{
    GPtrArray *dirs = g_ptr_array_new_with_free_func(g_free);
    char *dir;

    dir = spm_plan_domain_dir(facts->memory_backing_dir ? facts->memory_backing_dir
                                                        : SPM_LIBVIRT_MEMORY_BACKING_DIR, name);
    if (dir)
        g_ptr_array_add(dirs, dir);
    for (guint i = 0; i < facts->n_hugetlbfs; i++) {
        g_autofree char *base = spm_plan_hugetlbfs_base(facts->hugetlbfs[i].path);

        if ((dir = spm_plan_domain_dir(base, name)) &&
            !g_ptr_array_find_with_equal_func(dirs, dir, g_str_equal, NULL))
            g_ptr_array_add(dirs, dir);
        else
            g_free(dir);
    }
    return dirs;
}

/* "+107" or "107" -> 107; a name through @lookup; FALSE if neither */
static gboolean
spm_memdir_parse_id(const char *text, gboolean is_user, guint *id)
{
    guint64 v;
    const char *digits = text[0] == '+' ? text + 1 : text;

    if (*digits && g_ascii_string_to_unsigned(digits, 10, 0, G_MAXUINT32 - 1, &v, NULL)) {
        *id = (guint)v;
        return TRUE;
    }
    if (text[0] == '+')
        return FALSE;
    if (is_user) {
        struct passwd *pw = getpwnam(text);

        if (!pw)
            return FALSE;
        *id = pw->pw_uid;
    } else {
        struct group *gr = getgrnam(text);

        if (!gr)
            return FALSE;
        *id = gr->gr_gid;
    }
    return TRUE;
}

gboolean
spm_memdir_parse_dac_label(const char *label, uid_t *uid, gid_t *gid, GError **error)
{
    g_auto(GStrv) parts = g_strsplit(label, ":", 3);
    guint u = 0;
    guint g = 0;

    if (g_strv_length(parts) != 2 ||
        !spm_memdir_parse_id(parts[0], TRUE, &u) || !spm_memdir_parse_id(parts[1], FALSE, &g)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "seclabel model='dac' label '%s' is not USER:GROUP", label);
        return FALSE;
    }
    *uid = u;
    *gid = g;
    return TRUE;
}

/*
 * The directory above @dir is libvirt's memory_backing_dir or a
 * hugetlbfs directory of the QEMU user: that user can replace @dir by a
 * symbolic link at any moment.  So @dir is resolved once, through the
 * descriptor of the directory above (opened without following a link),
 * and everything after goes through the descriptor of @dir itself.
 */
gboolean
spm_memdir_create(const char *dir, uid_t uid, gid_t gid, const char *selinux_label,
                  GError **error)
{
    int pfd, fd;
    gboolean ok = FALSE;

    fd = spm_safe_dir_open(dir, SPM_SAFE_DIR_CREATE, 0700, &pfd, error);
    if (fd < 0)
        return FALSE;
    /* QEMU creates its file here as the user libvirt runs it as */
    if (fchown(fd, uid, gid) < 0 || fchmod(fd, 0700) < 0) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                    "cannot give directory '%s' to %u:%u: %s", dir, (guint)uid, (guint)gid,
                    g_strerror(errno));
        goto out;
    }
    /* what setfilecon() does, without linking libselinux for one call */
    if (selinux_label &&
        fsetxattr(fd, "security.selinux", selinux_label, strlen(selinux_label) + 1, 0) < 0 &&
        errno != ENOTSUP) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                    "cannot label directory '%s' %s: %s", dir, selinux_label, g_strerror(errno));
        goto out;
    }
    ok = TRUE;
out:
    close(fd);
    close(pfd);
    return ok;
}

/* Unlink the regular files of the directory @fd (@dir for messages). */
static gboolean
spm_memdir_empty(int fd, const char *dir, GError **error)
{
    int lfd = dup(fd);
    DIR *d = lfd >= 0 ? fdopendir(lfd) : NULL;
    struct dirent *de;
    gboolean ok = TRUE;

    if (!d) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "cannot read directory '%s': %s",
                    dir, g_strerror(errno));
        if (lfd >= 0)
            close(lfd);
        return FALSE;
    }
    while (ok && (errno = 0, de = readdir(d))) {
        struct stat st;

        if (g_str_equal(de->d_name, ".") || g_str_equal(de->d_name, ".."))
            continue;
        if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
            unlinkat(fd, de->d_name, 0) < 0 && errno != ENOENT) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "cannot remove '%s/%s': %s",
                        dir, de->d_name, g_strerror(errno));
            ok = FALSE;
        }
    }
    closedir(d);
    return ok;
}

gboolean
spm_memdir_remove(const char *dir, GError **error)
{
    g_autofree char *base = g_path_get_basename(dir);
    g_autoptr(GError) local = NULL;
    int pfd, fd;
    gboolean ok;

    fd = spm_safe_dir_open(dir, 0, 0, &pfd, &local);
    if (fd < 0) {
        if (errno == ENOENT)
            return TRUE;
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    ok = spm_memdir_empty(fd, dir, error);
    close(fd);
    /*
     * By name in the directory above, which is all rmdir can do: if the
     * QEMU user put another directory there meanwhile, an empty one of its
     * own goes, nothing of root's.
     */
    if (ok && unlinkat(pfd, base, AT_REMOVEDIR) < 0 && errno != ENOENT) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                    "cannot remove directory '%s': %s", dir, g_strerror(errno));
        ok = FALSE;
    }
    close(pfd);
    return ok;
}
