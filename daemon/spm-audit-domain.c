/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-audit-domain.c: plan + QMP for a libvirt domain or a bare QEMU
 */
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>
#include <string.h>

#include "spm-audit-domain.h"
#include "spm-audit-nova.h"
#include "spm-convert.h"
#include "spm-error.h"
#include "spm-libvirt-conn.h"
#include "spm-qmp.h"
#include "spm-xml.h"

#define SPM_AUDIT_MAX_REPLY (16 * 1024 * 1024)

/* libvirt's elements are in no namespace. */
static xmlNodePtr
spm_child_element(xmlNodePtr parent, const char *name)
{
    return spm_xml_child_in(parent, name, NULL, SPM_XML_NS_EXACT);
}

/* The <memory> elements of <devices>, in order. */
static GPtrArray *
spm_memory_elements(xmlDocPtr doc)
{
    GPtrArray *mems = g_ptr_array_new();
    xmlNodePtr devices = spm_child_element(doc ? xmlDocGetRootElement(doc) : NULL, "devices");

    for (xmlNodePtr c = devices ? devices->children : NULL; c; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && !c->ns && xmlStrEqual(c->name, BAD_CAST "memory"))
            g_ptr_array_add(mems, c);
    }
    return mems;
}

/*
 * The live XML of a running domain carries what libvirt added at start to
 * its own memory devices: an alias ("dimm0") and the address QEMU gave it
 * (<address type='dimm' slot= base=>).  The plan is the one of the
 * definition as started, so drop both unless the definition has them
 * (@inactive, the persistent XML; NULL = keep addresses).  A libvirt that
 * moved a DIMM elsewhere than planned is then caught by the comparison,
 * instead of being planned around.
 */
void
spm_audit_strip_live_memory(xmlDocPtr live, xmlDocPtr inactive)
{
    g_autoptr(GPtrArray) lmems = spm_memory_elements(live);
    g_autoptr(GPtrArray) imems = inactive ? spm_memory_elements(inactive) : NULL;

    for (guint i = 0; i < lmems->len; i++) {
        xmlNodePtr mem = lmems->pdata[i];
        xmlNodePtr imem = imems && i < imems->len ? imems->pdata[i] : NULL;
        xmlNodePtr alias = spm_child_element(mem, "alias");
        xmlNodePtr addr = spm_child_element(mem, "address");

        if (alias) {
            xmlChar *name = xmlGetNoNsProp(alias, BAD_CAST "name");

            if (!name || !g_str_has_prefix((const char *) name, "ua-")) {
                xmlUnlinkNode(alias);
                xmlFreeNode(alias);
            }
            xmlFree(name);
        }
        if (addr && imems) {
            xmlNodePtr iaddr = imem ? spm_child_element(imem, "address") : NULL;

            if (!iaddr) {
                xmlUnlinkNode(addr);
                xmlFreeNode(addr);
                continue;
            }
            /* libvirt keeps the slot it assigned at define time in the
             * definition, the base only in the live XML: keep what the
             * definition has, attribute by attribute */
            for (xmlAttrPtr a = addr->properties; a;) {
                xmlAttrPtr next = a->next;
                xmlChar *v = xmlGetNoNsProp(iaddr, a->name);

                if (!v)
                    xmlRemoveProp(a);
                xmlFree(v);
                a = next;
            }
        }
    }
}

SpmAuditPlan *
spm_audit_plan_from_domain_xml(const char *xml, const SpmPlanPolicy *policy,
                               gboolean *is_spm, GError **error)
{
    return spm_audit_plan_from_domain_xmls(xml, NULL, policy, is_spm, error);
}

SpmAuditPlan *
spm_audit_plan_from_domain_xmls(const char *xml, const char *inactive_xml,
                                const SpmPlanPolicy *policy, gboolean *is_spm, GError **error)
{
    g_autoptr(xmlDoc) doc = spm_xml_read_memory(xml, strlen(xml), "domain XML", error);
    g_autoptr(xmlDoc) inactive = inactive_xml
        ? spm_xml_read_memory(inactive_xml, strlen(inactive_xml), "inactive domain XML", NULL) : NULL;
    g_autoptr(SpmPlan) plan = NULL;     /* freed before the def it borrows */
    g_autoptr(SpmDomainDef) def = NULL;
    g_auto(SpmPlanPolicy) effective = { 0 };
    xmlNodePtr meta;

    *is_spm = FALSE;
    if (!doc)
        return NULL;
    meta = spm_xml_metadata_element(xmlDocGetRootElement(doc));
    if (!meta)
        return NULL;
    *is_spm = TRUE;
    spm_audit_strip_live_memory(doc, inactive);

    /*
     * Re-plan with the stand-in and the policy the domain was converted
     * with: only then may its devices show the stand-in's type, and a host
     * whose defaults changed since does not report a false mismatch.
     */
    if (!spm_convert_recorded_policy(doc, policy, &effective, error) ||
        !spm_convert_forward(doc, &effective, &plan, &def, error))
        return NULL;
    return spm_audit_plan_from_plan(plan, effective.stand_in_driver);
}

GPtrArray *
spm_audit_query_libvirt(virDomainPtr dom, GError **error)
{
    g_autofree char *result = NULL;
    char *raw = NULL;
    g_autoptr(JsonNode) ret = NULL;

    if (virDomainQemuMonitorCommand(dom, "{\"execute\":\"query-memory-devices\"}", &raw, 0) < 0) {
        spm_libvirt_error(error, "query-memory-devices via libvirt");
        return NULL;
    }
    result = g_strdup(raw);
    free(raw);
    if (!(ret = spm_qmp_reply_parse("query-memory-devices", result, SPM_AUDIT_MAX_REPLY, error)))
        return NULL;
    return spm_memdev_info_parse(ret, error);
}

SpmAuditPlan *
spm_audit_domain_plan(virDomainPtr dom, const SpmPlanPolicy *policy, gboolean *is_spm,
                      GError **error)
{
    char uuid[VIR_UUID_STRING_BUFLEN] = "";
    g_autofree char *xml = NULL;
    g_autofree char *inactive = NULL;
    g_autoptr(GError) local = NULL;
    SpmAuditPlan *plan;
    char *raw;

    *is_spm = FALSE;
    virDomainGetUUIDString(dom, uuid);
    if (!(raw = virDomainGetXMLDesc(dom, 0))) {
        *is_spm = TRUE;   /* or unknown: report it rather than hide it */
        spm_libvirt_error(error, "domain XML");
        return NULL;
    }
    xml = g_strdup(raw);
    free(raw);
    /* a transient domain has no inactive XML: keep the live addresses */
    if ((raw = virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE))) {
        inactive = g_strdup(raw);
        free(raw);
    }
    plan = spm_audit_plan_from_domain_xmls(xml, inactive, policy, is_spm, &local);
    /* a Nova guest: the plan the hook stored for it (spm-audit-nova.h) */
    if (!*is_spm && !local && (plan = spm_audit_nova_plan(uuid, &local)))
        *is_spm = TRUE;
    if (local) {
        *is_spm = TRUE;
        g_propagate_error(error, g_steal_pointer(&local));
    }
    return plan;
}

SpmVerdict *
spm_audit_domain(virDomainPtr dom, const SpmPlanPolicy *policy, gboolean *is_spm)
{
    gint64 start = g_get_monotonic_time();
    char uuid[VIR_UUID_STRING_BUFLEN] = "";
    const char *name = virDomainGetName(dom);
    g_autoptr(GError) error = NULL;
    g_autoptr(SpmAuditPlan) plan = NULL;
    g_autoptr(GPtrArray) actual = NULL;
    SpmVerdict *v;
    unsigned int id = virDomainGetID(dom);

    virDomainGetUUIDString(dom, uuid);
    plan = spm_audit_domain_plan(dom, policy, is_spm, &error);
    if (!*is_spm)
        return NULL;
    if (plan)
        actual = spm_audit_query_libvirt(dom, &error);
    if (error) {
        v = spm_verdict_new(name, uuid);
        spm_verdict_set_error(v, error);
    } else {
        v = spm_audit_compare(plan, actual, name, uuid);
    }
    v->domain_id = id == (unsigned int) -1 ? -1 : (gint64) id;
    v->duration_us = g_get_monotonic_time() - start;
    return v;
}

SpmVerdict *
spm_audit_qmp_socket(const char *path, const SpmAuditPlan *plan, const char *name,
                     guint timeout_ms, GError **error)
{
    gint64 start = g_get_monotonic_time();
    g_autoptr(SpmQmp) qmp = spm_qmp_open_sync(path, timeout_ms, error);
    g_autoptr(JsonNode) ret = NULL;
    g_autoptr(GPtrArray) actual = NULL;
    SpmVerdict *v;

    if (!qmp)
        return NULL;
    if (!(ret = spm_qmp_execute_sync(qmp, "query-memory-devices", NULL, timeout_ms, error)))
        return NULL;
    if (!(actual = spm_memdev_info_parse(ret, error)))
        return NULL;
    spm_qmp_close(qmp);
    v = spm_audit_compare(plan, actual, name, "");
    v->duration_us = g_get_monotonic_time() - start;
    return v;
}
