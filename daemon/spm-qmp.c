/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-qmp.c: QMP over a UNIX socket (see spm-qmp.h)
 */
#include <errno.h>
#include <string.h>

#include "spm-error.h"
#include "spm-json-guard.h"
#include "spm-qmp.h"

#define SPM_QMP_RECENT_EVENTS 64

/* json_node_get_value_type() is only defined on value nodes */
static gboolean
spm_json_is_string(JsonNode *node)
{
    return node && JSON_NODE_HOLDS_VALUE(node) && json_node_get_value_type(node) == G_TYPE_STRING;
}

struct _SpmQmp {
    gint refs;
    GMainContext *ctx;
    GSocketConnection *conn;
    GInputStream *in;
    GOutputStream *out;
    GCancellable *cancel;       /* stops the read loop on close */
    GByteArray *buf;            /* bytes received, not yet a whole line */
    guint8 chunk[16384];
    gsize max_message;
    gboolean closed;

    JsonObject *greeting;
    GTask *open_task;           /* until capabilities are negotiated */
    GSource *open_timeout;
    gint64 open_deadline;       /* monotonic µs */

    guint64 next_id;
    GHashTable *pending;        /* id -> SpmQmpPending */

    SpmQmpEventFunc event_func;
    gpointer event_data;
    GDestroyNotify event_destroy;
    GQueue recent_events;       /* JsonObject * of the whole event message */
};

typedef struct {
    SpmQmp *qmp;                /* weak: the hash table of @qmp owns us */
    char *id;
    char *command;
    GTask *task;
    GSource *timeout;
    guint timeout_ms;
} SpmQmpPending;

static void spm_qmp_read_next(SpmQmp *qmp);

static void
spm_qmp_pending_free(gpointer data)
{
    SpmQmpPending *p = data;

    if (p->timeout) {
        g_source_destroy(p->timeout);
        g_source_unref(p->timeout);
    }
    g_clear_object(&p->task);
    g_free(p->id);
    g_free(p->command);
    g_free(p);
}

static SpmQmp *
spm_qmp_new(void)
{
    SpmQmp *qmp = g_new0(SpmQmp, 1);

    qmp->refs = 1;
    qmp->ctx = g_main_context_ref_thread_default();
    qmp->cancel = g_cancellable_new();
    qmp->buf = g_byte_array_new();
    qmp->max_message = SPM_QMP_DEFAULT_MAX_MESSAGE;
    qmp->pending = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, spm_qmp_pending_free);
    g_queue_init(&qmp->recent_events);
    return qmp;
}

SpmQmp *
spm_qmp_ref(SpmQmp *qmp)
{
    g_atomic_int_inc(&qmp->refs);
    return qmp;
}

void
spm_qmp_unref(SpmQmp *qmp)
{
    if (!qmp || !g_atomic_int_dec_and_test(&qmp->refs))
        return;
    spm_qmp_close(qmp);
    g_hash_table_unref(qmp->pending);
    g_queue_clear_full(&qmp->recent_events, (GDestroyNotify) json_object_unref);
    if (qmp->event_destroy)
        qmp->event_destroy(qmp->event_data);
    g_clear_pointer(&qmp->greeting, json_object_unref);
    g_byte_array_unref(qmp->buf);
    g_clear_object(&qmp->cancel);
    g_clear_object(&qmp->conn);
    g_main_context_unref(qmp->ctx);
    g_free(qmp);
}

static void
spm_qmp_open_done(SpmQmp *qmp, GError *error)
{
    g_autoptr(GTask) task = g_steal_pointer(&qmp->open_task);

    if (qmp->open_timeout) {
        g_source_destroy(qmp->open_timeout);
        g_clear_pointer(&qmp->open_timeout, g_source_unref);
    }
    if (!task) {
        if (error)
            g_error_free(error);
        return;
    }
    if (error)
        g_task_return_error(task, error);
    else
        g_task_return_pointer(task, spm_qmp_ref(qmp), (GDestroyNotify) spm_qmp_unref);
}

/* The connection is unusable: fail everything that waits on it. */
static void
spm_qmp_fail(SpmQmp *qmp, GError *error)
{
    GHashTableIter iter;
    gpointer value;
    g_autoptr(GList) tasks = NULL;

    if (qmp->closed) {
        g_error_free(error);
        return;
    }
    qmp->closed = TRUE;
    g_cancellable_cancel(qmp->cancel);
    if (qmp->conn)
        g_io_stream_close(G_IO_STREAM(qmp->conn), NULL, NULL);

    g_hash_table_iter_init(&iter, qmp->pending);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        SpmQmpPending *p = value;

        tasks = g_list_prepend(tasks, g_steal_pointer(&p->task));
    }
    g_hash_table_remove_all(qmp->pending);
    for (GList *l = tasks; l; l = l->next) {
        g_task_return_error(l->data, g_error_copy(error));
        g_object_unref(l->data);
    }
    spm_qmp_open_done(qmp, error);
}

void
spm_qmp_close(SpmQmp *qmp)
{
    spm_qmp_fail(qmp, g_error_new(SPM_ERROR, SPM_ERROR_QMP, "QMP connection closed"));
}

static void
spm_qmp_handle_reply(SpmQmp *qmp, JsonObject *msg)
{
    JsonNode *idnode = json_object_get_member(msg, "id");
    SpmQmpPending *p;
    g_autoptr(GTask) task = NULL;
    g_autofree char *command = NULL;
    JsonNode *errnode;

    if (!spm_json_is_string(idnode)) {
        /* We always send an id: a reply without one means the peer lost
         * track of our commands; no reply can be trusted any more. */
        spm_qmp_fail(qmp, g_error_new(SPM_ERROR, SPM_ERROR_QMP,
                                      "QMP reply without a string id"));
        return;
    }
    p = g_hash_table_lookup(qmp->pending, json_node_get_string(idnode));
    if (!p) {
        g_debug("QMP: ignoring reply with unknown id '%s'", json_node_get_string(idnode));
        return;
    }
    task = g_steal_pointer(&p->task);
    command = g_steal_pointer(&p->command);
    g_hash_table_remove(qmp->pending, json_node_get_string(idnode));

    errnode = json_object_get_member(msg, "error");
    if (errnode) {
        JsonObject *err = JSON_NODE_HOLDS_OBJECT(errnode) ? json_node_get_object(errnode) : NULL;
        JsonNode *cls = err ? json_object_get_member(err, "class") : NULL;
        JsonNode *desc = err ? json_object_get_member(err, "desc") : NULL;

        if (!spm_json_is_string(cls) || !spm_json_is_string(desc)) {
            g_task_return_new_error(task, SPM_ERROR, SPM_ERROR_QMP,
                                    "%s: malformed QMP error reply", command);
            return;
        }
        g_task_return_new_error(task, SPM_ERROR, SPM_ERROR_QMP, "%s: %s: %s", command,
                                json_node_get_string(cls), json_node_get_string(desc));
        return;
    }
    g_task_return_pointer(task, json_node_ref(json_object_get_member(msg, "return")),
                          (GDestroyNotify) json_node_unref);
}

static void
spm_qmp_handle_event(SpmQmp *qmp, JsonObject *msg)
{
    JsonNode *name = json_object_get_member(msg, "event");
    JsonNode *data = json_object_get_member(msg, "data");

    if (!spm_json_is_string(name)) {
        spm_qmp_fail(qmp, g_error_new(SPM_ERROR, SPM_ERROR_QMP, "QMP event without a name"));
        return;
    }
    g_queue_push_tail(&qmp->recent_events, json_object_ref(msg));
    if (g_queue_get_length(&qmp->recent_events) > SPM_QMP_RECENT_EVENTS)
        json_object_unref(g_queue_pop_head(&qmp->recent_events));
    if (qmp->event_func)
        qmp->event_func(qmp, json_node_get_string(name),
                        data && JSON_NODE_HOLDS_OBJECT(data) ? json_node_get_object(data) : NULL,
                        qmp->event_data);
}

static void spm_qmp_caps_done(GObject *source, GAsyncResult *res, gpointer data);

static void
spm_qmp_handle_line(SpmQmp *qmp, const char *line, gsize len)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) root = NULL;
    JsonObject *msg;

    while (len > 0 && g_ascii_isspace(line[len - 1]))
        len--;
    if (len == 0)
        return;
    root = spm_json_guard_parse(line, len, SPM_JSON_MAX_DEPTH, &error);
    if (!root) {
        spm_qmp_fail(qmp, g_steal_pointer(&error));
        return;
    }
    if (!JSON_NODE_HOLDS_OBJECT(root)) {
        spm_qmp_fail(qmp, g_error_new(SPM_ERROR, SPM_ERROR_QMP, "QMP message is not an object"));
        return;
    }
    msg = json_node_get_object(root);

    if (json_object_has_member(msg, "QMP")) {
        JsonNode *g = json_object_get_member(msg, "QMP");

        if (qmp->greeting || !JSON_NODE_HOLDS_OBJECT(g)) {
            spm_qmp_fail(qmp, g_error_new(SPM_ERROR, SPM_ERROR_QMP, "unexpected QMP greeting"));
            return;
        }
        qmp->greeting = json_object_ref(json_node_get_object(g));
        if (qmp->open_task) {
            gint64 left = (qmp->open_deadline - g_get_monotonic_time()) / 1000;

            spm_qmp_execute_async(qmp, "qmp_capabilities", NULL, MAX(left, 1), NULL,
                                  spm_qmp_caps_done, spm_qmp_ref(qmp));
        }
        return;
    }
    if (!qmp->greeting) {
        spm_qmp_fail(qmp, g_error_new(SPM_ERROR, SPM_ERROR_QMP,
                                      "QMP peer did not send a greeting first"));
        return;
    }
    if (json_object_has_member(msg, "event"))
        spm_qmp_handle_event(qmp, msg);
    else if (json_object_has_member(msg, "return") || json_object_has_member(msg, "error"))
        spm_qmp_handle_reply(qmp, msg);
    else
        spm_qmp_fail(qmp, g_error_new(SPM_ERROR, SPM_ERROR_QMP,
                                      "QMP message is neither a reply nor an event"));
}

static void
spm_qmp_read_done(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(SpmQmp) qmp = data;
    g_autoptr(GError) error = NULL;
    gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), res, &error);

    if (qmp->closed)
        return;
    if (n < 0) {
        spm_qmp_fail(qmp, g_error_new(SPM_ERROR, SPM_ERROR_SYSTEM, "QMP read: %s", error->message));
        return;
    }
    if (n == 0) {
        spm_qmp_fail(qmp, g_error_new(SPM_ERROR, SPM_ERROR_QMP, "QMP connection closed by the peer"));
        return;
    }
    g_byte_array_append(qmp->buf, qmp->chunk, n);

    for (;;) {
        guint8 *nl = memchr(qmp->buf->data, '\n', qmp->buf->len);
        gsize len;

        if (!nl)
            break;
        len = nl - qmp->buf->data;
        if (len > qmp->max_message)
            break;
        spm_qmp_handle_line(qmp, (const char *) qmp->buf->data, len);
        if (qmp->closed)
            return;
        g_byte_array_remove_range(qmp->buf, 0, len + 1);
    }
    if (qmp->buf->len > qmp->max_message) {
        spm_qmp_fail(qmp, g_error_new(SPM_ERROR, SPM_ERROR_QMP,
                                      "QMP message longer than %" G_GSIZE_FORMAT " bytes",
                                      qmp->max_message));
        return;
    }
    spm_qmp_read_next(qmp);
}

static void
spm_qmp_read_next(SpmQmp *qmp)
{
    g_input_stream_read_async(qmp->in, qmp->chunk, sizeof(qmp->chunk), G_PRIORITY_DEFAULT,
                              qmp->cancel, spm_qmp_read_done, spm_qmp_ref(qmp));
}

static gboolean
spm_qmp_command_timeout(gpointer data)
{
    SpmQmpPending *p = data;
    g_autoptr(GTask) task = g_steal_pointer(&p->task);
    g_autofree char *command = g_steal_pointer(&p->command);
    guint ms = p->timeout_ms;

    g_clear_pointer(&p->timeout, g_source_unref);
    g_hash_table_remove(p->qmp->pending, p->id);   /* frees @p; a late reply is ignored */
    g_task_return_new_error(task, SPM_ERROR, SPM_ERROR_TIMEOUT,
                            "QMP command '%s' got no reply within %u ms", command, ms);
    return G_SOURCE_REMOVE;
}

void
spm_qmp_execute_async(SpmQmp *qmp, const char *command, JsonObject *arguments,
                      guint timeout_ms, GCancellable *cancellable,
                      GAsyncReadyCallback callback, gpointer user_data)
{
    g_autoptr(GTask) task = g_task_new(NULL, cancellable, callback, user_data);
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) root = NULL;
    g_autofree char *text = NULL;
    g_autofree char *line = NULL;
    g_autoptr(GError) error = NULL;
    SpmQmpPending *p;

    g_task_set_source_tag(task, spm_qmp_execute_async);
    if (qmp->closed) {
        g_task_return_new_error(task, SPM_ERROR, SPM_ERROR_QMP,
                                "%s: QMP connection is closed", command);
        return;
    }
    if (g_task_return_error_if_cancelled(task))
        return;

    p = g_new0(SpmQmpPending, 1);
    p->qmp = qmp;
    p->id = g_strdup_printf("spm-%" G_GUINT64_FORMAT, ++qmp->next_id);
    p->command = g_strdup(command);
    p->task = g_object_ref(task);
    p->timeout_ms = timeout_ms;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "execute");
    json_builder_add_string_value(b, command);
    if (arguments) {
        json_builder_set_member_name(b, "arguments");
        json_builder_add_value(b, json_node_init_object(json_node_alloc(), arguments));
    }
    json_builder_set_member_name(b, "id");
    json_builder_add_string_value(b, p->id);
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    text = json_to_string(root, FALSE);
    line = g_strconcat(text, "\n", NULL);

    p->timeout = g_timeout_source_new(timeout_ms);
    g_source_set_callback(p->timeout, spm_qmp_command_timeout, p, NULL);
    g_source_attach(p->timeout, qmp->ctx);
    g_hash_table_insert(qmp->pending, p->id, p);

    /* Commands are a few hundred bytes on a local socket: a blocking write
     * (bounded by the socket timeout) keeps the order of commands simple. */
    if (!g_output_stream_write_all(qmp->out, line, strlen(line), NULL, NULL, &error))
        spm_qmp_fail(qmp, g_error_new(SPM_ERROR, SPM_ERROR_SYSTEM, "QMP write of '%s': %s",
                                      command, error->message));
}

JsonNode *
spm_qmp_execute_finish(SpmQmp *qmp, GAsyncResult *result, GError **error)
{
    return g_task_propagate_pointer(G_TASK(result), error);
}

static void
spm_qmp_caps_done(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(SpmQmp) qmp = data;
    GError *error = NULL;
    g_autoptr(JsonNode) ret = spm_qmp_execute_finish(qmp, res, &error);

    spm_qmp_open_done(qmp, ret ? NULL : error);
}

static gboolean
spm_qmp_open_timed_out(gpointer data)
{
    SpmQmp *qmp = data;

    g_clear_pointer(&qmp->open_timeout, g_source_unref);
    spm_qmp_fail(qmp, g_error_new(SPM_ERROR, SPM_ERROR_TIMEOUT,
                                  "QMP greeting and capability negotiation did not finish in time"));
    return G_SOURCE_REMOVE;
}

/* A connected socket: wait for the greeting, then negotiate. */
static void
spm_qmp_start(SpmQmp *qmp, GSocketConnection *conn, GTask *task, guint timeout_ms)
{
    GSocket *sock = g_socket_connection_get_socket(conn);

    qmp->conn = g_object_ref(conn);
    qmp->in = g_io_stream_get_input_stream(G_IO_STREAM(conn));
    qmp->out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
    g_socket_set_timeout(sock, MAX(timeout_ms / 1000, 1));
    qmp->open_task = g_object_ref(task);
    qmp->open_deadline = g_get_monotonic_time() + (gint64) timeout_ms * 1000;
    qmp->open_timeout = g_timeout_source_new(timeout_ms);
    g_source_set_callback(qmp->open_timeout, spm_qmp_open_timed_out, qmp, NULL);
    g_source_attach(qmp->open_timeout, qmp->ctx);
    spm_qmp_read_next(qmp);
}

typedef struct {
    SpmQmp *qmp;
    guint timeout_ms;
} SpmQmpOpenData;

static void
spm_qmp_open_data_free(gpointer data)
{
    SpmQmpOpenData *d = data;

    spm_qmp_unref(d->qmp);
    g_free(d);
}

static void
spm_qmp_connected(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(GTask) task = data;
    SpmQmpOpenData *d = g_task_get_task_data(task);
    g_autoptr(GError) error = NULL;
    g_autoptr(GSocketConnection) conn =
        g_socket_client_connect_finish(G_SOCKET_CLIENT(source), res, &error);

    if (!conn) {
        g_task_return_new_error(task, SPM_ERROR, SPM_ERROR_SYSTEM, "QMP connect: %s", error->message);
        return;
    }
    spm_qmp_start(d->qmp, conn, task, d->timeout_ms);
}

void
spm_qmp_open_async(const char *path, guint timeout_ms, GCancellable *cancellable,
                   GAsyncReadyCallback callback, gpointer user_data)
{
    GTask *task = g_task_new(NULL, cancellable, callback, user_data);
    g_autoptr(GSocketClient) client = g_socket_client_new();
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
    SpmQmpOpenData *d = g_new0(SpmQmpOpenData, 1);

    d->qmp = spm_qmp_new();
    d->timeout_ms = timeout_ms;
    g_task_set_task_data(task, d, spm_qmp_open_data_free);
    g_socket_client_connect_async(client, G_SOCKET_CONNECTABLE(addr), cancellable,
                                  spm_qmp_connected, task);
}

SpmQmp *
spm_qmp_open_finish(GAsyncResult *result, GError **error)
{
    return g_task_propagate_pointer(G_TASK(result), error);
}

static void
spm_qmp_sync_cb(GObject *source, GAsyncResult *res, gpointer data)
{
    *(GAsyncResult **) data = g_object_ref(res);
}

SpmQmp *
spm_qmp_open_sync(const char *path, guint timeout_ms, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64) timeout_ms * 1000;
    g_autoptr(GSocketClient) client = g_socket_client_new();
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
    g_autoptr(GSocketConnection) conn = NULL;
    g_autoptr(SpmQmp) qmp = NULL;
    g_autoptr(GTask) task = NULL;
    g_autoptr(GAsyncResult) res = NULL;
    gint64 left;

    for (;;) {
        g_autoptr(GError) local = NULL;

        conn = g_socket_client_connect(client, G_SOCKET_CONNECTABLE(addr), NULL, &local);
        if (conn)
            break;
        if (!(g_error_matches(local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ||
              g_error_matches(local, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED)) ||
            g_get_monotonic_time() >= deadline) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "QMP connect to '%s': %s",
                        path, local->message);
            return NULL;
        }
        /* QEMU is still starting: poll the socket until the deadline */
        g_usleep(5000);
    }

    left = MAX((deadline - g_get_monotonic_time()) / 1000, 1);
    qmp = spm_qmp_new();
    task = g_task_new(NULL, NULL, spm_qmp_sync_cb, &res);
    spm_qmp_start(qmp, conn, task, left);
    g_clear_object(&task);
    while (!res)
        g_main_context_iteration(qmp->ctx, TRUE);
    return g_task_propagate_pointer(G_TASK(res), error);
}

JsonObject *
spm_qmp_get_greeting(SpmQmp *qmp)
{
    return qmp->greeting;
}

void
spm_qmp_set_event_handler(SpmQmp *qmp, SpmQmpEventFunc func, gpointer user_data,
                          GDestroyNotify destroy)
{
    if (qmp->event_destroy)
        qmp->event_destroy(qmp->event_data);
    qmp->event_func = func;
    qmp->event_data = user_data;
    qmp->event_destroy = destroy;
}

void
spm_qmp_set_max_message(SpmQmp *qmp, gsize bytes)
{
    qmp->max_message = bytes;
}

JsonNode *
spm_qmp_execute_sync(SpmQmp *qmp, const char *command, JsonObject *arguments,
                     guint timeout_ms, GError **error)
{
    g_autoptr(GAsyncResult) res = NULL;

    spm_qmp_execute_async(qmp, command, arguments, timeout_ms, NULL, spm_qmp_sync_cb, &res);
    while (!res)
        g_main_context_iteration(qmp->ctx, TRUE);
    return spm_qmp_execute_finish(qmp, res, error);
}

static JsonObject *
spm_qmp_take_event(SpmQmp *qmp, const char *event)
{
    for (GList *l = qmp->recent_events.head; l; l = l->next) {
        JsonObject *msg = l->data;

        if (g_str_equal(json_object_get_string_member(msg, "event"), event)) {
            JsonNode *data = json_object_get_member(msg, "data");
            JsonObject *ret = data && JSON_NODE_HOLDS_OBJECT(data)
                ? json_object_ref(json_node_get_object(data)) : json_object_new();

            g_queue_delete_link(&qmp->recent_events, l);
            json_object_unref(msg);
            return ret;
        }
    }
    return NULL;
}

static gboolean
spm_qmp_flag_timeout(gpointer data)
{
    *(gboolean *) data = TRUE;
    return G_SOURCE_REMOVE;
}

JsonObject *
spm_qmp_wait_event_sync(SpmQmp *qmp, const char *event, guint timeout_ms, GError **error)
{
    gboolean timed_out = FALSE;
    GSource *timer = g_timeout_source_new(timeout_ms);
    JsonObject *ret = NULL;

    g_source_set_callback(timer, spm_qmp_flag_timeout, &timed_out, NULL);
    g_source_attach(timer, qmp->ctx);
    while (!(ret = spm_qmp_take_event(qmp, event)) && !timed_out && !qmp->closed)
        g_main_context_iteration(qmp->ctx, TRUE);
    g_source_destroy(timer);
    g_source_unref(timer);
    if (!ret)
        g_set_error(error, SPM_ERROR, timed_out ? SPM_ERROR_TIMEOUT : SPM_ERROR_QMP,
                    "QMP event '%s' did not arrive within %u ms", event, timeout_ms);
    return ret;
}

JsonNode *
spm_qmp_reply_parse_from(const char *peer, const char *command, const char *text, gsize len,
                         gsize max_bytes, guint max_depth, GError **error)
{
    g_autoptr(JsonNode) root = NULL;
    JsonObject *msg;
    JsonNode *errnode;
    JsonNode *ret;

    if (len > max_bytes) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_QMP,
                    "%s: %s reply longer than %" G_GSIZE_FORMAT " bytes", command, peer, max_bytes);
        return NULL;
    }
    root = spm_json_guard_parse(text, len, max_depth, error);
    if (!root) {
        g_prefix_error(error, "%s: %s reply: ", command, peer);
        return NULL;
    }
    if (!JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_QMP, "%s: %s reply is not an object", command, peer);
        return NULL;
    }
    msg = json_node_get_object(root);
    errnode = json_object_get_member(msg, "error");
    if (errnode) {
        JsonObject *err = JSON_NODE_HOLDS_OBJECT(errnode) ? json_node_get_object(errnode) : NULL;
        JsonNode *cls = err ? json_object_get_member(err, "class") : NULL;
        JsonNode *desc = err ? json_object_get_member(err, "desc") : NULL;

        if (!spm_json_is_string(cls) || !spm_json_is_string(desc))
            g_set_error(error, SPM_ERROR, SPM_ERROR_QMP, "%s: malformed %s error reply", command, peer);
        else {
            /* the peer's words: one line, and not a page of them */
            g_autofree char *c = spm_error_printable(json_node_get_string(cls), 64);
            g_autofree char *d = spm_error_printable(json_node_get_string(desc), 256);

            g_set_error(error, SPM_ERROR, SPM_ERROR_QMP, "%s: %s: %s", command, c, d);
        }
        return NULL;
    }
    ret = json_object_get_member(msg, "return");
    if (!ret) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_QMP,
                    "%s: %s reply has neither 'return' nor 'error'", command, peer);
        return NULL;
    }
    return json_node_ref(ret);
}

JsonNode *
spm_qmp_reply_parse(const char *command, const char *text, gsize max_bytes, GError **error)
{
    return spm_qmp_reply_parse_from("QMP", command, text, strlen(text), max_bytes,
                                    SPM_JSON_MAX_DEPTH, error);
}
