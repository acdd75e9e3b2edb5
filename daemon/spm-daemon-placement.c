/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-daemon-placement.c: the periodic Placement sync of virt-spmd
 */
#include <string.h>
#include <syslog.h>
#include <gio/gio.h>

#include "spm-build-config.h"
#include "spm-daemon.h"
#include "spm-daemon-placement.h"
#include "spm-env.h"
#include "spm-error.h"

#define SPM_PLACEMENT_GROUP "placement"
#define SPM_PLACEMENT_DEFAULT_INTERVAL 300
/* a sync that has not ended by then is killed; the next tick tries again */
#define SPM_PLACEMENT_SYNC_DEADLINE_S 120

struct _SpmDaemonPlacement {
    GPtrArray *argv;
    guint interval_s;
    guint timer;
    guint deadline;
    GSubprocess *running;
    GCancellable *cancel;
};

static void spm_daemon_placement_run(SpmDaemonPlacement *p);

static void
spm_daemon_placement_done(GObject *source, GAsyncResult *result, gpointer data)
{
    SpmDaemonPlacement *p = data;
    GSubprocess *proc = G_SUBPROCESS(source);
    g_autoptr(GError) error = NULL;
    g_autofree char *out = NULL;
    g_auto(GStrv) lines = NULL;
    const char *last = NULL;
    gboolean ok;

    if (!g_subprocess_communicate_utf8_finish(proc, result, &out, NULL, &error)) {
        if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            return;     /* stopping: @p is gone */
        spm_daemon_log(LOG_WARNING, "Placement sync: %s", error->message);
    }
    ok = g_subprocess_get_if_exited(proc) && g_subprocess_get_exit_status(proc) == 0;
    lines = g_strsplit(out ? out : "", "\n", -1);
    for (guint i = 0; lines[i]; i++) {
        char *line = g_strstrip(lines[i]);

        if (!*line)
            continue;
        last = line;
        /* "cn1: Placement already matches host nodes 2, 3": nothing to say */
        if (ok && !strstr(line, "Placement already matches"))
            spm_daemon_log(LOG_NOTICE, "Placement sync repaired: %s", line);
    }
    if (!ok)
        spm_daemon_log(LOG_WARNING, "Placement sync failed (retried in %u s): %s", p->interval_s,
                       last ? (g_str_has_prefix(last, "error: ") ? last + 7 : last)
                            : "killed, or no message");
    g_clear_handle_id(&p->deadline, g_source_remove);
    g_clear_object(&p->running);
}

static gboolean
spm_daemon_placement_deadline(gpointer data)
{
    SpmDaemonPlacement *p = data;

    p->deadline = 0;
    if (p->running)
        g_subprocess_force_exit(p->running);
    return G_SOURCE_REMOVE;
}

static void
spm_daemon_placement_run(SpmDaemonPlacement *p)
{
    g_autoptr(GError) error = NULL;

    if (p->running)
        return;     /* the last one is still at it: one at a time */
    p->running = g_subprocess_newv((const char *const *)p->argv->pdata,
                                   G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE,
                                   &error);
    if (!p->running) {
        spm_daemon_log(LOG_WARNING, "Placement sync: cannot run '%s': %s",
                       (char *)p->argv->pdata[0], error->message);
        return;
    }
    p->deadline = g_timeout_add_seconds(SPM_PLACEMENT_SYNC_DEADLINE_S, spm_daemon_placement_deadline, p);
    g_subprocess_communicate_utf8_async(p->running, NULL, p->cancel, spm_daemon_placement_done, p);
}

static gboolean
spm_daemon_placement_tick(gpointer data)
{
    spm_daemon_placement_run(data);
    return G_SOURCE_CONTINUE;
}

SpmDaemonPlacement *
spm_daemon_placement_start(GKeyFile *kf, const char *config_path, GError **error)
{
    SpmDaemonPlacement *p;
    const char *prog = spm_env(SPM_ENV_PLACEMENT_SYNC);
    g_autofree char *host = NULL;
    g_autofree char *nova_conf = NULL;
    gint64 interval = SPM_PLACEMENT_DEFAULT_INTERVAL;

    if (!kf || !g_key_file_has_group(kf, SPM_PLACEMENT_GROUP))
        return NULL;
    if (g_key_file_has_key(kf, SPM_PLACEMENT_GROUP, "sync_interval", NULL)) {
        g_autoptr(GError) local = NULL;

        interval = g_key_file_get_int64(kf, SPM_PLACEMENT_GROUP, "sync_interval", &local);
        if (local || interval < 1 || interval > 86400) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "[placement] sync_interval: expected a number of seconds from 1 to 86400");
            return NULL;
        }
    }
    host = g_key_file_get_string(kf, SPM_PLACEMENT_GROUP, "host", NULL);
    nova_conf = g_key_file_get_string(kf, SPM_PLACEMENT_GROUP, "nova_conf", NULL);

    p = g_new0(SpmDaemonPlacement, 1);
    p->interval_s = interval;
    p->cancel = g_cancellable_new();
    p->argv = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(p->argv, g_strdup(prog ? prog : VIRT_SPM_LIBEXECDIR "/virt-spm-placement-sync"));
    /* the agent reads the ledger's view with `virt-spm host --json` (virt-spm in PATH) */
    if (config_path) {
        g_ptr_array_add(p->argv, g_strdup("--config"));
        g_ptr_array_add(p->argv, g_strdup(config_path));
    }
    if (host && *g_strstrip(host)) {
        g_ptr_array_add(p->argv, g_strdup("--host"));
        g_ptr_array_add(p->argv, g_strdup(host));
    }
    if (nova_conf && *g_strstrip(nova_conf)) {
        g_ptr_array_add(p->argv, g_strdup("--nova-conf"));
        g_ptr_array_add(p->argv, g_strdup(nova_conf));
    }
    g_ptr_array_add(p->argv, NULL);
    spm_daemon_placement_run(p);
    p->timer = g_timeout_add_seconds(p->interval_s, spm_daemon_placement_tick, p);
    spm_daemon_log(LOG_INFO, "Placement sync every %u s", p->interval_s);
    return p;
}

void
spm_daemon_placement_stop(SpmDaemonPlacement *p)
{
    if (!p)
        return;
    g_clear_handle_id(&p->timer, g_source_remove);
    g_clear_handle_id(&p->deadline, g_source_remove);
    g_cancellable_cancel(p->cancel);
    if (p->running)
        g_subprocess_force_exit(p->running);
    g_clear_object(&p->running);
    g_clear_object(&p->cancel);
    g_ptr_array_unref(p->argv);
    g_free(p);
}
