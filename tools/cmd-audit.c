/* cmd-audit.c: placeholder, implemented in its own change */
#include "spm-error.h"
#include "virt-spm-commands.h"

gboolean
spm_cmd_audit(int argc, char **argv, const SpmGlobalOptions *g, int *st, GError **error)
{
    g_set_error(error, SPM_ERROR, SPM_ERROR_UNSUPPORTED, "audit: not implemented yet");
    return FALSE;
}

gboolean
spm_cmd_status(int argc, char **argv, const SpmGlobalOptions *g, int *st, GError **error)
{
    g_set_error(error, SPM_ERROR, SPM_ERROR_UNSUPPORTED, "status: not implemented yet");
    return FALSE;
}
