/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-memdir-race.c: the hook (root) creating and removing a per-domain
 * directory while the QEMU user swaps it for a symbolic link.
 *
 * libvirt gives the directory above (memory_backing_dir, the hugetlbfs
 * "libvirt/qemu" directory) to the QEMU user, who can rename entries in it
 * at any moment.  Here a forked process, as nobody, exchanges the domain's
 * directory with a symbolic link to something of root's
 * (renameat2(RENAME_EXCHANGE)) as fast as it can, while this process, as
 * root, creates or removes the directory again and again.  Resolving the
 * path more than once loses within a few rounds: root unlinks or chmods
 * its own file.  The test runs until that happens, or until its time
 * ($SPM_TEST_RACE_SECONDS, 4 s) is over, and prints the rounds it ran.
 * It needs root (to be two users); skipped otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "spm-memdir.h"

typedef struct {
    char *top;          /* root's, 0755 */
    char *parent;       /* the QEMU user's (nobody), as memory_backing_dir */
    char *dir;          /* parent/virt-spm-vm: what the hook creates and removes */
    char *swap;         /* parent/swap: the attacker's symbolic link */
    char *victim_dir;   /* root's */
    char *victim;       /* victim_dir/secret, root's, 0644 */
    uid_t uid;
    gid_t gid;
} Race;

static void
race_write_victim(const Race *r)
{
    g_assert_true(g_file_set_contents(r->victim, "root's\n", -1, NULL));
    g_assert_cmpint(chown(r->victim, 0, 0), ==, 0);
    g_assert_cmpint(chmod(r->victim, 0644), ==, 0);
}

static void
race_setup(Race *r)
{
    struct passwd *pw = getpwnam("nobody");

    r->uid = pw ? pw->pw_uid : 65534;
    r->gid = pw ? pw->pw_gid : 65534;
    r->top = g_dir_make_tmp("spm-memdir-race-XXXXXX", NULL);
    g_assert_nonnull(r->top);
    g_assert_cmpint(chmod(r->top, 0755), ==, 0);
    r->parent = g_build_filename(r->top, "qemu", NULL);
    r->dir = g_build_filename(r->parent, "virt-spm-vm", NULL);
    r->swap = g_build_filename(r->parent, "swap", NULL);
    r->victim_dir = g_build_filename(r->top, "victim", NULL);
    r->victim = g_build_filename(r->victim_dir, "secret", NULL);
    g_assert_cmpint(g_mkdir(r->parent, 0755), ==, 0);
    g_assert_cmpint(chown(r->parent, r->uid, r->gid), ==, 0);
    g_assert_cmpint(g_mkdir(r->victim_dir, 0755), ==, 0);
    race_write_victim(r);
}

static void
race_teardown(Race *r)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", r->top);

    g_assert_cmpint(system(cmd), ==, 0);
    g_free(r->top);
    g_free(r->parent);
    g_free(r->dir);
    g_free(r->swap);
    g_free(r->victim_dir);
    g_free(r->victim);
}

/*
 * The QEMU user: keep exchanging r->dir (a real directory holding a file
 * named as the victim) with r->swap (a link to @link_target), and put back
 * whichever the hook removed.  Never returns.
 */
static void __attribute__((noreturn))
race_attacker(const Race *r, const char *link_target)
{
    g_autofree char *bait = g_build_filename(r->dir, "secret", NULL);

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (setgroups(0, NULL) < 0 || setgid(r->gid) < 0 || setuid(r->uid) < 0)
        _exit(3);
    for (;;) {
        struct stat st;

        if (renameat2(AT_FDCWD, r->dir, AT_FDCWD, r->swap, RENAME_EXCHANGE) == 0)
            continue;
        if (lstat(r->dir, &st) < 0 && mkdir(r->dir, 0755) == 0)
            close(open(bait, O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
        if (lstat(r->swap, &st) < 0)
            (void)symlink(link_target, r->swap);
    }
}

static gint64
race_deadline(void)
{
    const char *env = g_getenv("SPM_TEST_RACE_SECONDS");
    guint64 s = 4;

    if (env)
        g_ascii_string_to_unsigned(env, 10, 1, 3600, &s, NULL);
    return g_get_monotonic_time() + (gint64)s * G_USEC_PER_SEC;
}

static void
race_stop(pid_t pid)
{
    int status;

    g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    /* it was killed, it did not fail to become nobody */
    g_assert_true(WIFSIGNALED(status));
}

/* One side of the race: root's operation, and whether the attacker won. */
typedef struct {
    const char *what;                               /* "remove", "create" */
    const char *done;                               /* "removed", "created" */
    const char *loss;                               /* what winning did to root's file */
    gboolean (*op)(const Race *r, GError **error);
    gboolean (*lost)(const Race *r);
    gboolean target_is_victim;                      /* the link points at the file, not its directory */
} RaceSide;

/*
 * Root runs @side's operation over and over while an unprivileged process
 * swaps the directory for a link to root's own file; until the deadline,
 * or until root's file was harmed.
 */
static void
race_run(const RaceSide *side)
{
    Race r = { 0 };
    gint64 deadline;
    guint rounds = 0, done = 0, refused = 0;
    gboolean lost = FALSE;
    pid_t pid;

    if (geteuid() != 0) {
        g_test_skip("needs root: the race is between root and another user");
        return;
    }
    race_setup(&r);
    if ((pid = fork()) == 0)
        race_attacker(&r, side->target_is_victim ? r.victim : r.victim_dir);
    g_assert_cmpint(pid, >, 0);
    deadline = race_deadline();
    while (g_get_monotonic_time() < deadline) {
        g_autoptr(GError) error = NULL;

        rounds++;
        if (side->op(&r, &error))
            done++;
        else
            refused++;
        if (side->lost(&r)) {
            lost = TRUE;
            break;
        }
    }
    race_stop(pid);
    printf("# %s: %u rounds, %u %s, %u refused%s%s\n", side->what, rounds, done, side->done,
           refused, lost ? ": " : "", lost ? side->loss : "");
    g_assert_false(lost);
    /* the race really ran: the directory was seen both ways */
    g_assert_cmpuint(done, >, 0);
    g_assert_cmpuint(refused, >, 0);
    race_teardown(&r);
}

static gboolean
race_remove(const Race *r, GError **error)
{
    return spm_memdir_remove(r->dir, error);
}

static gboolean
race_remove_lost(const Race *r)
{
    return !g_file_test(r->victim, G_FILE_TEST_EXISTS);
}

static gboolean
race_create(const Race *r, GError **error)
{
    return spm_memdir_create(r->dir, r->uid, r->gid, NULL, error);
}

static gboolean
race_create_lost(const Race *r)
{
    GStatBuf st;

    g_assert_cmpint(g_stat(r->victim, &st), ==, 0);
    return (st.st_mode & 07777) != 0644 || st.st_uid != 0 || st.st_gid != 0;
}

/* D1: remove at stopped end never unlinks root's file through the link. */
static void
test_remove_race(void)
{
    static const RaceSide side = { "remove", "removed", "root's file was unlinked through the link",
                                   race_remove, race_remove_lost, FALSE };

    race_run(&side);
}

/* D2: create at start begin never chmods or chowns root's file through the link. */
static void
test_create_race(void)
{
    static const RaceSide side = { "create", "created", "root's file was chmod-ed through the link",
                                   race_create, race_create_lost, TRUE };

    race_run(&side);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/memdir-race/remove", test_remove_race);
    g_test_add_func("/memdir-race/create", test_create_race);
    return g_test_run();
}
