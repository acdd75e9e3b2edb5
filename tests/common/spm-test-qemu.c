/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-test-qemu.c: run a real QEMU from a test and talk QMP to it.
 * See spm-test-qemu.h for the why of the file-descriptor monitor.
 */
#include "spm-test-qemu.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>

#include "spm-error.h"

/* The fd number QEMU sees its QMP listening socket on. */
#define SPM_TEST_QMP_FD 3

struct _SpmTestQemu {
    char *tmpdir;
    char *sock_path;
    char *log_path;
    char *command_line;
    GMainContext *ctx;          /* private: the exit watch runs here */
    GSubprocess *proc;
    gboolean exited;
    GSocketConnection *conn;
    GDataInputStream *in;
    GOutputStream *out;
    guint next_id;
};

static char *spm_test_qemu_path;

void
spm_test_qemu_set_binary(const char *path)
{
    g_free(spm_test_qemu_path);
    spm_test_qemu_path = g_strdup(path);
}

const char *
spm_test_qemu_binary(void)
{
    return spm_test_qemu_path ? spm_test_qemu_path : SPM_TEST_QEMU_BINARY;
}

gboolean
spm_test_qemu_available(void)
{
    return g_file_test(spm_test_qemu_binary(), G_FILE_TEST_IS_EXECUTABLE);
}

/* Runs in the child between fork and exec: async-signal-safe only. */
static void
spm_test_qemu_child_setup(gpointer data)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static void
spm_test_qemu_on_exit(GObject *source, GAsyncResult *res, gpointer data)
{
    g_subprocess_wait_finish(G_SUBPROCESS(source), res, NULL);
    *(gboolean *)data = TRUE;
}

static gboolean
spm_test_qemu_on_deadline(gpointer data)
{
    *(gboolean *)data = TRUE;
    return G_SOURCE_REMOVE;
}

/*
 * Wait until @proc exits, at most @timeout_s seconds; then kill it (and
 * still wait, a SIGKILL is sure).  TRUE when it exited by itself.  Uses a
 * private context so that nothing of the test's default context runs.
 */
static gboolean
spm_test_qemu_wait_exit(GSubprocess *proc, GMainContext *ctx, guint timeout_s)
{
    gboolean exited = FALSE;
    gboolean late = FALSE;
    GSource *deadline = g_timeout_source_new_seconds(timeout_s);

    g_source_set_callback(deadline, spm_test_qemu_on_deadline, &late, NULL);
    g_source_attach(deadline, ctx);
    g_main_context_push_thread_default(ctx);
    g_subprocess_wait_async(proc, NULL, spm_test_qemu_on_exit, &exited);
    while (!exited && !late)
        g_main_context_iteration(ctx, TRUE);
    if (!exited) {
        g_subprocess_force_exit(proc);
        while (!exited)
            g_main_context_iteration(ctx, TRUE);
    }
    g_main_context_pop_thread_default(ctx);
    g_source_destroy(deadline);
    g_source_unref(deadline);
    return !late;
}

static int
spm_test_qemu_status(GSubprocess *proc)
{
    if (g_subprocess_get_if_exited(proc))
        return g_subprocess_get_exit_status(proc);
    if (g_subprocess_get_if_signaled(proc))
        return 128 + g_subprocess_get_term_sig(proc);
    return -1;
}

static char *
spm_test_read_log(const char *path)
{
    char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return g_strdup("");
    return text;
}

/* The launcher every QEMU of the tests is started with. */
static GSubprocessLauncher *
spm_test_qemu_launcher(const char *log_path)
{
    GSubprocessLauncher *launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_MERGE);

    g_subprocess_launcher_set_stdout_file_path(launcher, log_path);
    g_subprocess_launcher_set_child_setup(launcher, spm_test_qemu_child_setup, NULL, NULL);
    return launcher;
}

static GStrv
spm_test_qemu_argv(const char *const *args, const char *const *extra)
{
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();

    g_strv_builder_add(b, spm_test_qemu_binary());
    g_strv_builder_addv(b, (const char **)args);
    if (extra)
        g_strv_builder_addv(b, (const char **)extra);
    return g_strv_builder_end(b);
}

gboolean
spm_test_qemu_run_to_exit(const char *const *args,
                          int *exit_status,
                          char **output,
                          GError **error)
{
    return spm_test_qemu_run_to_exit_within(args, SPM_TEST_QEMU_TIMEOUT_S, exit_status,
                                            output, error);
}

gboolean
spm_test_qemu_run_to_exit_within(const char *const *args,
                                 guint timeout_s,
                                 int *exit_status,
                                 char **output,
                                 GError **error)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *tmpdir = g_dir_make_tmp("spm-qemu-XXXXXX", &err);
    g_autofree char *log_path = NULL;
    g_autoptr(GSubprocessLauncher) launcher = NULL;
    g_autoptr(GSubprocess) proc = NULL;
    g_autoptr(GMainContext) ctx = NULL;
    g_auto(GStrv) argv = spm_test_qemu_argv(args, NULL);
    gboolean in_time;

    if (!tmpdir) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "temporary directory: %s", err->message);
        return FALSE;
    }
    log_path = g_build_filename(tmpdir, "qemu.log", NULL);
    launcher = spm_test_qemu_launcher(log_path);
    proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv, &err);
    if (!proc) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "%s: %s", argv[0], err->message);
        g_rmdir(tmpdir);
        return FALSE;
    }
    ctx = g_main_context_new();
    in_time = spm_test_qemu_wait_exit(proc, ctx, timeout_s);
    *exit_status = spm_test_qemu_status(proc);
    *output = spm_test_read_log(log_path);
    g_unlink(log_path);
    g_rmdir(tmpdir);
    if (!in_time) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_TIMEOUT,
                    "QEMU still running after %u s, killed", timeout_s);
        return FALSE;
    }
    return TRUE;
}

/* A listening unix socket at @path; the caller owns the result. */
static GSocket *
spm_test_qmp_listen(const char *path, GError **error)
{
    g_autoptr(GSocket) sock = NULL;
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);

    sock = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM,
                        G_SOCKET_PROTOCOL_DEFAULT, error);
    if (!sock)
        return NULL;
    if (!g_socket_bind(sock, addr, FALSE, error) || !g_socket_listen(sock, error))
        return NULL;
    return g_steal_pointer(&sock);
}

static JsonObject *
spm_test_qmp_read(SpmTestQemu *qemu, GError **error)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *line = NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonNode *root;

    line = g_data_input_stream_read_line_utf8(qemu->in, NULL, NULL, &err);
    if (!line) {
        g_set_error(error, SPM_ERROR, err && err->code == G_IO_ERROR_TIMED_OUT ?
                    SPM_ERROR_TIMEOUT : SPM_ERROR_QMP,
                    "QMP read: %s", err ? err->message : "end of stream");
        return NULL;
    }
    if (!json_parser_load_from_data(parser, line, -1, &err)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_QMP, "QMP message '%s': %s", line, err->message);
        return NULL;
    }
    root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_QMP, "QMP message '%s' is not an object", line);
        return NULL;
    }
    return json_object_ref(json_node_get_object(root));
}

/* QEMU failed to come up: wait for it and say what it printed. */
static void
spm_test_qemu_explain_failure(SpmTestQemu *qemu, const char *what, GError **error)
{
    g_autofree char *out = NULL;

    spm_test_qemu_wait_exit(qemu->proc, qemu->ctx, SPM_TEST_QEMU_TIMEOUT_S);
    qemu->exited = TRUE;
    out = spm_test_qemu_output(qemu);
    g_strchomp(out);
    g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                "QEMU did not start (%s), exit status %d: %s", what,
                spm_test_qemu_status(qemu->proc), out);
}

SpmTestQemu *
spm_test_qemu_start(const char *const *args, GError **error)
{
    g_autoptr(SpmTestQemu) qemu = g_new0(SpmTestQemu, 1);
    g_autoptr(GError) err = NULL;
    g_autoptr(GSocket) listener = NULL;
    g_autoptr(GSubprocessLauncher) launcher = NULL;
    g_autoptr(GSocketClient) client = NULL;
    g_autoptr(GSocketAddress) addr = NULL;
    g_autoptr(JsonObject) greeting = NULL;
    g_autoptr(JsonNode) ret = NULL;
    g_autofree char *chardev = g_strdup_printf("socket,id=spm-test-qmp,fd=%d,server=on,wait=off",
                                               SPM_TEST_QMP_FD);
    const char *qmp_args[] = { "-chardev", chardev, "-mon", "chardev=spm-test-qmp,mode=control", NULL };
    g_auto(GStrv) argv = spm_test_qemu_argv(args, qmp_args);
    int fd;

    qemu->ctx = g_main_context_new();
    qemu->command_line = g_strjoinv(" ", argv);
    if (!(qemu->tmpdir = g_dir_make_tmp("spm-qemu-XXXXXX", &err))) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "temporary directory: %s", err->message);
        return NULL;
    }
    qemu->sock_path = g_build_filename(qemu->tmpdir, "qmp.sock", NULL);
    qemu->log_path = g_build_filename(qemu->tmpdir, "qemu.log", NULL);

    if (!(listener = spm_test_qmp_listen(qemu->sock_path, &err))) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "QMP socket %s: %s",
                    qemu->sock_path, err->message);
        return NULL;
    }
    if ((fd = dup(g_socket_get_fd(listener))) < 0) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "dup: %s", g_strerror(errno));
        return NULL;
    }
    launcher = spm_test_qemu_launcher(qemu->log_path);
    g_subprocess_launcher_take_fd(launcher, fd, SPM_TEST_QMP_FD);
    qemu->proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)argv, &err);
    /* only QEMU may hold the listener now: if it dies, our connection ends */
    g_subprocess_launcher_close(launcher);
    g_socket_close(listener, NULL);
    if (!qemu->proc) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "%s: %s", argv[0], err->message);
        return NULL;
    }

    client = g_socket_client_new();
    addr = g_unix_socket_address_new(qemu->sock_path);
    qemu->conn = g_socket_client_connect(client, G_SOCKET_CONNECTABLE(addr), NULL, &err);
    if (!qemu->conn) {
        spm_test_qemu_explain_failure(qemu, err->message, error);
        return NULL;
    }
    g_socket_set_timeout(g_socket_connection_get_socket(qemu->conn), SPM_TEST_QEMU_TIMEOUT_S);
    qemu->in = g_data_input_stream_new(g_io_stream_get_input_stream(G_IO_STREAM(qemu->conn)));
    qemu->out = g_io_stream_get_output_stream(G_IO_STREAM(qemu->conn));

    if (!(greeting = spm_test_qmp_read(qemu, &err))) {
        spm_test_qemu_explain_failure(qemu, err->message, error);
        return NULL;
    }
    if (!json_object_has_member(greeting, "QMP")) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_QMP, "QMP greeting without \"QMP\" member");
        return NULL;
    }
    if (!(ret = spm_test_qemu_execute(qemu, "qmp_capabilities", NULL, error)))
        return NULL;
    return g_steal_pointer(&qemu);
}

void
spm_test_qemu_free(SpmTestQemu *qemu)
{
    if (!qemu)
        return;
    g_clear_object(&qemu->in);
    if (qemu->conn)
        g_io_stream_close(G_IO_STREAM(qemu->conn), NULL, NULL);
    g_clear_object(&qemu->conn);
    if (qemu->proc) {
        if (!qemu->exited) {
            g_subprocess_force_exit(qemu->proc);
            spm_test_qemu_wait_exit(qemu->proc, qemu->ctx, SPM_TEST_QEMU_TIMEOUT_S);
        }
        g_clear_object(&qemu->proc);
    }
    if (qemu->sock_path)
        g_unlink(qemu->sock_path);
    if (qemu->log_path)
        g_unlink(qemu->log_path);
    if (qemu->tmpdir)
        g_rmdir(qemu->tmpdir);
    g_clear_pointer(&qemu->ctx, g_main_context_unref);
    g_free(qemu->sock_path);
    g_free(qemu->log_path);
    g_free(qemu->tmpdir);
    g_free(qemu->command_line);
    g_free(qemu);
}

const char *
spm_test_qemu_command_line(SpmTestQemu *qemu)
{
    return qemu->command_line;
}

char *
spm_test_qemu_output(SpmTestQemu *qemu)
{
    return spm_test_read_log(qemu->log_path);
}

JsonNode *
spm_test_qemu_execute(SpmTestQemu *qemu,
                      const char *command,
                      JsonNode *arguments,
                      GError **error)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) req = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *text = NULL;
    g_autofree char *line = NULL;
    guint id = ++qemu->next_id;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "execute");
    json_builder_add_string_value(b, command);
    if (arguments) {
        json_builder_set_member_name(b, "arguments");
        json_builder_add_value(b, json_node_copy(arguments));
    }
    json_builder_set_member_name(b, "id");
    json_builder_add_int_value(b, id);
    json_builder_end_object(b);
    req = json_builder_get_root(b);
    text = json_to_string(req, FALSE);
    line = g_strconcat(text, "\n", NULL);
    if (!g_output_stream_write_all(qemu->out, line, strlen(line), NULL, NULL, &err)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_QMP, "QMP %s: %s", command, err->message);
        return NULL;
    }

    for (;;) {
        g_autoptr(JsonObject) msg = spm_test_qmp_read(qemu, error);

        if (!msg)
            return NULL;
        if (json_object_has_member(msg, "event"))
            continue;
        if (!json_object_has_member(msg, "id") ||
            json_object_get_int_member(msg, "id") != id) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_QMP,
                        "QMP %s: reply without id %u", command, id);
            return NULL;
        }
        if (json_object_has_member(msg, "error")) {
            JsonObject *e = json_object_get_object_member(msg, "error");

            g_set_error(error, SPM_ERROR, SPM_ERROR_QMP, "QMP %s: %s: %s", command,
                        json_object_get_string_member_with_default(e, "class", "?"),
                        json_object_get_string_member_with_default(e, "desc", "?"));
            return NULL;
        }
        if (!json_object_has_member(msg, "return")) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_QMP,
                        "QMP %s: reply with neither return nor error", command);
            return NULL;
        }
        return json_node_copy(json_object_get_member(msg, "return"));
    }
}

char *
spm_test_qemu_hmp(SpmTestQemu *qemu, const char *command_line, GError **error)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) args = NULL;
    g_autoptr(JsonNode) ret = NULL;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "command-line");
    json_builder_add_string_value(b, command_line);
    json_builder_end_object(b);
    args = json_builder_get_root(b);
    if (!(ret = spm_test_qemu_execute(qemu, "human-monitor-command", args, error)))
        return NULL;
    if (!JSON_NODE_HOLDS_VALUE(ret) || json_node_get_value_type(ret) != G_TYPE_STRING) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_QMP, "HMP '%s': reply is not a string", command_line);
        return NULL;
    }
    return g_strdup(json_node_get_string(ret));
}

/*
 * All ranges of `info mtree` lines whose description after "): " is
 * exactly @desc, or starts with @desc when @prefix.  They must agree.
 */
static gboolean
spm_test_mtree_find(const char *mtree, const char *desc, gboolean prefix,
                    guint64 *start, guint64 *end, guint *count, GError **error)
{
    g_autoptr(GRegex) re = g_regex_new("^\\s*([0-9a-f]+)-([0-9a-f]+) \\(prio -?[0-9]+, [^)]*\\): (.*)$",
                                       G_REGEX_MULTILINE, 0, NULL);
    g_autoptr(GMatchInfo) m = NULL;

    *count = 0;
    g_regex_match(re, mtree, 0, &m);
    for (; g_match_info_matches(m); g_match_info_next(m, NULL)) {
        g_autofree char *s = g_match_info_fetch(m, 1);
        g_autofree char *e = g_match_info_fetch(m, 2);
        g_autofree char *d = g_match_info_fetch(m, 3);
        guint64 vs = g_ascii_strtoull(s, NULL, 16);
        guint64 ve = g_ascii_strtoull(e, NULL, 16);
        gboolean hit = prefix ? g_str_has_prefix(d, desc) : g_str_equal(d, desc);

        if (!hit)
            continue;
        if (*count && (vs != *start || ve != *end)) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "info mtree: %s at 0x%" G_GINT64_MODIFIER "x-0x%" G_GINT64_MODIFIER
                        "x and at 0x%" G_GINT64_MODIFIER "x-0x%" G_GINT64_MODIFIER "x",
                        desc, *start, *end, vs, ve);
            return FALSE;
        }
        *start = vs;
        *end = ve;
        (*count)++;
    }
    return TRUE;
}

gboolean
spm_test_mtree_device_memory(const char *mtree, guint64 *start, guint64 *end, GError **error)
{
    guint count;

    if (!spm_test_mtree_find(mtree, "device-memory", FALSE, start, end, &count, error))
        return FALSE;
    if (!count) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID, "info mtree: no device-memory region");
        return FALSE;
    }
    return TRUE;
}

gboolean
spm_test_mtree_alias(const char *mtree, const char *name, guint64 *start, guint64 *end,
                     GError **error)
{
    g_autofree char *desc = g_strdup_printf("alias %s @", name);
    guint count;

    if (!spm_test_mtree_find(mtree, desc, TRUE, start, end, &count, error))
        return FALSE;
    return count > 0;
}
