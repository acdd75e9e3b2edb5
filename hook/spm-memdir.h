/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-memdir.h: the per-domain directories of file-backed SPM devices.
 *
 * A file-backed SPM device gets mem-path=BASE/virt-spm-NAME (the planner's
 * spm_plan_domain_dir()), BASE being libvirt's memory_backing_dir or the
 * "libvirt/qemu" directory libvirt keeps in each hugetlbfs mount.  The
 * libvirt hook creates the directory at `start begin`, when libvirt has
 * chosen the user QEMU runs as (the DAC label of the domain), and removes
 * it at `stopped end` and `release end`.  QEMU creates its file in the
 * directory and unlinks it at once, so the pages go back to the pool when
 * QEMU exits and only the directory is left for the hook to remove.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>
#include "spm-plan.h"

G_BEGIN_DECLS

/* The distinct per-domain directories @plan's backends use. */
GPtrArray *spm_memdir_planned(const SpmPlan *plan);

/*
 * Every directory virt-spm may have made for domain @name with the
 * memory_backing_dir and hugetlbfs mounts of @facts: what to remove after
 * a stop, whatever the plan says today.
 */
GPtrArray *spm_memdir_candidates(const SpmHostFacts *facts, const char *name);

/*
 * libvirt's DAC label ("+107:+107", "libvirt-qemu:kvm") to ids; FALSE with
 * @error when it is neither numbers nor known names.
 */
gboolean spm_memdir_parse_dac_label(const char *label, uid_t *uid, gid_t *gid, GError **error);

/*
 * Create @dir (mode 0700, as libvirt makes its own per-domain directories)
 * owned by @uid:@gid, with the SELinux @selinux_label (the domain's
 * imagelabel, as libvirt gives its own memory directories; NULL: none; a
 * file system without labels is no error); a missing parent is created
 * 0755.  An existing directory is taken over (a stop that was never seen);
 * anything else in its place, a symbolic link included, is an error.  The
 * QEMU user may own the directory above: @dir is resolved once, never
 * followed through a link, and changed through its descriptor only.
 */
gboolean spm_memdir_create(const char *dir, uid_t uid, gid_t gid, const char *selinux_label,
                           GError **error);

/*
 * Remove @dir and the regular files in it (QEMU's, if it died before it
 * unlinked them).  A missing @dir is no error; symbolic links are never
 * followed, and a directory with anything else in it is left with an error.
 * As for spm_memdir_create(), @dir is resolved once and emptied through its
 * descriptor: a link swapped in meanwhile never leads root elsewhere.
 */
gboolean spm_memdir_remove(const char *dir, GError **error);

G_END_DECLS
