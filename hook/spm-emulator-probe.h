/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-emulator-probe.h: does a QEMU binary have a device, and which SPM
 * device revision is it?
 *
 * Asks the binary itself (EMULATOR -device DRIVER,help) and caches the
 * answer in a small file per binary and driver, keyed by the binary's path,
 * size and modification time, so that a start pays for the probe only after
 * QEMU was installed or upgraded.
 */
#pragma once

#include <glib.h>
#include "spm-device-rev.h"

G_BEGIN_DECLS

#define SPM_EMULATOR_CACHE_DIR "/var/cache/virt-spm"
#define SPM_EMULATOR_PROBE_TIMEOUT_MS 10000

/* $VIRT_SPM_HOOK_CACHE_DIR when set (tests), else SPM_EMULATOR_CACHE_DIR. */
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

/* A probe: does @emulator know the device @driver? (spm_emulator_probe(), or a test's.) */
typedef gboolean (*SpmEmulatorProbeFunc)(const char *emulator,
                                         const char *driver,
                                         gboolean *has_device,
                                         gpointer opaque,
                                         GError **error);

/*
 * Which SPM device @emulator has: the revisions are asked in the table's
 * order (sp-mem of QEMU 11.1 first, then the legacy spm-memory of the v8
 * patch series) through @probe.  *found is FALSE when it has none; FALSE
 * with @error when a probe could not answer.
 */
gboolean spm_emulator_find_device(const char *emulator,
                                  SpmEmulatorProbeFunc probe,
                                  gpointer probe_opaque,
                                  gboolean *found,
                                  SpmDeviceRev *rev,
                                  GError **error);

/* spm_emulator_probe() as an SpmEmulatorProbeFunc; @opaque: the cache directory or NULL. */
gboolean spm_emulator_probe_cached(const char *emulator,
                                   const char *driver,
                                   gboolean *has_device,
                                   gpointer opaque,
                                   GError **error);

/*
 * The one line for an emulator with no SPM device: "emulator 'E' has
 * neither 'sp-mem' (QEMU 11.1 and later) nor 'spm-memory' (...)".
 */
char *spm_emulator_no_device_text(const char *emulator);

G_END_DECLS
