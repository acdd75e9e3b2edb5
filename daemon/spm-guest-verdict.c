/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-guest-verdict.c: the guest verdict per SPM device (see
 * spm-guest-verdict.h)
 */
#include <string.h>

#include "spm-guest-verdict.h"

static const char *const spm_guest_state_names[SPM_GUEST_STATE_LAST] = {
    "reserved", "devdax", "system-ram", "leaked", "missing", "unknown",
};
static const char *const spm_guest_judgement_names[] = { "match", "mismatch", "undetermined" };
static const char *const spm_guest_evidence_names[] = { "none", "memory-blocks", "iomem" };

const char *
spm_guest_state_to_string(SpmGuestState s)
{
    return (guint) s < SPM_GUEST_STATE_LAST ? spm_guest_state_names[s] : "unknown";
}

int
spm_guest_state_from_string(const char *str)
{
    for (int i = 0; i < SPM_GUEST_STATE_LAST; i++) {
        if (g_strcmp0(str, spm_guest_state_names[i]) == 0)
            return i;
    }
    return -1;
}

const char *
spm_guest_judgement_to_string(SpmGuestJudgement j)
{
    return (guint) j < G_N_ELEMENTS(spm_guest_judgement_names) ? spm_guest_judgement_names[j]
                                                               : "undetermined";
}

int
spm_guest_judgement_from_string(const char *str)
{
    for (guint i = 0; i < G_N_ELEMENTS(spm_guest_judgement_names); i++) {
        if (g_strcmp0(str, spm_guest_judgement_names[i]) == 0)
            return i;
    }
    return -1;
}

const char *
spm_guest_evidence_to_string(SpmGuestEvidence e)
{
    return (guint) e < G_N_ELEMENTS(spm_guest_evidence_names) ? spm_guest_evidence_names[e] : "none";
}

static void
spm_guest_dax_free(SpmGuestDax *d)
{
    g_free(d->name);
    g_free(d);
}

SpmGuestFacts *
spm_guest_facts_new(void)
{
    SpmGuestFacts *f = g_new0(SpmGuestFacts, 1);

    f->dax = g_ptr_array_new_with_free_func((GDestroyNotify) spm_guest_dax_free);
    return f;
}

void
spm_guest_facts_free(SpmGuestFacts *f)
{
    if (!f)
        return;
    g_free(f->agent_error);
    if (f->blocks)
        g_array_unref(f->blocks);
    g_free(f->blocks_error);
    if (f->iomem)
        g_ptr_array_unref(f->iomem);
    g_free(f->iomem_error);
    g_ptr_array_unref(f->dax);
    g_free(f);
}

void
spm_guest_facts_add_dax(SpmGuestFacts *f, const char *name, gint64 target_node)
{
    SpmGuestDax *d = g_new0(SpmGuestDax, 1);

    d->name = g_strdup(name);
    d->target_node = target_node;
    g_ptr_array_add(f->dax, d);
}

static void
spm_guest_device_verdict_free(SpmGuestDeviceVerdict *d)
{
    g_free(d->device);
    g_free(d->reason);
    g_free(d);
}

void
spm_guest_audit_free(SpmGuestAudit *a)
{
    if (!a)
        return;
    g_ptr_array_unref(a->devices);
    g_free(a->error);
    g_free(a);
}

static gint64
spm_guest_dax_node(const SpmGuestFacts *f, const char *name)
{
    for (guint i = 0; i < f->dax->len; i++) {
        const SpmGuestDax *d = g_ptr_array_index(f->dax, i);

        if (strcmp(d->name, name) == 0)
            return d->target_node;
    }
    return -1;
}

/* From /proc/iomem: the most specific thing inside [first, last]. */
static void
spm_guest_from_iomem(const SpmGuestFacts *f, guint64 first, guint64 last,
                     SpmGuestDeviceVerdict *v)
{
    const SpmIomemEntry *kmem = NULL, *ram = NULL, *dax = NULL, *soft = NULL, *other = NULL;

    for (guint i = 0; i < f->iomem->len; i++) {
        const SpmIomemEntry *e = g_ptr_array_index(f->iomem, i);

        if (e->end < first || e->start > last)
            continue;
        if (strcmp(e->name, "System RAM (kmem)") == 0)
            kmem = kmem ?: e;
        else if (strcmp(e->name, "System RAM") == 0)
            ram = ram ?: e;
        else if (spm_guest_is_dax_name(e->name))
            dax = dax ?: e;
        else if (strcmp(e->name, "Soft Reserved") == 0 || g_str_has_prefix(e->name, "hmem."))
            soft = soft ?: e;
        else
            other = other ?: e;
    }
    v->evidence = SPM_GUEST_EVIDENCE_IOMEM;
    if (ram) {
        v->state = SPM_GUEST_LEAKED;
        v->reason = g_strdup_printf("/proc/iomem: 'System RAM' at 0x%" G_GINT64_MODIFIER "x-0x%"
                                    G_GINT64_MODIFIER "x: the page allocator owns it",
                                    ram->start, ram->end);
    } else if (kmem) {
        v->state = SPM_GUEST_SYSTEM_RAM;
        v->guest_node = dax ? spm_guest_dax_node(f, dax->name) : -1;
        v->reason = g_strdup_printf("/proc/iomem: 'System RAM (kmem)'%s%s",
                                    dax ? " of " : "", dax ? dax->name : "");
    } else if (dax) {
        v->state = SPM_GUEST_DEVDAX;
        v->guest_node = spm_guest_dax_node(f, dax->name);
        v->reason = g_strdup_printf("/proc/iomem: %s", dax->name);
    } else if (soft && soft->start <= first && soft->end >= last) {
        v->state = SPM_GUEST_RESERVED;
        v->reason = g_strdup_printf("/proc/iomem: '%s' over the device", soft->name);
    } else if (soft) {
        v->state = SPM_GUEST_UNKNOWN;
        v->reason = g_strdup_printf("/proc/iomem: '%s' covers only part of the device", soft->name);
    } else {
        v->state = SPM_GUEST_MISSING;
        v->reason = other ? g_strdup_printf("/proc/iomem: '%s' at the device's range", other->name)
                          : g_strdup("/proc/iomem: nothing at the device's range");
    }
}

/* From memory blocks alone: RAM or not RAM, no more (see the header). */
static void
spm_guest_from_blocks(const SpmGuestFacts *f, guint64 first, guint64 last,
                      SpmGuestDeviceVerdict *v)
{
    guint in_range = 0, online = 0;

    for (guint i = 0; i < f->blocks->len; i++) {
        const SpmGuestBlock *b = &g_array_index(f->blocks, SpmGuestBlock, i);
        guint64 start, end;

        if (b->index > G_MAXUINT64 / f->block_size)
            continue;
        start = b->index * f->block_size;
        end = start + (f->block_size - 1);
        if (end < start || end < first || start > last)
            continue;
        in_range++;
        online += b->online;
    }
    v->evidence = SPM_GUEST_EVIDENCE_BLOCKS;
    if (online) {
        v->state = SPM_GUEST_SYSTEM_RAM;
        v->reason = g_strdup_printf("%u of %u memory blocks in the range online: RAM "
                                    "(kmem or boot RAM: only /proc/iomem tells)", online, in_range);
    } else {
        v->state = SPM_GUEST_RESERVED;
        v->reason = g_strdup_printf("no online memory block in the range (%u offline): not RAM "
                                    "(Soft Reserved, device-dax or absent: only /proc/iomem tells)",
                                    in_range);
    }
}

static SpmGuestJudgement
spm_guest_judge(const SpmGuestDeviceVerdict *v)
{
    gboolean node_ok = v->guest_node < 0 || v->guest_node == (gint64) v->planned_node;

    switch (v->state) {
    case SPM_GUEST_UNKNOWN:
        return SPM_GUEST_JUDGED_UNDETERMINED;
    case SPM_GUEST_LEAKED:
    case SPM_GUEST_MISSING:
        return SPM_GUEST_JUDGED_MISMATCH;
    case SPM_GUEST_RESERVED:
        if (v->expected == SPM_GUEST_MODE_SYSTEM_RAM)
            return SPM_GUEST_JUDGED_MISMATCH;
        /* not RAM proves reserved; devdax needs /proc/iomem */
        if (v->expected == SPM_GUEST_MODE_DEVDAX)
            return v->evidence == SPM_GUEST_EVIDENCE_IOMEM ? SPM_GUEST_JUDGED_MISMATCH
                                                           : SPM_GUEST_JUDGED_UNDETERMINED;
        return SPM_GUEST_JUDGED_MATCH;
    case SPM_GUEST_DEVDAX:
        if (v->expected == SPM_GUEST_MODE_SYSTEM_RAM)
            return SPM_GUEST_JUDGED_MISMATCH;
        return node_ok ? SPM_GUEST_JUDGED_MATCH : SPM_GUEST_JUDGED_MISMATCH;
    case SPM_GUEST_SYSTEM_RAM:
        if (v->expected != SPM_GUEST_MODE_SYSTEM_RAM)
            return SPM_GUEST_JUDGED_MISMATCH;
        if (v->evidence != SPM_GUEST_EVIDENCE_IOMEM)
            return SPM_GUEST_JUDGED_UNDETERMINED;
        return node_ok ? SPM_GUEST_JUDGED_MATCH : SPM_GUEST_JUDGED_MISMATCH;
    default:
        return SPM_GUEST_JUDGED_UNDETERMINED;
    }
}

SpmGuestAudit *
spm_guest_audit_judge(const SpmAuditPlan *plan, const SpmGuestFacts *facts)
{
    SpmGuestAudit *a = g_new0(SpmGuestAudit, 1);
    gboolean iomem = facts->iomem && !spm_iomem_addresses_hidden(facts->iomem);
    gboolean undetermined = FALSE;

    a->devices = g_ptr_array_new_with_free_func((GDestroyNotify) spm_guest_device_verdict_free);
    a->time = g_get_real_time();
    a->error = g_strdup(facts->agent_error);
    a->judgement = SPM_GUEST_JUDGED_MATCH;
    for (guint i = 0; i < plan->devices->len; i++) {
        const SpmAuditDevice *p = g_ptr_array_index(plan->devices, i);
        SpmGuestDeviceVerdict *v;

        if (strcmp(p->model, "spm") != 0 || p->size == 0)
            continue;
        v = g_new0(SpmGuestDeviceVerdict, 1);
        v->device = g_strdup(p->id);
        v->addr = p->addr;
        v->size = p->size;
        v->planned_node = p->node;
        v->expected = p->guest_mode;
        v->guest_node = -1;
        if (facts->agent_error) {
            v->state = SPM_GUEST_UNKNOWN;
            v->reason = g_strdup(facts->agent_error);
        } else if (iomem) {
            spm_guest_from_iomem(facts, p->addr, p->addr + (p->size - 1), v);
        } else if (facts->blocks && facts->block_size) {
            spm_guest_from_blocks(facts, p->addr, p->addr + (p->size - 1), v);
        } else {
            v->state = SPM_GUEST_UNKNOWN;
            v->reason = g_strdup(facts->blocks_error ?: "no memory blocks and no /proc/iomem");
        }
        v->judgement = spm_guest_judge(v);
        if (v->judgement == SPM_GUEST_JUDGED_MISMATCH)
            a->judgement = SPM_GUEST_JUDGED_MISMATCH;
        else if (v->judgement == SPM_GUEST_JUDGED_UNDETERMINED)
            undetermined = TRUE;
        g_ptr_array_add(a->devices, v);
    }
    if (undetermined && a->judgement == SPM_GUEST_JUDGED_MATCH)
        a->judgement = SPM_GUEST_JUDGED_UNDETERMINED;
    return a;
}

char *
spm_guest_device_verdict_to_string(const SpmGuestDeviceVerdict *d)
{
    return g_strdup_printf("device '%s': %s (expected %s, %s): %s", d->device,
                           spm_guest_state_to_string(d->state),
                           spm_guest_mode_to_string(d->expected),
                           spm_guest_judgement_to_string(d->judgement), d->reason);
}

static void
spm_json_str(JsonBuilder *b, const char *name, const char *value)
{
    json_builder_set_member_name(b, name);
    if (value)
        json_builder_add_string_value(b, value);
    else
        json_builder_add_null_value(b);
}

static void
spm_json_int(JsonBuilder *b, const char *name, gint64 value)
{
    json_builder_set_member_name(b, name);
    json_builder_add_int_value(b, value);
}

JsonNode *
spm_guest_audit_to_json(const SpmGuestAudit *a)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(a->time / G_USEC_PER_SEC);
    g_autofree char *iso = dt ? g_date_time_format_iso8601(dt) : g_strdup("");

    json_builder_begin_object(b);
    spm_json_str(b, "judgement", spm_guest_judgement_to_string(a->judgement));
    spm_json_str(b, "time", iso);
    spm_json_int(b, "time_us", a->time);
    spm_json_int(b, "duration_us", a->duration_us);
    if (a->error)
        spm_json_str(b, "error", a->error);
    json_builder_set_member_name(b, "devices");
    json_builder_begin_array(b);
    for (guint i = 0; i < a->devices->len; i++) {
        const SpmGuestDeviceVerdict *d = g_ptr_array_index(a->devices, i);

        json_builder_begin_object(b);
        spm_json_str(b, "device", d->device);
        spm_json_int(b, "addr", (gint64) d->addr);
        spm_json_int(b, "size", (gint64) d->size);
        spm_json_int(b, "planned_node", d->planned_node);
        spm_json_str(b, "expected", spm_guest_mode_to_string(d->expected));
        spm_json_str(b, "state", spm_guest_state_to_string(d->state));
        json_builder_set_member_name(b, "guest_node");
        if (d->guest_node >= 0)
            json_builder_add_int_value(b, d->guest_node);
        else
            json_builder_add_null_value(b);
        spm_json_str(b, "evidence", spm_guest_evidence_to_string(d->evidence));
        spm_json_str(b, "judgement", spm_guest_judgement_to_string(d->judgement));
        spm_json_str(b, "reason", d->reason);
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_end_object(b);
    return json_builder_get_root(b);
}
