/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-audit-nova.c: the stored plan of a Nova guest
 */
#include "spm-audit-nova.h"
#include "spm-error.h"
#include "spm-nova.h"
#include "spm-safe-dir.h"

#include <errno.h>
#include <unistd.h>

/* far above any plan the hook writes (a few KiB per device) */
#define SPM_AUDIT_NOVA_MAX_PLAN (4 * 1024 * 1024)

SpmAuditPlan *
spm_audit_nova_plan(const char *uuid, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autofree char *name = NULL;
    g_autofree char *text = NULL;
    const char *dir = spm_nova_plan_dir();
    gsize len = 0;
    SpmAuditPlan *plan;
    int fd;

    if (!uuid || !g_uuid_string_is_valid(uuid))
        return NULL;
    /*
     * The plan says what the audit expects: one that others could have
     * written (or replaced) would hide a wrong placement.  Root's directory,
     * root's file, as the wrapper requires of its own half of the plan.
     */
    if ((fd = spm_safe_dir_open(dir, SPM_SAFE_DIR_TRUSTED, 0755, NULL, &local)) < 0) {
        if (errno != ENOENT)
            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "stored Nova plan: %s", local->message);
        return NULL;
    }
    name = g_strdup_printf("%s.json", uuid);
    text = spm_safe_file_read(fd, dir, name, SPM_AUDIT_NOVA_MAX_PLAN, &len, &local);
    close(fd);
    if (!text) {
        if (errno != ENOENT)
            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "stored Nova plan: %s", local->message);
        return NULL;
    }
    if (!(plan = spm_audit_plan_from_json(text, len, &local)))
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID, "stored Nova plan '%s/%s': %s",
                    dir, name, local->message);
    return plan;
}
