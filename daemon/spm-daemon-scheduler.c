/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-daemon-scheduler.c: virt-spmd's audits (spm-daemon-scheduler.h).
 *
 * Audits run in GTask worker threads, at most max_parallel at a time and
 * one at a time per domain; a request that arrives while an audit of the
 * same domain is queued or runs is folded into one (spm-audit-state.c
 * decides, this file does what it says).  A STARTED event and the hook's
 * "started" notification for the same run audit once: both name the run
 * (libvirt domain id), and the second is no new audit.
 *
 * An audit ends with one outcome (SpmAuditOutcome).  A libvirt error
 * verdict nobody waits for is tried again after audit_retry_ms, up to
 * audit_attempts times: libvirt may still be reattaching to QEMU after its
 * restart.  An audit that gets no answer within audit_timeout_ms ends
 * TIMED_OUT with an error verdict; its worker's late result is dropped.
 */
#include <syslog.h>

#include "spm-audit-domain.h"
#include "spm-daemon-scheduler.h"
#include "spm-error.h"

typedef struct {
    SpmAuditWaiter func;
    gpointer data;
} SpmWaiter;

/* One audit handed to a worker.  The worker fills in the results; the
 * main thread reads them when the task returns. */
typedef struct {
    SpmDaemon *d;
    SpmConnPool *conns;         /* a reference: the worker's own connection */
    SpmConfig *config;          /* a reference: the worker may outlive the daemon's */
    char *uuid;
    char *name;                 /* the record's, for an error verdict */
    guint64 seq;
    gboolean force;
    gint64 skip_domid;  /* a run with this id was audited already; -1 = none */
    /* results */
    SpmAuditOutcome outcome;
    SpmVerdict *verdict;        /* VERDICT and TIMED_OUT only */
} SpmAuditJob;

static void spm_scheduler_act(SpmDaemon *d, SpmDomainRecord *r, SpmAuditAction action,
                              SpmAuditJob *ended);

static void
spm_audit_job_free(gpointer data)
{
    SpmAuditJob *job = data;

    spm_config_unref(job->config);
    spm_conn_pool_unref(job->conns);
    g_free(job->uuid);
    g_free(job->name);
    spm_verdict_free(job->verdict);
    g_free(job);
}

/* Every change of a record's audit state goes through here. */
static SpmAuditAction
spm_scheduler_step(SpmDomainRecord *r, SpmAuditEvent event)
{
    SpmAuditAction action = spm_audit_transition(&r->audit, event);

    /* an event the state cannot take is a bug here, not a fault to survive */
    g_assert(action != SPM_AUDIT_ACTION_INVALID);
    return action;
}

/* What holds between two events of a record. */
static void
spm_scheduler_check(const SpmDomainRecord *r)
{
    g_assert(spm_audit_status_valid(&r->audit));
    /* a waiter is answered when the audit ends: none without an audit */
    g_assert(spm_audit_status_busy(&r->audit) || !r->waiters);
    /* an audit in flight always has its deadline */
    g_assert((r->audit.state == SPM_AUDIT_RUNNING) == (r->job.timer != 0));
}

static void
spm_record_notify(SpmDomainRecord *r, SpmDaemon *d, const SpmVerdict *v, const GError *error)
{
    GSList *waiters = g_steal_pointer(&r->waiters);

    for (GSList *l = waiters; l; l = l->next) {
        SpmWaiter *w = l->data;

        w->func(d, v, error, w->data);
        g_free(w);
    }
    g_slist_free(waiters);
}

static void
spm_record_notify_not_running(SpmDomainRecord *r, SpmDaemon *d)
{
    g_autoptr(GError) e = g_error_new(SPM_ERROR, SPM_ERROR_INVALID, "domain '%s' is not running",
                                      r->name ? r->name : r->uuid);

    spm_record_notify(r, d, NULL, e);
}

/* ---- the worker ---- */

static void
spm_audit_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    SpmAuditJob *job = data;
    g_autoptr(GError) error = NULL;
    virConnectPtr conn = spm_conn_pool_take(job->conns, &error);
    virDomainPtr dom = conn ? virDomainLookupByUUIDString(conn, job->uuid) : NULL;
    gboolean is_spm = FALSE;

    if (!conn) {
        /* libvirtd going away: an error verdict, which the retry rule takes */
        job->verdict = spm_verdict_new(job->name, job->uuid);
        spm_verdict_set_error(job->verdict, error);
        job->outcome = SPM_AUDIT_OUTCOME_VERDICT;
    } else if (!dom || virDomainIsActive(dom) != 1) {
        job->outcome = SPM_AUDIT_OUTCOME_NOT_RUNNING;
    } else if (!job->force && job->skip_domid >= 0 &&
               (gint64) virDomainGetID(dom) == job->skip_domid) {
        job->outcome = SPM_AUDIT_OUTCOME_SKIPPED;
    } else {
        job->verdict = spm_audit_domain(dom, &job->config->policy, &is_spm);
        job->outcome = job->verdict ? SPM_AUDIT_OUTCOME_VERDICT : SPM_AUDIT_OUTCOME_NOT_SPM;
    }
    if (dom)
        virDomainFree(dom);
    spm_conn_pool_give(job->conns, conn);
    g_task_return_boolean(task, TRUE);
}

/* ---- retry ---- */

/* A timer names its domain by UUID: the record may be gone when it
 * fires.  @seq: the audit in flight it is the deadline of (0 = none). */
typedef struct {
    SpmDaemon *d;
    char *uuid;
    guint64 seq;
} SpmRecordRef;

static SpmRecordRef *
spm_record_ref_new(SpmDaemon *d, const SpmDomainRecord *r, guint64 seq)
{
    SpmRecordRef *ref = g_new0(SpmRecordRef, 1);

    ref->d = d;
    ref->uuid = g_strdup(r->uuid);
    ref->seq = seq;
    return ref;
}

static void
spm_record_ref_free(gpointer data)
{
    SpmRecordRef *ref = data;

    g_free(ref->uuid);
    g_free(ref);
}

static SpmDomainRecord *
spm_record_ref_lookup(const SpmRecordRef *ref)
{
    return ref->d->domains ? g_hash_table_lookup(ref->d->domains, ref->uuid) : NULL;
}

static gboolean
spm_retry_cb(gpointer data)
{
    SpmRecordRef *ref = data;
    SpmDomainRecord *r = spm_record_ref_lookup(ref);

    /* a request that came meanwhile has audited it again already */
    if (r && r->audit.state == SPM_AUDIT_IDLE)
        spm_scheduler_act(ref->d, r, spm_scheduler_step(r, SPM_AUDIT_EVENT_REQUEST_FORCED), NULL);
    return G_SOURCE_REMOVE;
}

static void
spm_scheduler_retry_later(SpmDaemon *d, SpmDomainRecord *r)
{
    r->attempts++;
    g_timeout_add_full(G_PRIORITY_DEFAULT, d->retry_ms, spm_retry_cb,
                       spm_record_ref_new(d, r, 0), spm_record_ref_free);
}

/* ---- the end of an audit ---- */

/* Record @job's outcome in @r and answer its waiters. */
static void
spm_scheduler_record(SpmDaemon *d, SpmDomainRecord *r, SpmAuditJob *job)
{
    switch (job->outcome) {
    case SPM_AUDIT_OUTCOME_VERDICT:
    case SPM_AUDIT_OUTCOME_TIMED_OUT: {
        SpmVerdict *v = g_steal_pointer(&job->verdict);
        gboolean first = !(r->last && r->last->domain_id >= 0 &&
                           r->last->domain_id == v->domain_id);

        r->attempts = 0;
        v->audit_count = (r->last ? r->last->audit_count : 0) + 1;
        if (r->trigger_time)
            v->latency_us = g_get_monotonic_time() - r->trigger_time;
        spm_verdict_free(r->last);
        r->last = v;
        /* a STOPPED event that came while QEMU was being asked wins */
        r->active = !r->job.stopped;
        d->audits_done++;
        spm_daemon_state_save(d, r);
        spm_daemon_log_verdict(v, first);
        spm_record_notify(r, d, v, NULL);
        break;
    }
    case SPM_AUDIT_OUTCOME_NOT_RUNNING:
        r->active = FALSE;
        spm_record_notify_not_running(r, d);
        break;
    case SPM_AUDIT_OUTCOME_NOT_SPM: {
        g_autoptr(GError) e = g_error_new(SPM_ERROR, SPM_ERROR_INVALID,
                                          "domain '%s' has no virt-spm metadata",
                                          r->name ? r->name : r->uuid);

        spm_record_notify(r, d, NULL, e);
        break;
    }
    case SPM_AUDIT_OUTCOME_SKIPPED:
        spm_record_notify(r, d, r->last, NULL);
        break;
    case SPM_AUDIT_OUTCOME_LAST:
        g_assert_not_reached();
    }
    r->trigger_time = 0;
}

static void
spm_scheduler_enqueue(SpmDaemon *d, SpmDomainRecord *r)
{
    if (!r->trigger_time)
        r->trigger_time = g_get_monotonic_time();
    g_queue_push_tail(&d->queue, r);
    spm_scheduler_pump(d);
}

/* The audit of @r ended (or timed out): step the state, then act. */
static void
spm_scheduler_complete(SpmDaemon *d, SpmDomainRecord *r, SpmAuditJob *job)
{
    /* a libvirt error nobody waits for: libvirt may still be reattaching
     * to QEMU after its restart (the state machine says whether a request
     * that came meanwhile makes this the retry already) */
    gboolean retry = job->outcome == SPM_AUDIT_OUTCOME_VERDICT &&
                     job->verdict->kind == SPM_VERDICT_ERROR &&
                     !r->waiters && r->attempts + 1 < d->max_attempts;

    g_assert(d->running > 0);
    d->running--;
    if (r->job.timer) {
        g_source_remove(r->job.timer);
        r->job.timer = 0;
    }
    spm_scheduler_act(d, r, spm_scheduler_step(r, retry ? SPM_AUDIT_EVENT_END_RETRY
                                                        : SPM_AUDIT_EVENT_END), job);
    spm_daemon_update_status(d);
    spm_scheduler_pump(d);
}

static void
spm_audit_done(GObject *source, GAsyncResult *res, gpointer data)
{
    SpmDaemon *d = data;
    SpmAuditJob *job = g_task_get_task_data(G_TASK(res));
    SpmDomainRecord *r = g_hash_table_lookup(d->domains, job->uuid);

    /* an audit that timed out was completed already: drop its late result */
    if (!r || r->audit.state != SPM_AUDIT_RUNNING || r->job.seq != job->seq)
        return;
    spm_scheduler_complete(d, r, job);
}

/* libvirt's passthrough has no timeout of ours: a QEMU whose monitor hangs
 * would hold the audit (and a worker) for libvirt's own job timeout.  The
 * domain gets an error verdict at audit_timeout_ms; the worker's late
 * result is dropped. */
static gboolean
spm_audit_timeout_cb(gpointer data)
{
    SpmRecordRef *ref = data;
    SpmDaemon *d = ref->d;
    SpmDomainRecord *r = spm_record_ref_lookup(ref);
    SpmAuditJob timed_out = { .outcome = SPM_AUDIT_OUTCOME_TIMED_OUT };
    g_autoptr(GError) e = NULL;

    if (!r || r->audit.state != SPM_AUDIT_RUNNING || r->job.seq != ref->seq)
        return G_SOURCE_REMOVE;
    r->job.timer = 0;           /* this source ends here */
    r->job.seq = 0;             /* the worker's result, if it ever comes, is stale */
    e = g_error_new(SPM_ERROR, SPM_ERROR_TIMEOUT,
                    "query-memory-devices through libvirt got no answer within %u ms",
                    d->audit_timeout_ms);
    timed_out.verdict = spm_verdict_new(r->name, r->uuid);
    spm_verdict_set_error(timed_out.verdict, e);
    spm_scheduler_complete(d, r, &timed_out);
    spm_verdict_free(timed_out.verdict);
    return G_SOURCE_REMOVE;
}

/* ---- the start of an audit ---- */

static void
spm_scheduler_run(SpmDaemon *d, SpmDomainRecord *r, gboolean force)
{
    SpmAuditJob *job = g_new0(SpmAuditJob, 1);
    GTask *task = g_task_new(NULL, NULL, spm_audit_done, d);

    /* the slot of the audit in flight is free: one at a time per domain */
    g_assert(r->job.timer == 0);
    d->running++;
    g_assert(d->running <= d->max_parallel);
    r->job.stopped = FALSE;
    /* unique in the process: a record forgotten and made again must not
     * take the late result of its predecessor's audit */
    r->job.seq = ++d->job_seq;

    job->d = d;
    job->conns = spm_conn_pool_ref(d->worker_conns);
    job->config = spm_config_ref(d->config);
    job->uuid = g_strdup(r->uuid);
    job->name = g_strdup(r->name);
    job->force = force;
    /* an error verdict audited nothing: it does not count for the run */
    job->skip_domid = r->active && r->last && r->last->kind != SPM_VERDICT_ERROR
                      ? r->last->domain_id : -1;
    job->seq = r->job.seq;

    r->job.timer = g_timeout_add_full(G_PRIORITY_DEFAULT, d->audit_timeout_ms,
                                      spm_audit_timeout_cb, spm_record_ref_new(d, r, job->seq),
                                      spm_record_ref_free);

    g_task_set_task_data(task, job, spm_audit_job_free);
    g_task_run_in_thread(task, spm_audit_thread);
    g_object_unref(task);
}

void
spm_scheduler_pump(SpmDaemon *d)
{
    while (d->conn && d->running < d->max_parallel && !g_queue_is_empty(&d->queue)) {
        SpmDomainRecord *r = g_queue_pop_head(&d->queue);

        spm_scheduler_act(d, r, spm_scheduler_step(r, SPM_AUDIT_EVENT_START), NULL);
        spm_scheduler_check(r);
    }
}

/*
 * Do what the transition to @r's new state asks for.  @ended: the audit
 * that just ended (RECORD* and RETRY only).  @r may be freed on return
 * (FORGET, UNQUEUE, RECORD_FORGET, and RECORD of a domain that is not SPM).
 */
static void
spm_scheduler_act(SpmDaemon *d, SpmDomainRecord *r, SpmAuditAction action, SpmAuditJob *ended)
{
    switch (action) {
    case SPM_AUDIT_ACTION_NONE:
        break;
    case SPM_AUDIT_ACTION_QUEUE:
        spm_scheduler_enqueue(d, r);
        break;
    case SPM_AUDIT_ACTION_RUN:
    case SPM_AUDIT_ACTION_RUN_FORCED:
        spm_scheduler_run(d, r, action == SPM_AUDIT_ACTION_RUN_FORCED);
        break;
    case SPM_AUDIT_ACTION_UNQUEUE:
        /* the audit it waited for would only have found it gone */
        g_queue_remove(&d->queue, r);
        r->active = FALSE;
        spm_record_notify_not_running(r, d);
        spm_daemon_state_remove(d, r);
        break;
    case SPM_AUDIT_ACTION_FORGET:
        spm_daemon_state_remove(d, r);
        break;
    case SPM_AUDIT_ACTION_RECORD:
        spm_scheduler_record(d, r, ended);
        /* not an SPM domain (or not running) and never was: forget it */
        if (!r->last && !spm_audit_outcome_keeps_record(ended->outcome))
            spm_daemon_record_drop(d, r);
        else
            spm_scheduler_check(r);
        break;
    case SPM_AUDIT_ACTION_RECORD_QUEUE:
        spm_scheduler_record(d, r, ended);
        spm_scheduler_enqueue(d, r);
        break;
    case SPM_AUDIT_ACTION_RECORD_FORGET:
        spm_scheduler_record(d, r, ended);
        spm_daemon_state_remove(d, r);
        break;
    case SPM_AUDIT_ACTION_RETRY:
        /* the error verdict stays in @ended and goes with it */
        spm_scheduler_retry_later(d, r);
        spm_scheduler_check(r);
        break;
    case SPM_AUDIT_ACTION_INVALID:
    case SPM_AUDIT_ACTION_LAST:
        g_assert_not_reached();
    }
}

/* ---- requests ---- */

/* A request that is not forced, for a run whose audit was asked for
 * already: the hook and libvirt both announce every start. */
static gboolean
spm_record_run_seen(SpmDomainRecord *r, gint64 run_id, gboolean force)
{
    return !force && run_id >= 0 && r->run_id == run_id;
}

void
spm_scheduler_audit(SpmDaemon *d, const char *uuid, const char *name, gint64 run_id,
                    gboolean force, SpmAuditWaiter waiter, gpointer waiter_data)
{
    SpmDomainRecord *r = spm_daemon_record(d, uuid, name);
    gboolean seen;

    if (!r) {
        if (waiter) {
            g_autoptr(GError) e = g_error_new(SPM_ERROR, SPM_ERROR_INVALID,
                                              "'%s' is not a domain UUID", uuid);

            waiter(d, NULL, e, waiter_data);
        }
        return;
    }
    seen = spm_record_run_seen(r, run_id, force);
    if (seen) {
        d->start_duplicates++;
        if (!spm_audit_status_busy(&r->audit)) {
            if (waiter) {
                g_autoptr(GError) e = g_error_new(SPM_ERROR, SPM_ERROR_INVALID,
                                                  "domain '%s': no verdict yet",
                                                  r->name ? r->name : uuid);

                waiter(d, r->last, r->last ? NULL : e, waiter_data);
            }
            return;
        }
    }
    if (run_id >= 0)
        r->run_id = run_id;
    if (waiter) {
        SpmWaiter *w = g_new0(SpmWaiter, 1);

        w->func = waiter;
        w->data = waiter_data;
        r->waiters = g_slist_append(r->waiters, w);
    }
    if (seen)
        return;         /* the audit queued or in flight answers the waiter */
    spm_scheduler_act(d, r, spm_scheduler_step(r, force ? SPM_AUDIT_EVENT_REQUEST_FORCED
                                                        : SPM_AUDIT_EVENT_REQUEST), NULL);
    spm_scheduler_check(r);
}

void
spm_scheduler_domain_started(SpmDaemon *d, const char *uuid, const char *name, gint64 run_id,
                             gint64 trigger_time)
{
    SpmDomainRecord *r = spm_daemon_record(d, uuid, name);

    d->start_events++;
    if (!r)
        return;
    if (!spm_record_run_seen(r, run_id, FALSE) && !spm_audit_status_busy(&r->audit))
        r->trigger_time = trigger_time;
    spm_scheduler_audit(d, uuid, name, run_id, FALSE, NULL, NULL);
}

void
spm_scheduler_domain_stopped(SpmDaemon *d, const char *uuid, const char *name)
{
    SpmDomainRecord *r = d->domains ? g_hash_table_lookup(d->domains, uuid) : NULL;

    if (r && r->audit.state == SPM_AUDIT_RUNNING)
        r->job.stopped = TRUE;
    if (!r || !r->active)
        return;
    r->active = FALSE;
    if (r->last)
        spm_daemon_state_save(d, r);
    spm_daemon_log(LOG_INFO, "domain '%s' stopped", r->name ? r->name : uuid);
    spm_daemon_update_status(d);
}

void
spm_scheduler_forget(SpmDaemon *d, SpmDomainRecord *r)
{
    spm_scheduler_act(d, r, spm_scheduler_step(r, SPM_AUDIT_EVENT_FORGET), NULL);
}
