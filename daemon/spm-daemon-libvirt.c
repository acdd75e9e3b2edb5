/*
 * spm-daemon-libvirt.c: the libvirt side of virt-spmd.
 *
 * libvirt's default event loop runs in a thread of its own (libvirt-glib
 * is not a dependency); its callbacks only copy what they need and hand
 * it to the main loop.  The connection is opened in a worker thread, kept
 * alive with keepalive probes, and reopened with exponential backoff when
 * it closes: the daemon never exits because libvirt went away.  After
 * every (re)connect, every running domain is audited again.
 *
 * Audits run in GTask worker threads, at most max_parallel at a time and
 * one at a time per domain; a request that arrives while an audit of the
 * same domain runs is folded into one follow-up audit.  A STARTED event
 * and the hook's "started" notification for the same run audit once: both
 * name the run (libvirt domain id), and the second is no new audit.
 *
 * A domain that libvirt no longer knows (undefined, or transient and
 * stopped) is forgotten: record and state file.  Each (re)connect lists
 * all domains, which also forgets those undefined while we were away.
 */
#include <string.h>
#include <syslog.h>
#include <libvirt/virterror.h>

#include "spm-audit-domain.h"
#include "spm-daemon.h"
#include "spm-daemon-ledger.h"
#include "spm-error.h"
#include "spm-libvirt-conn.h"

typedef struct {
    SpmAuditWaiter func;
    gpointer data;
} SpmWaiter;

static void spm_daemon_connect(SpmDaemon *d);
static void spm_daemon_pump(SpmDaemon *d);

/* Set at shutdown; the thread leaves its loop at the next wake-up. */
static gint spm_event_quit;
static GThread *spm_event_thread_handle;

static gpointer
spm_event_thread(gpointer data)
{
    while (!g_atomic_int_get(&spm_event_quit)) {
        if (virEventRunDefaultImpl() < 0)
            g_usleep(G_USEC_PER_SEC / 10);   /* never spin on a broken loop */
    }
    return NULL;
}

static void
spm_event_wake(int timer, void *opaque)
{
    virEventRemoveTimeout(timer);
}

gboolean
spm_daemon_connected(SpmDaemon *d)
{
    return d->conn != NULL;
}

void
spm_daemon_libvirt_start(SpmDaemon *d)
{
    spm_libvirt_quiet_errors();     /* errors are logged where they are handled */
    if (virEventRegisterDefaultImpl() < 0)
        spm_daemon_log(LOG_ERR, "cannot register libvirt's event loop");
    spm_event_thread_handle = g_thread_new("libvirt-events", spm_event_thread, NULL);
    d->backoff_ms = d->reconnect_min_ms;
    spm_daemon_connect(d);
}

/*
 * Stop libvirt's event thread before the daemon frees what its callbacks
 * use: leaving it running into exit() let it race with the destructors.
 * A zero timeout wakes its poll so that it sees the flag.
 */
void
spm_daemon_libvirt_stop(SpmDaemon *d)
{
    if (!spm_event_thread_handle)
        return;
    g_atomic_int_set(&spm_event_quit, 1);
    virEventAddTimeout(0, spm_event_wake, NULL, NULL);
    g_thread_join(g_steal_pointer(&spm_event_thread_handle));
}

/* ---- lifecycle events: libvirt's thread -> main loop ---- */

typedef struct {
    SpmDaemon *d;
    virConnectPtr conn;
    char uuid[VIR_UUID_STRING_BUFLEN];
    char *name;
    int event;
    gint64 run_id;
    gint64 time;
} SpmEventMsg;

static void
spm_event_msg_free(gpointer data)
{
    SpmEventMsg *m = data;

    if (m->conn)
        virConnectClose(m->conn);
    g_free(m->name);
    g_free(m);
}

/*
 * Run @func(@m) from the main loop, later.  libvirt's GLib event loop shares
 * the default main context, so its callbacks may run in the main thread,
 * with libvirt's locks held: g_main_context_invoke() would then call @func
 * at once, and @func calling back into libvirt (deregistering the close
 * callback) would deadlock.
 */
static void
spm_defer(SpmDaemon *d, GSourceFunc func, SpmEventMsg *m)
{
    g_autoptr(GSource) source = g_idle_source_new();

    g_source_set_priority(source, G_PRIORITY_DEFAULT);
    g_source_set_callback(source, func, m, spm_event_msg_free);
    g_source_attach(source, d->ctx);
}

static gboolean
spm_event_main(gpointer data)
{
    SpmEventMsg *m = data;
    SpmDaemon *d = m->d;

    switch (m->event) {
    case VIR_DOMAIN_EVENT_STARTED:
        spm_daemon_domain_started(d, m->uuid, m->name, m->run_id, m->time);
        break;
    case VIR_DOMAIN_EVENT_STOPPED:
        spm_daemon_domain_stopped(d, m->uuid, m->name);
        spm_daemon_domain_check(d, m->uuid);    /* a transient domain is gone now */
        break;
    case VIR_DOMAIN_EVENT_UNDEFINED:
        spm_daemon_domain_check(d, m->uuid);    /* still known while it runs */
        break;
    }
    /* a crashed QEMU's reservation goes; a start's is confirmed */
    spm_daemon_ledger_reconcile(d);
    return G_SOURCE_REMOVE;
}

static int
spm_lifecycle_cb(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
    SpmDaemon *d = opaque;
    SpmEventMsg *m;

    if (event != VIR_DOMAIN_EVENT_STARTED && event != VIR_DOMAIN_EVENT_STOPPED &&
        event != VIR_DOMAIN_EVENT_UNDEFINED)
        return 0;
    m = g_new0(SpmEventMsg, 1);
    m->d = d;
    m->time = g_get_monotonic_time();
    m->event = event;
    /* the id the event carries: no call to libvirtd */
    m->run_id = virDomainGetID(dom) == (unsigned int) -1 ? -1 : (gint64) virDomainGetID(dom);
    m->name = g_strdup(virDomainGetName(dom));
    virDomainGetUUIDString(dom, m->uuid);
    spm_defer(d, spm_event_main, m);
    return 0;
}

/* ---- connection ---- */

static gboolean
spm_reconnect_cb(gpointer data)
{
    SpmDaemon *d = data;

    d->reconnect_source = 0;
    spm_daemon_connect(d);
    return G_SOURCE_REMOVE;
}

static void
spm_daemon_schedule_reconnect(SpmDaemon *d)
{
    if (d->reconnect_source || d->connecting || d->conn)
        return;
    d->reconnect_source = g_timeout_add(d->backoff_ms, spm_reconnect_cb, d);
    d->backoff_ms = MIN(d->backoff_ms * 2, d->reconnect_max_ms);
    spm_daemon_update_status(d);
}

/* A libvirtd that restarts with no domain running numbers runs from 1
 * again: the runs seen so far identify nothing any more. */
static void
spm_daemon_forget_runs(SpmDaemon *d)
{
    GHashTableIter iter;
    gpointer value;

    if (!d->domains)
        return;
    g_hash_table_iter_init(&iter, d->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value))
        ((SpmDomainRecord *) value)->run_id = -1;
}

static gboolean
spm_close_main(gpointer data)
{
    SpmEventMsg *m = data;
    SpmDaemon *d = m->d;

    if (d->conn && d->conn == m->conn) {
        spm_daemon_log(LOG_WARNING, "connection to %s closed (reason %d); reconnecting",
                       d->uri, m->event);
        spm_daemon_disconnect(d);
        d->backoff_ms = d->reconnect_min_ms;
        spm_daemon_forget_runs(d);
        spm_daemon_schedule_reconnect(d);
    }
    return G_SOURCE_REMOVE;
}

static void
spm_close_cb(virConnectPtr conn, int reason, void *opaque)
{
    SpmDaemon *d = opaque;
    SpmEventMsg *m = g_new0(SpmEventMsg, 1);

    m->d = d;
    m->event = reason;
    m->conn = conn;
    virConnectRef(conn);
    spm_defer(d, spm_close_main, m);
}

/*
 * Both callbacks hold a reference on the connection: unless both are
 * deregistered, a closed connection is never freed (and every reconnect
 * leaked one).  On a connection that is gone, libvirt still drops them
 * locally; only telling libvirtd fails.
 */
void
spm_daemon_disconnect(SpmDaemon *d)
{
    if (!d->conn)
        return;
    if (d->event_callback >= 0)
        virConnectDomainEventDeregisterAny(d->conn, d->event_callback);
    d->event_callback = -1;
    virConnectUnregisterCloseCallback(d->conn, spm_close_cb);
    virConnectClose(g_steal_pointer(&d->conn));
}

typedef struct {
    virConnectPtr conn;
    int event_callback;
} SpmConnection;

static void
spm_connect_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    SpmDaemon *d = data;
    GError *error = NULL;
    virConnectPtr conn = spm_libvirt_open(d->uri, &error);
    SpmConnection *c;
    int callback;

    if (!conn) {
        g_task_return_error(task, error);
        return;
    }
    /* detect a hung libvirtd, not only a closed socket */
    virConnectSetKeepAlive(conn, 5, 3);
    if (virConnectRegisterCloseCallback(conn, spm_close_cb, d, NULL) < 0) {
        callback = -1;
    } else if ((callback = virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                                            VIR_DOMAIN_EVENT_CALLBACK(spm_lifecycle_cb),
                                                            d, NULL)) < 0) {
        virConnectUnregisterCloseCallback(conn, spm_close_cb);
    }
    if (callback < 0) {
        spm_libvirt_error(&error, "cannot subscribe to %s", d->uri);
        g_task_return_error(task, error);
        virConnectClose(conn);
        return;
    }
    c = g_new0(SpmConnection, 1);
    c->conn = conn;
    c->event_callback = callback;
    g_task_return_pointer(task, c, g_free);
}

typedef struct {
    char *uuid;
    char *name;
    gint64 run_id;      /* -1 = not running */
} SpmDomainId;

static void
spm_domain_id_free(gpointer data)
{
    SpmDomainId *id = data;

    g_free(id->uuid);
    g_free(id->name);
    g_free(id);
}

static SpmDomainId *
spm_domain_id_new(virDomainPtr dom)
{
    SpmDomainId *id = g_new0(SpmDomainId, 1);
    char uuid[VIR_UUID_STRING_BUFLEN];
    unsigned int run = virDomainGetID(dom);

    virDomainGetUUIDString(dom, uuid);
    id->uuid = g_strdup(uuid);
    id->name = g_strdup(virDomainGetName(dom));
    id->run_id = run == (unsigned int) -1 ? -1 : (gint64) run;
    return id;
}

typedef struct {
    virConnectPtr conn;
    gint64 time;        /* monotonic µs when the list was asked for */
} SpmScan;

static void
spm_scan_free(gpointer data)
{
    SpmScan *scan = data;

    virConnectClose(scan->conn);
    g_free(scan);
}

/* Every domain libvirt knows, running or not: the scan audits those that
 * run and forgets the records of the others. */
static void
spm_scan_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    SpmScan *scan = data;
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(scan->conn, &doms, 0);
    GPtrArray *ids = g_ptr_array_new_with_free_func(spm_domain_id_free);

    for (int i = 0; i < n; i++) {
        g_ptr_array_add(ids, spm_domain_id_new(doms[i]));
        virDomainFree(doms[i]);
    }
    free(doms);
    if (n < 0) {
        g_ptr_array_unref(ids);
        g_task_return_new_error(task, SPM_ERROR, SPM_ERROR_LIBVIRT, "cannot list the domains");
        return;
    }
    g_task_return_pointer(task, ids, (GDestroyNotify) g_ptr_array_unref);
}

static void
spm_scan_done(GObject *source, GAsyncResult *res, gpointer data)
{
    SpmDaemon *d = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) ids = g_task_propagate_pointer(G_TASK(res), &error);
    g_autoptr(GHashTable) running = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GHashTable) known = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GPtrArray) gone = g_ptr_array_new();
    SpmScan *scan = g_task_get_task_data(G_TASK(res));
    GHashTableIter iter;
    gpointer value;

    if (!ids) {
        spm_daemon_log(LOG_ERR, "%s", error->message);
        return;
    }
    for (guint i = 0; i < ids->len; i++) {
        SpmDomainId *id = g_ptr_array_index(ids, i);

        g_hash_table_add(known, id->uuid);     /* lower case, as libvirt formats it */
        if (id->run_id < 0)
            continue;
        g_hash_table_add(running, id->uuid);
        spm_daemon_audit(d, id->uuid, id->name, id->run_id, TRUE, NULL, NULL);
    }
    if (d->domains) {
        g_hash_table_iter_init(&iter, d->domains);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
            SpmDomainRecord *r = value;

            /* a record newer than the list may name a domain defined since */
            if (r->created < scan->time && !g_hash_table_contains(known, r->uuid)) {
                g_ptr_array_add(gone, r);   /* undefined while nobody listened */
            } else if (r->active && !g_hash_table_contains(running, r->uuid)) {
                r->active = FALSE;          /* stopped while nobody listened */
                spm_daemon_state_save(d, r);
            }
        }
    }
    for (guint i = 0; i < gone->len; i++)
        spm_daemon_forget(d, g_ptr_array_index(gone, i));
    spm_daemon_log(LOG_INFO, "re-auditing %u running domains", g_hash_table_size(running));
    spm_daemon_update_status(d);
}

static void
spm_daemon_scan(SpmDaemon *d)
{
    GTask *task = g_task_new(NULL, NULL, spm_scan_done, d);
    SpmScan *scan = g_new0(SpmScan, 1);

    scan->conn = d->conn;
    virConnectRef(scan->conn);
    scan->time = g_get_monotonic_time();
    g_task_set_task_data(task, scan, spm_scan_free);
    g_task_run_in_thread(task, spm_scan_thread);
    g_object_unref(task);
}

static void
spm_connect_done(GObject *source, GAsyncResult *res, gpointer data)
{
    SpmDaemon *d = data;
    g_autoptr(GError) error = NULL;
    g_autofree SpmConnection *conn = g_task_propagate_pointer(G_TASK(res), &error);

    d->connecting = FALSE;
    if (!conn) {
        /* log the first failure of a series only: backoff retries are quiet */
        if (d->backoff_ms <= d->reconnect_min_ms)
            spm_daemon_log(LOG_WARNING, "%s; retrying with backoff", error->message);
        spm_daemon_schedule_reconnect(d);
        return;
    }
    d->conn = conn->conn;
    d->event_callback = conn->event_callback;
    d->backoff_ms = d->reconnect_min_ms;
    d->connections++;
    spm_daemon_log(LOG_INFO, "connected to %s (connection %u)", d->uri, d->connections);
    spm_daemon_update_status(d);
    spm_daemon_scan(d);
    spm_daemon_ledger_reconcile(d);
    spm_daemon_pump(d);
}

static void
spm_daemon_connect(SpmDaemon *d)
{
    GTask *task;

    if (d->conn || d->connecting)
        return;
    d->connecting = TRUE;
    task = g_task_new(NULL, NULL, spm_connect_done, d);
    g_task_set_task_data(task, d, NULL);
    g_task_run_in_thread(task, spm_connect_thread);
    g_object_unref(task);
}

/* ---- audits ---- */

typedef struct {
    SpmDaemon *d;
    virConnectPtr conn;
    char *uuid;
    guint64 seq;
    gboolean force;
    gint64 skip_domid;
    gboolean timed_out;
    /* results */
    SpmVerdict *verdict;
    gboolean is_spm;
    gboolean skipped;
    gboolean not_running;
} SpmAuditJob;

static void
spm_audit_job_free(gpointer data)
{
    SpmAuditJob *job = data;

    virConnectClose(job->conn);
    g_free(job->uuid);
    spm_verdict_free(job->verdict);
    g_free(job);
}

static void
spm_audit_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    SpmAuditJob *job = data;
    virDomainPtr dom = virDomainLookupByUUIDString(job->conn, job->uuid);

    if (!dom || virDomainIsActive(dom) != 1) {
        job->not_running = TRUE;
    } else if (!job->force && job->skip_domid >= 0 &&
               (gint64) virDomainGetID(dom) == job->skip_domid) {
        job->skipped = TRUE;    /* this run was audited already */
        job->is_spm = TRUE;
    } else {
        job->verdict = spm_audit_domain(dom, &job->d->config->policy, &job->is_spm);
    }
    if (dom)
        virDomainFree(dom);
    g_task_return_boolean(task, TRUE);
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

static void spm_daemon_enqueue(SpmDaemon *d, SpmDomainRecord *r, gboolean force);

/* A retry names its domain by UUID: the record may be gone when it fires. */
typedef struct {
    SpmDaemon *daemon;
    char *uuid;
} SpmRetry;

static void
spm_retry_free(gpointer data)
{
    SpmRetry *retry = data;

    g_free(retry->uuid);
    g_free(retry);
}

static gboolean
spm_retry_cb(gpointer data)
{
    SpmRetry *retry = data;
    SpmDaemon *d = retry->daemon;
    SpmDomainRecord *r = d->domains ? g_hash_table_lookup(d->domains, retry->uuid) : NULL;

    if (r && !r->auditing && !r->queued)
        spm_daemon_enqueue(d, r, TRUE);
    return G_SOURCE_REMOVE;
}

static void
spm_daemon_retry(SpmDaemon *d, SpmDomainRecord *r)
{
    SpmRetry *retry = g_new0(SpmRetry, 1);

    retry->daemon = d;
    retry->uuid = g_strdup(r->uuid);
    g_timeout_add_full(G_PRIORITY_DEFAULT, d->retry_ms, spm_retry_cb, retry, spm_retry_free);
}

/* The audit of @r ended (or timed out): record, notify, go on. */
static void
spm_audit_complete(SpmDaemon *d, SpmDomainRecord *r, SpmAuditJob *job)
{
    gboolean remove = FALSE;

    d->running--;
    r->auditing = FALSE;
    if (r->job_timer) {
        g_source_remove(r->job_timer);
        r->job_timer = 0;
    }

    if (job->verdict) {
        SpmVerdict *v = g_steal_pointer(&job->verdict);
        gboolean first = !(r->last && r->last->domain_id >= 0 &&
                           r->last->domain_id == v->domain_id);

        if (v->kind == SPM_VERDICT_ERROR && !r->waiters && r->attempts + 1 < d->max_attempts &&
            !r->pending && !job->timed_out && !r->gone) {
            /* libvirt may still be reattaching to QEMU after its restart */
            r->attempts++;
            spm_verdict_free(v);
            spm_daemon_retry(d, r);
            spm_daemon_pump(d);
            return;
        }
        r->attempts = 0;
        v->audit_count = (r->last ? r->last->audit_count : 0) + 1;
        if (r->trigger_time)
            v->latency_us = g_get_monotonic_time() - r->trigger_time;
        spm_verdict_free(r->last);
        r->last = v;
        /* a STOPPED event that came while QEMU was being asked wins */
        r->active = !r->stopped_in_audit;
        d->audits_done++;
        spm_daemon_state_save(d, r);
        spm_daemon_log_verdict(v, first);
        spm_record_notify(r, d, v, NULL);
    } else if (job->not_running) {
        g_autoptr(GError) e = g_error_new(SPM_ERROR, SPM_ERROR_INVALID,
                                          "domain '%s' is not running", r->name ? r->name : r->uuid);

        r->active = FALSE;
        spm_record_notify(r, d, NULL, e);
        remove = !r->last;
    } else if (job->skipped) {
        spm_record_notify(r, d, r->last, NULL);
    } else {
        g_autoptr(GError) e = g_error_new(SPM_ERROR, SPM_ERROR_INVALID,
                                          "domain '%s' has no virt-spm metadata",
                                          r->name ? r->name : r->uuid);

        spm_record_notify(r, d, NULL, e);
        remove = !r->last;
    }
    r->trigger_time = 0;

    if (r->gone) {
        r->pending = r->pending_force = FALSE;
        spm_daemon_forget(d, r);
    } else if (r->pending) {
        gboolean force = r->pending_force;

        r->pending = r->pending_force = FALSE;
        spm_daemon_enqueue(d, r, force);
    } else if (remove && !r->waiters) {
        g_hash_table_remove(d->domains, r->uuid);   /* not an SPM domain: forget it */
    }
    spm_daemon_update_status(d);
    spm_daemon_pump(d);
}

static void
spm_audit_done(GObject *source, GAsyncResult *res, gpointer data)
{
    SpmDaemon *d = data;
    SpmAuditJob *job = g_task_get_task_data(G_TASK(res));
    SpmDomainRecord *r = g_hash_table_lookup(d->domains, job->uuid);

    /* an audit that timed out was completed already: drop its late result */
    if (!r || !r->auditing || r->job_seq != job->seq)
        return;
    spm_audit_complete(d, r, job);
}

typedef struct {
    SpmDaemon *d;
    char *uuid;
    guint64 seq;
} SpmJobRef;

static void
spm_job_ref_free(gpointer data)
{
    SpmJobRef *ref = data;

    g_free(ref->uuid);
    g_free(ref);
}

/* libvirt's passthrough has no timeout of ours: a QEMU whose monitor hangs
 * would hold the audit (and a worker) for libvirt's own job timeout.  The
 * domain gets an error verdict at audit_timeout_ms; the worker's late
 * result is dropped. */
static gboolean
spm_audit_timeout_cb(gpointer data)
{
    SpmJobRef *ref = data;
    SpmDaemon *d = ref->d;
    SpmDomainRecord *r = g_hash_table_lookup(d->domains, ref->uuid);
    SpmAuditJob fake = { 0 };
    g_autoptr(GError) e = NULL;

    if (!r || !r->auditing || r->job_seq != ref->seq)
        return G_SOURCE_REMOVE;
    r->job_timer = 0;           /* this source ends here */
    r->job_seq++;               /* the worker's result, if it ever comes, is stale */
    e = g_error_new(SPM_ERROR, SPM_ERROR_TIMEOUT,
                    "query-memory-devices through libvirt got no answer within %u ms",
                    d->audit_timeout_ms);
    fake.verdict = spm_verdict_new(r->name, r->uuid);
    spm_verdict_set_error(fake.verdict, e);
    fake.is_spm = TRUE;
    fake.timed_out = TRUE;
    spm_audit_complete(d, r, &fake);
    spm_verdict_free(fake.verdict);
    return G_SOURCE_REMOVE;
}

static void
spm_daemon_pump(SpmDaemon *d)
{
    while (d->conn && d->running < d->max_parallel && !g_queue_is_empty(&d->queue)) {
        SpmDomainRecord *r = g_queue_pop_head(&d->queue);
        SpmAuditJob *job = g_new0(SpmAuditJob, 1);
        GTask *task = g_task_new(NULL, NULL, spm_audit_done, d);

        r->queued = FALSE;
        r->auditing = TRUE;
        r->stopped_in_audit = FALSE;
        d->running++;
        job->d = d;
        job->conn = d->conn;
        virConnectRef(job->conn);
        job->uuid = g_strdup(r->uuid);
        job->force = r->force;
        /* an error verdict audited nothing: it does not count for the run */
        job->skip_domid = r->active && r->last && r->last->kind != SPM_VERDICT_ERROR
                          ? r->last->domain_id : -1;
        job->seq = ++r->job_seq;
        {
            SpmJobRef *ref = g_new0(SpmJobRef, 1);

            ref->d = d;
            ref->uuid = g_strdup(r->uuid);
            ref->seq = job->seq;
            r->job_timer = g_timeout_add_full(G_PRIORITY_DEFAULT, d->audit_timeout_ms,
                                              spm_audit_timeout_cb, ref, spm_job_ref_free);
        }
        g_task_set_task_data(task, job, spm_audit_job_free);
        g_task_run_in_thread(task, spm_audit_thread);
        g_object_unref(task);
    }
}

static void
spm_daemon_enqueue(SpmDaemon *d, SpmDomainRecord *r, gboolean force)
{
    r->queued = TRUE;
    r->force = force;
    if (!r->trigger_time)
        r->trigger_time = g_get_monotonic_time();
    g_queue_push_tail(&d->queue, r);
    spm_daemon_pump(d);
}

/* A request that is not forced, for a run whose audit was asked for
 * already: the hook and libvirt both announce every start. */
static gboolean
spm_record_run_seen(SpmDomainRecord *r, gint64 run_id, gboolean force)
{
    return !force && run_id >= 0 && r->run_id == run_id;
}

void
spm_daemon_audit(SpmDaemon *d, const char *uuid, const char *name, gint64 run_id,
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
        if (!r->auditing && !r->queued) {
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
    if (r->auditing) {
        r->pending = TRUE;
        r->pending_force |= force;
        return;
    }
    if (r->queued) {
        r->force |= force;
        return;
    }
    spm_daemon_enqueue(d, r, force);
}

void
spm_daemon_domain_started(SpmDaemon *d, const char *uuid, const char *name, gint64 run_id,
                          gint64 trigger_time)
{
    SpmDomainRecord *r = spm_daemon_record(d, uuid, name);

    d->start_events++;
    if (!r)
        return;
    if (!spm_record_run_seen(r, run_id, FALSE) && !r->auditing && !r->queued)
        r->trigger_time = trigger_time;
    spm_daemon_audit(d, uuid, name, run_id, FALSE, NULL, NULL);
}

void
spm_daemon_domain_stopped(SpmDaemon *d, const char *uuid, const char *name)
{
    SpmDomainRecord *r = d->domains ? g_hash_table_lookup(d->domains, uuid) : NULL;

    if (r && r->auditing)
        r->stopped_in_audit = TRUE;
    if (!r || !r->active)
        return;
    r->active = FALSE;
    if (r->last)
        spm_daemon_state_save(d, r);
    spm_daemon_log(LOG_INFO, "domain '%s' stopped", r->name ? r->name : uuid);
    spm_daemon_update_status(d);
}

/* ---- domains that libvirt forgot ---- */

typedef struct {
    virConnectPtr conn;
    char *uuid;
    gboolean gone;
} SpmCheck;

static void
spm_check_free(gpointer data)
{
    SpmCheck *c = data;

    virConnectClose(c->conn);
    g_free(c->uuid);
    g_free(c);
}

static void
spm_check_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    SpmCheck *c = data;
    virDomainPtr dom = virDomainLookupByUUIDString(c->conn, c->uuid);

    if (!dom) {
        /* only libvirt's word that it does not know the domain: a lost
         * connection is no reason to forget anything */
        virErrorPtr err = virGetLastError();

        c->gone = err && err->code == VIR_ERR_NO_DOMAIN;
    } else {
        /* a transient domain that stopped may be seen before it is removed */
        c->gone = virDomainIsActive(dom) == 0 && virDomainIsPersistent(dom) == 0;
        virDomainFree(dom);
    }
    g_task_return_boolean(task, TRUE);
}

static void
spm_check_done(GObject *source, GAsyncResult *res, gpointer data)
{
    SpmDaemon *d = data;
    SpmCheck *c = g_task_get_task_data(G_TASK(res));
    SpmDomainRecord *r = d->domains ? g_hash_table_lookup(d->domains, c->uuid) : NULL;

    d->domain_checks++;
    if (r && c->gone) {
        spm_daemon_forget(d, r);
        spm_daemon_update_status(d);
    }
}

void
spm_daemon_domain_check(SpmDaemon *d, const char *uuid)
{
    SpmCheck *c;
    GTask *task;

    /* not connected: the scan after the reconnect sees it */
    if (!d->conn || !d->domains || !g_hash_table_contains(d->domains, uuid))
        return;
    c = g_new0(SpmCheck, 1);
    c->conn = d->conn;
    virConnectRef(c->conn);
    c->uuid = g_strdup(uuid);
    task = g_task_new(NULL, NULL, spm_check_done, d);
    g_task_set_task_data(task, c, spm_check_free);
    g_task_run_in_thread(task, spm_check_thread);
    g_object_unref(task);
}

/* ---- lookup by name ---- */

typedef struct {
    SpmDaemon *d;
    virConnectPtr conn;
    char *key;
    gboolean force;
    SpmAuditWaiter waiter;
    gpointer waiter_data;
} SpmLookup;

static void
spm_lookup_free(gpointer data)
{
    SpmLookup *l = data;

    if (l->conn)
        virConnectClose(l->conn);
    g_free(l->key);
    g_free(l);
}

static void
spm_lookup_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    SpmLookup *l = data;
    GError *error = NULL;
    virDomainPtr dom = spm_libvirt_lookup(l->conn, l->key, &error);
    SpmDomainId *id;

    if (!dom) {
        g_task_return_error(task, error);
        return;
    }
    id = spm_domain_id_new(dom);
    virDomainFree(dom);
    g_task_return_pointer(task, id, spm_domain_id_free);
}

static void
spm_lookup_done(GObject *source, GAsyncResult *res, gpointer data)
{
    SpmLookup *l = g_task_get_task_data(G_TASK(res));
    g_autoptr(GError) error = NULL;
    SpmDomainId *id = g_task_propagate_pointer(G_TASK(res), &error);

    if (!id) {
        l->waiter(l->d, NULL, error, l->waiter_data);
        return;
    }
    spm_daemon_audit(l->d, id->uuid, id->name, id->run_id, l->force, l->waiter, l->waiter_data);
    spm_domain_id_free(id);
}

void
spm_daemon_audit_lookup(SpmDaemon *d, const char *name_or_uuid, gboolean force,
                        SpmAuditWaiter waiter, gpointer waiter_data)
{
    SpmLookup *l;
    GTask *task;

    if (!d->conn) {
        g_autoptr(GError) e = g_error_new(SPM_ERROR, SPM_ERROR_LIBVIRT,
                                          "not connected to %s yet", d->uri);

        waiter(d, NULL, e, waiter_data);
        return;
    }
    l = g_new0(SpmLookup, 1);
    l->d = d;
    l->conn = d->conn;
    virConnectRef(l->conn);
    l->key = g_strdup(name_or_uuid);
    l->force = force;
    l->waiter = waiter;
    l->waiter_data = waiter_data;
    task = g_task_new(NULL, NULL, spm_lookup_done, NULL);
    g_task_set_task_data(task, l, spm_lookup_free);
    g_task_run_in_thread(task, spm_lookup_thread);
    g_object_unref(task);
}
