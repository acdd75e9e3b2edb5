/*
 * spm-audit-domain.c: plan + QMP for a libvirt domain or a bare QEMU
 */
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>
#include <string.h>

#include "spm-audit-domain.h"
#include "spm-convert.h"
#include "spm-error.h"
#include "spm-qmp.h"
#include "spm-xml.h"

#define SPM_AUDIT_MAX_REPLY (16 * 1024 * 1024)

static void
spm_set_libvirt_error(GError **error, const char *what)
{
    virErrorPtr err = virGetLastError();

    g_set_error(error, SPM_ERROR, SPM_ERROR_LIBVIRT, "%s: %s", what,
                err && err->message ? err->message : "unknown libvirt error");
}

static xmlNodePtr
spm_find_spm_metadata(xmlNodePtr root)
{
    for (xmlNodePtr m = root ? root->children : NULL; m; m = m->next) {
        if (m->type != XML_ELEMENT_NODE || !xmlStrEqual(m->name, BAD_CAST "metadata"))
            continue;
        for (xmlNodePtr c = m->children; c; c = c->next) {
            if (c->type == XML_ELEMENT_NODE && c->ns &&
                xmlStrEqual(c->ns->href, BAD_CAST SPM_XMLNS) &&
                xmlStrEqual(c->name, BAD_CAST "spm"))
                return c;
        }
    }
    return NULL;
}

SpmAuditPlan *
spm_audit_plan_from_domain_xml(const char *xml, const SpmPlanPolicy *policy,
                               gboolean *is_spm, GError **error)
{
    g_autoptr(xmlDoc) doc = spm_xml_read_memory(xml, strlen(xml), "domain XML", error);
    g_autoptr(SpmPlan) plan = NULL;     /* freed before the def it borrows */
    g_autoptr(SpmDomainDef) def = NULL;
    SpmPlanPolicy effective;
    xmlNodePtr meta;
    xmlChar *stand_in = NULL;
    SpmAuditPlan *ret = NULL;

    *is_spm = FALSE;
    if (!doc)
        return NULL;
    meta = spm_find_spm_metadata(xmlDocGetRootElement(doc));
    if (!meta)
        return NULL;
    *is_spm = TRUE;

    /* Re-plan with the stand-in the domain was converted with: only then
     * may its devices show the stand-in's type. */
    stand_in = xmlGetNoNsProp(meta, BAD_CAST "standIn");
    effective = *policy;
    effective.stand_in_driver = (char *) stand_in;
    if (spm_convert_forward(doc, &effective, &plan, &def, error))
        ret = spm_audit_plan_from_plan(plan, (const char *) stand_in);
    xmlFree(stand_in);
    return ret;
}

GPtrArray *
spm_audit_query_libvirt(virDomainPtr dom, GError **error)
{
    g_autofree char *result = NULL;
    char *raw = NULL;
    g_autoptr(JsonNode) ret = NULL;

    if (virDomainQemuMonitorCommand(dom, "{\"execute\":\"query-memory-devices\"}", &raw, 0) < 0) {
        spm_set_libvirt_error(error, "query-memory-devices via libvirt");
        return NULL;
    }
    result = g_strdup(raw);
    free(raw);
    if (!(ret = spm_qmp_reply_parse("query-memory-devices", result, SPM_AUDIT_MAX_REPLY, error)))
        return NULL;
    return spm_memdev_info_parse(ret, error);
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
    g_autofree char *xml = NULL;
    char *raw;
    SpmVerdict *v;
    unsigned int id = virDomainGetID(dom);

    *is_spm = FALSE;
    virDomainGetUUIDString(dom, uuid);
    if (!(raw = virDomainGetXMLDesc(dom, 0))) {
        spm_set_libvirt_error(&error, "domain XML");
    } else {
        xml = g_strdup(raw);
        free(raw);
        plan = spm_audit_plan_from_domain_xml(xml, policy, is_spm, &error);
        if (!*is_spm && !error)
            return NULL;
        if (plan)
            actual = spm_audit_query_libvirt(dom, &error);
    }
    if (error) {
        *is_spm = TRUE;   /* or unknown: report it rather than hide it */
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
