/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-wrapper.c: what the emulator wrapper adds to QEMU's start.
 *
 *   bench-wrapper WRAPPER [RUNS]
 *
 * Targets (docs/nova.md): a capability probe through the wrapper costs
 * < 1 ms more than without it; a guest with a plan (read, check, edit)
 * < 5 ms more.  To measure the wrapper and not QEMU, the "real QEMU"
 * behind it is /bin/true; the same runs of Debian's QEMU (-version) are
 * printed for scale.  Medians of RUNS spawns each.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

extern char **environ;

static const char uuid[] = "142e7aec-cbbf-41ee-9e73-6ae195e7e78a";

static double
spawn_us(const char *path, char **argv, char **envp)
{
    posix_spawn_file_actions_t fa;
    gint64 t0;
    pid_t pid;
    int status;

    /* QEMU's -version text is not what is measured */
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    t0 = g_get_monotonic_time();
    if (posix_spawn(&pid, path, &fa, NULL, argv, envp) != 0)
        g_error("cannot run %s: %s", path, g_strerror(errno));
    posix_spawn_file_actions_destroy(&fa);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        g_error("%s failed (status %d)", path, status);
    return (double)(g_get_monotonic_time() - t0);
}

static int
cmp_double(gconstpointer a, gconstpointer b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double
median_us(const char *path, char **argv, char **envp, guint runs)
{
    g_autofree double *t = g_new(double, runs);

    spawn_us(path, argv, envp);     /* warm the page cache */
    for (guint i = 0; i < runs; i++)
        t[i] = spawn_us(path, argv, envp);
    qsort(t, runs, sizeof(double), (int (*)(const void *, const void *))cmp_double);
    return t[runs / 2];
}

int
main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = NULL;
    g_autofree char *bin = NULL, *real = NULL, *plans = NULL, *wrapper = NULL, *plan = NULL;
    g_autofree char *text = NULL, *path_env = NULL, *plan_env = NULL;
    guint runs = argc > 2 ? (guint)atoi(argv[2]) : 200;
    double direct, probe, guest, qemu_direct = 0, qemu_probe = 0;
    char *probe_argv[] = { NULL, (char *)"-machine", (char *)"none", (char *)"-version", NULL };
    char *guest_argv[] = { NULL, (char *)"-name", (char *)"guest=vm,debug-threads=on",
                           (char *)"-machine", (char *)"pc-q35-7.2,usb=off,memory-backend=pc.ram",
                           (char *)"-m", (char *)"512", (char *)"-smp", (char *)"2",
                           (char *)"-uuid", (char *)uuid, NULL };
    char *envp[4] = { NULL };

    if (argc < 2 || runs == 0) {
        fprintf(stderr, "usage: %s WRAPPER [RUNS]\n", argv[0]);
        return 2;
    }
    dir = g_dir_make_tmp("spm-bench-wrapper-XXXXXX", &error);
    g_assert_no_error(error);
    bin = g_build_filename(dir, "bin", NULL);
    real = g_build_filename(dir, "real", NULL);
    plans = g_build_filename(dir, "plans", NULL);
    g_mkdir(bin, 0755);
    g_mkdir(real, 0755);
    g_mkdir(plans, 0755);
    wrapper = g_build_filename(bin, "qemu-system-x86_64", NULL);
    if (symlink(g_canonicalize_filename(argv[1], NULL), wrapper) < 0)
        g_error("symlink: %s", g_strerror(errno));
    {
        g_autofree char *q = g_build_filename(real, "qemu-system-x86_64", NULL);

        if (symlink("/bin/true", q) < 0)
            g_error("symlink: %s", g_strerror(errno));
    }
    plan = g_strdup_printf("%s/%s.plan", plans, uuid);
    text = g_strdup_printf("virt-spm-nova-plan 1\nuuid %s\nname guest=vm\nm 512\n"
                           "m-set size=524288k,slots=2,maxmem=4194304k\nnuma 0\n"
                           "machine-drop memory-backend=pc.ram\n"
                           "add -numa\nadd node,nodeid=0,cpus=0-1,memdev=pc.ram\n"
                           "add -numa\nadd node,nodeid=1\nadd -numa\nadd node,nodeid=2\n"
                           "add -object\nadd memory-backend-ram,id=memua-spm0,size=1073741824\n"
                           "add -device\nadd spm-memory,id=ua-spm0,memdev=memua-spm0,node=1,addr=0x100000000\n"
                           "add -object\nadd memory-backend-ram,id=memua-spm1,size=1073741824\n"
                           "add -device\nadd spm-memory,id=ua-spm1,memdev=memua-spm1,node=2,addr=0x180000000\n",
                           uuid);
    g_assert_true(g_file_set_contents(plan, text, -1, NULL));
    path_env = g_strdup_printf("PATH=%s:/usr/bin:/bin", bin);
    plan_env = g_strdup_printf("VIRT_SPM_NOVA_PLAN_DIR=%s", plans);
    envp[0] = path_env;
    envp[1] = plan_env;

    probe_argv[0] = (char *)"/bin/true";
    direct = median_us("/bin/true", probe_argv, envp, runs);
    probe_argv[0] = wrapper;
    probe = median_us(wrapper, probe_argv, envp, runs);
    guest_argv[0] = wrapper;
    guest = median_us(wrapper, guest_argv, envp, runs);

    if (g_file_test("/usr/bin/qemu-system-x86_64", G_FILE_TEST_IS_EXECUTABLE)) {
        g_autofree char *q = g_build_filename(real, "qemu-system-x86_64", NULL);

        g_unlink(q);
        if (symlink("/usr/bin/qemu-system-x86_64", q) < 0)
            g_error("symlink: %s", g_strerror(errno));
        probe_argv[0] = (char *)"/usr/bin/qemu-system-x86_64";
        qemu_direct = median_us("/usr/bin/qemu-system-x86_64", probe_argv, envp, runs / 4 + 1);
        probe_argv[0] = wrapper;
        qemu_probe = median_us(wrapper, probe_argv, envp, runs / 4 + 1);
    }

    printf("runs: %u (medians)\n", runs);
    printf("capability probe, real QEMU = /bin/true: direct %.0f us, through the wrapper %.0f us: "
           "+%.0f us (target < 1000 us)\n", direct, probe, probe - direct);
    printf("guest with a plan (read, check, 2 devices), real QEMU = /bin/true: %.0f us: "
           "+%.0f us (target < 5000 us)\n", guest, guest - direct);
    if (qemu_direct > 0)
        printf("for scale: qemu-system-x86_64 -machine none -version: direct %.0f us, "
               "through the wrapper %.0f us\n", qemu_direct, qemu_probe);

    g_unlink(plan);
    g_unlink(wrapper);
    {
        g_autofree char *q = g_build_filename(real, "qemu-system-x86_64", NULL);

        g_unlink(q);
    }
    g_rmdir(plans);
    g_rmdir(real);
    g_rmdir(bin);
    g_rmdir(dir);
    return 0;
}
