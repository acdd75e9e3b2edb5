/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-hook-placement.c: ask Placement at prepare begin, bind, or say why not
 */
#include "spm-hook-placement.h"
#include "spm-build-config.h"
#include "spm-env.h"
#include "spm-error.h"
#include "spm-placement-bind.h"
#include "spm-run.h"

#define SPM_PLACEMENT_GROUP "placement"
#define SPM_PLACEMENT_DEFAULT_TIMEOUT 10
#define SPM_PLACEMENT_MAX_TIMEOUT 300

static const char *
spm_hook_placement_program(void)
{
    const char *env = spm_env(SPM_ENV_PLACEMENT_ALLOCATION);

    return env ? env : VIRT_SPM_LIBEXECDIR "/virt-spm-placement-allocation";
}

GPtrArray *
spm_hook_placement_argv(GKeyFile *kf, const char *uuid, guint *timeout_s, GError **error)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *nova_conf = kf ? g_key_file_get_string(kf, SPM_PLACEMENT_GROUP, "nova_conf", NULL) : NULL;
    g_autofree char *host = kf ? g_key_file_get_string(kf, SPM_PLACEMENT_GROUP, "host", NULL) : NULL;
    g_autofree char *timeout = kf ? g_key_file_get_string(kf, SPM_PLACEMENT_GROUP, "timeout", NULL) : NULL;
    guint64 t = SPM_PLACEMENT_DEFAULT_TIMEOUT;

    if (timeout && !g_ascii_string_to_unsigned(g_strstrip(timeout), 10, 1,
                                               SPM_PLACEMENT_MAX_TIMEOUT, &t, NULL)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "[placement] timeout: '%s' is not a number of seconds from 1 to %d",
                    timeout, SPM_PLACEMENT_MAX_TIMEOUT);
        return NULL;
    }
    *timeout_s = t;
    g_ptr_array_add(argv, g_strdup(spm_hook_placement_program()));
    g_ptr_array_add(argv, g_strdup(uuid ? uuid : "--view"));
    if (host && *g_strstrip(host)) {
        g_ptr_array_add(argv, g_strdup("--host"));
        g_ptr_array_add(argv, g_strdup(host));
    }
    if (nova_conf && *g_strstrip(nova_conf)) {
        g_ptr_array_add(argv, g_strdup("--nova-conf"));
        g_ptr_array_add(argv, g_strdup(nova_conf));
    }
    g_ptr_array_add(argv, g_strdup("--timeout"));
    g_ptr_array_add(argv, g_strdup_printf("%u", (guint)t));
    g_ptr_array_add(argv, NULL);
    return g_steal_pointer(&argv);
}

char *
spm_hook_placement_last_line(const char *text)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    const char *last = NULL;

    for (guint i = 0; lines[i]; i++) {
        if (*g_strstrip(lines[i]))
            last = lines[i];
    }
    if (!last)
        return NULL;
    return g_strdup(g_str_has_prefix(last, "error: ") ? last + 7 : last);
}

/* Placement's answer, or NULL with @error when it could not be had. */
static SpmPlacementAllocation *
spm_hook_placement_ask(const char *const *argv, guint timeout_s, GError **error)
{
    g_autofree char *out = NULL;
    g_autofree char *err = NULL;
    g_autofree char *why = NULL;
    int status = -1;

    if (!spm_run_capture_status(argv, timeout_s * 1000, &out, &err, &status, error))
        return NULL;
    if (status != 0) {
        why = spm_hook_placement_last_line(err);
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "%s",
                    why ? why : "virt-spm-placement-allocation failed without a message");
        return NULL;
    }
    return spm_placement_allocation_parse(out, error);
}

SpmHookPlacementOutcome
spm_hook_placement_bind(GKeyFile *kf, SpmDomainDef *def, const char *uuid, char **warning,
                        GError **error)
{
    g_autoptr(GPtrArray) argv = NULL;
    g_autoptr(SpmPlacementAllocation) answer = NULL;
    g_autoptr(GError) local = NULL;
    gboolean bound = FALSE;
    guint timeout_s = 0;

    *warning = NULL;
    if (!kf || !g_key_file_has_group(kf, SPM_PLACEMENT_GROUP))
        return SPM_HOOK_PLACEMENT_OFF;
    if (!(argv = spm_hook_placement_argv(kf, uuid, &timeout_s, error)))
        return SPM_HOOK_PLACEMENT_REFUSED;
    /*
     * Placement down or not answering: the guest still starts, on nodes
     * the ledger chooses (it never overcommits a node); Placement's
     * per-node use may differ from the ledger's until the guest stops.
     * A start of an existing guest must not depend on the control plane.
     */
    if (!(answer = spm_hook_placement_ask((const char *const *)argv->pdata, timeout_s, &local))) {
        *warning = g_strdup_printf("instance %s: Placement could not say which HBM nodes it "
                                   "allocated (%s): the host's ledger chooses them, and "
                                   "Placement's per-node use may differ until the guest stops",
                                   uuid, local->message);
        return SPM_HOOK_PLACEMENT_UNREACHABLE;
    }
    if (!spm_placement_bind(answer, def, &bound, error))
        return SPM_HOOK_PLACEMENT_REFUSED;
    return bound ? SPM_HOOK_PLACEMENT_BOUND : SPM_HOOK_PLACEMENT_POOLED;
}
