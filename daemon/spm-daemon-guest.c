/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-daemon-guest.c: virt-spmd's guest audit (see spm-daemon-guest.h)
 */
#include <string.h>
#include <syslog.h>
#include <libvirt/libvirt.h>

#include "spm-daemon-guest.h"
#include "spm-daemon-libvirt.h"
#include "spm-error.h"
#include "spm-guest-audit-domain.h"
#include "spm-libvirt-conn.h"

typedef struct {
    SpmGuestWaiter func;
    gpointer data;
} SpmGuestWaiterEntry;

/* One audit in flight: the worker fills the result, the main thread the rest. */
typedef struct {
    SpmDaemon *d;
    SpmConnPool *conns;         /* a reference: the worker's own connection */
    char *key;                  /* as asked: the key in d->guest_jobs */
    SpmGuestAgentOptions opts;
    SpmConfig *config;          /* a reference: the worker may outlive the daemon's */
    GSList *waiters;            /* SpmGuestWaiterEntry *, main thread only */
    /* the worker's result */
    char uuid[VIR_UUID_STRING_BUFLEN];
    char *name;
    gint64 run_id;              /* libvirt's domain id; -1 = not running */
    SpmGuestAudit *audit;
    gboolean not_spm;           /* no virt-spm metadata: not an error for an event */
    GError *error;
} SpmGuestJob;

static void
spm_guest_job_free(gpointer data)
{
    SpmGuestJob *j = data;

    spm_config_unref(j->config);
    spm_conn_pool_unref(j->conns);
    g_free(j->key);
    g_free(j->name);
    spm_guest_audit_free(j->audit);
    g_clear_error(&j->error);
    g_slist_free_full(j->waiters, g_free);
    g_free(j);
}

/* The audit as JSON with the domain it is of (what `audit --guest --json` prints). */
static JsonNode *
spm_guest_report_new(const SpmGuestJob *j)
{
    JsonNode *node = spm_guest_audit_to_json(j->audit);
    JsonObject *o = json_node_get_object(node);

    json_object_set_string_member(o, "domain", j->name ? j->name : "");
    json_object_set_string_member(o, "uuid", j->uuid);
    return node;
}

static void
spm_guest_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    SpmGuestJob *j = data;
    virConnectPtr conn = spm_conn_pool_take(j->conns, &j->error);
    virDomainPtr dom = conn ? spm_libvirt_lookup(conn, j->key, &j->error) : NULL;
    gboolean is_spm = FALSE;

    if (!dom) {
        spm_conn_pool_give(j->conns, conn);
        g_task_return_boolean(task, TRUE);
        return;
    }
    virDomainGetUUIDString(dom, j->uuid);
    j->name = g_strdup(virDomainGetName(dom));
    j->run_id = spm_libvirt_run_id(dom);
    if (virDomainIsActive(dom) != 1)
        g_set_error(&j->error, SPM_ERROR, SPM_ERROR_INVALID, "domain '%s' is not running", j->name);
    else if (!(j->audit = spm_guest_audit_domain(dom, &j->config->policy, &j->opts, &is_spm, &j->error)) &&
             !is_spm && (j->not_spm = TRUE))
        g_set_error(&j->error, SPM_ERROR, SPM_ERROR_INVALID,
                    "domain '%s' has no virt-spm metadata: nothing to audit", j->name);
    virDomainFree(dom);
    spm_conn_pool_give(j->conns, conn);
    g_task_return_boolean(task, TRUE);
}

/*
 * Keep @report as the record's guest audit, unless the agent gave nothing
 * (not connected after a libvirtd restart, silent) while an audit it
 * answered for the same run is on record: an agent's silence says nothing
 * of the memory, and must not turn a known mismatch into "undetermined".
 * The silence is noted beside the audit that stands.
 */
static void
spm_guest_record(SpmDomainRecord *r, const SpmGuestJob *j, JsonNode *report)
{
    /* an audit the agent answered has no "error" (spm_guest_audit_to_json) */
    JsonObject *kept = r->guest ? json_node_get_object(r->guest) : NULL;

    if (j->audit->error && kept && !json_object_has_member(kept, "error") &&
        r->guest_run_id == j->run_id) {
        JsonObject *silence = json_object_new();

        json_object_set_string_member(silence, "time", json_object_get_string_member_with_default(
                                          json_node_get_object(report), "time", ""));
        json_object_set_string_member(silence, "error", j->audit->error);
        json_object_set_object_member(kept, "unanswered", silence);
        return;
    }
    if (r->guest)
        json_node_unref(r->guest);
    r->guest = json_node_ref(report);
    r->guest_run_id = j->run_id;
}

static void
spm_guest_done(GObject *source, GAsyncResult *res, gpointer data)
{
    SpmGuestJob *j = g_task_get_task_data(G_TASK(res));
    SpmDaemon *d = j->d;
    g_autoptr(JsonNode) report = NULL;

    /* the job leaves the table (which frees it) only after its waiters ran */
    d->guest_audits++;
    if (j->audit) {
        SpmDomainRecord *r = spm_daemon_record(d, j->uuid, j->name);

        report = spm_guest_report_new(j);
        spm_daemon_log_guest(j->name, j->uuid, j->audit);
        if (r)
            spm_guest_record(r, j, report);
    } else if (!j->not_spm) {
        /* (a guest without virt-spm metadata is none of our business) */
        spm_daemon_log(LOG_WARNING, "guest audit of '%s': %s", j->name ? j->name : j->key,
                       j->error->message);
    }
    j->waiters = g_slist_reverse(j->waiters);
    for (GSList *l = j->waiters; l; l = l->next) {
        SpmGuestWaiterEntry *w = l->data;

        w->func(d, report, j->error, w->data);
    }
    g_hash_table_remove(d->guest_jobs, j->key);
}

void
spm_daemon_guest_audit(SpmDaemon *d, const char *name_or_uuid, SpmGuestWaiter waiter,
                       gpointer user_data)
{
    SpmDomainRecord *r = spm_daemon_record_by_name(d, name_or_uuid);
    /* a name the daemon knows is asked by its UUID: one audit per domain */
    const char *key = r ? r->uuid : name_or_uuid;
    g_autofree char *lower = g_ascii_strdown(key, -1);
    SpmGuestJob *j;
    GTask *task;

    if (!d->conn) {
        g_autoptr(GError) e = g_error_new(SPM_ERROR, SPM_ERROR_LIBVIRT, "not connected to %s yet", d->uri);

        if (waiter)
            waiter(d, NULL, e, user_data);
        return;
    }
    if (!d->guest_jobs)
        d->guest_jobs = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, spm_guest_job_free);
    /* UUIDs in either case are the same domain; names are case-sensitive */
    if (strlen(key) == VIR_UUID_STRING_BUFLEN - 1)
        key = lower;
    j = g_hash_table_lookup(d->guest_jobs, key);
    if (!j) {
        j = g_new0(SpmGuestJob, 1);
        j->d = d;
        j->conns = spm_conn_pool_ref(d->worker_conns);
        j->key = g_strdup(key);
        j->opts = d->guest_opts;
        j->config = spm_config_ref(d->config);
        g_hash_table_insert(d->guest_jobs, j->key, j);
        task = g_task_new(NULL, NULL, spm_guest_done, NULL);
        g_task_set_task_data(task, j, NULL);
        g_task_run_in_thread(task, spm_guest_thread);
        g_object_unref(task);
    }
    if (waiter) {
        SpmGuestWaiterEntry *w = g_new0(SpmGuestWaiterEntry, 1);

        w->func = waiter;
        w->data = user_data;
        j->waiters = g_slist_prepend(j->waiters, w);
    }
}

void
spm_daemon_guest_agent_connected(SpmDaemon *d, const char *uuid, const char *name)
{
    d->agent_events++;
    spm_daemon_guest_audit(d, uuid, NULL, NULL);
}

void
spm_daemon_guest_stop(SpmDaemon *d)
{
    if (d->guest_jobs && g_hash_table_size(d->guest_jobs) == 0)
        g_clear_pointer(&d->guest_jobs, g_hash_table_unref);
}
