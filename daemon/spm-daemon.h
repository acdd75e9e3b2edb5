/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-daemon.h: the parts of virt-spmd and what they share.
 *
 * Threads: the main thread runs the GMainLoop and owns every field below
 * except where noted; libvirt's event loop runs in its own thread
 * (spm-daemon-libvirt.c) and hands events to the main thread with
 * an idle source; audits run in GTask worker threads and hand their
 * verdict back the same way.
 *
 * The files, each calling only those below it (docs/architecture.md):
 *   virt-spmd.c             main(): configuration, start, stop
 *   spm-daemon-control.c    the control socket    (spm-daemon-control.h)
 *   spm-daemon-libvirt.c    connection, events, scans, lookups
 *                                                 (spm-daemon-libvirt.h)
 *   spm-daemon-scheduler.c  the audit queue and its workers
 *                                                 (spm-daemon-scheduler.h)
 *   spm-daemon-ledger.c     the host HBM ledger   (spm-daemon-ledger.h)
 *   spm-daemon-placement.c  the Placement sync    (spm-daemon-placement.h)
 *   spm-daemon-guest.c      the guest audit       (spm-daemon-guest.h)
 *   spm-daemon-state.c, spm-daemon-log.c          (this header)
 */
#pragma once

#include <gio/gio.h>
#include <libvirt/libvirt.h>

#include "spm-audit.h"
#include "spm-audit-state.h"
#include "spm-config.h"
#include "spm-conn-pool.h"
#include "spm-guest-agent.h"

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
    SpmAuditStatus audit;       /* idle, queued or running, and what comes next
                                 * (spm-audit-state.h; only the scheduler changes it) */
    guint attempts;             /* retries of a libvirt error after reconnect */
    gint64 trigger_time;        /* monotonic µs of the event that asked */
    gint64 run_id;              /* libvirt domain id of the run whose audit was asked
                                 * for by a start notification; -1 = none since it stopped */
    gint64 created;             /* monotonic µs: a scan older than the record ignores it */
    struct {                    /* the audit in flight: meaningful while RUNNING only */
        guint64 seq;            /* its id; a timed-out one is left behind */
        guint timer;            /* its deadline (audit_timeout_ms) */
        gboolean stopped;       /* a STOPPED came while QEMU was being asked */
    } job;
    GSList *waiters;            /* answered when the audit ends; only while not IDLE */
    JsonNode *guest;            /* the last guest audit (spm-daemon-guest.h); NULL = none */
    gint64 guest_run_id;        /* the libvirt domain id of the run it audited */
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

    /*
     * libvirt (main thread; the connection pointer is thread-safe to use).
     * @conn carries the events and the short calls.  An audit worker
     * (QMP or guest agent), whose call may wait for seconds on a guest,
     * takes a connection of its own from @worker_conns: libvirt's
     * client can leave a call queued behind another thread's call in
     * flight on the same connection until that one's reply or the next
     * keepalive tick (5 s), measured on libvirt 9.0 as a healthy guest's
     * audit held for the whole 6 s of a silent agent's (docs/virt-spmd.md).
     */
    virConnectPtr conn;
    SpmConnPool *worker_conns;
    int event_callback;         /* lifecycle callback id on conn; -1 = none */
    int agent_callback;         /* agent lifecycle callback id on conn; -1 = none */
    gboolean connecting;
    guint backoff_ms;
    guint reconnect_source;
    guint connections;          /* successful connects so far */

    /* domains by uuid */
    GHashTable *domains;        /* char *uuid -> SpmDomainRecord * */
    GQueue queue;               /* SpmDomainRecord * waiting for a worker */
    guint running;              /* audits in flight: records in RUNNING */
    guint64 job_seq;            /* the last audit handed to a worker */
    guint64 audits_done;
    guint64 start_events;       /* start notifications: libvirt's events and the hook's */
    guint64 start_duplicates;   /* of those, the second one of a run: no audit */
    guint64 domain_checks;      /* answers to "does libvirt still know it?" */

    GSocketService *service;

    /* the guest audit (spm-daemon-guest.c) */
    SpmGuestAgentOptions guest_opts;
    GHashTable *guest_jobs;     /* char *uuid or name -> the audit in flight */
    guint64 guest_audits;       /* guest audits done */
    guint64 agent_events;       /* "agent connected" events */
};

/* spm-daemon-log.c */
void spm_daemon_log_init(gboolean journal);
void spm_daemon_log(int priority, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
void spm_daemon_log_verdict(const SpmVerdict *v, gboolean first_of_run);
/* One record for the guest audit, one more (SPM_GUEST_VERDICT) per device
 * that does not match. */
void spm_daemon_log_guest(const char *name, const char *uuid, const SpmGuestAudit *a);

/* spm-daemon-state.c */
SpmDomainRecord *spm_daemon_record(SpmDaemon *d, const char *uuid, const char *name);
SpmDomainRecord *spm_daemon_record_by_name(SpmDaemon *d, const char *name);
void spm_daemon_state_load(SpmDaemon *d);
void spm_daemon_state_save(SpmDaemon *d, SpmDomainRecord *r);
/* Drop the record from memory; it has no state file (no verdict). */
void spm_daemon_record_drop(SpmDaemon *d, SpmDomainRecord *r);
/* libvirt no longer knows the domain: drop its record and its state file.
 * Only for a record that is IDLE (spm_scheduler_forget() sees to that). */
void spm_daemon_state_remove(SpmDaemon *d, SpmDomainRecord *r);
JsonNode *spm_daemon_record_to_json(const SpmDomainRecord *r);
char *spm_daemon_read_boot_id(void);
/* Tell systemd (STATUS=) how the daemon is. */
void spm_daemon_update_status(SpmDaemon *d);

G_END_DECLS
