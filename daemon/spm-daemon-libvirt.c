/* SPDX-License-Identifier: LGPL-2.1-or-later */
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
 * What the events, scans and lookups ask for goes to the scheduler
 * (spm-daemon-scheduler.h), which runs the audits; this file is above it
 * and the scheduler never calls back up here.
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
#include "spm-daemon-guest.h"
#include "spm-daemon-ledger.h"
#include "spm-daemon-libvirt.h"
#include "spm-daemon-scheduler.h"
#include "spm-error.h"
#include "spm-libvirt-conn.h"

static void spm_daemon_connect(SpmDaemon *d);

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
        spm_scheduler_domain_started(d, m->uuid, m->name, m->run_id, m->time);
        break;
    case VIR_DOMAIN_EVENT_STOPPED:
        spm_scheduler_domain_stopped(d, m->uuid, m->name);
        spm_daemon_domain_check(d, m->uuid);    /* a transient domain is gone now */
        break;
    case VIR_DOMAIN_EVENT_UNDEFINED:
        spm_daemon_domain_check(d, m->uuid);    /* still known while it runs */
        break;
    }
    /* a crashed QEMU's reservation goes; a start's is confirmed */
    if (m->event == VIR_DOMAIN_EVENT_STOPPED)
        spm_daemon_ledger_reconcile_settled(d);
    else
        spm_daemon_ledger_reconcile(d);
    return G_SOURCE_REMOVE;
}

static gboolean
spm_agent_main(gpointer data)
{
    SpmEventMsg *m = data;

    spm_daemon_guest_agent_connected(m->d, m->uuid, m->name);
    return G_SOURCE_REMOVE;
}

/* The guest opened its agent's port: what it made of its HBM is settled
 * enough to ask (spm-daemon-guest.h). */
static void
spm_agent_lifecycle_cb(virConnectPtr conn, virDomainPtr dom, int state, int reason, void *opaque)
{
    SpmDaemon *d = opaque;
    SpmEventMsg *m;

    if (state != VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_STATE_CONNECTED)
        return;
    m = g_new0(SpmEventMsg, 1);
    m->d = d;
    m->time = g_get_monotonic_time();
    m->name = g_strdup(virDomainGetName(dom));
    virDomainGetUUIDString(dom, m->uuid);
    spm_defer(d, spm_agent_main, m);
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
    m->run_id = spm_libvirt_run_id(dom);
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
    if (d->agent_callback >= 0)
        virConnectDomainEventDeregisterAny(d->conn, d->agent_callback);
    d->agent_callback = -1;
    virConnectUnregisterCloseCallback(d->conn, spm_close_cb);
    virConnectClose(g_steal_pointer(&d->conn));
}

typedef struct {
    virConnectPtr conn;
    int event_callback;
    int agent_callback;         /* -1: this libvirt has no agent lifecycle event */
} SpmConnection;

/* What the connecting worker reads: its own copy, for a daemon that stops
 * while libvirt is still being connected to frees its own. */
typedef struct {
    SpmDaemon *d;               /* only the callbacks' opaque pointer */
    char *uri;
} SpmConnectJob;

static void
spm_connect_job_free(gpointer data)
{
    SpmConnectJob *job = data;

    g_free(job->uri);
    g_free(job);
}

static void
spm_connect_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    SpmConnectJob *job = data;
    SpmDaemon *d = job->d;
    GError *error = NULL;
    virConnectPtr conn = spm_libvirt_open(job->uri, &error);
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
        spm_libvirt_error(&error, "cannot subscribe to %s", job->uri);
        g_task_return_error(task, error);
        virConnectClose(conn);
        return;
    }
    c = g_new0(SpmConnection, 1);
    c->conn = conn;
    c->event_callback = callback;
    /* the guest audit's trigger; without it, audits on request only */
    c->agent_callback = virConnectDomainEventRegisterAny(
        conn, NULL, VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE,
        VIR_DOMAIN_EVENT_CALLBACK(spm_agent_lifecycle_cb), d, NULL);
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

    virDomainGetUUIDString(dom, uuid);
    id->uuid = g_strdup(uuid);
    id->name = g_strdup(virDomainGetName(dom));
    id->run_id = spm_libvirt_run_id(dom);
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
        spm_scheduler_audit(d, id->uuid, id->name, id->run_id, TRUE, NULL, NULL);
        /* an agent that connected while nobody listened sends no event */
        spm_daemon_guest_audit(d, id->uuid, NULL, NULL);
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
        spm_scheduler_forget(d, g_ptr_array_index(gone, i));
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
    d->agent_callback = conn->agent_callback;
    if (d->agent_callback < 0)
        spm_daemon_log(LOG_WARNING, "%s has no agent lifecycle event: guest audits on request only",
                       d->uri);
    d->backoff_ms = d->reconnect_min_ms;
    d->connections++;
    spm_daemon_log(LOG_INFO, "connected to %s (connection %u)", d->uri, d->connections);
    spm_daemon_update_status(d);
    spm_daemon_scan(d);
    spm_daemon_ledger_reconcile(d);
    spm_scheduler_pump(d);
}

static void
spm_daemon_connect(SpmDaemon *d)
{
    SpmConnectJob *job;
    GTask *task;

    if (d->conn || d->connecting)
        return;
    d->connecting = TRUE;
    job = g_new0(SpmConnectJob, 1);
    job->d = d;
    job->uri = g_strdup(d->uri);
    task = g_task_new(NULL, NULL, spm_connect_done, d);
    g_task_set_task_data(task, job, spm_connect_job_free);
    g_task_run_in_thread(task, spm_connect_thread);
    g_object_unref(task);
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
        spm_scheduler_forget(d, r);
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
    spm_scheduler_audit(l->d, id->uuid, id->name, id->run_id, l->force, l->waiter, l->waiter_data);
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
