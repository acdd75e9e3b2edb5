/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-nova.h: OpenStack Nova's domain metadata and virt-spm's own "spm:"
 * flavor extra specs (docs/nova.md).
 *
 * Nova knows nothing of SPM.  An operator describes a flavor's SPM memory
 * in a namespace of virt-spm's own, which Nova's validation lets through:
 *
 *     spm:devices=2  spm:size=64GiB  spm:0.size=32GiB  spm:1.host_nodes=3
 *     spm:pagesize=2MiB  spm:access=shared        or   spm:profile=NAME
 *
 * Nova 32.0.0 and later write the flavor's extra specs into the domain's
 * <nova:flavor> (<nova:extraSpecs>, present even when empty); Nova 26 to 31
 * write only the flavor's name, which the caller maps to a profile file.  This file turns either into the same
 * <memory model='spm'> devices the XML reader makes (spm-domain.h), checked
 * with the same rules and the same error texts, each naming the extra spec.
 * Pure code: profile files are read by the caller (tools/spm-nova-config.c).
 */
#pragma once

#include <glib.h>
#include <libxml/tree.h>
#include "spm-domain.h"
#include "spm-env.h"
#include "spm-build-config.h"

G_BEGIN_DECLS

/*
 * Where the hook keeps the plan of each running Nova guest with SPM memory,
 * by UUID: UUID.plan for the emulator wrapper, UUID.json for virt-spmd's
 * audit.  Under /run: plans die with the host, as the guests do.
 */
#define SPM_NOVA_PLAN_DIR VIRT_SPM_RUNDIR "/nova"

static inline const char *
spm_nova_plan_dir(void)
{
    const char *dir = spm_env(SPM_ENV_NOVA_PLAN_DIR);

    return dir && *dir ? dir : SPM_NOVA_PLAN_DIR;
}

/* Nova writes 1.1; any version of its namespace is Nova's metadata. */
#define SPM_NOVA_XMLNS_BASE "http://openstack.org/xmlns/libvirt/nova/"
#define SPM_NOVA_SPEC_PREFIX "spm:"
/* Far above any accelerator count; keeps guest NUMA ids small. */
#define SPM_NOVA_MAX_DEVICES 64
/* Placement's resource class and trait for SPM memory (whole GiB). */
#define SPM_NOVA_RESOURCE_CLASS "CUSTOM_SPM_HBM_GIB"
#define SPM_NOVA_TRAIT "CUSTOM_SPM_MEMORY"

/* One flavor extra spec, "spm:size" = "64GiB". */
typedef struct {
    char *key;
    char *value;
} SpmNovaSpec;

/* A list of extra specs (SpmNovaSpec *) in the order given. */
GPtrArray *spm_nova_specs_new(void);
void spm_nova_specs_add(GPtrArray *specs, const char *key, const char *value);

/* What <nova:instance> in a domain's <metadata> says of its flavor. */
typedef struct {
    char *flavor;               /* <nova:flavor name=>; NULL = none */
    gboolean has_extra_specs;   /* <nova:extraSpecs> present, even empty: Nova 32 or later */
    GPtrArray *specs;           /* the spm: ones among them (SpmNovaSpec *) */
} SpmNovaInstance;

/*
 * Nova's metadata of the domain @root, or NULL when the domain has no
 * <nova:instance> (it is not Nova's).
 */
SpmNovaInstance *spm_nova_instance_read(xmlNodePtr root);
void spm_nova_instance_free(SpmNovaInstance *inst);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpmNovaInstance, spm_nova_instance_free)

/* Does @name make a safe file name for flavors.d/NAME.conf and profiles? */
gboolean spm_nova_name_is_safe(const char *name);

/* The SPM memory a flavor asks for. */
typedef struct {
    char *profile;              /* spm:profile=NAME: the caller reads it; nothing else set */
    GPtrArray *devices;         /* SpmMemDevice *: model spm, alias ua-spmN, no guest node */
    guint64 total;              /* sum of the device sizes, bytes */
    guint64 pagesize;           /* spm:pagesize; 0 = none */
    SpmAccess access;           /* spm:access */
} SpmNovaRequest;

void spm_nova_request_free(SpmNovaRequest *req);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpmNovaRequest, spm_nova_request_free)

/*
 * Parse @specs (SpmNovaSpec *; keys without the "spm:" prefix are not
 * ours and are ignored).  SPM_ERROR_INVALID names the extra spec, e.g.
 *   spm:0.size: unknown unit 'GB2'
 *   spm:colour: unknown extra spec (spm:devices, spm:size, ...)
 * An empty result (no spm: key) is a request with no devices.
 */
SpmNovaRequest *spm_nova_request_parse(const GPtrArray *specs, GError **error);

/*
 * Add @req's devices to @def (a Nova domain without SPM devices): guest
 * NUMA nodes after the domain's cells (after node 0 without <numa>), and,
 * without <numa>, <memory> grows by the devices (it counts them, as in
 * libvirt, while Nova's is the guest's RAM).
 */
gboolean spm_nova_request_apply(const SpmNovaRequest *req, SpmDomainDef *def, GError **error);

/* Whole GiB of Placement's CUSTOM_SPM_HBM_GIB the request needs (rounded up). */
guint64 spm_nova_request_gib(const SpmNovaRequest *req);

/*
 * The flavor properties that give @req, in a fixed order: "spm:..." keys
 * (normalised: one spm:size when all sizes are equal), then the
 * resources: and trait: properties for Placement.  "key=value" strings.
 */
GStrv spm_nova_request_properties(const SpmNovaRequest *req);

G_END_DECLS
