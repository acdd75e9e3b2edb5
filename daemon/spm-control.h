/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-control.h: the local control socket of virt-spmd.
 *
 * A UNIX stream socket, root only (mode 0600, and the daemon checks the
 * peer's uid with SO_PEERCRED).  One request per line, one JSON object per
 * request; one JSON reply line per request.  Requests:
 *
 *   {"command": "event", "event": "started"|"stopped", "domain": NAME, "uuid": UUID,
 *    "id": ID}
 *       from the libvirt hook; reply {"ok": true}.  The hook never waits for
 *       the audit itself.  "id" (optional) is libvirt's domain id of the run:
 *       a run is audited once, whether the hook or libvirt's event says so.
 *       "incoming": the hook reserved HBM for an incoming migration; the
 *       daemon reconciles the ledger (docs/ledger.md, "Migration path").
 *   {"command": "audit", "domain": NAME}
 *       audit now; reply {"ok": true, "verdict": {...}} (see docs/virt-spmd.md)
 *   {"command": "status"}
 *       reply {"ok": true, "domains": [{...verdict...}, ...]}
 *
 * Errors: {"ok": false, "error": "one line"}.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define SPM_CONTROL_SOCKET VIRT_SPM_RUNDIR_DEFAULT "/control.sock"
#define VIRT_SPM_RUNDIR_DEFAULT "/run/virt-spm"

/* The socket path: $VIRT_SPM_CONTROL_SOCKET when set (tests), else the default. */
const char *spm_control_socket_path(void);

/*
 * Hand a lifecycle event to the daemon, from the libvirt hook: connect,
 * write one line, read the reply, all within @timeout_ms in total.  Never
 * blocks longer; a daemon that is down or hung is an error the caller may
 * ignore (the daemon re-audits all running domains when it starts).
 */
gboolean spm_control_notify(const char *event,
                            const char *domain,
                            const char *uuid,
                            gint64 run_id,      /* -1 = unknown */
                            guint timeout_ms,
                            GError **error);

/*
 * Send one request object (JSON text, no newline) and return the reply
 * line, within @timeout_ms.  Used by virt-spm audit/status.
 */
char *spm_control_request(const char *request_json,
                          guint timeout_ms,
                          GError **error);

/*
 * Send {"command": @command} with @domain as its "domain" member (NULL:
 * none), and return the reply object when the daemon says "ok": true;
 * otherwise NULL and "virt-spmd: <its error>", or a malformed reply.
 */
JsonNode *spm_control_call(const char *command,
                           const char *domain,
                           guint timeout_ms,
                           GError **error);

G_END_DECLS
