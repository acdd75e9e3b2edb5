/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rq-compare.c: what QEMU and libvirt report, against the plan.
 */
#include "rq-compare.h"

#include <string.h>
#include <libxml/xpath.h>

#include "spm-convert.h"
#include "spm-device-rev.h"
#include "spm-domain-parse.h"
#include "spm-error.h"
#include "spm-xml.h"
#include "spm-test-qemu.h"

/* One line per planned device, for messages. */
char *
rq_plan_describe(const SpmPlan *plan)
{
    GString *s = g_string_new(NULL);

    g_string_append_printf(s, "device memory 0x%" G_GINT64_MODIFIER "x+0x%" G_GINT64_MODIFIER
                           "x, maxmem %" G_GUINT64_FORMAT " slots %u",
                           plan->layout.devmem_base, plan->layout.devmem_size,
                           plan->max_memory, plan->max_memory_slots);
    for (guint i = 0; i < plan->devices->len; i++) {
        const SpmPlannedDevice *pd = g_ptr_array_index(plan->devices, i);

        g_string_append_printf(s, "\n  %s %s addr 0x%" G_GINT64_MODIFIER "x size 0x%"
                               G_GINT64_MODIFIER "x node %u slot %d order %u%s",
                               spm_mem_model_to_string(pd->model), pd->id, pd->addr,
                               pd->size, pd->node, pd->slot, pd->order,
                               pd->generated ? " (generated)" : "");
    }
    return g_string_free(s, FALSE);
}

static gboolean
rq_json_u64(JsonObject *o, const char *member, guint64 *out)
{
    JsonNode *n = json_object_get_member(o, member);

    if (!n || !JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_INT64)
        return FALSE;
    *out = (guint64)json_node_get_int(n);
    return TRUE;
}

/*
 * query-memory-devices (the "return" array) against the plan: every
 * device planned, with the planned type (the plan's SPM device, or pc-dimm for
 * libvirt's DIMMs and stand-ins), addr, size, node, slot and backend, and
 * every planned device reported.  All differences in one message.
 */
gboolean
rq_compare_devices(JsonNode *ret, const SpmPlan *plan, GError **error)
{
    g_autoptr(GString) bad = g_string_new(NULL);
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    JsonArray *arr;

    if (!ret || !JSON_NODE_HOLDS_ARRAY(ret)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_QMP, "query-memory-devices: not an array");
        return FALSE;
    }
    arr = json_node_get_array(ret);
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        JsonObject *entry = json_array_get_object_element(arr, i);
        const char *type = json_object_get_string_member_with_default(entry, "type", "?");
        JsonObject *data = json_object_get_object_member(entry, "data");
        const char *id = data ? json_object_get_string_member_with_default(data, "id", NULL) : NULL;
        const SpmPlannedDevice *pd;
        const char *expected_type;
        gboolean real_spm;
        guint64 addr = 0, size = 0, node = 0, slot = 0;
        g_autofree char *memdev = NULL;

        if (!data || !id) {
            g_string_append_printf(bad, "; entry %u (%s) without data or id", i, type);
            continue;
        }
        /* pc-dimm and sp-mem say "addr" (pc-dimm has a slot), the v8 spm-memory "memaddr" */
        if (!rq_json_u64(data, "addr", &addr))
            rq_json_u64(data, "memaddr", &addr);
        rq_json_u64(data, "size", &size);
        rq_json_u64(data, "node", &node);
        rq_json_u64(data, "slot", &slot);
        if (!(pd = spm_plan_find_device(plan, id))) {
            g_string_append_printf(bad, "; unplanned %s '%s' at 0x%" G_GINT64_MODIFIER "x size 0x%"
                                   G_GINT64_MODIFIER "x node %" G_GUINT64_FORMAT, type, id,
                                   addr, size, node);
            continue;
        }
        g_hash_table_add(seen, (gpointer)pd->id);
        real_spm = pd->model == SPM_MEM_MODEL_SPM && !plan->stand_in_driver;
        /* the plan's revision's kind: "sp-mem" (QEMU 11.1) or "spm-memory" (v8) */
        expected_type = real_spm ? spm_device_rev_info(plan->device)->qmp_type : "dimm";
        if (!g_str_equal(type, expected_type))
            g_string_append_printf(bad, "; '%s': type %s, expected %s", id, type, expected_type);
        if (addr != pd->addr)
            g_string_append_printf(bad, "; '%s': QEMU addr 0x%" G_GINT64_MODIFIER "x, plan 0x%"
                                   G_GINT64_MODIFIER "x", id, addr, pd->addr);
        if (size != pd->size)
            g_string_append_printf(bad, "; '%s': QEMU size 0x%" G_GINT64_MODIFIER "x, plan 0x%"
                                   G_GINT64_MODIFIER "x", id, size, pd->size);
        if (node != pd->node)
            g_string_append_printf(bad, "; '%s': QEMU node %" G_GUINT64_FORMAT ", plan %u",
                                   id, node, pd->node);
        if (!real_spm && pd->slot >= 0 && slot != (guint64)pd->slot)
            g_string_append_printf(bad, "; '%s': QEMU slot %" G_GUINT64_FORMAT ", plan %d",
                                   id, slot, pd->slot);
        if (!real_spm && pd->slot < 0)
            g_string_append_printf(bad, "; '%s': plan has no slot for a pc-dimm (QEMU %"
                                   G_GUINT64_FORMAT ")", id, slot);
        memdev = g_strconcat("/objects/", pd->backend.id, NULL);
        if (g_strcmp0(json_object_get_string_member_with_default(data, "memdev", ""), memdev))
            g_string_append_printf(bad, "; '%s': QEMU memdev %s, plan %s", id,
                                   json_object_get_string_member_with_default(data, "memdev", ""),
                                   memdev);
    }
    for (guint i = 0; i < plan->devices->len; i++) {
        const SpmPlannedDevice *pd = g_ptr_array_index(plan->devices, i);

        if (!g_hash_table_contains(seen, pd->id))
            g_string_append_printf(bad, "; planned '%s' not reported by QEMU", pd->id);
    }
    if (bad->len) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_MISMATCH, "query-memory-devices: %s", bad->str + 2);
        return FALSE;
    }
    return TRUE;
}

/*
 * docs/guest-view.md: two SPM devices back to back merge into one Soft
 * Reserved range in the guest, so no SPM device may end where another
 * begins (QEMU's addresses, already compared with the plan's).
 */
gboolean
rq_check_spm_apart(const SpmPlan *plan, GError **error)
{
    for (guint i = 0; i < plan->devices->len; i++) {
        const SpmPlannedDevice *a = g_ptr_array_index(plan->devices, i);

        for (guint j = 0; a->model == SPM_MEM_MODEL_SPM && j < plan->devices->len; j++) {
            const SpmPlannedDevice *b = g_ptr_array_index(plan->devices, j);

            if (b->model == SPM_MEM_MODEL_SPM && a->addr + a->size == b->addr) {
                g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                            "SPM '%s' ends at 0x%" G_GINT64_MODIFIER "x where SPM '%s' begins: "
                            "the guest merges them", a->id, b->addr, b->id);
                return FALSE;
            }
        }
    }
    return TRUE;
}

/* `info mtree`: the device-memory region and the RAM split against the plan. */
gboolean
rq_compare_mtree(const char *mtree, const SpmPlan *plan, GError **error)
{
    const SpmMachineLayout *l = &plan->layout;
    guint64 start = 0, end = 0;
    g_autoptr(GError) err = NULL;

    if (!spm_test_mtree_device_memory(mtree, &start, &end, error))
        return FALSE;
    if (start != l->devmem_base || end != l->devmem_base + l->devmem_size - 1) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_MISMATCH,
                    "device-memory: QEMU 0x%" G_GINT64_MODIFIER "x-0x%" G_GINT64_MODIFIER
                    "x, plan 0x%" G_GINT64_MODIFIER "x-0x%" G_GINT64_MODIFIER "x",
                    start, end, l->devmem_base, l->devmem_base + l->devmem_size - 1);
        return FALSE;
    }
    if (!spm_test_mtree_alias(mtree, "ram-below-4g", &start, &end, &err)) {
        if (err) {
            g_propagate_error(error, g_steal_pointer(&err));
            return FALSE;
        }
        g_set_error(error, SPM_ERROR, SPM_ERROR_MISMATCH, "info mtree: no ram-below-4g");
        return FALSE;
    }
    if (start != 0 || end != l->below_4g - 1) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_MISMATCH,
                    "ram-below-4g: QEMU 0x%" G_GINT64_MODIFIER "x-0x%" G_GINT64_MODIFIER
                    "x, plan below_4g 0x%" G_GINT64_MODIFIER "x", start, end, l->below_4g);
        return FALSE;
    }
    if (spm_test_mtree_alias(mtree, "ram-above-4g", &start, &end, &err)) {
        if (!l->above_4g || start != l->above_4g_start ||
            end != l->above_4g_start + l->above_4g - 1) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_MISMATCH,
                        "ram-above-4g: QEMU 0x%" G_GINT64_MODIFIER "x-0x%" G_GINT64_MODIFIER
                        "x, plan 0x%" G_GINT64_MODIFIER "x+0x%" G_GINT64_MODIFIER "x",
                        start, end, l->above_4g_start, l->above_4g);
            return FALSE;
        }
    } else if (err) {
        g_propagate_error(error, g_steal_pointer(&err));
        return FALSE;
    } else if (l->above_4g) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_MISMATCH,
                    "ram-above-4g: none in QEMU, plan 0x%" G_GINT64_MODIFIER "x", l->above_4g);
        return FALSE;
    }
    return TRUE;
}

/* The "return" member of a QMP reply libvirt passed through. */
JsonNode *
rq_qmp_return(const char *reply, GError **error)
{
    g_autoptr(JsonParser) parser = json_parser_new();
    JsonNode *root;
    JsonObject *o;

    if (!json_parser_load_from_data(parser, reply, -1, error))
        return NULL;
    root = json_parser_get_root(parser);
    if (!root || !JSON_NODE_HOLDS_OBJECT(root) ||
        !json_object_has_member((o = json_node_get_object(root)), "return")) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_QMP, "QMP reply without return: %s", reply);
        return NULL;
    }
    return json_node_copy(json_object_get_member(o, "return"));
}

static char *
rq_xpath_string(xmlXPathContextPtr ctx, xmlNodePtr node, const char *expr)
{
    xmlXPathObjectPtr obj;
    char *ret = NULL;

    ctx->node = node;
    obj = xmlXPathEvalExpression(BAD_CAST expr, ctx);
    if (obj && obj->type == XPATH_NODESET && obj->nodesetval && obj->nodesetval->nodeNr > 0) {
        xmlChar *v = xmlNodeGetContent(obj->nodesetval->nodeTab[0]);

        ret = g_strdup((const char *)v);
        xmlFree(v);
    }
    xmlXPathFreeObject(obj);
    return ret;
}

/* libvirt's live <address type='dimm' slot= base=> of its DIMMs against the plan. */
gboolean
rq_compare_live_xml(const char *live, const SpmPlan *plan, GError **error)
{
    g_autoptr(xmlDoc) doc = spm_xml_read_memory(live, strlen(live), "live XML", error);
    g_autoptr(GString) bad = g_string_new(NULL);
    xmlXPathContextPtr ctx;
    xmlXPathObjectPtr obj;
    guint planned = 0;
    guint found = 0;

    if (!doc)
        return FALSE;
    ctx = xmlXPathNewContext(doc);
    obj = xmlXPathEvalExpression(BAD_CAST "/domain/devices/memory[@model='dimm']", ctx);
    for (int i = 0; obj && obj->nodesetval && i < obj->nodesetval->nodeNr; i++) {
        xmlNodePtr mem = obj->nodesetval->nodeTab[i];
        g_autofree char *alias = rq_xpath_string(ctx, mem, "alias/@name");
        g_autofree char *slot = rq_xpath_string(ctx, mem, "address[@type='dimm']/@slot");
        g_autofree char *base = rq_xpath_string(ctx, mem, "address[@type='dimm']/@base");
        const SpmPlannedDevice *pd = alias ? spm_plan_find_device(plan, alias) : NULL;
        guint64 vslot, vbase;

        found++;
        if (!pd) {
            g_string_append_printf(bad, "; live dimm '%s' (slot %s base %s) is not in the plan",
                                   alias ? alias : "(no alias)", slot ? slot : "-",
                                   base ? base : "-");
            continue;
        }
        if (!slot || !base) {
            g_string_append_printf(bad, "; live dimm '%s' without slot or base", alias);
            continue;
        }
        vslot = g_ascii_strtoull(slot, NULL, 10);
        vbase = g_ascii_strtoull(base, NULL, 16);
        if ((int)vslot != pd->slot)
            g_string_append_printf(bad, "; live dimm '%s': slot %s, plan %d", alias, slot, pd->slot);
        if (vbase != pd->addr)
            g_string_append_printf(bad, "; live dimm '%s': base %s, plan 0x%" G_GINT64_MODIFIER "x",
                                   alias, base, pd->addr);
    }
    xmlXPathFreeObject(obj);
    xmlXPathFreeContext(ctx);
    for (guint i = 0; i < plan->devices->len; i++) {
        const SpmPlannedDevice *pd = g_ptr_array_index(plan->devices, i);

        if (!pd->generated)
            planned++;
    }
    if (found != planned)
        g_string_append_printf(bad, "; %u dimms in the live XML, %u in the plan", found, planned);
    if (bad->len) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_MISMATCH, "live XML: %s", bad->str + 2);
        return FALSE;
    }
    return TRUE;
}

/* The SPM devices of @a and @b agree (size, node, base, alias), in order. */
static gboolean
rq_same_spm_devices(const SpmDomainDef *a, const SpmDomainDef *b, GString *bad)
{
    g_autoptr(GPtrArray) sa = g_ptr_array_new();
    g_autoptr(GPtrArray) sb = g_ptr_array_new();

    for (guint i = 0; i < a->mems->len; i++) {
        SpmMemDevice *m = g_ptr_array_index(a->mems, i);

        if (m->model == SPM_MEM_MODEL_SPM)
            g_ptr_array_add(sa, m);
    }
    for (guint i = 0; i < b->mems->len; i++) {
        SpmMemDevice *m = g_ptr_array_index(b->mems, i);

        if (m->model == SPM_MEM_MODEL_SPM)
            g_ptr_array_add(sb, m);
    }
    if (sa->len != sb->len) {
        g_string_append_printf(bad, "; %u SPM devices, expected %u", sb->len, sa->len);
        return FALSE;
    }
    for (guint i = 0; i < sa->len; i++) {
        const SpmMemDevice *x = g_ptr_array_index(sa, i);
        const SpmMemDevice *y = g_ptr_array_index(sb, i);

        if (x->size != y->size || x->node != y->node || x->has_base != y->has_base ||
            x->base != y->base || g_strcmp0(x->alias, y->alias))
            g_string_append_printf(bad, "; SPM device %u: size %" G_GUINT64_FORMAT " node %u "
                                   "base 0x%" G_GINT64_MODIFIER "x alias %s, expected size %"
                                   G_GUINT64_FORMAT " node %u base 0x%" G_GINT64_MODIFIER
                                   "x alias %s", i, y->size, y->node, y->base,
                                   y->alias ? y->alias : "-", x->size, x->node, x->base,
                                   x->alias ? x->alias : "-");
    }
    return TRUE;
}

/*
 * What libvirt stored (inactive XML) against what was defined: the
 * generated arguments are still current, libvirt kept <memory> and
 * <maxMemory> as converted, the metadata still describes the user's SPM
 * devices, and reverse gives back the user's memory figures.
 */
gboolean
rq_compare_stored(const char *stored, const char *converted, const SpmDomainDef *user,
                  const SpmPlanPolicy *policy, GError **error)
{
    g_autoptr(xmlDoc) sdoc = spm_xml_read_memory(stored, strlen(stored), "stored", error);
    g_autoptr(xmlDoc) cdoc = NULL;
    g_autoptr(SpmDomainDef) sdef = NULL;
    g_autoptr(SpmDomainDef) cdef = NULL;
    g_autoptr(SpmDomainDef) rdef = NULL;
    g_autoptr(GString) bad = g_string_new(NULL);
    gboolean has_spm = FALSE;

    if (!sdoc ||
        !(cdoc = spm_xml_read_memory(converted, strlen(converted), "converted", error)) ||
        !(sdef = spm_domain_def_parse(sdoc, error)) ||
        !(cdef = spm_domain_def_parse(cdoc, error)))
        return FALSE;

    if (!spm_convert_check_current(sdoc, policy, &has_spm, NULL, NULL, error))
        return FALSE;
    if (!has_spm)
        g_string_append(bad, "; check_current finds no SPM metadata");
    if (sdef->memory != cdef->memory)
        g_string_append_printf(bad, "; <memory> %" G_GUINT64_FORMAT ", converted %"
                               G_GUINT64_FORMAT, sdef->memory, cdef->memory);
    if (sdef->max_memory != cdef->max_memory || sdef->max_memory_slots != cdef->max_memory_slots)
        g_string_append_printf(bad, "; <maxMemory> %" G_GUINT64_FORMAT " slots %u, converted %"
                               G_GUINT64_FORMAT " slots %u", sdef->max_memory,
                               sdef->max_memory_slots, cdef->max_memory,
                               cdef->max_memory_slots);
    rq_same_spm_devices(user, sdef, bad);

    if (!spm_convert_reverse(sdoc, error) || !(rdef = spm_domain_def_parse(sdoc, error)))
        return FALSE;
    if (rdef->memory != user->memory || rdef->has_max_memory != user->has_max_memory ||
        rdef->max_memory != user->max_memory || rdef->max_memory_slots != user->max_memory_slots)
        g_string_append_printf(bad, "; reversed: memory %" G_GUINT64_FORMAT " maxMemory %"
                               G_GUINT64_FORMAT " slots %u, the user's %" G_GUINT64_FORMAT
                               " %" G_GUINT64_FORMAT " %u", rdef->memory, rdef->max_memory,
                               rdef->max_memory_slots, user->memory, user->max_memory,
                               user->max_memory_slots);
    if (rdef->cells->len != user->cells->len)
        g_string_append_printf(bad, "; reversed: %u NUMA cells, the user's %u",
                               rdef->cells->len, user->cells->len);
    rq_same_spm_devices(user, rdef, bad);

    if (bad->len) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_MISMATCH, "%s", bad->str + 2);
        return FALSE;
    }
    return TRUE;
}
