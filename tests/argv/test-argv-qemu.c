/*
 * test-argv-qemu.c: the arguments of a hand-built plan, run by real QEMU.
 *
 * QEMU 7.2 has no spm-memory, so the plan is built with the "pc-dimm"
 * stand-in (same placement code, SPEC.md section 8).  QEMU is started
 * paused (-S) with a QMP socket; the test then asks QEMU where it put each
 * device (query-memory-devices) and reads back the backend properties
 * (qom-get), among them a mem-path with commas that must arrive intact.
 *
 * The QMP code here is deliberately tiny and local to the test.
 */
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <json-glib/json-glib.h>
#include "spm-argv.h"
#include "argv-test-plan.h"

#define QEMU_BINARY "/usr/bin/qemu-system-x86_64"
#define GiB (G_GUINT64_CONSTANT(1) << 30)
#define MiB (G_GUINT64_CONSTANT(1) << 20)
#define START_DEADLINE_US (30 * G_USEC_PER_SEC)
#define QMP_TIMEOUT_S 30

typedef struct {
    char *tmpdir;
    char *sock_path;
    char *log_path;
    char *comma_dir;
    char *file_path;
    GSubprocess *proc;
    gboolean exited;
    GSocketConnection *conn;
    GDataInputStream *in;
    GOutputStream *out;
    guint next_id;
} Fixture;

/* Runs in the child between fork and exec: async-signal-safe only. */
static void
die_with_parent(gpointer data)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
}

static void
on_qemu_exit(GObject *source, GAsyncResult *res, gpointer data)
{
    Fixture *fx = data;

    g_subprocess_wait_finish(G_SUBPROCESS(source), res, NULL);
    fx->exited = TRUE;
}

static char *
qemu_log(Fixture *fx)
{
    char *text = NULL;

    if (!g_file_get_contents(fx->log_path, &text, NULL, NULL))
        return g_strdup("(no QEMU log)");
    return text;
}

static gboolean
on_tick(gpointer data)
{
    *(gboolean *)data = TRUE;
    return G_SOURCE_REMOVE;
}

/* Run the main context until @ms pass or QEMU exits, whichever is first. */
static void
wait_tick(Fixture *fx, guint ms)
{
    gboolean fired = FALSE;
    guint id = g_timeout_add(ms, on_tick, &fired);

    while (!fired && !fx->exited)
        g_main_context_iteration(NULL, TRUE);
    if (!fired)
        g_source_remove(id);
}

/* Connect to QEMU's QMP socket: retry until it listens, QEMU dies or the deadline. */
static void
qmp_connect(Fixture *fx)
{
    g_autoptr(GSocketClient) client = g_socket_client_new();
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(fx->sock_path);
    gint64 deadline = g_get_monotonic_time() + START_DEADLINE_US;

    for (;;) {
        g_autoptr(GError) err = NULL;

        fx->conn = g_socket_client_connect(client, G_SOCKET_CONNECTABLE(addr), NULL, &err);
        if (fx->conn)
            break;
        if (fx->exited || g_get_monotonic_time() > deadline) {
            g_autofree char *log = qemu_log(fx);

            g_test_message("QEMU log:\n%s", log);
            g_error("QMP socket %s: %s (QEMU %s)", fx->sock_path, err->message,
                    fx->exited ? "exited" : "still running, deadline passed");
        }
        wait_tick(fx, 20);
    }
    g_socket_set_timeout(g_socket_connection_get_socket(fx->conn), QMP_TIMEOUT_S);
    fx->in = g_data_input_stream_new(g_io_stream_get_input_stream(G_IO_STREAM(fx->conn)));
    fx->out = g_io_stream_get_output_stream(G_IO_STREAM(fx->conn));
}

static JsonObject *
qmp_read(Fixture *fx)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *line = NULL;
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonNode *root;

    line = g_data_input_stream_read_line_utf8(fx->in, NULL, NULL, &err);
    g_assert_no_error(err);
    g_assert_nonnull(line);
    json_parser_load_from_data(parser, line, -1, &err);
    g_assert_no_error(err);
    root = json_parser_get_root(parser);
    g_assert_true(JSON_NODE_HOLDS_OBJECT(root));
    return json_object_ref(json_node_get_object(root));
}

/* Execute @cmd; returns a copy of "return", fails the test on "error". */
static JsonNode *
qmp_execute(Fixture *fx, const char *cmd, JsonNode *args)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) req = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *text = NULL;
    g_autofree char *line = NULL;
    guint id = ++fx->next_id;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "execute");
    json_builder_add_string_value(b, cmd);
    if (args) {
        json_builder_set_member_name(b, "arguments");
        json_builder_add_value(b, json_node_ref(args));   /* takes ownership */
    }
    json_builder_set_member_name(b, "id");
    json_builder_add_int_value(b, id);
    json_builder_end_object(b);
    req = json_builder_get_root(b);
    text = json_to_string(req, FALSE);
    line = g_strconcat(text, "\n", NULL);
    g_output_stream_write_all(fx->out, line, strlen(line), NULL, NULL, &err);
    g_assert_no_error(err);

    for (;;) {
        g_autoptr(JsonObject) msg = qmp_read(fx);

        if (json_object_has_member(msg, "event"))
            continue;
        g_assert_cmpint(json_object_get_int_member(msg, "id"), ==, id);
        if (json_object_has_member(msg, "error")) {
            JsonObject *e = json_object_get_object_member(msg, "error");

            g_error("QMP %s: %s: %s", cmd,
                    json_object_get_string_member(e, "class"),
                    json_object_get_string_member(e, "desc"));
        }
        g_assert_true(json_object_has_member(msg, "return"));
        return json_node_copy(json_object_get_member(msg, "return"));
    }
}

static JsonNode *
qom_get(Fixture *fx, const char *path, const char *property)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) args = NULL;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "path");
    json_builder_add_string_value(b, path);
    json_builder_set_member_name(b, "property");
    json_builder_add_string_value(b, property);
    json_builder_end_object(b);
    args = json_builder_get_root(b);
    return qmp_execute(fx, "qom-get", args);
}

static void
fixture_setup(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) err = NULL;

    fx->tmpdir = g_dir_make_tmp("spm-argv-XXXXXX", &err);
    g_assert_no_error(err);
    fx->sock_path = g_build_filename(fx->tmpdir, "qmp.sock", NULL);
    fx->log_path = g_build_filename(fx->tmpdir, "qemu.log", NULL);
    /* the backing file's directory and name both carry commas */
    fx->comma_dir = g_build_filename(fx->tmpdir, "back,ing", NULL);
    fx->file_path = g_build_filename(fx->comma_dir, "mem,share=off,file", NULL);
    g_assert_cmpint(g_mkdir(fx->comma_dir, 0700), ==, 0);
    g_file_set_contents(fx->file_path, "", 0, &err);
    g_assert_no_error(err);
}

static void
fixture_teardown(Fixture *fx, gconstpointer data)
{
    g_clear_object(&fx->in);
    if (fx->conn)
        g_io_stream_close(G_IO_STREAM(fx->conn), NULL, NULL);
    g_clear_object(&fx->conn);
    if (fx->proc) {
        g_subprocess_force_exit(fx->proc);
        g_subprocess_wait(fx->proc, NULL, NULL);
        /* let the pending async wait deliver before the fixture goes */
        while (!fx->exited)
            g_main_context_iteration(NULL, TRUE);
        g_clear_object(&fx->proc);
    }
    g_unlink(fx->file_path);
    g_rmdir(fx->comma_dir);
    g_unlink(fx->sock_path);
    g_unlink(fx->log_path);
    g_rmdir(fx->tmpdir);
    g_free(fx->file_path);
    g_free(fx->comma_dir);
    g_free(fx->log_path);
    g_free(fx->sock_path);
    g_free(fx->tmpdir);
}

typedef struct {
    const char *id;
    guint64 addr;
    guint64 size;
    guint node;
} Expect;

static const Expect expected[] = {
    { "ua-spm0", 0x100000000, GiB, 1 },
    { "ua-spm1", 0x180000000, GiB, 2 },
    { "ua-memfd", 0x200000000, 64 * MiB, 3 },
    { "ua-file", 0x240000000, 128 * MiB, 4 },
};

static void
test_real_qemu(Fixture *fx, gconstpointer data)
{
    g_autoptr(ArgvTestPlan) plan = argv_test_plan_new();
    g_autoptr(GError) err = NULL;
    g_auto(GStrv) spm_argv = NULL;
    g_autoptr(GStrvBuilder) cmd = g_strv_builder_new();
    g_auto(GStrv) full = NULL;
    g_autoptr(GSubprocessLauncher) launcher = NULL;
    g_autofree char *qmp_opt = NULL;
    g_autoptr(JsonObject) greeting = NULL;
    g_autoptr(JsonNode) ret = NULL;
    gboolean bind_host_node = g_file_test("/sys/devices/system/node/node0", G_FILE_TEST_IS_DIR);
    SpmPlannedDevice *dev;
    JsonArray *devs;

    if (!g_file_test(QEMU_BINARY, G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_skip(QEMU_BINARY " not installed");
        return;
    }

    argv_test_plan_add_node(plan, 0, SPM_NUMA_CELL, GiB);
    for (guint n = 1; n <= 4; n++)
        argv_test_plan_add_node(plan, n, SPM_NUMA_SPM, 0);

    dev = argv_test_plan_add_device(plan, expected[0].id, SPM_MEM_MODEL_SPM,
                                    expected[0].addr, expected[0].size, 1, 0, TRUE);
    if (bind_host_node)
        dev->backend.host_nodes = g_strdup("0");
    argv_test_plan_add_device(plan, expected[1].id, SPM_MEM_MODEL_SPM,
                              expected[1].addr, expected[1].size, 2, 1, TRUE);
    dev = argv_test_plan_add_device(plan, expected[2].id, SPM_MEM_MODEL_SPM,
                                    expected[2].addr, expected[2].size, 3, 2, TRUE);
    dev->backend.kind = SPM_BACKEND_MEMFD;
    dev->backend.has_share = TRUE;
    dev->backend.share = TRUE;
    dev->backend.prealloc = TRUE;
    dev = argv_test_plan_add_device(plan, expected[3].id, SPM_MEM_MODEL_SPM,
                                    expected[3].addr, expected[3].size, 4, 3, TRUE);
    dev->backend.kind = SPM_BACKEND_FILE;
    dev->backend.mem_path = g_strdup(fx->file_path);
    dev->backend.has_share = TRUE;
    dev->backend.share = TRUE;
    dev->backend.has_discard_data = TRUE;
    dev->backend.discard_data = TRUE;
    dev->backend.align = 2 * MiB;
    /* a libvirt device in the plan: not virt-spm's to write */
    argv_test_plan_add_device(plan, "dimm0", SPM_MEM_MODEL_DIMM,
                              0x300000000, GiB, 0, 4, FALSE);

    spm_argv = spm_argv_build(plan, "pc-dimm", &err);
    g_assert_no_error(err);
    g_assert_cmpuint(g_strv_length(spm_argv), ==, 4 * 2 + 4 * 4);

    qmp_opt = g_strdup_printf("unix:%s,server=on,wait=off", fx->sock_path);
    {
        const char *base[] = {
            QEMU_BINARY,
            "-machine", "q35", "-accel", "tcg",
            "-m", "1G,slots=4,maxmem=16G",
            "-object", "memory-backend-ram,id=ram0,size=1G",
            "-numa", "node,nodeid=0,memdev=ram0",
            "-display", "none", "-nodefaults", "-S",
            "-qmp", qmp_opt,
            NULL
        };

        g_strv_builder_addv(cmd, base);
    }
    g_strv_builder_addv(cmd, (const char **)spm_argv);
    full = g_strv_builder_end(cmd);
    {
        g_autofree char *joined = g_strjoinv(" ", full);

        g_test_message("%s", joined);
    }

    launcher = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_MERGE);
    g_subprocess_launcher_set_stdout_file_path(launcher, fx->log_path);
    /* a failed assertion aborts before teardown: QEMU must not outlive us */
    g_subprocess_launcher_set_child_setup(launcher, die_with_parent, NULL, NULL);
    fx->proc = g_subprocess_launcher_spawnv(launcher, (const char *const *)full, &err);
    g_assert_no_error(err);
    g_subprocess_wait_async(fx->proc, NULL, on_qemu_exit, fx);

    qmp_connect(fx);
    greeting = qmp_read(fx);
    g_assert_true(json_object_has_member(greeting, "QMP"));
    ret = qmp_execute(fx, "qmp_capabilities", NULL);
    g_clear_pointer(&ret, json_node_unref);

    /* where QEMU put every device */
    ret = qmp_execute(fx, "query-memory-devices", NULL);
    g_assert_true(JSON_NODE_HOLDS_ARRAY(ret));
    devs = json_node_get_array(ret);
    g_assert_cmpuint(json_array_get_length(devs), ==, G_N_ELEMENTS(expected));
    for (guint i = 0; i < G_N_ELEMENTS(expected); i++) {
        JsonObject *entry = json_array_get_object_element(devs, i);
        JsonObject *d = json_object_get_object_member(entry, "data");
        g_autofree char *memdev = g_strdup_printf("/objects/mem-%s", expected[i].id);

        /* QEMU lists the memory devices in address order, here also realize order */
        g_assert_cmpstr(json_object_get_string_member(entry, "type"), ==, "dimm");
        g_assert_cmpstr(json_object_get_string_member(d, "id"), ==, expected[i].id);
        g_assert_cmpuint(json_object_get_int_member(d, "addr"), ==, expected[i].addr);
        g_assert_cmpuint(json_object_get_int_member(d, "size"), ==, expected[i].size);
        g_assert_cmpuint(json_object_get_int_member(d, "node"), ==, expected[i].node);
        g_assert_cmpstr(json_object_get_string_member(d, "memdev"), ==, memdev);
    }
    g_clear_pointer(&ret, json_node_unref);

    /* the path with commas arrived intact, and no property leaked out of it */
    ret = qom_get(fx, "/objects/mem-ua-file", "mem-path");
    g_assert_cmpstr(json_node_get_string(ret), ==, fx->file_path);
    g_clear_pointer(&ret, json_node_unref);
    ret = qom_get(fx, "/objects/mem-ua-file", "share");
    g_assert_true(json_node_get_boolean(ret));
    g_clear_pointer(&ret, json_node_unref);
    ret = qom_get(fx, "/objects/mem-ua-file", "discard-data");
    g_assert_true(json_node_get_boolean(ret));
    g_clear_pointer(&ret, json_node_unref);
    ret = qom_get(fx, "/objects/mem-ua-file", "align");
    g_assert_cmpuint(json_node_get_int(ret), ==, 2 * MiB);
    g_clear_pointer(&ret, json_node_unref);
    ret = qom_get(fx, "/objects/mem-ua-file", "size");
    g_assert_cmpuint(json_node_get_int(ret), ==, 128 * MiB);
    g_clear_pointer(&ret, json_node_unref);

    ret = qom_get(fx, "/objects/mem-ua-memfd", "share");
    g_assert_true(json_node_get_boolean(ret));
    g_clear_pointer(&ret, json_node_unref);
    ret = qom_get(fx, "/objects/mem-ua-memfd", "prealloc");
    g_assert_true(json_node_get_boolean(ret));
    g_clear_pointer(&ret, json_node_unref);

    ret = qom_get(fx, "/objects/mem-ua-spm1", "policy");
    g_assert_cmpstr(json_node_get_string(ret), ==, "default");
    g_clear_pointer(&ret, json_node_unref);
    if (bind_host_node) {
        JsonArray *nodes;

        ret = qom_get(fx, "/objects/mem-ua-spm0", "policy");
        g_assert_cmpstr(json_node_get_string(ret), ==, "bind");
        g_clear_pointer(&ret, json_node_unref);
        ret = qom_get(fx, "/objects/mem-ua-spm0", "host-nodes");
        nodes = json_node_get_array(ret);
        g_assert_cmpuint(json_array_get_length(nodes), ==, 1);
        g_assert_cmpint(json_array_get_int_element(nodes, 0), ==, 0);
        g_clear_pointer(&ret, json_node_unref);
    } else {
        g_test_message("no host NUMA node 0: host-nodes not exercised");
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add("/argv/real-qemu", Fixture, NULL,
               fixture_setup, test_real_qemu, fixture_teardown);
    return g_test_run();
}
