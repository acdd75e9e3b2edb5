/*
 * spm-error.c: the one error convention of virt-spm
 */
#include "spm-error.h"

G_DEFINE_QUARK(virt-spm-error-quark, spm_error)

int
spm_error_exit_status(const GError *error)
{
    if (!error)
        return 0;
    if (error->domain == SPM_ERROR && error->code == SPM_ERROR_USAGE)
        return 2;
    if (error->domain == G_OPTION_ERROR)
        return 2;
    return 1;
}
