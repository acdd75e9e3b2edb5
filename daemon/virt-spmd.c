/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virt-spmd.c: the daemon that audits every started SPM guest over QMP.
 *
 * See docs/virt-spmd.md and virt-spmd(8).
 */
#include <locale.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <syslog.h>
#include <glib-unix.h>
#include <systemd/sd-daemon.h>

#include "spm-build-config.h"
#include "spm-control.h"
#include "spm-daemon.h"
#include "spm-daemon-guest.h"
#include "spm-daemon-control.h"
#include "spm-daemon-libvirt.h"
#include "spm-daemon-placement.h"
#include "spm-error.h"

static gboolean
spm_watchdog_cb(gpointer data)
{
    /* from the main loop: a hung loop stops the pings and systemd restarts us */
    sd_notify(0, "WATCHDOG=1");
    return G_SOURCE_CONTINUE;
}

static gboolean
spm_quit_cb(gpointer data)
{
    SpmDaemon *d = data;

    sd_notify(0, "STOPPING=1");
    spm_daemon_log(LOG_INFO, "stopping");
    g_main_loop_quit(d->loop);
    return G_SOURCE_REMOVE;
}

static gboolean
spm_get_uint(GKeyFile *kf, const char *key, guint *out, guint min, guint max, GError **error)
{
    g_autoptr(GError) local = NULL;
    gint64 v;

    if (!g_key_file_has_key(kf, "daemon", key, NULL))
        return TRUE;
    v = g_key_file_get_int64(kf, "daemon", key, &local);
    if (local || v < min || v > max) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "[daemon] %s: expected an integer from %u to %u", key, min, max);
        return FALSE;
    }
    *out = v;
    return TRUE;
}

int
main(int argc, char **argv)
{
    g_autofree char *config_path = NULL;
    g_autofree char *uri = NULL;
    g_autofree char *state_dir = NULL;
    g_autofree char *socket_path = NULL;
    gint64 allow_uid = -1;
    gboolean journal = FALSE;
    gboolean version = FALSE;
    GOptionEntry entries[] = {
        { "config", 0, 0, G_OPTION_ARG_FILENAME, &config_path, "configuration file (default: " VIRT_SPM_SYSCONFDIR "/virt-spm.conf)", "FILE" },
        { "connect", 'c', 0, G_OPTION_ARG_STRING, &uri, "libvirt URI (default: [daemon] uri, or qemu:///system)", "URI" },
        { "state-dir", 0, 0, G_OPTION_ARG_FILENAME, &state_dir, "state files (default: [daemon] state_dir, or " VIRT_SPM_STATEDIR ")", "DIR" },
        { "socket", 0, 0, G_OPTION_ARG_FILENAME, &socket_path, "control socket when not socket-activated", "PATH" },
        { "allow-uid", 0, 0, G_OPTION_ARG_INT64, &allow_uid, "also accept control clients of this uid (tests)", "UID" },
        { "journal", 0, 0, G_OPTION_ARG_NONE, &journal, "log to the journal even when stderr is not a journal stream", NULL },
        { "version", 'V', 0, G_OPTION_ARG_NONE, &version, "print the version", NULL },
        { NULL }
    };
    g_autoptr(GOptionContext) octx = g_option_context_new("- audit SPM guests over QMP");

    /*
     * A guest's agent may hand libvirt replies of megabytes (the guest
     * audit refuses them, but libvirt has read them into one string by
     * then).  glibc raises its mmap threshold after the first such block
     * is freed, and keeps the next ones in the heap of whichever worker
     * thread took them: a fixed threshold gives every large block back
     * to the system when it is freed.
     */
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
    g_autoptr(GError) error = NULL;
    SpmDaemon daemon = { 0 };
    SpmDaemonPlacement *placement = NULL;
    SpmDaemon *d = &daemon;
    GKeyFile *kf;
    guint64 usec = 0;

    setlocale(LC_ALL, "");
    signal(SIGPIPE, SIG_IGN);
    g_option_context_add_main_entries(octx, entries, NULL);
    if (!g_option_context_parse(octx, &argc, &argv, &error)) {
        fprintf(stderr, "virt-spmd: %s\n", error->message);
        return 2;
    }
    if (version) {
        printf("%s\n", VIRT_SPM_VERSION);
        return 0;
    }
    spm_daemon_log_init(journal);

    if (!(d->config = spm_config_load(config_path, &error))) {
        spm_daemon_log(LOG_ERR, "%s", error->message);
        return 1;
    }
    kf = d->config->keyfile;
    d->uri = g_strdup(uri ? uri : d->config->uri ? d->config->uri : "qemu:///system");
    d->worker_conns = spm_conn_pool_new(d->uri);
    d->state_dir = state_dir ? g_strdup(state_dir) : g_key_file_get_string(kf, "daemon", "state_dir", NULL);
    if (!d->state_dir)
        d->state_dir = g_strdup(VIRT_SPM_STATEDIR);
    d->socket_path = socket_path ? g_strdup(socket_path) : g_key_file_get_string(kf, "daemon", "socket", NULL);
    if (!d->socket_path)
        d->socket_path = g_strdup(spm_control_socket_path());
    d->allow_uid = allow_uid;
    d->event_callback = -1;
    d->max_parallel = 4;
    d->reconnect_min_ms = 250;
    d->reconnect_max_ms = 30000;
    d->retry_ms = 1000;
    d->max_attempts = 5;
    d->audit_timeout_ms = 30000;
    if (!spm_get_uint(kf, "max_parallel_audits", &d->max_parallel, 1, 256, &error) ||
        !spm_get_uint(kf, "reconnect_min_ms", &d->reconnect_min_ms, 10, 600000, &error) ||
        !spm_get_uint(kf, "reconnect_max_ms", &d->reconnect_max_ms, 10, 3600000, &error) ||
        !spm_get_uint(kf, "audit_retry_ms", &d->retry_ms, 10, 600000, &error) ||
        !spm_get_uint(kf, "audit_attempts", &d->max_attempts, 1, 100, &error) ||
        !spm_get_uint(kf, "audit_timeout_ms", &d->audit_timeout_ms, 100, 3600000, &error)) {
        spm_daemon_log(LOG_ERR, "%s", error->message);
        return 1;
    }
    d->reconnect_max_ms = MAX(d->reconnect_max_ms, d->reconnect_min_ms);
    d->agent_callback = -1;
    if (!spm_guest_agent_options_load(kf, &d->guest_opts, &error)) {
        spm_daemon_log(LOG_ERR, "%s", error->message);
        return 1;
    }
    d->boot_id = spm_daemon_read_boot_id();
    d->ctx = g_main_context_default();
    d->loop = g_main_loop_new(d->ctx, FALSE);
    g_queue_init(&d->queue);

    /* at once, and then every [placement] sync_interval: from the main loop */
    if (!(placement = spm_daemon_placement_start(kf, config_path, &error)) && error) {
        spm_daemon_log(LOG_ERR, "%s", error->message);
        return 1;
    }
    spm_daemon_state_load(d);
    if (!spm_daemon_control_start(d, &error)) {
        spm_daemon_log(LOG_ERR, "%s", error->message);
        return 1;
    }
    spm_daemon_libvirt_start(d);

    g_unix_signal_add(SIGTERM, spm_quit_cb, d);
    g_unix_signal_add(SIGINT, spm_quit_cb, d);
    if (sd_watchdog_enabled(FALSE, &usec) > 0 && usec > 0)
        g_timeout_add(MAX(usec / 2000, 1), spm_watchdog_cb, d);

    spm_daemon_log(LOG_INFO, "started (uri %s, state %s, control %s)",
                   d->uri, d->state_dir, d->socket_path);
    sd_notify(0, "READY=1");
    spm_daemon_update_status(d);
    g_main_loop_run(d->loop);

    spm_daemon_placement_stop(placement);
    g_socket_service_stop(d->service);
    g_clear_object(&d->service);
    spm_daemon_disconnect(d);
    spm_daemon_libvirt_stop(d);
    g_queue_clear(&d->queue);
    spm_daemon_guest_stop(d);
    g_clear_pointer(&d->domains, g_hash_table_unref);
    spm_config_unref(d->config);
    spm_conn_pool_unref(d->worker_conns);
    g_free(d->uri);
    g_free(d->state_dir);
    g_free(d->socket_path);
    g_free(d->boot_id);
    g_main_loop_unref(d->loop);
    return 0;
}
