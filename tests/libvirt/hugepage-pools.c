/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hugepage-pools.c: huge page pools and hugetlbfs mounts for the real
 * libvirt tests
 */
#include "hugepage-pools.h"
#include "spm-test-libvirt.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>
#include <glib/gstdio.h>

#define HP_PREFIX "virt-spm-test-hugepages-"

static char *
hp_pool_file(guint64 page_kb, const char *file)
{
    return g_strdup_printf("/sys/kernel/mm/hugepages/hugepages-%" G_GUINT64_FORMAT "kB/%s",
                           page_kb, file);
}

static gboolean
hp_read_u64(const char *path, guint64 *value)
{
    g_autofree char *text = NULL;

    return g_file_get_contents(path, &text, NULL, NULL) &&
           g_ascii_string_to_unsigned(g_strstrip(text), 10, 0, G_MAXUINT64, value, NULL);
}

gboolean
hp_pool_read(guint64 page_kb, HpPool *pool)
{
    g_autofree char *nr = hp_pool_file(page_kb, "nr_hugepages");
    g_autofree char *fr = hp_pool_file(page_kb, "free_hugepages");
    g_autofree char *rs = hp_pool_file(page_kb, "resv_hugepages");

    return hp_read_u64(nr, &pool->nr) && hp_read_u64(fr, &pool->free_pages) &&
           hp_read_u64(rs, &pool->resv);
}

static gboolean
hp_pool_set(guint64 page_kb, guint64 nr)
{
    g_autofree char *path = hp_pool_file(page_kb, "nr_hugepages");
    FILE *f = fopen(path, "w");     /* sysfs: in place, no temporary file */
    HpPool now;
    gboolean written;

    if (!f)
        return FALSE;
    written = fprintf(f, "%" G_GUINT64_FORMAT "\n", nr) > 0;
    written = fclose(f) == 0 && written;
    /* the kernel may give fewer pages than asked: read back */
    return written && hp_pool_read(page_kb, &now) && now.nr == nr;
}

static gboolean
hp_mount(const char *dir, const char *pagesize)
{
    g_autofree char *opts = g_strdup_printf("pagesize=%s", pagesize);

    return g_mkdir_with_parents(dir, 0755) == 0 &&
           mount("none", dir, "hugetlbfs", 0, opts) == 0;
}

/* A run that was killed left its mounts: its pid is gone. */
static void
hp_clean_stale(const char *run_dir)
{
    g_autoptr(GDir) d = g_dir_open(run_dir, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *dir = NULL;
        guint64 pid;

        if (!g_str_has_prefix(name, HP_PREFIX) ||
            !g_ascii_string_to_unsigned(name + strlen(HP_PREFIX), 10, 1, G_MAXINT, &pid, NULL) ||
            kill((pid_t)pid, 0) == 0)
            continue;
        dir = g_build_filename(run_dir, name, NULL);
        for (const char *const *leaf = (const char *const[]){ "2M", "1G", NULL }; *leaf; leaf++) {
            g_autofree char *m = g_build_filename(dir, *leaf, NULL);

            umount2(m, MNT_DETACH);
            g_rmdir(m);
        }
        g_rmdir(dir);
    }
}

void
hp_setup(HpSetup *hp, guint64 pages_2m, const char *run_dir)
{
    HpPool p2 = { 0 };
    HpPool p1 = { 0 };
    g_autoptr(GError) error = NULL;

    memset(hp, 0, sizeof(*hp));
    /* a run that cannot have the pools fails: a skip would hide the cases */
    if ((hp->pools_lock = spm_test_lock_file(HP_POOLS_LOCK, HP_POOLS_LOCK_S, &error)) < 0)
        g_error("huge page pools: %s", error->message);
    hp_clean_stale(run_dir);
    if (!hp_pool_read(2048, &p2)) {
        hp->skip = g_strdup("the kernel has no 2 MiB huge page pool");
        return;
    }
    hp->start_nr_2m = p2.nr;
    hp->dir = g_strdup_printf("%s/" HP_PREFIX "%d", run_dir, (int)getpid());
    hp->mount_2m = g_build_filename(hp->dir, "2M", NULL);
    if (!hp_pool_set(2048, p2.nr + pages_2m)) {
        hp_pool_set(2048, p2.nr);
        hp->skip = g_strdup_printf("the kernel cannot reserve %" G_GUINT64_FORMAT
                                   " more 2 MiB huge pages", pages_2m);
        return;
    }
    hp->added_2m = pages_2m;
    if (!hp_mount(hp->mount_2m, "2M")) {
        hp->skip = g_strdup_printf("cannot mount hugetlbfs on %s: %s", hp->mount_2m,
                                   g_strerror(errno));
        return;
    }
    if (hp_pool_read(1048576, &p1)) {
        hp->start_nr_1g = p1.nr;
        if (hp_pool_set(1048576, p1.nr + 1)) {
            g_autofree char *m = g_build_filename(hp->dir, "1G", NULL);

            if (hp_mount(m, "1G"))
                hp->mount_1g = g_steal_pointer(&m);
            else
                hp->skip_1g = g_strdup_printf("cannot mount hugetlbfs pagesize=1G: %s",
                                              g_strerror(errno));
        } else {
            hp_pool_set(1048576, p1.nr);
            hp->skip_1g = g_strdup("the kernel cannot reserve a 1 GiB huge page now "
                                   "(memory too fragmented, or too little)");
        }
    } else {
        hp->skip_1g = g_strdup("the kernel has no 1 GiB huge page pool");
    }
    hp->ready = TRUE;
}

void
hp_unmount(HpSetup *hp)
{
    for (char **m = (char *[]){ hp->mount_2m, hp->mount_1g, NULL }; *m; m++) {
        if (umount2(*m, 0) < 0 && errno != EINVAL && errno != ENOENT)
            umount2(*m, MNT_DETACH);
        g_rmdir(*m);
    }
    if (hp->dir)
        g_rmdir(hp->dir);
}

gboolean
hp_restore_pools(HpSetup *hp)
{
    gboolean ok = TRUE;

    if (hp->added_2m)
        ok = hp_pool_set(2048, hp->start_nr_2m) && ok;
    if (hp->mount_1g || hp->skip_1g)
        ok = hp_pool_set(1048576, hp->start_nr_1g) && ok;
    if (hp->pools_lock >= 0)
        close(hp->pools_lock);
    hp->pools_lock = -1;
    return ok;
}

void
hp_export(const HpSetup *hp)
{
    g_setenv("SPM_TEST_HP_READY", hp->ready ? "1" : "0", TRUE);
    g_setenv("SPM_TEST_HP_SKIP", hp->skip ? hp->skip : "", TRUE);
    g_setenv("SPM_TEST_HP_SKIP_1G", hp->skip_1g ? hp->skip_1g : "", TRUE);
    g_setenv("SPM_TEST_HP_MOUNT_2M", hp->mount_2m ? hp->mount_2m : "", TRUE);
    g_setenv("SPM_TEST_HP_MOUNT_1G", hp->mount_1g ? hp->mount_1g : "", TRUE);
}

static char *
hp_env(const char *name)
{
    const char *v = g_getenv(name);

    return v && *v ? g_strdup(v) : NULL;
}

void
hp_import(HpSetup *hp)
{
    memset(hp, 0, sizeof(*hp));
    hp->pools_lock = -1;        /* the parent's */
    hp->ready = g_strcmp0(g_getenv("SPM_TEST_HP_READY"), "1") == 0;
    hp->skip = hp_env("SPM_TEST_HP_SKIP");
    hp->skip_1g = hp_env("SPM_TEST_HP_SKIP_1G");
    hp->mount_2m = hp_env("SPM_TEST_HP_MOUNT_2M");
    hp->mount_1g = hp_env("SPM_TEST_HP_MOUNT_1G");
}
