/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-plan-format.c: a plan as JSON (for programs) and as a table (people).
 *
 * JSON (spm_plan_to_json), keys always in this order; the first five are
 * the contract of docs/xml.md ("The plan as JSON"), the rest are additions:
 *
 *   {"machine": "q35",
 *    "device_memory": {"base": N, "size": N},     (0, 0 without a region)
 *    "devices": [                                  sorted by addr
 *      {"id", "model", "addr", "size", "node", "align",
 *       "slot"                                     only when >= 0
 *       "backend": {"type", "id", "size", "align",  align = the backend's
 *                                                  align= property, 0 = unset
 *                    "page_size",                  pages behind the memory
 *                    "mem_path"},                  only when there is one
 *       "explicit_addr": bool, "generated": bool,
 *       "guest"}],                                 SPM devices only: what the
 *                                                  guest should make of it
 *                                                  (reserved, devdax, system-ram:
 *                                                  the guest audit's expectation)
 *    "numa_nodes": [{"id", "kind"}],               by id; kind "cell"|"spm"
 *    "warnings": ["..."],
 *    "ram": {"below_4g", "above_4g", "above_4g_start"},
 *    "max_memory", "max_memory_slots", "phys_bits", "max_used_gpa",
 *    "device"}                                     the SPM device planned for:
 *                                                  "sp-mem", "spm-memory" (or the
 *                                                  tests' stand-in driver)
 *
 * Numbers are bytes, as JSON integers.  json-glib stores integers as
 * gint64: a value above G_MAXINT64 (never produced by a valid plan, since
 * guest addresses stay below 2^52) is written as a decimal string instead,
 * exact rather than wrapped to a negative number.  The text ends with a
 * newline; pretty output uses json-glib's two-space indentation.
 *
 * Table (spm_plan_to_table):
 *
 *   Machine: q35   RAM: 1 GiB below 4G, 0 above   phys-bits: 40
 *   SPM device: sp-mem (QEMU 11.1 and later)
 *   Device memory: 0x100000000-0x5bfffffff (19 GiB)   maxMemory: 16 GiB, 4 slots
 *
 *   ID       MODEL  NODE  ADDRESS             SIZE   END                 ALIGN  BACKEND  PAGE   PATH
 *   ua-hbm0  spm    1     0x0000000100000000  1 GiB  0x000000013fffffff  2 MiB  ram      4 KiB  -
 *
 *   NUMA: 0 cell, 1 spm, 2 spm
 *   warning: <one line per warning>
 *
 * "above" gets " at 0x..." when above-4G RAM does not start at 4 GiB (AMD
 * 1 TiB relocation); "Device memory: none" without a region; "Memory
 * devices: none" instead of the header without devices; "NUMA: none"
 * without nodes.  Columns are as wide as their widest cell, two spaces
 * apart, with no trailing blanks.
 */
#include <string.h>
#include <json-glib/json-glib.h>
#include "spm-error.h"
#include "spm-units.h"
#include "spm-plan-format.h"

#define SPM_4GiB (G_GUINT64_CONSTANT(1) << 32)

/* The -device driver the plan's SPM devices get. */
static const char *
spm_format_device(const SpmPlan *plan)
{
    if (plan->stand_in_driver)
        return plan->stand_in_driver;
    return spm_device_rev_to_string(plan->device) ? spm_device_rev_to_string(plan->device) : "?";
}

static const char *
spm_format_machine(const SpmPlan *plan)
{
    if (plan->machine_name)
        return plan->machine_name;
    return plan->machine.kind == SPM_MACHINE_I440FX ? "pc" : "q35";
}

static void
spm_json_add_u64(JsonBuilder *b, const char *key, guint64 value)
{
    json_builder_set_member_name(b, key);
    if (value <= (guint64)G_MAXINT64) {
        json_builder_add_int_value(b, (gint64)value);
    } else {
        g_autofree char *text = g_strdup_printf("%" G_GUINT64_FORMAT, value);

        json_builder_add_string_value(b, text);
    }
}

/*
 * Strings from the plan come from XML and are UTF-8; should one not be,
 * it is repaired (U+FFFD) rather than emitted as invalid JSON or measured
 * past its end.
 */
static char *
spm_format_utf8(const char *value)
{
    return g_utf8_make_valid(value, -1);
}

static void
spm_json_add_str(JsonBuilder *b, const char *key, const char *value)
{
    json_builder_set_member_name(b, key);
    if (value) {
        g_autofree char *valid = spm_format_utf8(value);

        json_builder_add_string_value(b, valid);
    } else {
        json_builder_add_null_value(b);
    }
}

static void
spm_json_add_bool(JsonBuilder *b, const char *key, gboolean value)
{
    json_builder_set_member_name(b, key);
    json_builder_add_boolean_value(b, value);
}

static gint
spm_format_cmp_addr(gconstpointer a, gconstpointer b)
{
    const SpmPlannedDevice *da = *(const SpmPlannedDevice *const *)a;
    const SpmPlannedDevice *db = *(const SpmPlannedDevice *const *)b;

    return (da->addr > db->addr) - (da->addr < db->addr);
}

/* The plan's devices sorted by address (the plan keeps them so already;
 * sorting a borrowed copy makes the output independent of that). */
static GPtrArray *
spm_format_sorted_devices(const SpmPlan *plan)
{
    GPtrArray *devs = g_ptr_array_new();

    for (guint i = 0; plan->devices && i < plan->devices->len; i++)
        g_ptr_array_add(devs, g_ptr_array_index(plan->devices, i));
    g_ptr_array_sort(devs, spm_format_cmp_addr);
    return devs;
}

static void
spm_json_add_device(JsonBuilder *b, const SpmPlannedDevice *dev)
{
    json_builder_begin_object(b);
    spm_json_add_str(b, "id", dev->id);
    spm_json_add_str(b, "model", spm_mem_model_to_string(dev->model));
    spm_json_add_u64(b, "addr", dev->addr);
    spm_json_add_u64(b, "size", dev->size);
    spm_json_add_u64(b, "node", dev->node);
    spm_json_add_u64(b, "align", dev->align);
    if (dev->slot >= 0)
        spm_json_add_u64(b, "slot", (guint64)dev->slot);

    json_builder_set_member_name(b, "backend");
    json_builder_begin_object(b);
    spm_json_add_str(b, "type", spm_backend_kind_qom_type(dev->backend.kind) ?: "unknown");
    spm_json_add_str(b, "id", dev->backend.id);
    spm_json_add_u64(b, "size", dev->backend.size);
    spm_json_add_u64(b, "align", dev->backend.align);
    spm_json_add_u64(b, "page_size", dev->backend.page_size);
    if (dev->backend.mem_path) {
        g_autofree char *path = spm_format_utf8(dev->backend.mem_path);

        spm_json_add_str(b, "mem_path", path);
    }
    json_builder_end_object(b);

    spm_json_add_bool(b, "explicit_addr", dev->explicit_addr);
    spm_json_add_bool(b, "generated", dev->generated);
    /* what `audit --guest --agent PATH --plan FILE` judges the guest by */
    if (dev->model == SPM_MEM_MODEL_SPM && dev->def)
        spm_json_add_str(b, "guest", spm_guest_mode_to_string(dev->def->guest_mode));
    json_builder_end_object(b);
}

char *
spm_plan_to_json(const SpmPlan *plan, gboolean pretty)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = NULL;
    g_autoptr(GPtrArray) devs = NULL;
    g_autofree char *text = NULL;

    g_return_val_if_fail(plan != NULL, NULL);

    devs = spm_format_sorted_devices(plan);

    json_builder_begin_object(b);
    spm_json_add_str(b, "machine", spm_format_machine(plan));

    json_builder_set_member_name(b, "device_memory");
    json_builder_begin_object(b);
    spm_json_add_u64(b, "base", plan->layout.has_device_memory ? plan->layout.devmem_base : 0);
    spm_json_add_u64(b, "size", plan->layout.has_device_memory ? plan->layout.devmem_size : 0);
    json_builder_end_object(b);

    json_builder_set_member_name(b, "devices");
    json_builder_begin_array(b);
    for (guint i = 0; i < devs->len; i++)
        spm_json_add_device(b, g_ptr_array_index(devs, i));
    json_builder_end_array(b);

    json_builder_set_member_name(b, "numa_nodes");
    json_builder_begin_array(b);
    for (guint i = 0; plan->nodes && i < plan->nodes->len; i++) {
        const SpmPlannedNode *node = &g_array_index(plan->nodes, SpmPlannedNode, i);

        json_builder_begin_object(b);
        spm_json_add_u64(b, "id", node->id);
        spm_json_add_str(b, "kind", spm_numa_kind_to_string(node->kind));
        json_builder_end_object(b);
    }
    json_builder_end_array(b);

    json_builder_set_member_name(b, "warnings");
    json_builder_begin_array(b);
    for (guint i = 0; plan->warnings && i < plan->warnings->len; i++) {
        g_autofree char *valid = spm_format_utf8(g_ptr_array_index(plan->warnings, i));

        json_builder_add_string_value(b, valid);
    }
    json_builder_end_array(b);

    json_builder_set_member_name(b, "ram");
    json_builder_begin_object(b);
    spm_json_add_u64(b, "below_4g", plan->layout.below_4g);
    spm_json_add_u64(b, "above_4g", plan->layout.above_4g);
    spm_json_add_u64(b, "above_4g_start", plan->layout.above_4g_start);
    json_builder_end_object(b);

    spm_json_add_u64(b, "max_memory", plan->max_memory);
    spm_json_add_u64(b, "max_memory_slots", plan->max_memory_slots);
    spm_json_add_u64(b, "phys_bits", plan->layout.phys_bits);
    spm_json_add_u64(b, "max_used_gpa", plan->layout.max_used_gpa);
    spm_json_add_str(b, "device", spm_format_device(plan));
    json_builder_end_object(b);

    root = json_builder_get_root(b);
    json_generator_set_root(gen, root);
    json_generator_set_pretty(gen, pretty);
    text = json_generator_to_data(gen, NULL);
    return g_strconcat(text, "\n", NULL);
}

/* ---- table ---- */

enum {
    COL_ID,
    COL_MODEL,
    COL_NODE,
    COL_ADDRESS,
    COL_SIZE,
    COL_END,
    COL_ALIGN,
    COL_BACKEND,
    COL_PAGE,
    COL_PATH,
    COL_LAST
};

static const char *const spm_table_headers[COL_LAST] = {
    "ID", "MODEL", "NODE", "ADDRESS", "SIZE", "END", "ALIGN", "BACKEND", "PAGE", "PATH",
};

/* "memory-backend-memfd" -> "memfd" */
static char *
spm_table_backend(const SpmBackend *backend)
{
    const char *type = spm_backend_kind_qom_type(backend->kind);

    if (!type)
        return g_strdup("?");
    if (g_str_has_prefix(type, "memory-backend-"))
        type += strlen("memory-backend-");
    return g_strdup(type);
}

/* "0" for nothing, else "1 GiB" */
static char *
spm_table_size(guint64 bytes)
{
    if (bytes == 0)
        return g_strdup("0");
    return spm_units_format(bytes);
}

static void
spm_table_row(GString *out, char *const *cells, const gsize *widths)
{
    for (guint c = 0; c < COL_LAST; c++) {
        g_string_append(out, cells[c]);
        if (c + 1 < COL_LAST) {
            for (gsize n = g_utf8_strlen(cells[c], -1); n < widths[c] + 2; n++)
                g_string_append_c(out, ' ');
        }
    }
    g_string_append_c(out, '\n');
}

static void
spm_table_devices(GString *out, const SpmPlan *plan)
{
    g_autoptr(GPtrArray) devs = spm_format_sorted_devices(plan);
    g_autoptr(GPtrArray) rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    gsize widths[COL_LAST];

    if (devs->len == 0) {
        g_string_append(out, "Memory devices: none\n");
        return;
    }

    for (guint c = 0; c < COL_LAST; c++)
        widths[c] = strlen(spm_table_headers[c]);

    for (guint i = 0; i < devs->len; i++) {
        const SpmPlannedDevice *dev = g_ptr_array_index(devs, i);
        char **cells = g_new0(char *, COL_LAST + 1);

        cells[COL_ID] = dev->id ? spm_format_utf8(dev->id) : g_strdup("-");
        cells[COL_MODEL] = g_strdup(spm_mem_model_to_string(dev->model));
        cells[COL_NODE] = g_strdup_printf("%u", dev->node);
        cells[COL_ADDRESS] = g_strdup_printf("0x%016" G_GINT64_MODIFIER "x", dev->addr);
        cells[COL_SIZE] = spm_table_size(dev->size);
        if (dev->size == 0 || dev->addr + dev->size < dev->addr)
            cells[COL_END] = g_strdup("-");
        else
            cells[COL_END] = g_strdup_printf("0x%016" G_GINT64_MODIFIER "x",
                                             dev->addr + dev->size - 1);
        cells[COL_ALIGN] = spm_table_size(dev->align);
        cells[COL_BACKEND] = spm_table_backend(&dev->backend);
        cells[COL_PAGE] = dev->backend.page_size ? spm_units_format(dev->backend.page_size)
                                                 : g_strdup("-");
        cells[COL_PATH] = dev->backend.mem_path ? spm_format_utf8(dev->backend.mem_path)
                                                : g_strdup("-");

        for (guint c = 0; c < COL_LAST; c++)
            widths[c] = MAX(widths[c], (gsize)g_utf8_strlen(cells[c], -1));
        g_ptr_array_add(rows, cells);
    }

    spm_table_row(out, (char *const *)spm_table_headers, widths);
    for (guint i = 0; i < rows->len; i++)
        spm_table_row(out, g_ptr_array_index(rows, i), widths);
}

char *
spm_plan_to_table(const SpmPlan *plan)
{
    g_autoptr(GString) out = g_string_new(NULL);
    g_autofree char *below = NULL;
    g_autofree char *above = NULL;

    g_return_val_if_fail(plan != NULL, NULL);

    below = spm_table_size(plan->layout.below_4g);
    above = spm_table_size(plan->layout.above_4g);
    g_string_append_printf(out, "Machine: %s   RAM: %s below 4G, %s above",
                           spm_format_machine(plan), below, above);
    if (plan->layout.above_4g && plan->layout.above_4g_start != SPM_4GiB)
        g_string_append_printf(out, " at 0x%" G_GINT64_MODIFIER "x",
                               plan->layout.above_4g_start);
    g_string_append_printf(out, "   phys-bits: %u\n", plan->layout.phys_bits);
    if (plan->stand_in_driver)
        g_string_append_printf(out, "SPM device: %s (a stand-in, for tests)\n",
                               plan->stand_in_driver);
    else if (spm_device_rev_info(plan->device))
        g_string_append_printf(out, "SPM device: %s (%s)\n", spm_format_device(plan),
                               spm_device_rev_info(plan->device)->summary);

    if (plan->layout.has_device_memory && plan->layout.devmem_size) {
        g_autofree char *size = spm_table_size(plan->layout.devmem_size);

        g_string_append_printf(out, "Device memory: 0x%" G_GINT64_MODIFIER "x-0x%"
                               G_GINT64_MODIFIER "x (%s)",
                               plan->layout.devmem_base,
                               plan->layout.devmem_base + plan->layout.devmem_size - 1,
                               size);
    } else {
        g_string_append(out, "Device memory: none");
    }
    {
        g_autofree char *maxmem = spm_table_size(plan->max_memory);

        g_string_append_printf(out, "   maxMemory: %s, %u slot%s\n", maxmem,
                               plan->max_memory_slots,
                               plan->max_memory_slots == 1 ? "" : "s");
    }
    g_string_append_c(out, '\n');

    spm_table_devices(out, plan);
    g_string_append_c(out, '\n');

    g_string_append(out, "NUMA:");
    if (!plan->nodes || plan->nodes->len == 0)
        g_string_append(out, " none");
    for (guint i = 0; plan->nodes && i < plan->nodes->len; i++) {
        const SpmPlannedNode *node = &g_array_index(plan->nodes, SpmPlannedNode, i);

        g_string_append_printf(out, "%s %u %s", i ? "," : "", node->id,
                               spm_numa_kind_to_string(node->kind));
    }
    g_string_append_c(out, '\n');

    for (guint i = 0; plan->warnings && i < plan->warnings->len; i++) {
        g_autofree char *valid = spm_format_utf8(g_ptr_array_index(plan->warnings, i));

        g_string_append_printf(out, "warning: %s\n", valid);
    }

    return g_string_free(g_steal_pointer(&out), FALSE);
}
