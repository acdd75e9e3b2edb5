/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-qmp-client.c: the QMP client against scripted hostile peers and
 * against a real QEMU 7.2.
 */
#include <string.h>
#include <glib/gstdio.h>

#include "spm-error.h"
#include "spm-memdev-info.h"
#include "spm-qmp.h"

#define GREETING "{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, \"package\": \"\"}, \"capabilities\": [\"oob\"]}}\n"
#define DEVICE "{\"type\":\"spm-memory\",\"data\":{\"memdev\":\"/objects/spm0\",\"memaddr\":4294967296,\"size\":1073741824,\"node\":1,\"id\":\"dev0\"}}"
#define EVENT "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"RTC_CHANGE\", \"data\": {\"offset\": 0}}\n"

typedef enum {
    PEER_NORMAL,        /* events interleaved before the reply */
    PEER_WRONG_ID,      /* the reply carries another id */
    PEER_ERROR,         /* an error object */
    PEER_HUGE,          /* a 20 MiB line */
    PEER_GARBAGE,       /* bytes that are not JSON */
    PEER_NO_GREETING,   /* a reply before the greeting */
    PEER_TRUNCATED,     /* half a reply, then EOF */
    PEER_SILENT,        /* accepts, says nothing */
    PEER_NO_ID,         /* a reply without id */
    PEER_NESTED,        /* a deeply nested reply */
    PEER_WRAPPED_INT,   /* 2^64 + 4 GiB, which json-glib would read as 4 GiB */
    PEER_DRIP,          /* the reply one byte every 50 ms: slower than the deadline */
    PEER_EVENT_FLOOD,   /* events without end, never the reply */
    PEER_CLOSE_AFTER_GREETING, /* greets, then closes before qmp_capabilities */
    PEER_HIDDEN_NESTED_GREETING, /* deep nesting behind '"' in the greeting */
    PEER_HIDDEN_NESTED, /* deep nesting behind '"' in a reply */
} PeerMode;

/* A million levels of nesting between two '"': json-glib 1.6 reads them
 * as single-quoted strings, a scan that knows only "..." as a long string
 * that hides the brackets. */
#define HIDDEN_LEVELS 1000000

static char *
hidden_nesting(const char *head, const char *tail)
{
    GString *r = g_string_new(head);

    g_string_append(r, "'\"', \"deep\": ");
    for (int i = 0; i < HIDDEN_LEVELS; i++)
        g_string_append_c(r, '[');
    for (int i = 0; i < HIDDEN_LEVELS; i++)
        g_string_append_c(r, ']');
    g_string_append(r, ", \"end\": '\"'");
    g_string_append(r, tail);
    return g_string_free(r, FALSE);
}

typedef struct {
    PeerMode mode;
    GSocket *listener;
    char *path;
    char *dir;
    GThread *thread;
} Peer;

static gboolean
peer_send(GSocket *s, const char *text, gsize len)
{
    while (len > 0) {
        gssize n = g_socket_send(s, text, len, NULL, NULL);

        if (n <= 0)
            return FALSE;
        text += n;
        len -= n;
    }
    return TRUE;
}

static char *
peer_read_line(GSocket *s)
{
    GString *line = g_string_new(NULL);
    char c;

    for (;;) {
        gssize n = g_socket_receive(s, &c, 1, NULL, NULL);

        if (n <= 0) {
            g_string_free(line, TRUE);
            return NULL;
        }
        if (c == '\n')
            return g_string_free(line, FALSE);
        g_string_append_c(line, c);
    }
}

static char *
request_id(const char *line, char **command)
{
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *o;

    g_assert_true(json_parser_load_from_data(p, line, -1, NULL));
    o = json_node_get_object(json_parser_get_root(p));
    *command = g_strdup(json_object_get_string_member(o, "execute"));
    return g_strdup(json_object_get_string_member(o, "id"));
}

static gpointer
peer_thread(gpointer data)
{
    Peer *peer = data;
    g_autoptr(GSocket) s = g_socket_accept(peer->listener, NULL, NULL);
    char *line;

    g_assert_nonnull(s);
    if (peer->mode == PEER_SILENT) {
        /* wait until the client gives up and closes */
        g_free(peer_read_line(s));
        return NULL;
    }
    if (peer->mode == PEER_NO_GREETING) {
        peer_send(s, "{\"return\": {}}\n", 15);
        g_free(peer_read_line(s));
        return NULL;
    }
    if (peer->mode == PEER_HIDDEN_NESTED_GREETING) {
        g_autofree char *greeting = hidden_nesting("{\"QMP\": {\"version\": ", "}}\n");

        peer_send(s, greeting, strlen(greeting));
        g_free(peer_read_line(s));
        return NULL;
    }
    peer_send(s, GREETING, strlen(GREETING));
    if (peer->mode == PEER_CLOSE_AFTER_GREETING)
        return NULL;
    while ((line = peer_read_line(s))) {
        g_autofree char *command = NULL;
        g_autofree char *id = request_id(line, &command);
        g_autofree char *reply = NULL;

        g_free(line);
        if (g_str_equal(command, "qmp_capabilities")) {
            reply = g_strdup_printf("{\"return\": {}, \"id\": \"%s\"}\n", id);
            peer_send(s, reply, strlen(reply));
            continue;
        }
        switch (peer->mode) {
        case PEER_NORMAL:
            peer_send(s, EVENT, strlen(EVENT));
            peer_send(s, EVENT, strlen(EVENT));
            /* a stale reply to an id nobody waits for is ignored */
            peer_send(s, "{\"return\": [], \"id\": \"spm-999\"}\r\n", 33);
            reply = g_strdup_printf("{\"return\": [" DEVICE "], \"id\": \"%s\"}\r\n", id);
            break;
        case PEER_WRONG_ID:
            reply = g_strdup_printf("{\"return\": [" DEVICE "], \"id\": \"%s-other\"}\n", id);
            break;
        case PEER_ERROR:
            reply = g_strdup_printf("{\"id\": \"%s\", \"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command %s has not been found\"}}\n", id, command);
            break;
        case PEER_HUGE: {
            gsize n = 20 * 1024 * 1024;
            g_autofree char *big = g_malloc(n);

            memset(big, ' ', n);
            memcpy(big, "{\"return\": \"", 12);
            peer_send(s, big, n);
            peer_send(s, "\"}\n", 3);
            return NULL;
        }
        case PEER_GARBAGE:
            reply = g_strdup("\x01\x02garbage\xff\xfe\n");
            break;
        case PEER_TRUNCATED:
            reply = g_strdup_printf("{\"return\": [" DEVICE "], \"i");
            peer_send(s, reply, strlen(reply));
            return NULL;
        case PEER_NO_ID:
            reply = g_strdup("{\"return\": [" DEVICE "]}\n");
            break;
        case PEER_NESTED: {
            GString *r = g_string_new("{\"return\": ");

            for (int i = 0; i < 100000; i++)
                g_string_append_c(r, '[');
            for (int i = 0; i < 100000; i++)
                g_string_append_c(r, ']');
            g_string_append_printf(r, ", \"id\": \"%s\"}\n", id);
            reply = g_string_free(r, FALSE);
            break;
        }
        case PEER_HIDDEN_NESTED: {
            g_autofree char *tail = g_strdup_printf(", \"id\": \"%s\"}\n", id);

            reply = hidden_nesting("{\"return\": ", tail);
            break;
        }
        case PEER_DRIP:
            /* a byte at a time: each read succeeds, the whole never
             * arrives in time; stops when the client hangs up */
            reply = g_strdup_printf("{\"return\": [" DEVICE "], \"id\": \"%s\"}\n", id);
            for (const char *p = reply; *p; p++) {
                if (!peer_send(s, p, 1))
                    return NULL;
                g_usleep(50 * 1000);
            }
            continue;
        case PEER_EVENT_FLOOD:
            while (peer_send(s, EVENT, strlen(EVENT)))
                g_usleep(1000);
            return NULL;
        case PEER_WRAPPED_INT:
            reply = g_strdup_printf("{\"return\": [{\"type\":\"spm-memory\",\"data\":{\"memdev\":\"/objects/spm0\",\"memaddr\":18446744078004518912,\"size\":1073741824,\"node\":1,\"id\":\"dev0\"}}], \"id\": \"%s\"}\n", id);
            break;
        default:
            g_assert_not_reached();
        }
        peer_send(s, reply, strlen(reply));
    }
    return NULL;
}

static Peer *
peer_start(PeerMode mode)
{
    Peer *peer = g_new0(Peer, 1);
    g_autoptr(GSocketAddress) addr = NULL;
    g_autoptr(GError) error = NULL;

    peer->mode = mode;
    peer->dir = g_dir_make_tmp("spm-qmp-XXXXXX", &error);
    g_assert_no_error(error);
    peer->path = g_build_filename(peer->dir, "qmp.sock", NULL);
    addr = g_unix_socket_address_new(peer->path);
    peer->listener = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, 0, &error);
    g_assert_no_error(error);
    g_assert_true(g_socket_bind(peer->listener, addr, TRUE, &error));
    g_assert_true(g_socket_listen(peer->listener, &error));
    peer->thread = g_thread_new("peer", peer_thread, peer);
    return peer;
}

static void
peer_stop(Peer *peer)
{
    g_thread_join(peer->thread);
    g_object_unref(peer->listener);
    g_unlink(peer->path);
    g_rmdir(peer->dir);
    g_free(peer->path);
    g_free(peer->dir);
    g_free(peer);
}

typedef struct {
    guint events;
} EventCount;

static void
count_event(SpmQmp *qmp, const char *event, JsonObject *data, gpointer user_data)
{
    EventCount *c = user_data;

    g_assert_cmpstr(event, ==, "RTC_CHANGE");
    g_assert_nonnull(data);
    c->events++;
}

static void
test_peer_normal(void)
{
    Peer *peer = peer_start(PEER_NORMAL);
    g_autoptr(GError) error = NULL;
    g_autoptr(SpmQmp) qmp = spm_qmp_open_sync(peer->path, 5000, &error);
    g_autoptr(JsonNode) ret = NULL;
    g_autoptr(GPtrArray) list = NULL;
    EventCount count = { 0 };

    g_assert_no_error(error);
    g_assert_true(json_object_has_member(spm_qmp_get_greeting(qmp), "version"));
    spm_qmp_set_event_handler(qmp, count_event, &count, NULL);
    ret = spm_qmp_execute_sync(qmp, "query-memory-devices", NULL, 5000, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(count.events, ==, 2);
    list = spm_memdev_info_parse(ret, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(list->len, ==, 1);
    g_assert_cmpuint(((SpmMemdevInfo *) list->pdata[0])->addr, ==, G_GUINT64_CONSTANT(4294967296));
    spm_qmp_close(qmp);
    peer_stop(peer);
}

static void
opened(GObject *source, GAsyncResult *res, gpointer data)
{
    *(GAsyncResult **) data = g_object_ref(res);
}

static void
executed(GObject *source, GAsyncResult *res, gpointer data)
{
    *(GAsyncResult **) data = g_object_ref(res);
}

/* The asynchronous API, as the daemon would use it from a main loop. */
static void
test_peer_async(void)
{
    Peer *peer = peer_start(PEER_NORMAL);
    g_autoptr(GError) error = NULL;
    g_autoptr(GAsyncResult) res = NULL;
    g_autoptr(GAsyncResult) res2 = NULL;
    g_autoptr(SpmQmp) qmp = NULL;
    g_autoptr(JsonNode) ret = NULL;

    spm_qmp_open_async(peer->path, 5000, NULL, opened, &res);
    while (!res)
        g_main_context_iteration(NULL, TRUE);
    qmp = spm_qmp_open_finish(res, &error);
    g_assert_no_error(error);
    g_assert_nonnull(spm_qmp_get_greeting(qmp));
    spm_qmp_execute_async(qmp, "query-memory-devices", NULL, 5000, NULL, executed, &res2);
    while (!res2)
        g_main_context_iteration(NULL, TRUE);
    ret = spm_qmp_execute_finish(qmp, res2, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(json_array_get_length(json_node_get_array(ret)), ==, 1);
    spm_qmp_close(qmp);
    /* after close, a command fails at once */
    g_clear_pointer(&ret, json_node_unref);
    ret = spm_qmp_execute_sync(qmp, "query-memory-devices", NULL, 5000, &error);
    g_assert_null(ret);
    g_assert_error(error, SPM_ERROR, SPM_ERROR_QMP);
    peer_stop(peer);
}

/* A peer that breaks the protocol: the command fails with @code. */
static void
expect_failure(PeerMode mode, gboolean at_open, gint code, const char *needle)
{
    Peer *peer = peer_start(mode);
    g_autoptr(GError) error = NULL;
    g_autoptr(SpmQmp) qmp = spm_qmp_open_sync(peer->path, at_open ? 500 : 5000, &error);

    if (at_open) {
        g_assert_null(qmp);
    } else {
        g_autoptr(JsonNode) ret = NULL;

        g_assert_no_error(error);
        ret = spm_qmp_execute_sync(qmp, "query-memory-devices", NULL, 1000, &error);
        if (ret && mode == PEER_WRAPPED_INT) {
            /* the reply is read, its content is rejected by the reader */
            g_autoptr(GPtrArray) list = spm_memdev_info_parse(ret, &error);

            g_assert_null(list);
        } else {
            g_assert_null(ret);
        }
        spm_qmp_close(qmp);
    }
    g_test_message("mode %d: %s", mode, error ? error->message : "(none)");
    if (code < 0)   /* a race decides which; any clean virt-spm error */
        g_assert_true(error && error->domain == SPM_ERROR);
    else
        g_assert_error(error, SPM_ERROR, code);
    if (needle)
        g_assert_nonnull(strstr(error->message, needle));
    peer_stop(peer);
}

static void test_peer_wrong_id(void) { expect_failure(PEER_WRONG_ID, FALSE, SPM_ERROR_TIMEOUT, "no reply within"); }
static void test_peer_error(void) { expect_failure(PEER_ERROR, FALSE, SPM_ERROR_QMP, "query-memory-devices: CommandNotFound: The command"); }
static void test_peer_huge(void) { expect_failure(PEER_HUGE, FALSE, SPM_ERROR_QMP, "longer than"); }
static void test_peer_garbage(void) { expect_failure(PEER_GARBAGE, FALSE, SPM_ERROR_QMP, NULL); }
static void test_peer_no_greeting(void) { expect_failure(PEER_NO_GREETING, TRUE, SPM_ERROR_QMP, "greeting"); }
static void test_peer_truncated(void) { expect_failure(PEER_TRUNCATED, FALSE, SPM_ERROR_QMP, "closed by the peer"); }
static void test_peer_silent(void) { expect_failure(PEER_SILENT, TRUE, SPM_ERROR_TIMEOUT, NULL); }
static void test_peer_no_id(void) { expect_failure(PEER_NO_ID, FALSE, SPM_ERROR_QMP, "without a string id"); }
static void test_peer_nested(void) { expect_failure(PEER_NESTED, FALSE, SPM_ERROR_QMP, "nested"); }
static void test_peer_hidden_nested(void) { expect_failure(PEER_HIDDEN_NESTED, FALSE, SPM_ERROR_QMP, "nested"); }

static void
test_peer_hidden_nested_greeting(void)
{
    Peer *peer = peer_start(PEER_HIDDEN_NESTED_GREETING);
    g_autoptr(GError) error = NULL;
    g_autoptr(SpmQmp) qmp = spm_qmp_open_sync(peer->path, 5000, &error);

    g_assert_null(qmp);
    g_test_message("%s", error ? error->message : "(none)");
    g_assert_error(error, SPM_ERROR, SPM_ERROR_QMP);
    g_assert_nonnull(strstr(error->message, "nested"));
    peer_stop(peer);
}

static void test_peer_wrapped_int(void) { expect_failure(PEER_WRAPPED_INT, FALSE, SPM_ERROR_QMP, "out of range"); }
/* The deadline covers the whole reply, not each read: a peer that keeps
 * the socket busy (bytes, or events) cannot hold a command past it. */
static void test_peer_drip(void) { expect_failure(PEER_DRIP, FALSE, SPM_ERROR_TIMEOUT, NULL); }
static void test_peer_event_flood(void) { expect_failure(PEER_EVENT_FLOOD, FALSE, SPM_ERROR_TIMEOUT, NULL); }
/* closed by the peer (SPM_ERROR_QMP) or broken pipe on our write (SPM_ERROR_SYSTEM) */
static void test_peer_close_after_greeting(void) { expect_failure(PEER_CLOSE_AFTER_GREETING, TRUE, -1, NULL); }

static void
test_no_socket(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpmQmp) qmp = spm_qmp_open_sync("/nonexistent/spm/qmp.sock", 50, &error);

    g_assert_null(qmp);
    g_assert_error(error, SPM_ERROR, SPM_ERROR_SYSTEM);
}

static void
test_reply_parse(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) ret = spm_qmp_reply_parse("q", "{\"return\": [], \"id\": \"libvirt-5\"}", 1024, &error);

    g_assert_no_error(error);
    g_assert_true(JSON_NODE_HOLDS_ARRAY(ret));
    g_assert_null(spm_qmp_reply_parse("q", "{\"error\": {\"class\": \"GenericError\", \"desc\": \"x\"}}", 1024, &error));
    g_assert_error(error, SPM_ERROR, SPM_ERROR_QMP);
    g_assert_cmpstr(error->message, ==, "q: GenericError: x");
    g_clear_error(&error);
    g_assert_null(spm_qmp_reply_parse("q", "{\"error\": \"x\"}", 1024, &error));
    g_assert_error(error, SPM_ERROR, SPM_ERROR_QMP);
    g_clear_error(&error);
    g_assert_null(spm_qmp_reply_parse("q", "{\"id\": 1}", 1024, &error));
    g_assert_error(error, SPM_ERROR, SPM_ERROR_QMP);
    g_clear_error(&error);
    g_assert_null(spm_qmp_reply_parse("q", "{\"return\": []}", 5, &error));
    g_assert_error(error, SPM_ERROR, SPM_ERROR_QMP);
}

/* ---- real QEMU 7.2 ---- */

static void
test_real_qemu(void)
{
    g_autofree char *qemu = g_find_program_in_path("qemu-system-x86_64");
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = NULL;
    g_autofree char *sock = NULL;
    g_autofree char *qmparg = NULL;
    g_autoptr(GSubprocess) proc = NULL;
    g_autoptr(SpmQmp) qmp = NULL;
    g_autoptr(JsonNode) ret = NULL;
    g_autoptr(GPtrArray) list = NULL;
    g_autoptr(JsonObject) ev = NULL;
    SpmMemdevInfo *d;

    if (!qemu) {
        g_test_skip("qemu-system-x86_64 not installed");
        return;
    }
    dir = g_dir_make_tmp("spm-qemu-XXXXXX", &error);
    g_assert_no_error(error);
    sock = g_build_filename(dir, "qmp.sock", NULL);
    qmparg = g_strdup_printf("unix:%s,server=on,wait=off", sock);
    proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error, qemu,
                            "-machine", "q35", "-accel", "tcg",
                            "-m", "1G,slots=4,maxmem=16G",
                            "-object", "memory-backend-ram,id=ram0,size=1G",
                            "-numa", "node,nodeid=0,memdev=ram0",
                            "-numa", "node,nodeid=1",
                            "-object", "memory-backend-ram,id=mem1,size=1G",
                            "-device", "pc-dimm,id=dimm1,memdev=mem1,node=1,addr=0x100000000",
                            "-display", "none", "-nodefaults", "-S",
                            "-qmp", qmparg, NULL);
    g_assert_no_error(error);

    /* QEMU creates the socket when it is ready: connect with a deadline */
    qmp = spm_qmp_open_sync(sock, 20000, &error);
    g_assert_no_error(error);
    g_assert_cmpint(json_object_get_int_member(
                        json_object_get_object_member(
                            json_object_get_object_member(spm_qmp_get_greeting(qmp), "version"),
                            "qemu"), "major"), >=, 7);

    ret = spm_qmp_execute_sync(qmp, "query-memory-devices", NULL, 5000, &error);
    g_assert_no_error(error);
    list = spm_memdev_info_parse(ret, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(list->len, ==, 1);
    d = list->pdata[0];
    g_assert_cmpstr(d->type, ==, "dimm");
    g_assert_cmpstr(d->id, ==, "dimm1");
    g_assert_cmpuint(d->addr, ==, G_GUINT64_CONSTANT(0x100000000));
    g_assert_cmpuint(d->size, ==, G_GUINT64_CONSTANT(1) << 30);
    g_assert_cmpuint(d->node, ==, 1);
    g_assert_cmpstr(d->memdev, ==, "/objects/mem1");
    g_assert_cmpint(d->slot, ==, 0);

    /* an unknown command: QEMU's CommandNotFound error object */
    g_clear_pointer(&ret, json_node_unref);
    ret = spm_qmp_execute_sync(qmp, "query-no-such-thing", NULL, 5000, &error);
    g_assert_null(ret);
    g_assert_error(error, SPM_ERROR, SPM_ERROR_QMP);
    g_assert_nonnull(strstr(error->message, "CommandNotFound"));
    g_clear_error(&error);

    /* events: cont -> RESUME, stop -> STOP */
    g_clear_pointer(&ret, json_node_unref);
    ret = spm_qmp_execute_sync(qmp, "cont", NULL, 5000, &error);
    g_assert_no_error(error);
    ev = spm_qmp_wait_event_sync(qmp, "RESUME", 5000, &error);
    g_assert_no_error(error);
    g_clear_pointer(&ev, json_object_unref);
    g_clear_pointer(&ret, json_node_unref);
    ret = spm_qmp_execute_sync(qmp, "stop", NULL, 5000, &error);
    g_assert_no_error(error);
    ev = spm_qmp_wait_event_sync(qmp, "STOP", 5000, &error);
    g_assert_no_error(error);

    g_clear_pointer(&ret, json_node_unref);
    ret = spm_qmp_execute_sync(qmp, "quit", NULL, 5000, &error);
    g_assert_no_error(error);
    g_assert_true(g_subprocess_wait(proc, NULL, &error));
    g_assert_no_error(error);
    g_unlink(sock);
    g_rmdir(dir);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/qmp/client/peer-normal", test_peer_normal);
    g_test_add_func("/qmp/client/peer-async", test_peer_async);
    g_test_add_func("/qmp/client/peer-wrong-id", test_peer_wrong_id);
    g_test_add_func("/qmp/client/peer-error", test_peer_error);
    g_test_add_func("/qmp/client/peer-huge", test_peer_huge);
    g_test_add_func("/qmp/client/peer-garbage", test_peer_garbage);
    g_test_add_func("/qmp/client/peer-no-greeting", test_peer_no_greeting);
    g_test_add_func("/qmp/client/peer-truncated", test_peer_truncated);
    g_test_add_func("/qmp/client/peer-silent", test_peer_silent);
    g_test_add_func("/qmp/client/peer-no-id", test_peer_no_id);
    g_test_add_func("/qmp/client/peer-nested", test_peer_nested);
    g_test_add_func("/qmp/client/peer-hidden-nested", test_peer_hidden_nested);
    g_test_add_func("/qmp/client/peer-hidden-nested-greeting", test_peer_hidden_nested_greeting);
    g_test_add_func("/qmp/client/peer-wrapped-int", test_peer_wrapped_int);
    g_test_add_func("/qmp/client/peer-drip", test_peer_drip);
    g_test_add_func("/qmp/client/peer-event-flood", test_peer_event_flood);
    g_test_add_func("/qmp/client/peer-close-after-greeting", test_peer_close_after_greeting);
    g_test_add_func("/qmp/client/no-socket", test_no_socket);
    g_test_add_func("/qmp/client/reply-parse", test_reply_parse);
    g_test_add_func("/qmp/client/real-qemu", test_real_qemu);
    return g_test_run();
}
