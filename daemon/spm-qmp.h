/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-qmp.h: a QMP client (QEMU Machine Protocol) on GIO and json-glib.
 *
 * Speaks real QMP over a UNIX stream socket: reads the greeting, negotiates
 * capabilities, sends every command with an "id" and matches the reply by
 * it, hands events to a callback, turns {"error":{"class","desc"}} into
 * SPM_ERROR_QMP "COMMAND: CLASS: DESC", and bounds everything: a timeout
 * per command, a limit on the length of one message, on nesting and on
 * integer range (spm-json-guard.h).  A peer that breaks the protocol gets
 * the connection closed and every pending command failed.
 *
 * The API is asynchronous on the thread-default GMainContext of the
 * thread that opened the connection; the _sync wrappers iterate that
 * context and are for the command-line tool and tests.
 *
 * For domains that libvirt runs, use spm-qmp-libvirt.h instead: libvirt
 * owns the monitor socket.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define SPM_QMP_DEFAULT_MAX_MESSAGE (4 * 1024 * 1024)

typedef struct _SpmQmp SpmQmp;

/* @data may be NULL; borrowed for the call. */
typedef void (*SpmQmpEventFunc)(SpmQmp *qmp, const char *event,
                                JsonObject *data, gpointer user_data);

/* Connect to @path, read the greeting, send qmp_capabilities, all within
 * @timeout_ms.  The connection is then ready for commands. */
void spm_qmp_open_async(const char *path, guint timeout_ms, GCancellable *cancellable,
                        GAsyncReadyCallback callback, gpointer user_data);
SpmQmp *spm_qmp_open_finish(GAsyncResult *result, GError **error);

/* As above; retries a socket that does not exist yet or refuses (QEMU
 * still starting) until the deadline. */
SpmQmp *spm_qmp_open_sync(const char *path, guint timeout_ms, GError **error);

/* The greeting's "QMP" object (version, capabilities). */
JsonObject *spm_qmp_get_greeting(SpmQmp *qmp);

void spm_qmp_set_event_handler(SpmQmp *qmp, SpmQmpEventFunc func,
                               gpointer user_data, GDestroyNotify destroy);
/* Longest accepted message in bytes; beyond it the connection is closed. */
void spm_qmp_set_max_message(SpmQmp *qmp, gsize bytes);

/* Run @command with @arguments (nullable, borrowed); the result is the
 * "return" member. */
void spm_qmp_execute_async(SpmQmp *qmp, const char *command, JsonObject *arguments,
                           guint timeout_ms, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data);
JsonNode *spm_qmp_execute_finish(SpmQmp *qmp, GAsyncResult *result, GError **error);
JsonNode *spm_qmp_execute_sync(SpmQmp *qmp, const char *command, JsonObject *arguments,
                               guint timeout_ms, GError **error);

/* Wait until @event arrives (or @timeout_ms passes); its data, or an
 * empty object.  For tests and the command-line tool. */
JsonObject *spm_qmp_wait_event_sync(SpmQmp *qmp, const char *event,
                                    guint timeout_ms, GError **error);

/* Close the socket; pending commands fail.  Idempotent. */
void spm_qmp_close(SpmQmp *qmp);

SpmQmp *spm_qmp_ref(SpmQmp *qmp);
void spm_qmp_unref(SpmQmp *qmp);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpmQmp, spm_qmp_unref)

/*
 * One QMP reply text ({"return": ...} or {"error": {...}}), as libvirt's
 * passthrough hands it back: the "return" member, or SPM_ERROR_QMP.
 */
JsonNode *spm_qmp_reply_parse(const char *command, const char *text,
                              gsize max_bytes, GError **error);
/*
 * The same for any peer that speaks QMP's reply shape (qemu-guest-agent,
 * through libvirt): @peer names it in the errors ("QMP", "agent"), @len
 * bytes of @text are read, at most @max_depth levels of nesting.
 */
JsonNode *spm_qmp_reply_parse_from(const char *peer, const char *command, const char *text,
                                   gsize len, gsize max_bytes, guint max_depth, GError **error);

G_END_DECLS
