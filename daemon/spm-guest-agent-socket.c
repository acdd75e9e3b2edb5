/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-guest-agent-socket.c: qemu-guest-agent over its chardev socket (see
 * spm-guest-agent-socket.h)
 */
#include <string.h>
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>

#include "spm-error.h"
#include "spm-guest-agent-socket.h"
#include "spm-guest-facts.h"
#include "spm-json-guard.h"

struct _SpmGuestAgentSocket {
    char *path;
    GSocket *sock;
    GByteArray *buf;        /* received, not yet a whole line */
    char *broken;           /* why no command is sent any more; NULL = usable */
};

static gint64
spm_left_us(gint64 deadline)
{
    return MAX(deadline - g_get_monotonic_time(), 0);
}

static gboolean
spm_agent_fail(SpmGuestAgentSocket *s, GError **error, int code, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

/* Fail, and mark the connection unusable: a late reply would be misread. */
static gboolean
spm_agent_fail(SpmGuestAgentSocket *s, GError **error, int code, const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (!s->broken)
        s->broken = g_strdup_printf("agent socket '%s': %s", s->path, msg);
    g_set_error(error, SPM_ERROR, code, "agent socket '%s': %s", s->path, msg);
    return FALSE;
}

static gboolean
spm_agent_wait(SpmGuestAgentSocket *s, GIOCondition cond, gint64 deadline, GError **error)
{
    g_autoptr(GError) local = NULL;

    if (g_socket_condition_timed_wait(s->sock, cond, spm_left_us(deadline), NULL, &local))
        return TRUE;
    if (g_error_matches(local, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
        return spm_agent_fail(s, error, SPM_ERROR_TIMEOUT, "no answer in time");
    return spm_agent_fail(s, error, SPM_ERROR_SYSTEM, "%s", local->message);
}

static gboolean
spm_agent_write(SpmGuestAgentSocket *s, const char *data, gsize len, gint64 deadline,
                GError **error)
{
    gsize off = 0;

    while (off < len) {
        g_autoptr(GError) local = NULL;
        gssize n = g_socket_send(s->sock, data + off, len - off, NULL, &local);

        if (n < 0 && g_error_matches(local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
            if (!spm_agent_wait(s, G_IO_OUT, deadline, error))
                return FALSE;
            continue;
        }
        if (n < 0)
            return spm_agent_fail(s, error, SPM_ERROR_SYSTEM, "%s", local->message);
        off += n;
    }
    return TRUE;
}

/* More bytes into s->buf (more than @max in all is an error), waiting
 * until @deadline. */
static gboolean
spm_agent_fill(SpmGuestAgentSocket *s, gsize max, gint64 deadline, GError **error)
{
    guint8 chunk[16384];

    for (;;) {
        g_autoptr(GError) local = NULL;
        gssize n;

        if (s->buf->len > max)
            return spm_agent_fail(s, error, SPM_ERROR_QMP,
                                  "reply longer than %" G_GSIZE_FORMAT " bytes", max);
        n = g_socket_receive(s->sock, (char *) chunk, MIN(sizeof(chunk), max + 1 - s->buf->len),
                             NULL, &local);
        if (n < 0 && g_error_matches(local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
            if (!spm_agent_wait(s, G_IO_IN, deadline, error))
                return FALSE;
            continue;
        }
        if (n < 0)
            return spm_agent_fail(s, error, SPM_ERROR_SYSTEM, "%s", local->message);
        if (n == 0)
            return spm_agent_fail(s, error, SPM_ERROR_SYSTEM, "the agent closed the connection");
        g_byte_array_append(s->buf, chunk, n);
        return TRUE;
    }
}

/* The next line (without newline and the 0xff and blanks that may lead it). */
/* An empty GByteArray's data is NULL, which memchr() must not be given. */
static guint8 *
spm_agent_find(SpmGuestAgentSocket *s, guint8 byte)
{
    return s->buf->len ? memchr(s->buf->data, byte, s->buf->len) : NULL;
}

static char *
spm_agent_read_line(SpmGuestAgentSocket *s, gsize max, gint64 deadline, GError **error)
{
    guint8 *nl;
    gsize start = 0, len;
    char *line;

    while (!(nl = spm_agent_find(s, '\n'))) {
        if (!spm_agent_fill(s, max, deadline, error))
            return NULL;
    }
    len = nl - s->buf->data;
    while (start < len && (s->buf->data[start] == 0xff || g_ascii_isspace(s->buf->data[start])))
        start++;
    line = g_strndup((const char *) s->buf->data + start, len - start);
    g_byte_array_remove_range(s->buf, 0, len + 1);
    return line;
}

/* guest-sync-delimited: the agent's 0xff starts its answer; everything
 * before it is an earlier client's leftover. */
static gboolean
spm_agent_sync(SpmGuestAgentSocket *s, gint64 deadline, GError **error)
{
    gint64 token = g_random_int_range(1, G_MAXINT32);
    g_autofree char *req = g_strdup_printf("\xff{\"execute\":\"guest-sync-delimited\","
                                           "\"arguments\":{\"id\":%" G_GINT64_FORMAT "}}\n", token);
    guint8 *ff;

    if (!spm_agent_write(s, req, strlen(req), deadline, error))
        return FALSE;
    while (!(ff = spm_agent_find(s, 0xff))) {
        g_byte_array_set_size(s->buf, 0);
        if (!spm_agent_fill(s, SPM_GUEST_MAX_REPLY, deadline, error))
            return FALSE;
    }
    g_byte_array_remove_range(s->buf, 0, ff - s->buf->data + 1);
    for (guint lines = 0; lines < 16; lines++) {
        g_autofree char *line = spm_agent_read_line(s, SPM_GUEST_MAX_REPLY, deadline, error);
        g_autoptr(JsonNode) root = NULL;
        JsonNode *ret;

        if (!line)
            return FALSE;
        root = spm_json_guard_parse(line, strlen(line), 4, NULL);
        ret = root && JSON_NODE_HOLDS_OBJECT(root)
            ? json_object_get_member(json_node_get_object(root), "return") : NULL;
        if (ret && JSON_NODE_HOLDS_VALUE(ret) && json_node_get_value_type(ret) == G_TYPE_INT64 &&
            json_node_get_int(ret) == token)
            return TRUE;
    }
    return spm_agent_fail(s, error, SPM_ERROR_QMP, "guest-sync-delimited: no matching answer");
}

SpmGuestAgentSocket *
spm_guest_agent_socket_open(const char *path, guint timeout_ms, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + (gint64) timeout_ms * 1000;
    g_autoptr(SpmGuestAgentSocket) s = g_new0(SpmGuestAgentSocket, 1);
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
    g_autoptr(GError) local = NULL;

    s->path = g_strdup(path);
    s->buf = g_byte_array_new();
    if (!(s->sock = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, 0, &local))) {
        spm_agent_fail(s, error, SPM_ERROR_SYSTEM, "%s", local->message);
        return NULL;
    }
    g_socket_set_blocking(s->sock, FALSE);
    if (!g_socket_connect(s->sock, addr, NULL, &local)) {
        if (!g_error_matches(local, G_IO_ERROR, G_IO_ERROR_PENDING)) {
            spm_agent_fail(s, error, SPM_ERROR_SYSTEM, "cannot connect: %s", local->message);
            return NULL;
        }
        g_clear_error(&local);
        if (!spm_agent_wait(s, G_IO_OUT, deadline, error))
            return NULL;
        if (!g_socket_check_connect_result(s->sock, &local)) {
            spm_agent_fail(s, error, SPM_ERROR_SYSTEM, "cannot connect: %s", local->message);
            return NULL;
        }
    }
    if (!spm_agent_sync(s, deadline, error))
        return NULL;
    return g_steal_pointer(&s);
}

void
spm_guest_agent_socket_free(SpmGuestAgentSocket *s)
{
    if (!s)
        return;
    if (s->sock) {
        g_socket_close(s->sock, NULL);
        g_object_unref(s->sock);
    }
    g_byte_array_unref(s->buf);
    g_free(s->broken);
    g_free(s->path);
    g_free(s);
}

char *
spm_guest_agent_socket_send(const char *command, gsize max_reply, guint timeout_ms,
                            gpointer user_data, GError **error)
{
    SpmGuestAgentSocket *s = user_data;
    gint64 deadline = g_get_monotonic_time() + (gint64) timeout_ms * 1000;
    g_autofree char *line = g_strconcat(command, "\n", NULL);

    if (s->broken) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "%s", s->broken);
        return NULL;
    }
    if (!spm_agent_write(s, line, strlen(line), deadline, error))
        return NULL;
    return spm_agent_read_line(s, max_reply, deadline, error);
}
