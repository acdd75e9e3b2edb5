/* spm-qemu-layout.c: placeholder, implemented in its own change */
#include "spm-error.h"
#include "spm-qemu-layout.h"
const char *spm_qemu_dev_kind_driver(SpmQemuDevKind kind) { return "?"; }
gboolean spm_qemu_machine_layout(const SpmMachineConfig *cfg, SpmMachineLayout *layout, GError **error)
{ g_set_error(error, SPM_ERROR, SPM_ERROR_UNSUPPORTED, "not implemented"); return FALSE; }
gboolean spm_qemu_place(const SpmMachineConfig *cfg, const SpmMachineLayout *layout, SpmQemuMemDev *devs, guint ndevs, GError **error)
{ g_set_error(error, SPM_ERROR, SPM_ERROR_UNSUPPORTED, "not implemented"); return FALSE; }
guint64 spm_qemu_dev_region_size(const SpmQemuMemDev *dev) { return 0; }
