/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-audit.h: compare what QEMU reports with what was planned.
 *
 * Every planned device must be present with the same type, address, size,
 * node and backend; every device QEMU reports must be planned.  The
 * comparison is pure code; where the plan and the reply come from is the
 * caller's business (spm-audit-source.h).
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "spm-memdev-info.h"
#include "spm-plan.h"

G_BEGIN_DECLS

/* One device as planned. */
typedef struct {
    char *id;
    char *model;        /* "spm", "dimm", "nvdimm", "virtio-mem", "virtio-pmem" */
    guint64 addr;
    guint64 size;
    guint node;
    gboolean has_node;
    char *backend;      /* object id; NULL = not known (plan JSON without it): not compared */
    SpmGuestMode guest_mode; /* SPM devices: what the guest should make of it (guest audit) */
} SpmAuditDevice;

typedef struct {
    /* QEMU driver generated for SPM devices instead of an SPM device on a
     * QEMU without one ("pc-dimm"); NULL in production.  Only then is the
     * stand-in's query-memory-devices type accepted for an SPM device. */
    char *stand_in_driver;
    /* The SPM device planned for: its query-memory-devices type is the one
     * an SPM device must show.  device_known FALSE (a plan file older than
     * the revisions): any revision's type is accepted. */
    SpmDeviceRev device;
    gboolean device_known;
    GPtrArray *devices; /* SpmAuditDevice * */
} SpmAuditPlan;

void spm_audit_plan_free(SpmAuditPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpmAuditPlan, spm_audit_plan_free)

SpmAuditPlan *spm_audit_plan_new(const char *stand_in_driver);
/* Append a device (copies the strings). */
void spm_audit_plan_add(SpmAuditPlan *plan, const char *id, const char *model,
                        guint64 addr, guint64 size, gint64 node, const char *backend);

/* From the planner's result. */
SpmAuditPlan *spm_audit_plan_from_plan(const SpmPlan *plan, const char *stand_in_driver);

/* From `virt-spm plan --json` output.  Optional keys read when present:
 * devices[].backend, "stand_in_driver", "device". */
SpmAuditPlan *spm_audit_plan_from_json(const char *text, gsize len, GError **error);

typedef enum {
    SPM_VERDICT_MATCH,
    SPM_VERDICT_MISMATCH,
    SPM_VERDICT_ERROR,      /* could not audit: see error */
} SpmVerdictKind;

/* "match", "mismatch", "error" */
const char *spm_verdict_kind_to_string(SpmVerdictKind kind);
int spm_verdict_kind_from_string(const char *str);

typedef struct {
    char *device;       /* device id ("" when QEMU reports one without id) */
    char *field;        /* "present", "planned", "type", "addr", "size", "node", "backend" */
    char *expected;
    char *actual;
} SpmFinding;

typedef struct {
    char *domain;
    char *uuid;
    SpmVerdictKind kind;
    char *error;            /* kind == ERROR */
    GPtrArray *findings;    /* SpmFinding * */
    guint devices;          /* planned devices checked */
    gint64 time;            /* g_get_real_time() of the audit */
    gint64 domain_id;       /* libvirt domain id of the run audited; -1 = unknown */
    guint64 audit_count;    /* audits of this domain so far (daemon state) */
    gint64 duration_us;     /* how long the audit took */
    gint64 latency_us;      /* from the event that asked for it to the verdict; -1 = none */
} SpmVerdict;

SpmVerdict *spm_verdict_new(const char *domain, const char *uuid);
void spm_verdict_free(SpmVerdict *v);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SpmVerdict, spm_verdict_free)
void spm_verdict_set_error(SpmVerdict *v, const GError *error);

/* One line: "device 'dev0': addr expected 0x100000000, actual 0x140000000" */
char *spm_finding_to_string(const SpmFinding *f);

/* Compare; the verdict is MATCH or MISMATCH. */
SpmVerdict *spm_audit_compare(const SpmAuditPlan *plan, const GPtrArray *actual,
                              const char *domain, const char *uuid);

/* JSON (docs/virt-spmd.md) */
JsonNode *spm_verdict_to_json(const SpmVerdict *v);
char *spm_verdict_to_json_string(const SpmVerdict *v, gboolean pretty);
SpmVerdict *spm_verdict_from_json(JsonNode *node, GError **error);

G_END_DECLS
