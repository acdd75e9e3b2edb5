/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-test-libvirt.c: a real libvirtd for the tests (docs/libvirt.md).
 */
#include "spm-test-libvirt.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <libvirt/virterror.h>

#include "spm-error.h"

typedef struct {
    const char *key;
    const char *value;          /* as written; compared without blanks */
} SpmTestConfLine;

static const SpmTestConfLine spm_test_conf_lines[] = {
    { "security_driver", "\"none\"" },
    { "stdio_handler", "\"file\"" },
    { "cgroup_controllers", "[ ]" },
    { "user", "\"root\"" },
    { "group", "\"root\"" },
};

const char *
spm_test_libvirt_uri(void)
{
    const char *uri = g_getenv(SPM_TEST_LIBVIRT_URI_ENV);

    return uri && *uri ? uri : SPM_TEST_LIBVIRT_URI_DEFAULT;
}

/* The host's own libvirtd, the one the harness may configure and start. */
static gboolean
spm_test_libvirt_is_hosts(void)
{
    return g_str_equal(spm_test_libvirt_uri(), SPM_TEST_LIBVIRT_URI_DEFAULT);
}

char *
spm_test_libvirt_skip_reason(void)
{
    if (geteuid() != 0)
        return g_strdup("libvirt tests need root (qemu:///system, qemu.conf)");
    if (!g_file_test(SPM_TEST_LIBVIRTD, G_FILE_TEST_IS_EXECUTABLE))
        return g_strdup(SPM_TEST_LIBVIRTD " not installed");
    return NULL;
}

static char *
spm_test_no_blanks(const char *s)
{
    GString *out = g_string_new(NULL);

    for (; *s; s++) {
        if (!g_ascii_isspace(*s))
            g_string_append_c(out, *s);
    }
    return g_string_free(out, FALSE);
}

gboolean
spm_test_libvirt_ensure_conf(const char *conf_path, gboolean *appended, GError **error)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    g_autoptr(GString) add = g_string_new(NULL);
    gboolean found[G_N_ELEMENTS(spm_test_conf_lines)] = { FALSE };
    int fd;

    if (appended)
        *appended = FALSE;
    if (!g_file_get_contents(conf_path, &text, NULL, &err)) {
        if (!g_error_matches(err, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "%s: %s", conf_path, err->message);
            return FALSE;
        }
        text = g_strdup("");
    }
    lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        const char *line = g_strchug(lines[i]);
        const char *eq = strchr(line, '=');
        g_autofree char *key = NULL;
        g_autofree char *value = NULL;

        if (!eq || line[0] == '#')
            continue;
        key = g_strstrip(g_strndup(line, eq - line));
        value = spm_test_no_blanks(eq + 1);
        for (guint k = 0; k < G_N_ELEMENTS(spm_test_conf_lines); k++) {
            g_autofree char *want = spm_test_no_blanks(spm_test_conf_lines[k].value);

            if (!g_str_equal(key, spm_test_conf_lines[k].key))
                continue;
            if (!g_str_equal(value, want)) {
                g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                            "%s sets %s = %s, the tests need %s", conf_path, key,
                            eq + 1, spm_test_conf_lines[k].value);
                return FALSE;
            }
            found[k] = TRUE;
        }
    }
    for (guint k = 0; k < G_N_ELEMENTS(spm_test_conf_lines); k++) {
        if (!found[k])
            g_string_append_printf(add, "%s = %s\n", spm_test_conf_lines[k].key,
                                   spm_test_conf_lines[k].value);
    }
    if (!add->len)
        return TRUE;
    if (text[0] && !g_str_has_suffix(text, "\n"))
        g_string_prepend_c(add, '\n');

    /* one write in append mode: another test appending at once cannot interleave */
    if ((fd = open(conf_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
        write(fd, add->str, add->len) != (ssize_t)add->len) {
        int saved = errno;

        if (fd >= 0)
            close(fd);
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "%s: %s", conf_path, g_strerror(saved));
        return FALSE;
    }
    close(fd);
    if (appended)
        *appended = TRUE;
    return TRUE;
}

static void
spm_test_libvirt_quiet(void *data, virErrorPtr err)
{
    /* errors are read with virGetLastError(), not printed */
}

const char *
spm_test_libvirt_last_error(void)
{
    virErrorPtr err = virGetLastError();

    return err && err->message ? err->message : "";
}

static gboolean
spm_test_on_tick(gpointer data)
{
    *(gboolean *)data = TRUE;
    return G_SOURCE_REMOVE;
}

/* Let @ms pass on a private context: the poll interval of a deadline loop. */
static void
spm_test_wait_ms(guint ms)
{
    g_autoptr(GMainContext) ctx = g_main_context_new();
    GSource *src = g_timeout_source_new(ms);
    gboolean fired = FALSE;

    g_source_set_callback(src, spm_test_on_tick, &fired, NULL);
    g_source_attach(src, ctx);
    while (!fired)
        g_main_context_iteration(ctx, TRUE);
    g_source_unref(src);
}

static gboolean
spm_test_start_libvirtd(GError **error)
{
    /* a clean environment: nothing of the test's (sanitizers, G_DEBUG) */
    const char *argv[] = { SPM_TEST_LIBVIRTD, "-d", NULL };
    const char *envp[] = { "PATH=" SPM_TEST_LIBVIRTD_PATH, "LC_ALL=C", NULL };
    g_autoptr(GError) err = NULL;
    int status;

    if (!g_spawn_sync("/", (char **)argv, (char **)envp,
                      G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                      NULL, NULL, NULL, NULL, &status, &err)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "%s -d: %s", SPM_TEST_LIBVIRTD, err->message);
        return FALSE;
    }
    /* a failure here may be another test starting it at the same time:
     * the connection loop below decides */
    if (!g_spawn_check_wait_status(status, &err))
        g_message("%s -d: %s", SPM_TEST_LIBVIRTD, err->message);
    return TRUE;
}

/* TRUE when the libvirtd of the pid file is alive (running or starting). */
static gboolean
spm_test_libvirtd_alive(void)
{
    g_autofree char *text = NULL;
    guint64 pid;

    if (!g_file_get_contents(SPM_TEST_LIBVIRTD_PIDFILE, &text, NULL, NULL) ||
        !g_ascii_string_to_unsigned(g_strstrip(text), 10, 1, G_MAXINT, &pid, NULL))
        return FALSE;
    return kill((pid_t)pid, 0) == 0;
}

virConnectPtr
spm_test_libvirt_connect(GError **error)
{
    g_autoptr(GError) err = NULL;
    gboolean appended = FALSE;
    gboolean started = FALSE;
    gint64 deadline;
    virConnectPtr conn;

    virSetErrorFunc(NULL, spm_test_libvirt_quiet);
    if (spm_test_libvirt_is_hosts() &&
        !spm_test_libvirt_ensure_conf(SPM_TEST_QEMU_CONF, &appended, error))
        return NULL;

    if ((conn = virConnectOpen(spm_test_libvirt_uri()))) {
        if (appended)
            g_message("%s got new lines while libvirtd runs: they apply from its next start",
                      SPM_TEST_QEMU_CONF);
        return conn;
    }
    /*
     * Start the daemon only when there is none: one that is still starting,
     * or being restarted by another test, gets the time to come up.
     */
    deadline = g_get_monotonic_time() + SPM_TEST_LIBVIRT_TIMEOUT_S * G_USEC_PER_SEC;
    for (;;) {
        /* another daemon is its owner's to start: only wait for it */
        if (!started && spm_test_libvirt_is_hosts() && !spm_test_libvirtd_alive()) {
            if (!spm_test_start_libvirtd(error))
                return NULL;
            started = TRUE;
        }
        if ((conn = virConnectOpen(spm_test_libvirt_uri())))
            return conn;
        if (g_get_monotonic_time() > deadline) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_TIMEOUT,
                        "%s did not answer within %d s (%s): %s",
                        spm_test_libvirt_uri(), SPM_TEST_LIBVIRT_TIMEOUT_S,
                        started ? "started " SPM_TEST_LIBVIRTD " -d"
                        : spm_test_libvirt_is_hosts() ? "libvirtd was running"
                        : "a daemon the tests do not start",
                        spm_test_libvirt_last_error());
            return NULL;
        }
        spm_test_wait_ms(50);
    }
}

char *
spm_test_libvirt_domain_name(const char *prefix, const char *what)
{
    return g_strdup_printf("%s%d-%s", prefix, (int)getpid(), what);
}

/* Remove @name through @conn: TRUE when it is gone (or never was). */
static gboolean
spm_test_remove_with(virConnectPtr conn, const char *name)
{
    g_autoptr(virDomain) dom = virDomainLookupByName(conn, name);
    virErrorPtr err;

    if (!dom) {
        err = virGetLastError();
        return err && err->code == VIR_ERR_NO_DOMAIN;
    }
    if (virDomainIsActive(dom) == 1)
        virDomainDestroy(dom);
    if (virDomainUndefineFlags(dom, VIR_DOMAIN_UNDEFINE_NVRAM) == 0)
        return TRUE;
    return virConnectIsAlive(conn) == 1;   /* a live daemon refused: give up */
}

void
spm_test_libvirt_remove_domain(virConnectPtr conn, const char *name)
{
    gint64 deadline;

    if (conn && virConnectIsAlive(conn) == 1 && spm_test_remove_with(conn, name))
        return;
    /*
     * The daemon went away under us (another test restarts it): the
     * domain is still defined.  Wait for the daemon to come back and
     * remove it with a connection of our own.
     */
    deadline = g_get_monotonic_time() + SPM_TEST_LIBVIRT_TIMEOUT_S * G_USEC_PER_SEC;
    while (g_get_monotonic_time() < deadline) {
        virConnectPtr fresh = virConnectOpen(spm_test_libvirt_uri());

        if (fresh) {
            gboolean done = spm_test_remove_with(fresh, name);

            virConnectClose(fresh);
            if (done)
                return;
        }
        spm_test_wait_ms(50);
    }
    g_message("domain %s could not be removed: %s", name, spm_test_libvirt_last_error());
}

char *
spm_test_libvirt_run_lock_path(void)
{
    if (spm_test_libvirt_is_hosts())
        return g_strdup(SPM_TEST_LIBVIRT_RUN_LOCK);
    /* another daemon: its own lock, runs on the host's do not hold it up */
    return g_strdup_printf("/run/lock/virt-spm-libvirt-tests.%08x.lock",
                           g_str_hash(spm_test_libvirt_uri()));
}

int
spm_test_lock_file(const char *path, guint deadline_s, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)deadline_s * G_USEC_PER_SEC;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

    if (fd < 0) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "cannot open %s: %s",
                    path, g_strerror(errno));
        return -1;
    }
    while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        if (errno != EWOULDBLOCK || g_get_monotonic_time() > deadline) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "cannot lock %s: %s",
                        path,
                        errno == EWOULDBLOCK ? "held by another run too long" : g_strerror(errno));
            close(fd);
            return -1;
        }
        g_usleep(50 * 1000);
    }
    return fd;
}

int
spm_test_libvirt_run_lock(GError **error)
{
    g_autofree char *path = spm_test_libvirt_run_lock_path();

    /* held by the caller for longer than this run: the package test runs
     * debian/tests/libvirt while the package's hook is installed */
    if (g_getenv("SPM_TEST_RUN_LOCK_HELD")) {
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

        if (fd < 0)
            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "cannot open %s: %s",
                        path, g_strerror(errno));
        return fd;
    }
    return spm_test_lock_file(path, SPM_TEST_LIBVIRT_RUN_LOCK_S, error);
}
