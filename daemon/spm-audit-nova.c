/*
 * spm-audit-nova.c: the stored plan of a Nova guest
 */
#include "spm-audit-nova.h"
#include "spm-error.h"
#include "spm-nova.h"

SpmAuditPlan *
spm_audit_nova_plan(const char *uuid, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autofree char *path = NULL;
    g_autofree char *text = NULL;
    gsize len = 0;
    SpmAuditPlan *plan;

    if (!uuid || !g_uuid_string_is_valid(uuid))
        return NULL;
    path = g_strdup_printf("%s/%s.json", spm_nova_plan_dir(), uuid);
    if (!g_file_get_contents(path, &text, &len, &local)) {
        if (!g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "stored Nova plan: %s", local->message);
        return NULL;
    }
    if (!(plan = spm_audit_plan_from_json(text, len, &local)))
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID, "stored Nova plan '%s': %s",
                    path, local->message);
    return plan;
}
