/* cmd-libvirt.c: placeholder, implemented in its own change */
#include "spm-error.h"
#include "virt-spm-commands.h"

gboolean
spm_cmd_define(int argc, char **argv, const SpmGlobalOptions *g, int *st, GError **error)
{
    g_set_error(error, SPM_ERROR, SPM_ERROR_UNSUPPORTED, "define: not implemented yet");
    return FALSE;
}

gboolean
spm_cmd_dumpxml(int argc, char **argv, const SpmGlobalOptions *g, int *st, GError **error)
{
    g_set_error(error, SPM_ERROR, SPM_ERROR_UNSUPPORTED, "dumpxml: not implemented yet");
    return FALSE;
}

gboolean
spm_cmd_edit(int argc, char **argv, const SpmGlobalOptions *g, int *st, GError **error)
{
    g_set_error(error, SPM_ERROR, SPM_ERROR_UNSUPPORTED, "edit: not implemented yet");
    return FALSE;
}
