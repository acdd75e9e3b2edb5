/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-audit.c: the comparison of a plan with query-memory-devices
 */
#include <string.h>

#include "spm-audit.h"
#include "spm-error.h"
#include "spm-json-guard.h"

static void
spm_audit_device_free(SpmAuditDevice *d)
{
    g_free(d->id);
    g_free(d->model);
    g_free(d->backend);
    g_free(d);
}

SpmAuditPlan *
spm_audit_plan_new(const char *stand_in_driver)
{
    SpmAuditPlan *plan = g_new0(SpmAuditPlan, 1);

    plan->stand_in_driver = g_strdup(stand_in_driver && *stand_in_driver ? stand_in_driver : NULL);
    plan->devices = g_ptr_array_new_with_free_func((GDestroyNotify) spm_audit_device_free);
    return plan;
}

void
spm_audit_plan_free(SpmAuditPlan *plan)
{
    if (!plan)
        return;
    g_free(plan->stand_in_driver);
    g_ptr_array_unref(plan->devices);
    g_free(plan);
}

void
spm_audit_plan_add(SpmAuditPlan *plan, const char *id, const char *model,
                   guint64 addr, guint64 size, gint64 node, const char *backend)
{
    SpmAuditDevice *d = g_new0(SpmAuditDevice, 1);

    d->id = g_strdup(id);
    d->model = g_strdup(model);
    d->addr = addr;
    d->size = size;
    d->has_node = node >= 0;
    d->node = node >= 0 ? (guint) node : 0;
    d->backend = g_strdup(backend);
    g_ptr_array_add(plan->devices, d);
}

SpmAuditPlan *
spm_audit_plan_from_plan(const SpmPlan *plan, const char *stand_in_driver)
{
    SpmAuditPlan *ap = spm_audit_plan_new(stand_in_driver);

    ap->device = plan->device;
    ap->device_known = TRUE;
    for (guint i = 0; i < plan->devices->len; i++) {
        const SpmPlannedDevice *d = g_ptr_array_index(plan->devices, i);

        spm_audit_plan_add(ap, d->id, spm_mem_model_to_string(d->model), d->addr, d->size,
                           d->model == SPM_MEM_MODEL_VIRTIO_PMEM ? -1 : (gint64) d->node,
                           d->backend.id);
        if (d->def)
            ((SpmAuditDevice *) g_ptr_array_index(ap->devices, ap->devices->len - 1))
                ->guest_mode = d->def->guest_mode;
    }
    return ap;
}

static gboolean
spm_json_member_uint(JsonObject *obj, const char *key, guint index, guint64 max,
                     guint64 *out, GError **error)
{
    JsonNode *n = json_object_get_member(obj, key);
    gint64 v;

    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64 ||
        (v = json_node_get_int(n)) < 0 || (guint64) v > max) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "plan: devices[%u].%s is missing or not an unsigned integer", index, key);
        return FALSE;
    }
    *out = v;
    return TRUE;
}

static gboolean
spm_json_member_str(JsonObject *obj, const char *key, guint index, gboolean required,
                    const char **out, GError **error)
{
    JsonNode *n = json_object_get_member(obj, key);

    *out = NULL;
    if (!n && !required)
        return TRUE;
    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "plan: devices[%u].%s is missing or not a string", index, key);
        return FALSE;
    }
    *out = json_node_get_string(n);
    return TRUE;
}

/*
 * devices[i].backend: `virt-spm plan --json` prints the backend as an
 * object whose "id" is the QOM id; a plan written by hand may give the id
 * as a string.  Either, or none.
 */
static gboolean
spm_json_member_backend(JsonObject *d, guint index, const char **out, GError **error)
{
    JsonNode *n = json_object_get_member(d, "backend");
    const char *where = "backend";

    *out = NULL;
    if (!n)
        return TRUE;
    if (JSON_NODE_HOLDS_OBJECT(n)) {
        n = json_object_get_member(json_node_get_object(n), "id");
        where = "backend.id";
    }
    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "plan: devices[%u].%s is missing or not a string", index, where);
        return FALSE;
    }
    *out = json_node_get_string(n);
    return TRUE;
}

SpmAuditPlan *
spm_audit_plan_from_json(const char *text, gsize len, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autoptr(JsonNode) root = spm_json_guard_parse(text, len, SPM_JSON_MAX_DEPTH, &local);
    g_autoptr(SpmAuditPlan) plan = NULL;
    JsonObject *obj;
    JsonNode *devs;
    JsonNode *stand_in;
    JsonNode *device;
    JsonArray *arr;

    if (!root) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID, "plan: %s", local->message);
        return NULL;
    }
    if (!JSON_NODE_HOLDS_OBJECT(root) ||
        !(devs = json_object_get_member(json_node_get_object(root), "devices")) ||
        !JSON_NODE_HOLDS_ARRAY(devs)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "plan: not a 'virt-spm plan --json' object with a 'devices' array");
        return NULL;
    }
    obj = json_node_get_object(root);
    stand_in = json_object_get_member(obj, "stand_in_driver");
    plan = spm_audit_plan_new(stand_in && JSON_NODE_HOLDS_VALUE(stand_in) &&
                              json_node_get_value_type(stand_in) == G_TYPE_STRING
                              ? json_node_get_string(stand_in) : NULL);
    device = json_object_get_member(obj, "device");
    if (device && !plan->stand_in_driver) {
        if (!JSON_NODE_HOLDS_VALUE(device) || json_node_get_value_type(device) != G_TYPE_STRING ||
            !spm_device_rev_from_string(json_node_get_string(device), &plan->device)) {
            g_autofree char *names = spm_device_rev_all_names("or");

            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "plan: 'device' is not %s", names);
            return NULL;
        }
        plan->device_known = TRUE;
    }
    arr = json_node_get_array(devs);
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonNode *e = json_array_get_element(arr, i);
        JsonObject *d;
        const char *id, *model, *backend, *guest;
        guint64 addr, size, node = 0;

        if (!JSON_NODE_HOLDS_OBJECT(e)) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID, "plan: devices[%u] is not an object", i);
            return NULL;
        }
        d = json_node_get_object(e);
        if (!spm_json_member_str(d, "id", i, TRUE, &id, error) ||
            !spm_json_member_str(d, "model", i, TRUE, &model, error) ||
            !spm_json_member_backend(d, i, &backend, error) ||
            !spm_json_member_uint(d, "addr", i, G_MAXINT64, &addr, error) ||
            !spm_json_member_uint(d, "size", i, G_MAXINT64, &size, error))
            return NULL;
        if (json_object_has_member(d, "node") &&
            !spm_json_member_uint(d, "node", i, G_MAXUINT32, &node, error))
            return NULL;
        spm_audit_plan_add(plan, id, model, addr, size,
                           json_object_has_member(d, "node") ? (gint64) node : -1, backend);
        if (!spm_json_member_str(d, "guest", i, FALSE, &guest, error))
            return NULL;
        if (guest) {
            int m = spm_guest_mode_from_string(guest);

            if (m < 0) {
                g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                            "plan: devices[%u].guest '%s' is not reserved, devdax or system-ram",
                            i, guest);
                return NULL;
            }
            ((SpmAuditDevice *) g_ptr_array_index(plan->devices, plan->devices->len - 1))
                ->guest_mode = m;
        }
    }
    return g_steal_pointer(&plan);
}

/* ---- verdicts ---- */

static const char *const spm_verdict_names[] = { "match", "mismatch", "error" };

const char *
spm_verdict_kind_to_string(SpmVerdictKind kind)
{
    return (guint) kind < G_N_ELEMENTS(spm_verdict_names) ? spm_verdict_names[kind] : "error";
}

int
spm_verdict_kind_from_string(const char *str)
{
    for (guint i = 0; i < G_N_ELEMENTS(spm_verdict_names); i++) {
        if (g_strcmp0(str, spm_verdict_names[i]) == 0)
            return i;
    }
    return -1;
}

static void
spm_finding_free(SpmFinding *f)
{
    g_free(f->device);
    g_free(f->field);
    g_free(f->expected);
    g_free(f->actual);
    g_free(f);
}

SpmVerdict *
spm_verdict_new(const char *domain, const char *uuid)
{
    SpmVerdict *v = g_new0(SpmVerdict, 1);

    v->domain = g_strdup(domain);
    v->uuid = g_strdup(uuid);
    v->findings = g_ptr_array_new_with_free_func((GDestroyNotify) spm_finding_free);
    v->time = g_get_real_time();
    v->domain_id = -1;
    v->latency_us = -1;
    return v;
}

void
spm_verdict_free(SpmVerdict *v)
{
    if (!v)
        return;
    g_free(v->domain);
    g_free(v->uuid);
    g_free(v->error);
    g_ptr_array_unref(v->findings);
    g_free(v);
}

void
spm_verdict_set_error(SpmVerdict *v, const GError *error)
{
    v->kind = SPM_VERDICT_ERROR;
    g_free(v->error);
    v->error = g_strdup(error->message);
}

static void
spm_verdict_add(SpmVerdict *v, const char *device, const char *field,
                char *expected, char *actual)   /* takes both */
{
    SpmFinding *f = g_new0(SpmFinding, 1);

    f->device = g_strdup(device ? device : "");
    f->field = g_strdup(field);
    f->expected = expected;
    f->actual = actual;
    g_ptr_array_add(v->findings, f);
}

char *
spm_finding_to_string(const SpmFinding *f)
{
    if (g_str_equal(f->field, "planned"))
        return g_strdup_printf("unplanned memory device '%s': %s", f->device, f->actual);
    if (g_str_equal(f->field, "present"))
        return g_strdup_printf("device '%s': missing (planned at %s)", f->device, f->expected);
    return g_strdup_printf("device '%s': %s expected %s, actual %s",
                           f->device, f->field, f->expected, f->actual);
}

static char *
spm_hex(guint64 v)
{
    return g_strdup_printf("0x%" G_GINT64_MODIFIER "x", v);
}

/* The type QEMU reports for the stand-in driver. */
static const char *
spm_audit_stand_in_type(const char *driver)
{
    if (g_str_equal(driver, "pc-dimm"))
        return "dimm";
    return driver;
}

/*
 * The query-memory-devices type a planned model must show, for messages;
 * an SPM device of a plan that does not say its revision may show any.
 */
static char *
spm_audit_model_type(const SpmAuditPlan *plan, const char *model)
{
    g_autoptr(GString) any = NULL;

    if (!g_str_equal(model, "spm"))
        return g_strdup(model);     /* dimm, nvdimm, virtio-mem, virtio-pmem are QMP's names too */
    if (plan->stand_in_driver)
        return g_strdup(spm_audit_stand_in_type(plan->stand_in_driver));
    if (plan->device_known)
        return g_strdup(spm_device_rev_info(plan->device)->qmp_type);
    any = g_string_new(NULL);
    for (guint i = 0; i < SPM_DEVICE_LAST; i++)
        g_string_append_printf(any, "%s%s", i ? " or " : "",
                               spm_device_rev_info((SpmDeviceRev)i)->qmp_type);
    return g_string_free(g_steal_pointer(&any), FALSE);
}

/* Does @type, shown for a planned SPM device, fit @plan? */
static gboolean
spm_audit_spm_type_ok(const SpmAuditPlan *plan, const char *type)
{
    SpmDeviceRev rev;

    if (plan->stand_in_driver)
        return g_str_equal(type, spm_audit_stand_in_type(plan->stand_in_driver));
    if (!spm_device_rev_from_qmp_type(type, &rev))
        return FALSE;
    return !plan->device_known || rev == plan->device;
}

static char *
spm_audit_describe(const SpmMemdevInfo *a)
{
    const char *backend = spm_memdev_info_backend_id(a);

    return g_strdup_printf("%s at 0x%" G_GINT64_MODIFIER "x size 0x%" G_GINT64_MODIFIER "x%s%s",
                           a->type, a->addr, a->size,
                           backend ? " backend " : "", backend ? backend : "");
}

SpmVerdict *
spm_audit_compare(const SpmAuditPlan *plan, const GPtrArray *actual,
                  const char *domain, const char *uuid)
{
    g_autoptr(SpmVerdict) v = spm_verdict_new(domain, uuid);
    g_autoptr(GHashTable) used = g_hash_table_new(NULL, NULL);

    for (guint i = 0; i < plan->devices->len; i++) {
        const SpmAuditDevice *p = g_ptr_array_index(plan->devices, i);
        const SpmMemdevInfo *a = NULL;
        g_autofree char *want = spm_audit_model_type(plan, p->model);
        const char *backend;

        for (guint j = 0; j < actual->len && !a; j++) {
            const SpmMemdevInfo *c = g_ptr_array_index(actual, j);

            if (c->id && g_str_equal(c->id, p->id))
                a = c;
        }
        v->devices++;
        if (!a) {
            spm_verdict_add(v, p->id, "present",
                            g_strdup_printf("0x%" G_GINT64_MODIFIER "x", p->addr),
                            g_strdup("absent"));
            continue;
        }
        g_hash_table_add(used, (gpointer) a);

        if (g_str_equal(p->model, "spm") ? !spm_audit_spm_type_ok(plan, a->type)
                                         : !g_str_equal(a->type, want))
            spm_verdict_add(v, p->id, "type", g_strdup(want), g_strdup(a->type));
        if (a->addr != p->addr)
            spm_verdict_add(v, p->id, "addr", spm_hex(p->addr), spm_hex(a->addr));
        if (a->size != p->size)
            spm_verdict_add(v, p->id, "size", spm_hex(p->size), spm_hex(a->size));
        if (p->has_node && (!a->has_node || a->node != p->node))
            spm_verdict_add(v, p->id, "node", g_strdup_printf("%u", p->node),
                            a->has_node ? g_strdup_printf("%u", a->node) : g_strdup("none"));
        backend = spm_memdev_info_backend_id(a);
        if (p->backend && g_strcmp0(backend, p->backend) != 0)
            spm_verdict_add(v, p->id, "backend", g_strdup(p->backend),
                            g_strdup(a->memdev ? a->memdev : "none"));
    }

    for (guint j = 0; j < actual->len; j++) {
        const SpmMemdevInfo *a = g_ptr_array_index(actual, j);

        if (!g_hash_table_contains(used, a))
            spm_verdict_add(v, a->id, "planned", g_strdup("none"), spm_audit_describe(a));
    }
    v->kind = v->findings->len ? SPM_VERDICT_MISMATCH : SPM_VERDICT_MATCH;
    return g_steal_pointer(&v);
}

/* ---- JSON ---- */

JsonNode *
spm_verdict_to_json(const SpmVerdict *v)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(v->time / G_USEC_PER_SEC);
    g_autofree char *iso = dt ? g_date_time_format_iso8601(dt) : g_strdup("");

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "domain");
    json_builder_add_string_value(b, v->domain ? v->domain : "");
    json_builder_set_member_name(b, "uuid");
    json_builder_add_string_value(b, v->uuid ? v->uuid : "");
    json_builder_set_member_name(b, "verdict");
    json_builder_add_string_value(b, spm_verdict_kind_to_string(v->kind));
    if (v->error) {
        json_builder_set_member_name(b, "error");
        json_builder_add_string_value(b, v->error);
    }
    json_builder_set_member_name(b, "devices");
    json_builder_add_int_value(b, v->devices);
    json_builder_set_member_name(b, "time");
    json_builder_add_string_value(b, iso);
    json_builder_set_member_name(b, "time_us");
    json_builder_add_int_value(b, v->time);
    json_builder_set_member_name(b, "domain_id");
    json_builder_add_int_value(b, v->domain_id);
    json_builder_set_member_name(b, "audit_count");
    json_builder_add_int_value(b, v->audit_count);
    json_builder_set_member_name(b, "duration_us");
    json_builder_add_int_value(b, v->duration_us);
    json_builder_set_member_name(b, "latency_us");
    json_builder_add_int_value(b, v->latency_us);
    json_builder_set_member_name(b, "findings");
    json_builder_begin_array(b);
    for (guint i = 0; i < v->findings->len; i++) {
        const SpmFinding *f = g_ptr_array_index(v->findings, i);
        g_autofree char *line = spm_finding_to_string(f);

        json_builder_begin_object(b);
        json_builder_set_member_name(b, "device");
        json_builder_add_string_value(b, f->device);
        json_builder_set_member_name(b, "field");
        json_builder_add_string_value(b, f->field);
        json_builder_set_member_name(b, "expected");
        json_builder_add_string_value(b, f->expected);
        json_builder_set_member_name(b, "actual");
        json_builder_add_string_value(b, f->actual);
        json_builder_set_member_name(b, "message");
        json_builder_add_string_value(b, line);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}

char *
spm_verdict_to_json_string(const SpmVerdict *v, gboolean pretty)
{
    g_autoptr(JsonNode) n = spm_verdict_to_json(v);

    return json_to_string(n, pretty);
}

static const char *
spm_obj_str(JsonObject *o, const char *key)
{
    JsonNode *n = json_object_get_member(o, key);

    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
        return NULL;
    return json_node_get_string(n);
}

static gint64
spm_obj_int(JsonObject *o, const char *key, gint64 def)
{
    JsonNode *n = json_object_get_member(o, key);

    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64)
        return def;
    return json_node_get_int(n);
}

SpmVerdict *
spm_verdict_from_json(JsonNode *node, GError **error)
{
    g_autoptr(SpmVerdict) v = NULL;
    JsonObject *o;
    JsonNode *fs;
    int kind;

    if (!node || !JSON_NODE_HOLDS_OBJECT(node)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID, "verdict: not a JSON object");
        return NULL;
    }
    o = json_node_get_object(node);
    kind = spm_verdict_kind_from_string(spm_obj_str(o, "verdict"));
    if (kind < 0 || !spm_obj_str(o, "domain")) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                    "verdict: 'verdict' or 'domain' is missing or invalid");
        return NULL;
    }
    v = spm_verdict_new(spm_obj_str(o, "domain"), spm_obj_str(o, "uuid"));
    v->kind = kind;
    v->error = g_strdup(spm_obj_str(o, "error"));
    v->devices = spm_obj_int(o, "devices", 0);
    v->time = spm_obj_int(o, "time_us", 0);
    v->domain_id = spm_obj_int(o, "domain_id", -1);
    v->audit_count = spm_obj_int(o, "audit_count", 0);
    v->duration_us = spm_obj_int(o, "duration_us", 0);
    v->latency_us = spm_obj_int(o, "latency_us", -1);
    fs = json_object_get_member(o, "findings");
    if (fs && JSON_NODE_HOLDS_ARRAY(fs)) {
        JsonArray *arr = json_node_get_array(fs);

        for (guint i = 0; i < json_array_get_length(arr); i++) {
            JsonNode *e = json_array_get_element(arr, i);
            JsonObject *f;

            if (!JSON_NODE_HOLDS_OBJECT(e))
                continue;
            f = json_node_get_object(e);
            spm_verdict_add(v, spm_obj_str(f, "device"),
                            spm_obj_str(f, "field") ? spm_obj_str(f, "field") : "",
                            g_strdup(spm_obj_str(f, "expected") ? spm_obj_str(f, "expected") : ""),
                            g_strdup(spm_obj_str(f, "actual") ? spm_obj_str(f, "actual") : ""));
        }
    }
    return g_steal_pointer(&v);
}
