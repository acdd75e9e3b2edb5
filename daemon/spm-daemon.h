/*
 * spm-daemon.h: the parts of virt-spmd and what they share.
 *
 * Threads: the main thread runs the GMainLoop and owns every field below
 * except where noted; libvirt's event loop runs in its own thread
 * (spm-daemon-libvirt.c) and hands events to the main thread with
 * g_main_context_invoke; audits run in GTask worker threads and hand
 * their verdict back the same way.
 */
#pragma once

#include <gio/gio.h>
#include <libvirt/libvirt.h>

#include "spm-audit.h"
#include "spm-config.h"

G_BEGIN_DECLS

typedef struct _SpmDaemon SpmDaemon;

/* Called in the main thread when an audit requested with a waiter ends:
 * @verdict (borrowed) or @error. */
typedef void (*SpmAuditWaiter)(SpmDaemon *d, const SpmVerdict *verdict,
                               const GError *error, gpointer user_data);

typedef struct {
    char *uuid;
    char *name;
    SpmVerdict *last;           /* last verdict, NULL = none yet */
    gboolean active;            /* the domain runs (as far as we know) */
    gboolean auditing;          /* an audit is in flight: one at a time */
    gboolean stopped_in_audit;  /* ...and the domain stopped meanwhile */
    gboolean queued;            /* waits in the queue for a free worker */
    gboolean pending;           /* another audit was asked for meanwhile */
    gboolean pending_force;
    gboolean force;             /* the queued/in-flight audit is forced */
    guint attempts;             /* retries of a libvirt error after reconnect */
    gint64 trigger_time;        /* monotonic µs of the event that asked */
    gint64 run_id;              /* libvirt domain id of the run whose audit was asked
                                 * for by a start notification; -1 = none since it stopped */
    gboolean gone;              /* libvirt forgot the domain: forget it once the audit ends */
    gint64 created;             /* monotonic µs: a scan older than the record ignores it */
    guint64 job_seq;            /* the audit in flight; a timed-out one is left behind */
    guint job_timer;            /* its deadline (audit_timeout_ms) */
    GSList *waiters;            /* SpmWaiter * */
} SpmDomainRecord;

struct _SpmDaemon {
    /* configuration */
    SpmConfig *config;
    char *uri;
    char *state_dir;
    char *socket_path;
    gint64 allow_uid;           /* besides root; -1 = none */
    guint max_parallel;
    guint reconnect_min_ms;
    guint reconnect_max_ms;
    guint retry_ms;
    guint max_attempts;
    guint audit_timeout_ms;
    gboolean journal;           /* log to journald (else stderr) */
    char *boot_id;

    GMainLoop *loop;
    GMainContext *ctx;

    /* libvirt (main thread; the connection pointer is thread-safe to use) */
    virConnectPtr conn;
    int event_callback;         /* lifecycle callback id on conn; -1 = none */
    gboolean connecting;
    guint backoff_ms;
    guint reconnect_source;
    guint connections;          /* successful connects so far */

    /* domains by uuid */
    GHashTable *domains;        /* char *uuid -> SpmDomainRecord * */
    GQueue queue;               /* SpmDomainRecord * waiting for a worker */
    guint running;              /* audits in flight */
    guint64 audits_done;
    guint64 start_events;       /* start notifications: libvirt's events and the hook's */
    guint64 start_duplicates;   /* of those, the second one of a run: no audit */
    guint64 domain_checks;      /* answers to "does libvirt still know it?" */

    GSocketService *service;
};

/* spm-daemon-log.c */
void spm_daemon_log_init(gboolean journal);
void spm_daemon_log(int priority, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
void spm_daemon_log_verdict(const SpmVerdict *v, gboolean first_of_run);

/* spm-daemon-state.c */
SpmDomainRecord *spm_daemon_record(SpmDaemon *d, const char *uuid, const char *name);
SpmDomainRecord *spm_daemon_record_by_name(SpmDaemon *d, const char *name);
void spm_daemon_state_load(SpmDaemon *d);
void spm_daemon_state_save(SpmDaemon *d, SpmDomainRecord *r);
/* libvirt no longer knows the domain: drop its record and its state file
 * (at the end of its audit if one is queued or in flight). */
void spm_daemon_forget(SpmDaemon *d, SpmDomainRecord *r);
JsonNode *spm_daemon_record_to_json(const SpmDomainRecord *r);
char *spm_daemon_read_boot_id(void);

/* spm-daemon-libvirt.c */
void spm_daemon_libvirt_start(SpmDaemon *d);
void spm_daemon_libvirt_stop(SpmDaemon *d);
/* Deregister the callbacks and close the connection (if any). */
void spm_daemon_disconnect(SpmDaemon *d);
/* Ask for an audit of the domain @uuid.  @force: even if this run was
 * audited already (restart, reconnect, `virt-spm audit`).  @run_id: the
 * libvirt domain id of the run, -1 = unknown; a second request for the
 * same run that is not forced is no new audit (libvirt's STARTED event and
 * the hook's "started" both announce every start). */
void spm_daemon_audit(SpmDaemon *d, const char *uuid, const char *name, gint64 run_id,
                      gboolean force, SpmAuditWaiter waiter, gpointer waiter_data);
/* A start notification (libvirt's event or the hook's) for the run @run_id. */
void spm_daemon_domain_started(SpmDaemon *d, const char *uuid, const char *name, gint64 run_id,
                               gint64 trigger_time);
/* The same by name or uuid, resolved through libvirt first. */
void spm_daemon_audit_lookup(SpmDaemon *d, const char *name_or_uuid, gboolean force,
                             SpmAuditWaiter waiter, gpointer waiter_data);
void spm_daemon_domain_stopped(SpmDaemon *d, const char *uuid, const char *name);
/* The domain stopped or was undefined: does libvirt still know it?  If not
 * (undefined, or a transient domain that stopped), forget it. */
void spm_daemon_domain_check(SpmDaemon *d, const char *uuid);
gboolean spm_daemon_connected(SpmDaemon *d);

/* spm-daemon-control.c */
gboolean spm_daemon_control_start(SpmDaemon *d, GError **error);

/* virt-spmd.c */
void spm_daemon_update_status(SpmDaemon *d);

G_END_DECLS
