/* cmd-offline.c: placeholder, implemented in its own change */
#include "spm-error.h"
#include "virt-spm-commands.h"

gboolean
spm_cmd_validate(int argc, char **argv, const SpmGlobalOptions *g, int *st, GError **error)
{
    g_set_error(error, SPM_ERROR, SPM_ERROR_UNSUPPORTED, "validate: not implemented yet");
    return FALSE;
}

gboolean
spm_cmd_plan(int argc, char **argv, const SpmGlobalOptions *g, int *st, GError **error)
{
    g_set_error(error, SPM_ERROR, SPM_ERROR_UNSUPPORTED, "plan: not implemented yet");
    return FALSE;
}

gboolean
spm_cmd_convert(int argc, char **argv, const SpmGlobalOptions *g, int *st, GError **error)
{
    g_set_error(error, SPM_ERROR, SPM_ERROR_UNSUPPORTED, "convert: not implemented yet");
    return FALSE;
}

gboolean
spm_cmd_argv(int argc, char **argv, const SpmGlobalOptions *g, int *st, GError **error)
{
    g_set_error(error, SPM_ERROR, SPM_ERROR_UNSUPPORTED, "argv: not implemented yet");
    return FALSE;
}
