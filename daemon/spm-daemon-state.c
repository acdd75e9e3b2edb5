/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-daemon-state.c: the domains the daemon knows, and their state files.
 *
 * One file per domain, STATE_DIR/UUID.json, replaced atomically
 * (g_file_set_contents writes a temporary file and renames it; one left by
 * a daemon killed mid-write is removed at the next start): the last
 * verdict, whether the domain runs, and the boot it was audited in.  The
 * verdict names the libvirt domain id of the run it audited; with the
 * boot id that tells a restarted daemon which runs it has seen, so that
 * the same start is never counted twice (ids restart after a reboot).
 *
 * Also what systemd is told about the daemon (STATUS=).  This file calls
 * only spm-daemon-log.c: the scheduler decides when a record goes.
 */
#include <errno.h>
#include <string.h>
#include <syslog.h>
#include <glib/gstdio.h>
#include <systemd/sd-daemon.h>

#include "spm-daemon.h"
#include "spm-json-guard.h"
#include "spm-safe-dir.h"

static void
spm_record_free(gpointer data)
{
    SpmDomainRecord *r = data;

    g_free(r->uuid);
    g_free(r->name);
    spm_verdict_free(r->last);
    if (r->guest)
        json_node_unref(r->guest);
    g_free(r);
}

/* A libvirt UUID string: the only thing that may name a state file. */
static gboolean
spm_uuid_valid(const char *uuid)
{
    if (!uuid || strlen(uuid) != 36)
        return FALSE;
    for (int i = 0; i < 36; i++) {
        char c = uuid[i];

        if ((i == 8 || i == 13 || i == 18 || i == 23) ? c != '-' : !g_ascii_isxdigit(c))
            return FALSE;
    }
    return TRUE;
}

/* "UUID.json.XXXXXX": a temporary file of g_file_set_contents_full(). */
static gboolean
spm_state_is_temp(const char *entry)
{
    g_autofree char *uuid = g_strndup(entry, 36);

    return strlen(entry) == 36 + strlen(".json.XXXXXX") && spm_uuid_valid(uuid) &&
           g_str_has_prefix(entry + 36, ".json.");
}

SpmDomainRecord *
spm_daemon_record(SpmDaemon *d, const char *uuid, const char *name)
{
    SpmDomainRecord *r;

    if (!spm_uuid_valid(uuid))
        return NULL;
    if (!d->domains)
        d->domains = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, spm_record_free);
    r = g_hash_table_lookup(d->domains, uuid);
    if (!r) {
        r = g_new0(SpmDomainRecord, 1);
        r->uuid = g_ascii_strdown(uuid, -1);
        r->run_id = -1;
        r->created = g_get_monotonic_time();
        g_hash_table_insert(d->domains, r->uuid, r);
    }
    if (name && *name && g_strcmp0(r->name, name) != 0) {
        g_free(r->name);
        r->name = g_strdup(name);
    }
    return r;
}

SpmDomainRecord *
spm_daemon_record_by_name(SpmDaemon *d, const char *name)
{
    GHashTableIter iter;
    gpointer value;

    if (!d->domains)
        return NULL;
    g_hash_table_iter_init(&iter, d->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        SpmDomainRecord *r = value;

        if (g_strcmp0(r->name, name) == 0 || g_strcmp0(r->uuid, name) == 0)
            return r;
    }
    return NULL;
}

char *
spm_daemon_read_boot_id(void)
{
    g_autofree char *text = NULL;

    if (!g_file_get_contents("/proc/sys/kernel/random/boot_id", &text, NULL, NULL))
        return g_strdup("");
    return g_strdup(g_strstrip(text));
}

JsonNode *
spm_daemon_record_to_json(const SpmDomainRecord *r)
{
    JsonNode *node;
    JsonObject *o;

    if (r->last) {
        node = spm_verdict_to_json(r->last);
    } else {
        node = json_node_new(JSON_NODE_OBJECT);
        json_node_take_object(node, json_object_new());
        json_object_set_string_member(json_node_get_object(node), "verdict", "none");
    }
    o = json_node_get_object(node);
    json_object_set_string_member(o, "domain", r->name ? r->name : "");
    json_object_set_string_member(o, "uuid", r->uuid);
    json_object_set_boolean_member(o, "active", r->active);
    json_object_set_boolean_member(o, "auditing", spm_audit_status_busy(&r->audit));
    if (r->guest)
        json_object_set_member(o, "guest", json_node_copy(r->guest));
    return node;
}

void
spm_daemon_state_save(SpmDaemon *d, SpmDomainRecord *r)
{
    g_autoptr(JsonNode) node = spm_daemon_record_to_json(r);
    g_autofree char *path = NULL;
    g_autofree char *text = NULL;
    g_autoptr(GError) error = NULL;

    json_object_set_string_member(json_node_get_object(node), "boot_id", d->boot_id);
    text = json_to_string(node, TRUE);
    path = g_strdup_printf("%s/%s.json", d->state_dir, r->uuid);
    if (!g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
        spm_daemon_log(LOG_ERR, "state file '%s': %s", path, error->message);
}

void
spm_daemon_record_drop(SpmDaemon *d, SpmDomainRecord *r)
{
    /* the queue, a worker's result and the waiters all point at a busy one */
    g_assert(r->audit.state == SPM_AUDIT_IDLE && !r->waiters);
    g_hash_table_remove(d->domains, r->uuid);
}

void
spm_daemon_state_remove(SpmDaemon *d, SpmDomainRecord *r)
{
    g_autofree char *path = g_strdup_printf("%s/%s.json", d->state_dir, r->uuid);

    if (g_unlink(path) < 0 && errno != ENOENT)
        spm_daemon_log(LOG_ERR, "state file '%s': %s", path, g_strerror(errno));
    if (r->last)
        spm_daemon_log(LOG_INFO, "domain '%s' (%s) is no longer defined: forgotten",
                       r->name ? r->name : "", r->uuid);
    spm_daemon_record_drop(d, r);
}

void
spm_daemon_update_status(SpmDaemon *d)
{
    guint n = 0;
    GHashTableIter iter;
    gpointer value;

    if (d->domains) {
        g_hash_table_iter_init(&iter, d->domains);
        while (g_hash_table_iter_next(&iter, NULL, &value))
            n += ((SpmDomainRecord *) value)->last != NULL;
    }
    if (d->conn)
        sd_notifyf(0, "STATUS=connected to %s; %u SPM domains; %" G_GUINT64_FORMAT " audits",
                   d->uri, n, d->audits_done);
    else
        sd_notifyf(0, "STATUS=waiting for libvirt at %s (retry in %u ms)", d->uri, d->backoff_ms);
}

void
spm_daemon_state_load(SpmDaemon *d)
{
    g_autoptr(GDir) dir = NULL;
    g_autoptr(GError) error = NULL;
    const char *entry;

    /* root reads and writes verdicts here: ours and 0700, or not used */
    if (!spm_safe_dir_ensure(d->state_dir, SPM_SAFE_DIR_CREATE | SPM_SAFE_DIR_TRUSTED |
                             SPM_SAFE_DIR_FIX_MODE, 0700, &error)) {
        spm_daemon_log(LOG_ERR, "state directory: %s", error->message);
        return;
    }
    if (!(dir = g_dir_open(d->state_dir, 0, &error))) {
        spm_daemon_log(LOG_ERR, "state directory '%s': %s", d->state_dir, error->message);
        return;
    }
    while ((entry = g_dir_read_name(dir))) {
        g_autofree char *uuid = NULL;
        g_autofree char *path = NULL;
        g_autofree char *text = NULL;
        g_autoptr(GError) local = NULL;
        g_autoptr(JsonNode) root = NULL;
        SpmVerdict *v;
        SpmDomainRecord *r;
        JsonObject *o;
        const char *boot;

        if (spm_state_is_temp(entry)) {
            /* a daemon killed while writing: the file it was replacing is whole */
            path = g_build_filename(d->state_dir, entry, NULL);
            if (g_unlink(path) == 0)
                spm_daemon_log(LOG_INFO, "removed the unfinished state file '%s'", path);
            continue;
        }
        if (!g_str_has_suffix(entry, ".json"))
            continue;
        uuid = g_strndup(entry, strlen(entry) - 5);
        path = g_build_filename(d->state_dir, entry, NULL);
        if (!spm_uuid_valid(uuid) ||
            !g_file_get_contents(path, &text, NULL, &local) ||
            !(root = spm_json_guard_parse(text, strlen(text), SPM_JSON_MAX_DEPTH, &local)) ||
            !JSON_NODE_HOLDS_OBJECT(root) ||
            !(v = spm_verdict_from_json(root, &local))) {
            spm_daemon_log(LOG_WARNING, "ignoring state file '%s': %s", path,
                           local ? local->message : "not a virt-spm state file");
            continue;
        }
        o = json_node_get_object(root);
        r = spm_daemon_record(d, uuid, v->domain);
        spm_verdict_free(r->last);
        r->last = v;
        boot = json_object_get_string_member_with_default(o, "boot_id", "");
        /* a run of an earlier boot is not a run of this one */
        if (g_strcmp0(boot, d->boot_id) != 0) {
            v->domain_id = -1;
            r->active = FALSE;
        } else {
            r->active = json_object_get_boolean_member_with_default(o, "active", FALSE);
        }
    }
}
