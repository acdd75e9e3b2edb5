/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hugepage-pools.h: huge page pools and hugetlbfs mounts for the real
 * libvirt tests, set up for one run and put back as they were.
 *
 * The run reserves pages in the 2 MiB and (when the kernel can give one)
 * 1 GiB pools with nr_hugepages and mounts hugetlbfs with pagesize=2M and
 * pagesize=1G in a private directory, before libvirtd is restarted so that
 * libvirtd finds the mounts in /proc/mounts as it finds the host's.  The
 * tear-down unmounts before the last restart of libvirtd, and gives the
 * pools back their starting sizes; leftovers of a run that was killed
 * are cleaned at the next set-up.
 *
 * The pools are the host's, whichever libvirtd the run drives (the host's,
 * or the sid root's, whose mounts go in the root's /run so that the
 * chrooted daemon and hook see them): a run holds HP_POOLS_LOCK from
 * set-up to restore, so that two runs never count each other's pages.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    guint64 nr;
    guint64 free_pages;
    guint64 resv;
} HpPool;

#define HP_POOLS_LOCK "/run/lock/virt-spm-test-hugepage-pools.lock"
#define HP_POOLS_LOCK_S 900

typedef struct {
    char *dir;                  /* RUN_DIR/virt-spm-test-hugepages-PID */
    char *mount_2m;
    char *mount_1g;             /* NULL when the host has no 1 GiB page to give */
    char *skip_1g;              /* why, or NULL */
    guint64 start_nr_2m;
    guint64 start_nr_1g;
    guint64 added_2m;
    gboolean ready;
    char *skip;                 /* why the huge page cases cannot run, or NULL */
    int pools_lock;             /* HP_POOLS_LOCK's descriptor, or -1 */
} HpSetup;

/*
 * Take HP_POOLS_LOCK, reserve @pages_2m more 2 MiB pages and 1 more 1 GiB
 * page, mount both under @run_dir ("/run", or the root's run directory).
 */
void hp_setup(HpSetup *hp, guint64 pages_2m, const char *run_dir);
/* Unmount and remove the private directory (before libvirtd's last restart). */
void hp_unmount(HpSetup *hp);
/* Give the pools their starting sizes back and drop HP_POOLS_LOCK; TRUE if
 * they have them. */
gboolean hp_restore_pools(HpSetup *hp);

/* The host pool of @page_kb ("/sys/kernel/mm/hugepages/hugepages-NkB"). */
gboolean hp_pool_read(guint64 page_kb, HpPool *pool);

/* Environment for the children of the test (the set-up is the parent's). */
void hp_export(const HpSetup *hp);
void hp_import(HpSetup *hp);

G_END_DECLS
