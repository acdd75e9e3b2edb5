/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-nova-config.h: where a Nova guest's spm: extra specs come from, and
 * where its plan is kept (docs/nova.md).
 *
 *  - Nova 32.0.0 and later write the flavor's extra specs into
 *    <nova:flavor> (<nova:extraSpecs>, empty when the flavor has none):
 *    the spm: ones there are the request, and nothing else;
 *  - Nova 26 to 31 write only the flavor's name: FLAVORS_DIR/NAME.conf, or
 *    the profile `[nova] flavors` of virt-spm.conf maps NAME to;
 *  - spm:profile=NAME (in either) names PROFILES_DIR/NAME.conf.
 *
 * Profile and flavor files are GKeyFiles whose [spm] group holds the extra
 * specs without their "spm:" prefix:
 *
 *     [spm]
 *     devices = 2
 *     size = 64GiB
 *     0.host_nodes = 2
 *
 * The I/O lives here; parsing and checking is xmlschema/spm-nova.c.
 */
#pragma once

#include <glib.h>
#include "spm-nova.h"

G_BEGIN_DECLS

#define SPM_NOVA_PROFILE_GROUP "spm"

typedef struct {
    char *profiles_dir;         /* [nova] profiles_dir; SYSCONFDIR/virt-spm/profiles.d */
    char *flavors_dir;          /* [nova] flavors_dir; SYSCONFDIR/virt-spm/flavors.d */
    GHashTable *flavors;        /* [nova] flavors = NAME=PROFILE; ... : name -> profile */
    char *wrapper;              /* [nova] wrapper: the emulator wrapper libvirt must run */
} SpmNovaConfig;

/* [nova] of @kf (nullable: defaults).  Errors name the key. */
SpmNovaConfig *spm_nova_config_load(GKeyFile *kf, GError **error);
void spm_nova_config_free(SpmNovaConfig *cfg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpmNovaConfig, spm_nova_config_free)

/* The installed wrapper: LIBEXECDIR/virt-spm/bin/qemu-system-x86_64. */
const char *spm_nova_default_wrapper(void);

/*
 * The QEMU the wrapper @cfg->wrapper runs, found as it finds it (with the
 * hook's PATH, which is libvirtd's): DIR/../real/NAME, else the next NAME
 * in PATH that is not the wrapper, else /usr/bin/qemu-system-x86_64.
 */
char *spm_nova_real_qemu(const SpmNovaConfig *cfg);

/*
 * The extra specs of the profile file @path ([spm] group), as "spm:KEY"
 * specs.  A missing file is SPM_ERROR_INVALID "profile '...' does not
 * exist (PATH)".
 */
GPtrArray *spm_nova_profile_read(const char *path, const char *what, GError **error);

/*
 * The request of a Nova domain's metadata @inst: from its extra specs or
 * its flavor's name, following spm:profile.  *source (nullable) describes
 * where it came from for messages ("flavor 'gpu.hbm.2x' (extra specs)",
 * "flavor 'gpu.hbm.2x' (/etc/virt-spm/flavors.d/gpu.hbm.2x.conf)", ...);
 * errors start with it too.  A flavor that asks for nothing gives a
 * request without devices.
 */
SpmNovaRequest *spm_nova_request_resolve(const SpmNovaConfig *cfg,
                                         const SpmNovaInstance *inst,
                                         char **source,
                                         GError **error);

/*
 * A warning (one line) when @inst comes from Nova 32 or later with no spm:
 * extra spec while a flavors.d file or a `[nova] flavors` entry of its
 * flavor's name exists: that mapping is for Nova 26 to 31 and is not used,
 * so the guest gets no SPM memory.  NULL when there is nothing to say.
 */
char *spm_nova_request_unused_mapping(const SpmNovaConfig *cfg, const SpmNovaInstance *inst);

/*
 * The same for a list of extra specs given by hand (`virt-spm nova
 * flavor`): @specs, or the profile they name.
 */
SpmNovaRequest *spm_nova_request_load(const SpmNovaConfig *cfg,
                                      const GPtrArray *specs,
                                      const char *source,
                                      GError **error);

/* spm_nova_plan_dir()/UUID.EXT: "plan" (the wrapper's edit list), "json" (the plan). */
char *spm_nova_plan_path(const char *uuid, const char *ext);

G_END_DECLS
