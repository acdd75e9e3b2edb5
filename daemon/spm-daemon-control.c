/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-daemon-control.c: the control socket of virt-spmd (spm-control.h).
 *
 * The socket comes from systemd (socket activation, sd_listen_fds) or is
 * created here with mode 0600.  Either way every client's uid is checked
 * with SO_PEERCRED: root, or the one uid given with --allow-uid (tests).
 * Requests are one JSON line each, at most SPM_CONTROL_MAX_REQUEST bytes;
 * a connection handles its requests one after the other.
 *
 * The accept loop is this file's own, not GSocketService's: GLib's service
 * logs and retries at once when accept(2) fails, so at the descriptor
 * limit it spins and floods the log.  Here a failed accept pauses the loop
 * (one log line per episode) until a client leaves or a back-off timer
 * fires; at [daemon] max_clients connections the loop pauses too (new
 * clients wait in the listen backlog), and a client that sends no complete
 * request, or does not read its reply, within [daemon] client_idle_ms is
 * dropped, so idle connections cannot hold the slots.
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
#include "spm-daemon-guest.h"
#include "spm-daemon-ledger.h"
#include "spm-daemon-libvirt.h"
#include "spm-daemon-scheduler.h"
#include "spm-error.h"
#include "spm-safe-dir.h"
#include "spm-json-guard.h"

#define SPM_CONTROL_MAX_REQUEST (64 * 1024)
#define SPM_CONTROL_DEFAULT_MAX_CLIENTS 64
#define SPM_CONTROL_DEFAULT_IDLE_MS 30000
/* after a failed accept: first pause, doubled up to the maximum */
#define SPM_CONTROL_BACKOFF_MIN_MS 50
#define SPM_CONTROL_BACKOFF_MAX_MS 2000

/* The accept loop; kept on d->service (g_object_set_data) so that
 * spm-daemon.h does not change. */
typedef struct {
    SpmDaemon *d;
    GSocketListener *listener;  /* d->service, never started as a service */
    GCancellable *accepting;    /* the accept in flight, if any */
    guint backoff_source;       /* paused after a failed accept */
    guint backoff_ms;
    guint64 failures;           /* failed accepts of the current episode */
    guint clients;
    guint max_clients;
    guint idle_ms;
} SpmControl;

typedef struct {
    SpmDaemon *d;
    SpmControl *ctl;
    GSocketConnection *conn;
    GCancellable *cancel;       /* cancelled when the client is dropped as idle */
    guint idle_source;
    GByteArray *buf;
    guint8 chunk[4096];
    char *reply;
} SpmControlClient;

static void spm_control_accept_next(SpmControl *ctl);

static void spm_control_read(SpmControlClient *c);
static void spm_control_process(SpmControlClient *c);

/* Called only when no read or write of @c is in flight. */
static void
spm_control_client_free(SpmControlClient *c)
{
    SpmControl *ctl = c->ctl;

    g_clear_handle_id(&c->idle_source, g_source_remove);
    g_io_stream_close(G_IO_STREAM(c->conn), NULL, NULL);
    g_object_unref(c->conn);
    g_object_unref(c->cancel);
    g_byte_array_unref(c->buf);
    g_free(c->reply);
    g_free(c);

    /* a descriptor and a slot are free: accept at once, not after the
     * back-off */
    ctl->clients--;
    g_clear_handle_id(&ctl->backoff_source, g_source_remove);
    spm_control_accept_next(ctl);
}

static gboolean
spm_control_idle(gpointer data)
{
    SpmControlClient *c = data;

    c->idle_source = 0;
    /* the read or write in flight fails with G_IO_ERROR_CANCELLED and
     * its callback frees the client */
    g_cancellable_cancel(c->cancel);
    return G_SOURCE_REMOVE;
}

/* The client has client_idle_ms from now to send a request or read a reply. */
static void
spm_control_arm(SpmControlClient *c)
{
    g_clear_handle_id(&c->idle_source, g_source_remove);
    c->idle_source = g_timeout_add(c->ctl->idle_ms, spm_control_idle, c);
}

/* The daemon works on a request (an audit may take long): not idle. */
static void
spm_control_disarm(SpmControlClient *c)
{
    g_clear_handle_id(&c->idle_source, g_source_remove);
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
    spm_control_arm(c);
    spm_control_process(c);     /* the next request, if one is buffered */
}

/* Takes @node. */
static void
spm_control_reply(SpmControlClient *c, JsonNode *node)
{
    g_autofree char *text = json_to_string(node, FALSE);

    json_node_unref(node);
    c->reply = g_strconcat(text, "\n", NULL);
    spm_control_arm(c);         /* a client that does not read its reply */
    g_output_stream_write_all_async(g_io_stream_get_output_stream(G_IO_STREAM(c->conn)),
                                    c->reply, strlen(c->reply), G_PRIORITY_DEFAULT, c->cancel,
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
spm_control_guest_done(SpmDaemon *d, JsonNode *report, const GError *error, gpointer data)
{
    SpmControlClient *c = data;
    JsonNode *node;

    if (!report) {
        spm_control_reply(c, spm_control_error(error->message));
        return;
    }
    node = spm_control_ok();
    json_object_set_member(json_node_get_object(node), "guest", json_node_copy(report));
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
    json_object_set_int_member(o, "guest_audits", d->guest_audits);
    json_object_set_int_member(o, "agent_events", d->agent_events);
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

    spm_control_disarm(c);
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
    } else if (g_strcmp0(command, "guest-audit") == 0) {
        const char *domain = spm_member_str(o, "domain");

        if (!domain || !*domain) {
            spm_control_reply(c, spm_control_error("guest-audit: 'domain' is missing"));
            return;
        }
        spm_daemon_guest_audit(d, domain, spm_control_guest_done, c);
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
        } else if (g_strcmp0(event, "incoming") == 0) {
            /*
             * The hook reserved HBM for an incoming migration: a migration
             * that fails before its QEMU runs calls no stop hook here, so
             * reconcile now; the young holding keeps its grace and is
             * looked at again when the grace is over.
             */
            spm_daemon_ledger_reconcile(d);
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
                              c->chunk, sizeof(c->chunk), G_PRIORITY_DEFAULT, c->cancel,
                              spm_control_read_done, c);
}

static void
spm_control_incoming(SpmControl *ctl, GSocketConnection *conn)
{
    SpmDaemon *d = ctl->d;
    g_autoptr(GError) error = NULL;
    g_autoptr(GCredentials) cred = g_socket_get_credentials(g_socket_connection_get_socket(conn), &error);
    uid_t uid = cred ? g_credentials_get_unix_user(cred, NULL) : (uid_t) -1;
    SpmControlClient *c;

    if (!cred || uid == (uid_t) -1 || (uid != 0 && (gint64) uid != d->allow_uid)) {
        const char *deny = "{\"ok\":false,\"error\":\"permission denied: root only\"}\n";

        spm_daemon_log(LOG_WARNING, "control socket: refused a client with uid %ld", (long) uid);
        /* non-blocking: a refused client cannot hold the accept loop */
        g_socket_set_blocking(g_socket_connection_get_socket(conn), FALSE);
        g_socket_send(g_socket_connection_get_socket(conn), deny, strlen(deny), NULL, NULL);
        g_io_stream_close(G_IO_STREAM(conn), NULL, NULL);
        return;
    }
    c = g_new0(SpmControlClient, 1);
    c->d = d;
    c->ctl = ctl;
    c->conn = g_object_ref(conn);
    c->cancel = g_cancellable_new();
    c->buf = g_byte_array_new();
    ctl->clients++;
    spm_control_arm(c);
    spm_control_read(c);
}

static gboolean
spm_control_backoff_done(gpointer data)
{
    SpmControl *ctl = data;

    ctl->backoff_source = 0;
    spm_control_accept_next(ctl);
    return G_SOURCE_REMOVE;
}

static void
spm_control_accepted(GObject *source, GAsyncResult *res, gpointer data)
{
    SpmControl *ctl = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GSocketConnection) conn =
        g_socket_listener_accept_finish(G_SOCKET_LISTENER(source), res, NULL, &error);

    g_clear_object(&ctl->accepting);
    if (!conn) {
        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            return;
        /*
         * EMFILE, ENFILE, ENOBUFS: the connection stays in the backlog and
         * the socket stays readable, so accepting again at once would spin.
         * Pause; a client that leaves frees a descriptor and ends the pause.
         */
        if (ctl->failures++ == 0)
            spm_daemon_log(LOG_WARNING, "control socket: cannot accept a client: %s; "
                           "accepting again when a client leaves or in at most %u ms",
                           error->message, SPM_CONTROL_BACKOFF_MAX_MS);
        ctl->backoff_ms = ctl->backoff_ms ? MIN(ctl->backoff_ms * 2, SPM_CONTROL_BACKOFF_MAX_MS)
                                          : SPM_CONTROL_BACKOFF_MIN_MS;
        ctl->backoff_source = g_timeout_add(ctl->backoff_ms, spm_control_backoff_done, ctl);
        return;
    }
    if (ctl->failures > 0)
        spm_daemon_log(LOG_INFO, "control socket: accepting again (%" G_GUINT64_FORMAT
                       " failed accepts)", ctl->failures);
    ctl->failures = 0;
    ctl->backoff_ms = 0;
    spm_control_incoming(ctl, conn);
    spm_control_accept_next(ctl);
}

/* One accept in flight at a time, none while paused or full. */
static void
spm_control_accept_next(SpmControl *ctl)
{
    if (ctl->accepting || ctl->backoff_source || ctl->clients >= ctl->max_clients)
        return;
    ctl->accepting = g_cancellable_new();
    g_socket_listener_accept_async(ctl->listener, ctl->accepting, spm_control_accepted, ctl);
}

static void
spm_control_free(gpointer data)
{
    SpmControl *ctl = data;

    g_clear_handle_id(&ctl->backoff_source, g_source_remove);
    g_free(ctl);
}

static gboolean
spm_control_get_uint(GKeyFile *kf, const char *key, guint *out, guint min, guint max,
                     GError **error)
{
    g_autoptr(GError) local = NULL;
    gint64 v;

    if (!kf || !g_key_file_has_key(kf, "daemon", key, NULL))
        return TRUE;
    v = g_key_file_get_int64(kf, "daemon", key, &local);
    if (local || v < min || v > max) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "[daemon] %s: expected an integer from %u to %u", key, min, max);
        return FALSE;
    }
    *out = v;
    return TRUE;
}

gboolean
spm_daemon_control_start(SpmDaemon *d, GError **error)
{
    g_autoptr(GError) local = NULL;
    GKeyFile *kf = d->config ? d->config->keyfile : NULL;
    SpmControl *ctl = g_new0(SpmControl, 1);
    int n;

    ctl->d = d;
    ctl->max_clients = SPM_CONTROL_DEFAULT_MAX_CLIENTS;
    ctl->idle_ms = SPM_CONTROL_DEFAULT_IDLE_MS;
    if (!spm_control_get_uint(kf, "max_clients", &ctl->max_clients, 1, 4096, error) ||
        !spm_control_get_uint(kf, "client_idle_ms", &ctl->idle_ms, 100, 3600000, error)) {
        g_free(ctl);
        return FALSE;
    }
    n = sd_listen_fds(TRUE);
    d->service = g_socket_service_new();
    /* a service is created active: stopped before it has a socket, it
     * never accepts on its own (see the top of this file) */
    g_socket_service_stop(d->service);
    ctl->listener = G_SOCKET_LISTENER(d->service);
    g_object_set_data_full(G_OBJECT(d->service), "spm-control", ctl, spm_control_free);
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
    spm_control_accept_next(ctl);
    return TRUE;
}
