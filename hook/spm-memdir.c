/*
 * spm-memdir.c: the per-domain directories of file-backed SPM devices
 */
#include "spm-memdir.h"
#include "spm-error.h"

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

gboolean
spm_memdir_create(const char *dir, uid_t uid, gid_t gid, GError **error)
{
    g_autofree char *parent = g_path_get_dirname(dir);
    struct stat st;

    if (g_mkdir_with_parents(parent, 0755) < 0) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                    "cannot create directory '%s': %s", parent, g_strerror(errno));
        return FALSE;
    }
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                    "cannot create directory '%s': %s", dir, g_strerror(errno));
        return FALSE;
    }
    if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                    "'%s' exists and is not a directory", dir);
        return FALSE;
    }
    /* QEMU creates its file here as the user libvirt runs it as */
    if (lchown(dir, uid, gid) < 0 || chmod(dir, 0700) < 0) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                    "cannot give directory '%s' to %u:%u: %s", dir, (guint)uid, (guint)gid,
                    g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}

gboolean
spm_memdir_set_selinux_label(const char *dir, const char *label, GError **error)
{
    /* what setfilecon() does, without linking libselinux for one call */
    if (lsetxattr(dir, "security.selinux", label, strlen(label) + 1, 0) == 0 ||
        errno == ENOTSUP)
        return TRUE;
    g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                "cannot label directory '%s' %s: %s", dir, label, g_strerror(errno));
    return FALSE;
}

gboolean
spm_memdir_remove(const char *dir, GError **error)
{
    g_autoptr(GDir) d = NULL;
    g_autoptr(GError) local = NULL;
    const char *name;
    struct stat st;

    if (lstat(dir, &st) < 0) {
        if (errno == ENOENT)
            return TRUE;
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                    "cannot look at '%s': %s", dir, g_strerror(errno));
        return FALSE;
    }
    if (!S_ISDIR(st.st_mode)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                    "'%s' is not a directory: left alone", dir);
        return FALSE;
    }
    if (!(d = g_dir_open(dir, 0, &local))) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "%s", local->message);
        return FALSE;
    }
    while ((name = g_dir_read_name(d))) {
        g_autofree char *path = g_build_filename(dir, name, NULL);

        if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) && unlink(path) < 0) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                        "cannot remove '%s': %s", path, g_strerror(errno));
            return FALSE;
        }
    }
    if (rmdir(dir) < 0) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                    "cannot remove directory '%s': %s", dir, g_strerror(errno));
        return FALSE;
    }
    return TRUE;
}
