/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-daemon-ledger.c: virt-spmd keeps the host HBM ledger equal to the
 * running domains.
 *
 * The hook reserves at prepare and releases at stopped/release end, but a
 * hook that never ran (libvirtd killed, a crashed QEMU reaped while
 * libvirtd was down, the daemon itself restarted with a lost /run) must not
 * leak a reservation for long.  So after every (re)connection to libvirt
 * and after every started/stopped event, virt-spmd lists the running
 * domains, computes each SPM domain's holding from its live XML (the same
 * plan the hook reserved), and reconciles the ledger with them
 * (spm_ledger_reconcile()).  libvirt is only called with the ledger
 * unlocked -- the hook holds the ledger lock while libvirt holds the domain
 * -- and a reservation made after the listing began is never dropped.
 *
 * One reconciliation at a time, in a worker thread; a request while one
 * runs makes it run once more.  virt-spmd is one per process, so the state
 * here is file-static.
 */
#include <errno.h>
#include <stdio.h>
#include <syslog.h>

#include "spm-audit-domain.h"
#include "spm-convert.h"
#include "spm-daemon.h"
#include "spm-daemon-ledger.h"
#include "spm-error.h"
#include "spm-host-inventory.h"
#include "spm-ledger-domain.h"
#include "spm-xml.h"

/* A holding younger than this, of a domain not (yet) listed, is a start in progress. */
#define SPM_LEDGER_GRACE_US (30 * G_USEC_PER_SEC)
/*
 * After a stopped event libvirt may still list the domain as active while
 * it tears it down (libvirt 12.8, a QEMU found dead at libvirtd's restart):
 * one more reconcile this much later sees it gone.
 */
#define SPM_LEDGER_SETTLE_S 2

static struct {
    gboolean busy;
    gboolean again;
    guint recheck_source;       /* a run planned for later */
    gint64 recheck_due;         /* when (monotonic) */
    guint64 runs;
    char *last_error;           /* of the last run; NULL = fine */
    char *last_time;
} spm_ledger_state;

typedef struct {
    virConnectPtr conn;
    SpmConfig *config;          /* a reference: the worker may outlive the daemon's */
    guint dropped;
    guint running;
    gint64 kept_fresh;          /* see spm_ledger_reconcile() */
} SpmReconcileJob;

static void
spm_reconcile_job_free(gpointer data)
{
    SpmReconcileJob *job = data;

    if (job->conn)
        virConnectClose(job->conn);
    spm_config_unref(job->config);
    g_free(job);
}

/* The holding of one running domain; FALSE when the XML cannot tell (keep the old one). */
static gboolean
spm_reconcile_domain(virDomainPtr dom, const SpmPlanPolicy *policy, SpmLedgerHolding **out)
{
    g_autofree char *xml = virDomainGetXMLDesc(dom, 0);
    g_autoptr(GError) error = NULL;
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(SpmPlan) plan = NULL;     /* freed before the def it borrows */
    g_autoptr(SpmDomainDef) def = NULL;
    g_auto(SpmPlanPolicy) effective = { 0 };
    char uuid[VIR_UUID_STRING_BUFLEN];

    *out = NULL;
    /*
     * Without virt-spm metadata the XML cannot tell what it holds (a guest
     * whose plan lives elsewhere, as Nova's): it runs, so what the hook
     * reserved for it stays.
     */
    if (!xml || !strstr(xml, SPM_XMLNS))
        return FALSE;
    if (!(doc = spm_xml_read_memory(xml, strlen(xml), "live domain XML", &error)))
        goto fail;
    if (!spm_xml_metadata_element(xmlDocGetRootElement(doc)))
        return FALSE;
    /* what it runs with: the plan of its metadata under its recorded policy, as the audit */
    spm_audit_strip_live_memory(doc, NULL);
    if (!spm_convert_recorded_policy(doc, policy, &effective, &error) ||
        !spm_convert_forward(doc, &effective, &plan, &def, &error))
        goto fail;
    virDomainGetUUIDString(dom, uuid);
    *out = spm_ledger_holding_from_plan(plan, uuid, virDomainGetName(dom));
    return TRUE;

fail:
    spm_daemon_log(LOG_WARNING, "HBM ledger: domain '%s': %s; keeping its reservation",
                   virDomainGetName(dom), error->message);
    return FALSE;
}

static void
spm_reconcile_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    SpmReconcileJob *job = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(SpmHostInventory) inv = NULL;
    g_autoptr(GPtrArray) running = g_ptr_array_new_with_free_func((GDestroyNotify)spm_ledger_holding_free);
    g_autoptr(GHashTable) keep = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    g_autoptr(SpmLedger) ledger = NULL;
    virDomainPtr *doms = NULL;
    gint64 listed_since;
    int n;

    if (!(inv = spm_host_inventory_load(job->config->keyfile, NULL, &error))) {
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    if (spm_host_inventory_is_empty(inv)) {
        g_task_return_boolean(task, TRUE); /* no HBM inventory: no ledger */
        return;
    }

    listed_since = g_get_real_time();
    if ((n = virConnectListAllDomains(job->conn, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE)) < 0) {
        g_task_return_new_error(task, SPM_ERROR, SPM_ERROR_LIBVIRT,
                                "HBM ledger: cannot list the running domains");
        return;
    }
    for (int i = 0; i < n; i++) {
        SpmLedgerHolding *h = NULL;
        gboolean computed = spm_reconcile_domain(doms[i], &job->config->policy, &h);

        /*
         * Listed while it was stopping: libvirt may list a domain as active
         * for a moment after its stopped event.  What does not run now
         * holds nothing (young holdings keep their grace).
         */
        if (virDomainIsActive(doms[i]) == 0) {
            spm_ledger_holding_free(h);
        } else if (!computed) {
            char uuid[VIR_UUID_STRING_BUFLEN];

            virDomainGetUUIDString(doms[i], uuid);
            g_hash_table_add(keep, g_strdup(uuid));
        } else if (h) {
            g_ptr_array_add(running, h);
        }
        virDomainFree(doms[i]);
    }
    free(doms);

    if (!(ledger = spm_ledger_open(NULL, SPM_LEDGER_WRITE, &error))) {
        /* a corrupt ledger is rebuilt from what runs: that is the repair */
        if (!g_error_matches(error, SPM_ERROR, SPM_ERROR_INVALID)) {
            g_task_return_error(task, g_steal_pointer(&error));
            return;
        }
        spm_daemon_log(LOG_WARNING, "%s: rebuilding it", error->message);
        g_clear_error(&error);
        {
            g_autofree char *path = g_build_filename(spm_ledger_default_dir(), "ledger.json", NULL);
            g_autofree char *aside = g_strdup_printf("%s.corrupt", path);

            if (rename(path, aside) < 0 ||
                !(ledger = spm_ledger_open(NULL, SPM_LEDGER_WRITE, &error))) {
                if (!error)
                    g_set_error(&error, SPM_ERROR, SPM_ERROR_SYSTEM,
                                "HBM ledger '%s' cannot be moved aside: %s", path, g_strerror(errno));
                g_task_return_error(task, g_steal_pointer(&error));
                return;
            }
        }
    }
    spm_ledger_reconcile(ledger, running, keep, listed_since - SPM_LEDGER_GRACE_US, &job->dropped,
                         &job->kept_fresh);
    job->running = running->len;
    if (!spm_ledger_commit(ledger, &error)) {
        g_task_return_error(task, g_steal_pointer(&error));
        return;
    }
    g_task_return_boolean(task, TRUE);
}

static void spm_daemon_ledger_run(SpmDaemon *d);

static gboolean
spm_reconcile_recheck(gpointer data)
{
    spm_ledger_state.recheck_source = 0;
    spm_daemon_ledger_run(data);
    return G_SOURCE_REMOVE;
}

/* Reconcile again in @wait_s seconds, or sooner if already asked. */
static void
spm_reconcile_schedule_recheck(SpmDaemon *d, guint wait_s)
{
    gint64 due = g_get_monotonic_time() + (gint64)wait_s * G_USEC_PER_SEC;

    if (spm_ledger_state.recheck_source) {
        if (spm_ledger_state.recheck_due <= due)
            return;
        g_source_remove(spm_ledger_state.recheck_source);
    }
    spm_ledger_state.recheck_due = due;
    spm_ledger_state.recheck_source = g_timeout_add_seconds(wait_s, spm_reconcile_recheck, d);
}

static void
spm_reconcile_done(GObject *source, GAsyncResult *res, gpointer data)
{
    SpmDaemon *d = data;
    SpmReconcileJob *job = g_task_get_task_data(G_TASK(res));
    g_autoptr(GError) error = NULL;
    g_autoptr(GDateTime) now = g_date_time_new_now_utc();

    spm_ledger_state.busy = FALSE;
    spm_ledger_state.runs++;
    g_free(spm_ledger_state.last_time);
    spm_ledger_state.last_time = g_date_time_format_iso8601(now);
    g_clear_pointer(&spm_ledger_state.last_error, g_free);
    if (!g_task_propagate_boolean(G_TASK(res), &error)) {
        spm_daemon_log(LOG_ERR, "%s", error->message);
        spm_ledger_state.last_error = g_strdup(error->message);
    } else if (job->dropped) {
        spm_daemon_log(LOG_NOTICE, "HBM ledger: released %u reservations of domains that no longer run",
                       job->dropped);
    }
    /*
     * A holding of a domain that does not run was kept as a start in
     * progress: look again when its grace is over, whatever else happens
     * (a guest killed in its first seconds sends no further event).
     */
    if (job->kept_fresh) {
        gint64 wait_us = job->kept_fresh + SPM_LEDGER_GRACE_US - g_get_real_time();

        spm_reconcile_schedule_recheck(d, CLAMP(wait_us / G_USEC_PER_SEC + 1, 1,
                                                SPM_LEDGER_GRACE_US / G_USEC_PER_SEC + 1));
    }
    if (spm_ledger_state.again) {
        spm_ledger_state.again = FALSE;
        spm_daemon_ledger_run(d);
    }
}

static void
spm_daemon_ledger_run(SpmDaemon *d)
{
    GTask *task;
    SpmReconcileJob *job;

    if (!d->conn)
        return; /* the next connection reconciles */
    if (spm_ledger_state.busy) {
        spm_ledger_state.again = TRUE;
        return;
    }
    spm_ledger_state.busy = TRUE;
    job = g_new0(SpmReconcileJob, 1);
    job->conn = d->conn;
    virConnectRef(job->conn);
    job->config = spm_config_ref(d->config);
    task = g_task_new(NULL, NULL, spm_reconcile_done, d);
    g_task_set_task_data(task, job, spm_reconcile_job_free);
    g_task_run_in_thread(task, spm_reconcile_thread);
    g_object_unref(task);
}

void
spm_daemon_ledger_reconcile(SpmDaemon *d)
{
    spm_daemon_ledger_run(d);
}

void
spm_daemon_ledger_reconcile_settled(SpmDaemon *d)
{
    spm_daemon_ledger_run(d);
    spm_reconcile_schedule_recheck(d, SPM_LEDGER_SETTLE_S);
}

JsonNode *
spm_daemon_ledger_status(SpmDaemon *d)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpmHostInventory) inv = spm_host_inventory_load(d->config->keyfile, NULL, &error);
    g_autoptr(SpmLedger) ledger = NULL;
    JsonNode *node = NULL;
    JsonObject *o;

    if (inv && (ledger = spm_ledger_open(NULL, SPM_LEDGER_READ, &error)))
        node = spm_ledger_to_json(ledger, inv);
    if (!node) {
        /* json_node_init_object() would take a reference of its own */
        node = json_node_new(JSON_NODE_OBJECT);
        json_node_take_object(node, json_object_new());
        json_object_set_string_member(json_node_get_object(node), "error", error->message);
    }
    o = json_node_get_object(node);
    json_object_set_string_member(o, "dir", spm_ledger_default_dir());
    json_object_set_int_member(o, "reconciliations", spm_ledger_state.runs);
    if (spm_ledger_state.last_time)
        json_object_set_string_member(o, "reconciled", spm_ledger_state.last_time);
    if (spm_ledger_state.last_error)
        json_object_set_string_member(o, "reconcile_error", spm_ledger_state.last_error);
    return node;
}
