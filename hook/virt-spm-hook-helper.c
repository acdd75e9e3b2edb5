/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-hook-main.c: virt-spm-hook-helper, the libvirt qemu hook's work for
 * domains with SPM metadata (the front end virt-spm-hook.c passes them on).
 *
 * It never calls libvirt: libvirt waits for the hook while holding the
 * domain, so any call back would deadlock.  It does not even load libvirt:
 * the daemon's version comes from the daemon's binary (spm-libvirt-version.h).
 *
 * Environment, for tests: VIRT_SPM_HOOK_CONFIG (configuration file),
 * VIRT_SPM_HOOK_CACHE_DIR (emulator probe cache), VIRT_SPM_HOOK_LIBVIRT_VERSION
 * (e.g. 9000000 to act as libvirt 9.0.0), VIRT_SPM_SYSFS_ROOT (a fake
 * /sys for the huge page pools and HBM nodes), VIRT_SPM_QEMU_CONF
 * (libvirt's qemu.conf), VIRT_SPM_CONTROL_SOCKET.
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <gio/gio.h>
#include <gio/gunixinputstream.h>

#include "spm-config.h"
#include "spm-env.h"
#include "spm-control.h"
#include "spm-emulator-probe.h"
#include "spm-error.h"
#include "spm-hook-decide.h"
#include "spm-hook-nova.h"
#include "spm-hook-ledger.h"
#include "spm-hook-migrate.h"
#include "spm-hook-ops.h"
#include "spm-host-inventory.h"
#include "spm-hugepages.h"
#include "spm-libvirt-version.h"
#include "spm-memdir.h"
#include "spm-xml.h"

/* The hook hands events over and never waits for the audit: the notification is bounded. */
#define SPM_HOOK_NOTIFY_TIMEOUT_MS 200

static gboolean
spm_hook_probe(const char *emulator, const char *driver, gboolean *has_device,
               gpointer opaque, GError **error)
{
    return spm_emulator_probe(emulator, driver, spm_emulator_cache_dir(), has_device, error);
}

static gboolean
spm_hook_check_pages(const SpmPlan *plan, const SpmDomainDef *def, gpointer opaque,
                     GError **error)
{
    return spm_hugepages_check(plan, def, spm_host_sysfs_root(), error);
}

/* start begin: the directories QEMU will put its files in, or why not */
static gboolean
spm_hook_make_dirs(const SpmHookDecision *decision, GError **error)
{
    uid_t uid = 0;
    gid_t gid = 0;

    if (decision->dac_label &&
        !spm_memdir_parse_dac_label(decision->dac_label, &uid, &gid, error))
        return FALSE;
    for (guint i = 0; i < decision->make_dirs->len; i++) {
        if (!spm_memdir_create(decision->make_dirs->pdata[i], uid, gid,
                               decision->selinux_label, error))
            return FALSE;
    }
    return TRUE;
}

/* After a stop nothing can be refused: say what was left, and go on. */
static void
spm_hook_remove_dirs(const char *domain, const SpmHookDecision *decision)
{
    for (guint i = 0; i < decision->remove_dirs->len; i++) {
        g_autoptr(GError) error = NULL;

        if (!spm_memdir_remove(decision->remove_dirs->pdata[i], &error))
            fprintf(stderr, "virt-spm: domain '%s': %s\n", domain, error->message);
    }
}

static guint
spm_hook_libvirt_version(const SpmConfig *config)
{
    const char *env = spm_env(SPM_ENV_HOOK_LIBVIRT_VERSION);
    guint version;

    if (env && *env)
        return (guint)g_ascii_strtoull(env, NULL, 10);
    /* the daemon that runs us; run by hand, what the configuration says */
    if ((version = spm_libvirt_daemon_version(NULL, spm_emulator_cache_dir())))
        return version;
    return config->policy.host.libvirt_version;
}

static char *
spm_hook_read_stdin(gsize *len, GError **error)
{
    g_autoptr(GInputStream) in = g_unix_input_stream_new(STDIN_FILENO, FALSE);
    g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable();
    gssize n;

    n = g_output_stream_splice(out, in, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, error);
    if (n < 0)
        return NULL;
    *len = g_memory_output_stream_get_data_size(G_MEMORY_OUTPUT_STREAM(out));
    if (*len == 0)
        return g_strdup(""); /* no data is no error: the decision says what it means */
    return g_memory_output_stream_steal_data(G_MEMORY_OUTPUT_STREAM(out));
}

int
main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpmConfig) config = NULL;
    g_auto(SpmHookDecision) decision = { 0 };
    g_autofree char *xml = NULL;
    SpmHookFacts facts = { 0 };
    gsize len = 0;
    gboolean may_refuse;

    if (argc < 4) {
        fprintf(stderr, "usage: %s DOMAIN OP SUBOP EXTRA < domain.xml\n", argv[0]);
        return 2;
    }
    may_refuse = spm_hook_op_may_refuse(spm_hook_op_parse(argv[2], argv[3]));

    if (!(xml = spm_hook_read_stdin(&len, &error))) {
        fprintf(stderr, "virt-spm: reading the domain XML of '%s': %s\n", argv[1], error->message);
        return may_refuse ? 1 : 0;
    }

    if (!(config = spm_config_load(spm_env(SPM_ENV_HOOK_CONFIG), &error))) {
        /* without its configuration the hook cannot re-plan: it must not guess */
        if (may_refuse) {
            fprintf(stderr, "virt-spm: refusing to %s domain '%s': %s\n",
                    argv[2], argv[1], error->message);
            return 1;
        }
        return 0;
    }
    facts.libvirt_version = spm_hook_libvirt_version(config);
    facts.policy = &config->policy;
    facts.probe = spm_hook_probe;
    facts.check_pages = spm_hook_check_pages;
    /* unset or malformed: false, the safe side (docs/libvirt.md, "Live migration") */
    facts.migrates_memory = g_key_file_get_boolean(config->keyfile, "qemu", "migrate_memory", NULL);

    {
        gboolean nova = FALSE;

        /* Nova's domains: their flavor decides (spm-hook-nova.h) */
        spm_hook_nova_decide(argv[2], argv[3], xml, len, &facts, config->keyfile, &nova, &decision);
        if (!nova)
            spm_hook_decide(argv[2], argv[3], xml, len, &facts, &decision);
    }

    if (decision.warning) {
        g_autofree char *line = g_strdup_printf("virt-spm: warning: %s", decision.warning);

        fprintf(stderr, "%s\n", line);
        spm_hook_journal_warning(line);
    }
    if (decision.release)
        spm_hook_ledger_release(decision.uuid, decision.domain);
    if (decision.remove_dirs)
        spm_hook_remove_dirs(argv[1], &decision);

    switch (decision.action) {
    case SPM_HOOK_ALLOW:
        /* migrate begin, destination: this host's HBM nodes, reserved; libvirt reads the XML */
        if (decision.incoming) {
            g_autofree char *rebound = NULL;

            if (!spm_hook_migrate_incoming(config, &facts, xml, len, &rebound, &error)) {
                fprintf(stderr, "virt-spm: refusing to migrate domain '%s' to this host: %s\n",
                        argv[1], error->message);
                return 1;
            }
            if (rebound && (fputs(rebound, stdout) == EOF || fflush(stdout) != 0)) {
                fprintf(stderr, "virt-spm: migrating domain '%s': cannot write the domain XML\n",
                        argv[1]);
                return 1;
            }
            /* virt-spmd frees it should libvirt give up before QEMU runs (no stop hook then) */
            spm_control_notify("incoming", decision.domain ? decision.domain : argv[1],
                               decision.uuid, -1, SPM_HOOK_NOTIFY_TIMEOUT_MS, NULL);
            return 0;
        }
        /* prepare begin reserves host HBM; start begin makes the directories */
        if ((decision.holding && !spm_hook_ledger_reserve(config, decision.holding, &error)) ||
            (decision.make_dirs && !spm_hook_make_dirs(&decision, &error))) {
            fprintf(stderr, "virt-spm: refusing to start domain '%s': %s\n",
                    argv[1], error->message);
            return 1;
        }
        return 0;
    case SPM_HOOK_REFUSE:
        fprintf(stderr, "%s\n", decision.message);
        return 1;
    case SPM_HOOK_NOTIFY:
        /* A daemon that is down or hung re-audits when it starts: ignore. */
        spm_control_notify(decision.event, decision.domain, decision.uuid, decision.run_id,
                           SPM_HOOK_NOTIFY_TIMEOUT_MS, NULL);
        return 0;
    }
    return 0;
}
