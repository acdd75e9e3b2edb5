/*
 * spm-daemon-control.c: the control socket of virt-spmd (spm-control.h).
 *
 * The socket comes from systemd (socket activation, sd_listen_fds) or is
 * created here with mode 0600.  Either way every client's uid is checked
 * with SO_PEERCRED: root, or the one uid given with --allow-uid (tests).
 * Requests are one JSON line each, at most SPM_CONTROL_MAX_REQUEST bytes;
 * a connection handles its requests one after the other.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <sys/stat.h>
#include <glib/gstdio.h>
#include <gio/gunixsocketaddress.h>
#include <systemd/sd-daemon.h>

#include "spm-daemon.h"
#include "spm-daemon-control.h"
#include "spm-daemon-ledger.h"
#include "spm-daemon-libvirt.h"
#include "spm-daemon-scheduler.h"
#include "spm-error.h"
#include "spm-safe-dir.h"
#include "spm-json-guard.h"

#define SPM_CONTROL_MAX_REQUEST (64 * 1024)

typedef struct {
    SpmDaemon *d;
    GSocketConnection *conn;
    GByteArray *buf;
    guint8 chunk[4096];
    char *reply;
} SpmControlClient;

static void spm_control_read(SpmControlClient *c);
static void spm_control_process(SpmControlClient *c);

static void
spm_control_client_free(SpmControlClient *c)
{
    g_io_stream_close(G_IO_STREAM(c->conn), NULL, NULL);
    g_object_unref(c->conn);
    g_byte_array_unref(c->buf);
    g_free(c->reply);
    g_free(c);
}

static void
spm_control_written(GObject *source, GAsyncResult *res, gpointer data)
{
    SpmControlClient *c = data;

    if (!g_output_stream_write_all_finish(G_OUTPUT_STREAM(source), res, NULL, NULL)) {
        spm_control_client_free(c);
        return;
    }
    g_clear_pointer(&c->reply, g_free);
    spm_control_process(c);     /* the next request, if one is buffered */
}

/* Takes @node. */
static void
spm_control_reply(SpmControlClient *c, JsonNode *node)
{
    g_autofree char *text = json_to_string(node, FALSE);

    json_node_unref(node);
    c->reply = g_strconcat(text, "\n", NULL);
    g_output_stream_write_all_async(g_io_stream_get_output_stream(G_IO_STREAM(c->conn)),
                                    c->reply, strlen(c->reply), G_PRIORITY_DEFAULT, NULL,
                                    spm_control_written, c);
}

/* json_node_init_object() would take a reference of its own: the node
 * takes ours instead, so that freeing the reply frees all of it. */
static JsonNode *
spm_control_ok(void)
{
    JsonNode *node = json_node_new(JSON_NODE_OBJECT);
    JsonObject *o = json_object_new();

    json_object_set_boolean_member(o, "ok", TRUE);
    json_node_take_object(node, o);
    return node;
}

static JsonNode *
spm_control_error(const char *message)
{
    JsonNode *node = spm_control_ok();
    JsonObject *o = json_node_get_object(node);

    json_object_set_boolean_member(o, "ok", FALSE);
    json_object_set_string_member(o, "error", message);
    return node;
}

static void
spm_control_audit_done(SpmDaemon *d, const SpmVerdict *v, const GError *error, gpointer data)
{
    SpmControlClient *c = data;
    JsonNode *node;

    if (!v) {
        spm_control_reply(c, spm_control_error(error->message));
        return;
    }
    node = spm_control_ok();
    json_object_set_member(json_node_get_object(node), "verdict", spm_verdict_to_json(v));
    spm_control_reply(c, node);
}

static void
spm_control_ignore(SpmDaemon *d, const SpmVerdict *v, const GError *error, gpointer data)
{
}

static gint
spm_record_cmp(gconstpointer a, gconstpointer b)
{
    const SpmDomainRecord *ra = *(SpmDomainRecord *const *) a;
    const SpmDomainRecord *rb = *(SpmDomainRecord *const *) b;
    int c = g_strcmp0(ra->name, rb->name);

    return c ? c : strcmp(ra->uuid, rb->uuid);
}

static JsonNode *
spm_control_status(SpmDaemon *d)
{
    JsonNode *node = spm_control_ok();
    JsonObject *o = json_node_get_object(node);
    JsonArray *arr = json_array_new();
    g_autoptr(GPtrArray) recs = g_ptr_array_new();
    GHashTableIter iter;
    gpointer value;

    if (d->domains) {
        g_hash_table_iter_init(&iter, d->domains);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
            SpmDomainRecord *r = value;

            if (r->last)    /* only SPM domains have a verdict */
                g_ptr_array_add(recs, r);
        }
    }
    g_ptr_array_sort(recs, spm_record_cmp);
    for (guint i = 0; i < recs->len; i++)
        json_array_add_element(arr, spm_daemon_record_to_json(recs->pdata[i]));
    json_object_set_string_member(o, "uri", d->uri);
    json_object_set_boolean_member(o, "connected", spm_daemon_connected(d));
    json_object_set_int_member(o, "connections", d->connections);
    json_object_set_int_member(o, "audits", d->audits_done);
    json_object_set_int_member(o, "start_events", d->start_events);
    json_object_set_int_member(o, "start_duplicates", d->start_duplicates);
    json_object_set_int_member(o, "domain_checks", d->domain_checks);
    json_object_set_array_member(o, "domains", arr);
    json_object_set_member(o, "ledger", spm_daemon_ledger_status(d));
    return node;
}

static const char *
spm_member_str(JsonObject *o, const char *key)
{
    JsonNode *n = json_object_get_member(o, key);

    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
        return NULL;
    return json_node_get_string(n);
}

/* The libvirt domain id of the run an event is about; -1 = not given. */
static gint64
spm_member_run_id(JsonObject *o)
{
    JsonNode *n = json_object_get_member(o, "id");

    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64 ||
        json_node_get_int(n) < 0)
        return -1;
    return json_node_get_int(n);
}

/* Handle one request line; the reply may come later (audit). */
static void
spm_control_handle(SpmControlClient *c, const char *line, gsize len)
{
    SpmDaemon *d = c->d;
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) root = spm_json_guard_parse(line, len, 8, &error);
    JsonObject *o;
    const char *command;

    if (!root || !JSON_NODE_HOLDS_OBJECT(root)) {
        spm_control_reply(c, spm_control_error("request is not a JSON object"));
        return;
    }
    o = json_node_get_object(root);
    command = spm_member_str(o, "command");

    if (g_strcmp0(command, "status") == 0) {
        spm_control_reply(c, spm_control_status(d));
    } else if (g_strcmp0(command, "audit") == 0) {
        const char *domain = spm_member_str(o, "domain");

        if (!domain || !*domain) {
            spm_control_reply(c, spm_control_error("audit: 'domain' is missing"));
            return;
        }
        spm_daemon_audit_lookup(d, domain, TRUE, spm_control_audit_done, c);
    } else if (g_strcmp0(command, "event") == 0) {
        const char *event = spm_member_str(o, "event");
        const char *domain = spm_member_str(o, "domain");
        const char *uuid = spm_member_str(o, "uuid");
        gint64 run_id = spm_member_run_id(o);
        gboolean has_uuid = uuid && spm_daemon_record(d, uuid, domain) != NULL;

        if (g_strcmp0(event, "started") == 0) {
            if (has_uuid) {
                spm_scheduler_domain_started(d, uuid, domain, run_id, g_get_monotonic_time());
            } else if (domain && *domain) {
                d->start_events++;
                spm_daemon_audit_lookup(d, domain, FALSE, spm_control_ignore, NULL);
            } else {
                spm_control_reply(c, spm_control_error("event: 'uuid' or 'domain' is missing"));
                return;
            }
        } else if (g_strcmp0(event, "stopped") == 0) {
            if (has_uuid) {
                spm_scheduler_domain_stopped(d, uuid, domain);
                spm_daemon_domain_check(d, uuid);
            }
        } else {
            g_autofree char *msg = g_strdup_printf("event: unknown event '%s'", event ? event : "");

            spm_control_reply(c, spm_control_error(msg));
            return;
        }
        spm_control_reply(c, spm_control_ok());
    } else {
        g_autofree char *msg = g_strdup_printf("unknown command '%s'", command ? command : "");

        spm_control_reply(c, spm_control_error(msg));
    }
}

/* One buffered line, if any; else read more. */
static void
spm_control_process(SpmControlClient *c)
{
    guint8 *nl = memchr(c->buf->data, '\n', c->buf->len);
    g_autofree char *line = NULL;
    gsize len;

    if (!nl) {
        if (c->buf->len > SPM_CONTROL_MAX_REQUEST) {
            spm_control_client_free(c);
            return;
        }
        spm_control_read(c);
        return;
    }
    len = nl - c->buf->data;
    line = g_strndup((const char *) c->buf->data, len);
    g_byte_array_remove_range(c->buf, 0, len + 1);
    spm_control_handle(c, line, strlen(line));
}

static void
spm_control_read_done(GObject *source, GAsyncResult *res, gpointer data)
{
    SpmControlClient *c = data;
    gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), res, NULL);

    if (n <= 0) {
        spm_control_client_free(c);
        return;
    }
    g_byte_array_append(c->buf, c->chunk, n);
    spm_control_process(c);
}

static void
spm_control_read(SpmControlClient *c)
{
    g_input_stream_read_async(g_io_stream_get_input_stream(G_IO_STREAM(c->conn)),
                              c->chunk, sizeof(c->chunk), G_PRIORITY_DEFAULT, NULL,
                              spm_control_read_done, c);
}

static gboolean
spm_control_incoming(GSocketService *service, GSocketConnection *conn,
                     GObject *source, gpointer data)
{
    SpmDaemon *d = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GCredentials) cred = g_socket_get_credentials(g_socket_connection_get_socket(conn), &error);
    uid_t uid = cred ? g_credentials_get_unix_user(cred, NULL) : (uid_t) -1;
    SpmControlClient *c;

    if (!cred || uid == (uid_t) -1 || (uid != 0 && (gint64) uid != d->allow_uid)) {
        const char *deny = "{\"ok\":false,\"error\":\"permission denied: root only\"}\n";

        spm_daemon_log(LOG_WARNING, "control socket: refused a client with uid %ld", (long) uid);
        g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(conn)),
                                  deny, strlen(deny), NULL, NULL, NULL);
        return TRUE;
    }
    c = g_new0(SpmControlClient, 1);
    c->d = d;
    c->conn = g_object_ref(conn);
    c->buf = g_byte_array_new();
    spm_control_read(c);
    return TRUE;
}

gboolean
spm_daemon_control_start(SpmDaemon *d, GError **error)
{
    g_autoptr(GError) local = NULL;
    int n = sd_listen_fds(TRUE);

    d->service = g_socket_service_new();
    /* GLib's default of 10 refuses connections (EAGAIN) when a burst of
     * clients (hooks of many starting guests, monitoring) arrives at once */
    g_socket_listener_set_backlog(G_SOCKET_LISTENER(d->service), SOMAXCONN);
    if (n > 0) {
        for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++) {
            g_autoptr(GSocket) sock = g_socket_new_from_fd(fd, &local);

            if (!sock || !g_socket_listener_add_socket(G_SOCKET_LISTENER(d->service), sock,
                                                       NULL, &local)) {
                g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                            "socket-activated fd %d: %s", fd, local->message);
                return FALSE;
            }
        }
        spm_daemon_log(LOG_INFO, "control socket from systemd (%d fds)", n);
    } else {
        g_autofree char *dir = g_path_get_dirname(d->socket_path);
        g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(d->socket_path);
        mode_t old;
        gboolean ok;

        /*
         * Root unlinks and binds here by name: only in a directory no one
         * else can change (an existing one of ours is given 0755; another
         * user's is refused).
         */
        if (!spm_safe_dir_ensure(dir, SPM_SAFE_DIR_CREATE | SPM_SAFE_DIR_TRUSTED |
                                 SPM_SAFE_DIR_FIX_MODE, 0755, &local)) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "control socket directory: %s",
                        local->message);
            return FALSE;
        }
        g_unlink(d->socket_path);   /* a stale socket of an earlier run */
        old = umask(0177);          /* created 0600: no window for others */
        ok = g_socket_listener_add_address(G_SOCKET_LISTENER(d->service), addr,
                                           G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT,
                                           NULL, NULL, &local);
        umask(old);
        if (!ok) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "control socket '%s': %s",
                        d->socket_path, local->message);
            return FALSE;
        }
    }
    g_signal_connect(d->service, "incoming", G_CALLBACK(spm_control_incoming), d);
    g_socket_service_start(d->service);
    return TRUE;
}
