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
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    guint64 nr;
    guint64 free_pages;
    guint64 resv;
} HpPool;

typedef struct {
    char *dir;                  /* /run/virt-spm-test-hugepages-PID */
    char *mount_2m;
    char *mount_1g;             /* NULL when the host has no 1 GiB page to give */
    char *skip_1g;              /* why, or NULL */
    guint64 start_nr_2m;
    guint64 start_nr_1g;
    guint64 added_2m;
    gboolean ready;
    char *skip;                 /* why the huge page cases cannot run, or NULL */
} HpSetup;

/* Reserve @pages_2m more 2 MiB pages and 1 more 1 GiB page, mount both. */
void hp_setup(HpSetup *hp, guint64 pages_2m);
/* Unmount and remove the private directory (before libvirtd's last restart). */
void hp_unmount(HpSetup *hp);
/* Give the pools their starting sizes back; TRUE if they have them. */
gboolean hp_restore_pools(HpSetup *hp);

/* The host pool of @page_kb ("/sys/kernel/mm/hugepages/hugepages-NkB"). */
gboolean hp_pool_read(guint64 page_kb, HpPool *pool);

/* Environment for the children of the test (the set-up is the parent's). */
void hp_export(const HpSetup *hp);
void hp_import(HpSetup *hp);

G_END_DECLS
