/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-control-client.c: one request, one reply line, within a deadline.
 *
 * Non-blocking GSocket waits with g_socket_condition_timed_wait so that a
 * daemon that is down, hung or slow never holds the caller (the libvirt
 * hook runs on libvirt's start path) longer than @timeout_ms in total.
 */
#include <string.h>
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>
#include <json-glib/json-glib.h>

#include "spm-control.h"
#include "spm-env.h"
#include "spm-error.h"
#include "spm-json-guard.h"

/* A status of many domains is large; anything beyond this is not ours. */
#define SPM_CONTROL_MAX_REPLY (16 * 1024 * 1024)

const char *
spm_control_socket_path(void)
{
    const char *env = spm_env(SPM_ENV_CONTROL_SOCKET);

    return env && *env ? env : SPM_CONTROL_SOCKET;
}

static gint64
spm_left_us(gint64 deadline)
{
    return MAX(deadline - g_get_monotonic_time(), 0);
}

static gboolean
spm_wait(GSocket *sock, GIOCondition cond, gint64 deadline, GError **error)
{
    g_autoptr(GError) local = NULL;

    if (g_socket_condition_timed_wait(sock, cond, spm_left_us(deadline), NULL, &local))
        return TRUE;
    if (g_error_matches(local, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
        g_set_error(error, SPM_ERROR, SPM_ERROR_TIMEOUT,
                    "control socket '%s': no answer in time", spm_control_socket_path());
    else
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "control socket '%s': %s",
                    spm_control_socket_path(), local->message);
    return FALSE;
}

char *
spm_control_request(const char *request_json, guint timeout_ms, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64) timeout_ms * 1000;
    const char *path = spm_control_socket_path();
    g_autoptr(GSocket) sock = NULL;
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
    g_autoptr(GError) local = NULL;
    g_autofree char *line = g_strconcat(request_json, "\n", NULL);
    g_autoptr(GString) reply = g_string_new(NULL);
    gsize off = 0;
    gsize len = strlen(line);

    if (!(sock = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, 0, &local))) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "control socket: %s", local->message);
        return NULL;
    }
    g_socket_set_blocking(sock, FALSE);
    /*
     * A full listen backlog (a burst of clients) is EAGAIN at once for a
     * UNIX socket, with nothing to poll for: try again until the deadline.
     */
    while (!g_socket_connect(sock, addr, NULL, &local) &&
           g_error_matches(local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK) &&
           spm_left_us(deadline) > 0) {
        g_clear_error(&local);
        g_usleep(MIN(spm_left_us(deadline), 2000));
    }
    if (local) {
        if (!g_error_matches(local, G_IO_ERROR, G_IO_ERROR_PENDING)) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                        "cannot connect to virt-spmd at '%s': %s", path, local->message);
            return NULL;
        }
        g_clear_error(&local);
        if (!spm_wait(sock, G_IO_OUT, deadline, error))
            return NULL;
        if (!g_socket_check_connect_result(sock, &local)) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                        "cannot connect to virt-spmd at '%s': %s", path, local->message);
            return NULL;
        }
    }

    while (off < len) {
        gssize n = g_socket_send(sock, line + off, len - off, NULL, &local);

        if (n < 0 && g_error_matches(local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
            g_clear_error(&local);
            if (!spm_wait(sock, G_IO_OUT, deadline, error))
                return NULL;
            continue;
        }
        if (n < 0) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "control socket '%s': %s",
                        path, local->message);
            return NULL;
        }
        off += n;
    }

    for (;;) {
        char buf[4096];
        gssize n = g_socket_receive(sock, buf, sizeof(buf), NULL, &local);
        const char *nl;

        if (n < 0 && g_error_matches(local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
            g_clear_error(&local);
            if (!spm_wait(sock, G_IO_IN, deadline, error))
                return NULL;
            continue;
        }
        if (n < 0) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "control socket '%s': %s",
                        path, local->message);
            return NULL;
        }
        if (n == 0) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                        "virt-spmd closed the control socket without a reply");
            return NULL;
        }
        g_string_append_len(reply, buf, n);
        if ((nl = memchr(reply->str, '\n', reply->len))) {
            g_string_truncate(reply, nl - reply->str);
            return g_string_free(g_steal_pointer(&reply), FALSE);
        }
        if (reply->len > SPM_CONTROL_MAX_REPLY) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "virt-spmd reply is too long");
            return NULL;
        }
    }
}

/* The reply object of an "ok" answer; else NULL and the daemon's error. */
static JsonNode *
spm_control_reply_object(const char *reply, GError **error)
{
    g_autoptr(JsonNode) root = spm_json_guard_parse(reply, strlen(reply), SPM_JSON_MAX_DEPTH, error);
    JsonObject *o;

    if (!root)
        return NULL;
    if (!JSON_NODE_HOLDS_OBJECT(root)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "virt-spmd sent a malformed reply");
        return NULL;
    }
    o = json_node_get_object(root);
    if (!json_object_get_boolean_member_with_default(o, "ok", FALSE)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "virt-spmd: %s",
                    json_object_get_string_member_with_default(o, "error", "request refused"));
        return NULL;
    }
    return g_steal_pointer(&root);
}

static JsonNode *
spm_control_send(JsonBuilder *b, guint timeout_ms, GError **error)
{
    g_autoptr(JsonNode) req = json_builder_get_root(b);
    g_autofree char *text = json_to_string(req, FALSE);
    g_autofree char *reply = spm_control_request(text, timeout_ms, error);

    return reply ? spm_control_reply_object(reply, error) : NULL;
}

/* {"command": @command, "domain": @domain, ...: the object is left open for more members */
static JsonBuilder *
spm_control_begin(const char *command, const char *domain)
{
    JsonBuilder *b = json_builder_new();

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "command");
    json_builder_add_string_value(b, command);
    if (domain) {
        json_builder_set_member_name(b, "domain");
        json_builder_add_string_value(b, domain);
    }
    return b;
}

JsonNode *
spm_control_call(const char *command, const char *domain, guint timeout_ms, GError **error)
{
    g_autoptr(JsonBuilder) b = spm_control_begin(command, domain);

    json_builder_end_object(b);
    return spm_control_send(b, timeout_ms, error);
}

gboolean
spm_control_notify(const char *event, const char *domain, const char *uuid,
                   gint64 run_id, guint timeout_ms, GError **error)
{
    g_autoptr(JsonBuilder) b = spm_control_begin("event", domain ? domain : "");
    g_autoptr(JsonNode) reply = NULL;

    json_builder_set_member_name(b, "event");
    json_builder_add_string_value(b, event);
    json_builder_set_member_name(b, "uuid");
    json_builder_add_string_value(b, uuid ? uuid : "");
    if (run_id >= 0) {
        json_builder_set_member_name(b, "id");
        json_builder_add_int_value(b, run_id);
    }
    json_builder_end_object(b);
    reply = spm_control_send(b, timeout_ms, error);
    return reply != NULL;
}
