/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-config.h: virt-spm.conf (GKeyFile) and the host facts the planner needs.
 *
 * This is where the I/O that the pure planner must not do happens: reading
 * the configuration file and /proc/cpuinfo.
 */
#pragma once

#include <glib.h>
#include "spm-plan.h"

#include "spm-build-config.h"

G_BEGIN_DECLS

typedef struct {
    SpmPlanPolicy policy;
    char *uri;                  /* [daemon] uri; NULL = qemu:///system */
    GKeyFile *keyfile;          /* the whole file, for the daemon's own keys */
} SpmConfig;

/*
 * Load @path (NULL = the installed file; a missing installed file means
 * defaults, a missing explicit file is an error), then fill the host facts
 * from this machine unless the file overrides them.
 */
SpmConfig *spm_config_load(const char *path, GError **error);

/*
 * Defaults with no host facts and an empty keyfile (tests, fuzzers).  A
 * configuration is reference-counted: virt-spmd's worker threads each hold
 * one, so that a daemon that stops while a worker still runs does not
 * free what the worker reads.
 */
SpmConfig *spm_config_new(void);
SpmConfig *spm_config_ref(SpmConfig *config);
void spm_config_unref(SpmConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpmConfig, spm_config_unref)

/*
 * Apply the groups of @kf ([plan], [host], [daemon]) over @config: what the
 * file sets wins, the rest stays.  Used by load, and by tests that layer a
 * per-case file over a base one.
 */
gboolean spm_config_apply_keyfile(SpmConfig *config, GKeyFile *kf, GError **error);

/* "1GiB", "2048KiB", "2097152": a size with an optional libvirt unit suffix. */
gboolean spm_config_parse_size(const char *what, const char *value, guint64 *bytes, GError **error);

/* Fill @facts from /proc/cpuinfo of this host (vendor, address sizes),
 * the version of the libvirt virt-spm was built against, and libvirt's
 * memory_backing_dir and hugetlbfs mounts (qemu.conf, or
 * $VIRT_SPM_QEMU_CONF, and /proc/mounts). */
void spm_host_facts_detect(SpmHostFacts *facts);

/* "9.0.0" -> 9000000, libvirt's encoding; FALSE if not a version. */
gboolean spm_config_parse_version(const char *str, guint *version);

/* The RelaxNG schema: $VIRT_SPM_SCHEMA, the installed one, or the source tree's. */
const char *spm_config_schema_path(void);

G_END_DECLS
