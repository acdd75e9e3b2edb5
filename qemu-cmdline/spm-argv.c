/* spm-argv.c: placeholder, implemented in its own change */
#include "spm-error.h"
#include "spm-argv.h"
GStrv spm_argv_build(const SpmPlan *plan, const char *stand_in_driver, GError **error) { g_set_error(error, SPM_ERROR, SPM_ERROR_UNSUPPORTED, "not implemented"); return NULL; }
char *spm_qemu_opt_quote(const char *value) { return NULL; }
