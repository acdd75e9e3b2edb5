/*
 * spm-emulator-probe.h: does a QEMU binary have a device?
 *
 * Asks the binary itself (EMULATOR -device DRIVER,help) and caches the
 * answer in a small file per binary and driver, keyed by the binary's path,
 * size and modification time, so that a start pays for the probe only after
 * QEMU was installed or upgraded.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SPM_EMULATOR_CACHE_DIR "/var/cache/virt-spm"
#define SPM_EMULATOR_PROBE_TIMEOUT_MS 10000

/* $SPM_HOOK_CACHE_DIR when set (tests), else SPM_EMULATOR_CACHE_DIR. */
const char *spm_emulator_cache_dir(void);

/*
 * Set *has_device.  @cache_dir NULL = do not cache.  A cache that cannot be
 * written is not an error (read-only /var); a binary that is missing, does
 * not answer within SPM_EMULATOR_PROBE_TIMEOUT_MS or answers something else
 * than QEMU's device help is.
 */
gboolean spm_emulator_probe(const char *emulator,
                            const char *driver,
                            const char *cache_dir,
                            gboolean *has_device,
                            GError **error);

G_END_DECLS
