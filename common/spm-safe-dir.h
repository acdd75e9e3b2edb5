/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-safe-dir.h: directories that root opens next to other users' files.
 *
 * The hook and virt-spmd run as root; libvirt gives some directories to
 * the user QEMU runs as.  A path that another user can change between two
 * system calls is resolved once: the directory is opened with
 * O_DIRECTORY|O_NOFOLLOW and everything after goes through the descriptor.
 * A directory that is to hold files others must trust (plans, caches, the
 * ledger) must also be "trusted": it and every directory above it belong
 * to root or to us, and none can be written by others, except a sticky
 * one (/tmp), where others cannot move what is ours.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

G_BEGIN_DECLS

typedef enum {
    /* create what is missing: the directories above 0755, the last @mode */
    SPM_SAFE_DIR_CREATE = 1 << 0,
    /*
     * the last directory must be ours (geteuid()) and writable by us only,
     * the directories above must be trusted
     */
    SPM_SAFE_DIR_TRUSTED = 1 << 1,
    /* with SPM_SAFE_DIR_TRUSTED: an existing last directory gets @mode */
    SPM_SAFE_DIR_FIX_MODE = 1 << 2,
} SpmSafeDirFlags;

/*
 * Open the directory @path (its last component never a symbolic link):
 * a descriptor (O_RDONLY|O_DIRECTORY|O_CLOEXEC), or -1 with @error (and
 * errno: ENOENT when it does not exist and SPM_SAFE_DIR_CREATE is not
 * given).  @parent_fd, when not NULL, gets a descriptor of the directory
 * above (for unlinkat(2) of @path itself).
 */
int spm_safe_dir_open(const char *path, SpmSafeDirFlags flags, mode_t mode,
                      int *parent_fd, GError **error);

/* spm_safe_dir_open() for its checks only: TRUE when the directory is fine. */
gboolean spm_safe_dir_ensure(const char *path, SpmSafeDirFlags flags, mode_t mode, GError **error);

/*
 * The regular file @name in the directory @dir_fd (@dir for messages),
 * never through a symbolic link, never blocking on a FIFO, at most @max
 * bytes; it must be root's or ours and writable by its owner only (others
 * could have written it otherwise).  NULL with @error, and errno ENOENT
 * when there is no such file.
 */
char *spm_safe_file_read(int dir_fd, const char *dir, const char *name, gsize max, gsize *len,
                         GError **error);

G_END_DECLS
