/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-audit-domain.h: audit one guest, from where its plan and its QEMU are.
 *
 * A libvirt domain: the plan comes from the virt-spm metadata of its live
 * XML (re-planned with the stand-in driver the metadata records), the
 * devices from query-memory-devices through libvirt's QMP passthrough
 * (virDomainQemuMonitorCommand; libvirt marks the domain tainted
 * "custom-monitor" the first time).  Blocking: the daemon runs it in a
 * worker thread; libvirt connections are thread-safe.
 *
 * A QEMU without libvirt: a plan JSON file and the QMP socket path.
 */
#pragma once

#include <libvirt/libvirt.h>
#include <libxml/tree.h>

#include "spm-audit.h"
#include "spm-plan.h"

G_BEGIN_DECLS

/*
 * Audit @dom.  Returns the verdict (MATCH, MISMATCH, or ERROR with the
 * reason), or NULL with *is_spm = FALSE when the domain has no virt-spm
 * metadata (nothing to audit).
 */
SpmVerdict *spm_audit_domain(virDomainPtr dom, const SpmPlanPolicy *policy,
                             gboolean *is_spm);

/* The plan of @dom: its live XML's metadata, or the Nova hook's stored
 * plan.  NULL + *is_spm = FALSE: not an SPM domain (no error); NULL +
 * error (*is_spm TRUE): it is, or may be, but its plan cannot be had. */
SpmAuditPlan *spm_audit_domain_plan(virDomainPtr dom, const SpmPlanPolicy *policy,
                                    gboolean *is_spm, GError **error);

/* The plan of a domain XML (as libvirt returns it); NULL + *is_spm = FALSE
 * without virt-spm metadata. */
SpmAuditPlan *spm_audit_plan_from_domain_xml(const char *xml, const SpmPlanPolicy *policy,
                                             gboolean *is_spm, GError **error);

/* The same, with the persistent XML (nullable) telling which addresses of
 * libvirt's memory devices the definition itself had. */
SpmAuditPlan *spm_audit_plan_from_domain_xmls(const char *xml, const char *inactive_xml,
                                              const SpmPlanPolicy *policy,
                                              gboolean *is_spm, GError **error);

/* Drop from @live's <memory> devices what libvirt added at start. */
void spm_audit_strip_live_memory(xmlDocPtr live, xmlDocPtr inactive);

/* Devices of @dom by QMP passthrough. */
GPtrArray *spm_audit_query_libvirt(virDomainPtr dom, GError **error);

/* Audit a QEMU over its QMP socket against @plan. */
SpmVerdict *spm_audit_qmp_socket(const char *path, const SpmAuditPlan *plan,
                                 const char *name, guint timeout_ms, GError **error);

G_END_DECLS
