/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-hugepages.h: host facts about huge pages and libvirt's memory
 * directories, and the check that the pools hold what a domain needs.
 *
 * The pure planner chooses backends from facts (SpmHostFacts: libvirt's
 * memory_backing_dir and hugetlbfs mounts); this file gathers them the way
 * libvirt 9.0 does (qemu.conf's memory_backing_dir and hugetlbfs_mount,
 * else the hugetlbfs mounts in /proc/mounts), and, for the libvirt hook's
 * `prepare begin`, reads the huge page pools under a sysfs root (a fake
 * tree in the tests) to refuse a start the kernel could not back.
 */
#pragma once

#include <glib.h>
#include "spm-plan.h"

G_BEGIN_DECLS

#define SPM_LIBVIRT_QEMU_CONF "/etc/libvirt/qemu.conf"

/*
 * Read memory_backing_dir and hugetlbfs_mount (a string or a list of
 * strings) from libvirt's qemu.conf at @path.  Absent keys leave NULL;
 * a missing or unreadable file (it is root's, mode 0600) is no error and
 * sets nothing.  Other keys are ignored.
 */
gboolean spm_qemu_conf_read(const char *path,
                            char **memory_backing_dir,
                            GStrv *hugetlbfs_mounts,
                            GError **error);

/*
 * The hugetlbfs mounts in @mounts_text (the format of /proc/mounts), in
 * its order, with the page size from their pagesize= option ("2M",
 * "1024M"; the kernel always shows it).  Returns an array of SpmHugetlbfs
 * (free with spm_hugetlbfs_array_free).
 */
GArray *spm_hugetlbfs_parse_mounts(const char *mounts_text);
void spm_hugetlbfs_array_free(GArray *mounts);

/*
 * Fill facts->memory_backing_dir and facts->hugetlbfs as libvirt would see
 * them: qemu.conf (@qemu_conf) first; when it names no hugetlbfs mount,
 * the hugetlbfs mounts of @proc_mounts.  The page size of a mount named in
 * qemu.conf comes from statfs(), as libvirt takes it; a mount that is not
 * there is left out.
 */
void spm_hugepages_detect(SpmHostFacts *facts,
                          const char *qemu_conf,
                          const char *proc_mounts);

/*
 * Parse "2MiB:/dev/hugepages;1GiB:/mnt/huge1G" ([host] hugetlbfs_mount in
 * virt-spm.conf) into @facts.  An empty value means no mount at all.
 */
gboolean spm_hugepages_parse_setting(const char *value, SpmHostFacts *facts, GError **error);

/*
 * Do the huge page pools of the host under @sysfs_root ("/sys") hold what
 * @plan (of @def) takes?  Every page size in use must exist
 * (SYSFS/kernel/mm/hugepages/hugepages-NkB); the free pages of each host
 * node a device binds (nodeN/hugepages/.../free_hugepages) must cover the
 * devices bound there; and the free, unreserved pages of the host
 * (free_hugepages - resv_hugepages) must cover all users of that size
 * together: the guest RAM (<memoryBacking><hugepages>), libvirt's own
 * memory devices and the SPM devices.  Fails with SPM_ERROR_INVALID and
 * one line naming the device, the page size, the node and the numbers.
 */
gboolean spm_hugepages_check(const SpmPlan *plan,
                             const SpmDomainDef *def,
                             const char *sysfs_root,
                             GError **error);

G_END_DECLS
