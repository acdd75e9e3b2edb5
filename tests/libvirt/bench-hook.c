/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * bench-hook.c: what the installed hook adds to the start of a domain
 * without SPM.  libvirtd runs it once per lifecycle step with the domain
 * XML on stdin; this runs it 200 times for "prepare begin" on a non-SPM
 * domain, the same way (fork, exec, XML through a pipe, wait), and prints
 * mean and p99 wall time in ms, next to /bin/true as the floor that any
 * executable hook costs.
 *
 * Usage: bench-hook HOOK XMLFILE [RUNS]
 */
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib.h>

extern char **environ;

static double
run_once(const char *prog, const char *xml, gsize len)
{
    char *argv[] = { (char *)prog, (char *)"bench-guest", (char *)"prepare", (char *)"begin",
                     (char *)"-", NULL };
    posix_spawn_file_actions_t actions;
    gint64 t0 = g_get_monotonic_time();
    int fds[2];
    pid_t pid;
    int status;
    gsize off = 0;

    if (pipe(fds) < 0)
        g_error("pipe failed");
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[0], STDIN_FILENO);
    posix_spawn_file_actions_addclose(&actions, fds[1]);
    if (posix_spawn(&pid, prog, &actions, NULL, argv, environ) != 0)
        g_error("cannot run %s", prog);
    posix_spawn_file_actions_destroy(&actions);
    close(fds[0]);
    while (off < len) {
        ssize_t n = write(fds[1], xml + off, len - off);

        if (n <= 0)
            break; /* /bin/true does not read */
        off += n;
    }
    close(fds[1]);
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        g_error("%s did not exit 0", prog);
    return (g_get_monotonic_time() - t0) / 1000.0;
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static void
measure(const char *label, const char *prog, const char *xml, gsize len, guint runs)
{
    g_autofree double *t = g_new(double, runs);
    double sum = 0;

    for (guint i = 0; i < 10; i++)
        run_once(prog, xml, len); /* warm the page cache */
    for (guint i = 0; i < runs; i++) {
        t[i] = run_once(prog, xml, len);
        sum += t[i];
    }
    qsort(t, runs, sizeof(double), cmp_double);
    printf("%-34s runs %u  mean %.3f ms  p99 %.3f ms  max %.3f ms\n", label, runs,
           sum / runs, t[(guint)((runs - 1) * 0.99)], t[runs - 1]);
}

int
main(int argc, char **argv)
{
    g_autofree char *xml = NULL;
    gsize len = 0;
    guint runs = 200;

    if (argc < 3) {
        fprintf(stderr, "usage: %s HOOK XMLFILE [RUNS]\n", argv[0]);
        return 2;
    }
    if (argc > 3)
        runs = MAX(1, atoi(argv[3]));
    if (!g_file_get_contents(argv[2], &xml, &len, NULL)) {
        fprintf(stderr, "cannot read %s\n", argv[2]);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    printf("hook, prepare begin, %s (%" G_GSIZE_FORMAT " bytes of XML)\n", argv[2], len);
    measure("/bin/true (floor of any hook)", "/bin/true", xml, len, runs);
    measure(argv[1], argv[1], xml, len, runs);
    return 0;
}
