/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-domain-parse.c: libvirt domain XML to SpmDomainDef
 *
 * Reads the parts of a <domain> that the planner and the argument builder
 * need, from both forms of a domain:
 *  - the user's form: <memory model='spm'> in <devices>, next to libvirt's
 *    own memory devices;
 *  - the converted form: the same elements, in virt-spm's namespace, kept
 *    in <metadata><spm:spm><spm:devices>.
 * def->mems holds the <devices> memory elements in document order, then
 * the metadata ones in their order.
 *
 * Every error is one line: "line N: PATH: MESSAGE", where PATH is the
 * element (and "@attribute") relative to <domain>, for memory devices
 * starting at "memory[model='M']", e.g.
 *   line 23: memory[model='spm']/target/size: unknown unit 'GB2'
 */
#include "spm-domain-parse.h"
#include "spm-error.h"
#include "spm-units.h"
#include "spm-xml.h"
#include "spm-xml-node.h"

#include <string.h>

/* Largest guest NUMA node or cell id accepted: a sanity bound far above
 * what QEMU supports, so that ids stay small numbers everywhere. */
#define SPM_MAX_NODE_ID 4095

/* ---- errors --------------------------------------------------------------- */

/* Set a "line N: PATH: MESSAGE" error; returns FALSE for convenience. */
static gboolean G_GNUC_PRINTF(5, 6)
spm_parse_error(GError **error, SpmErrorCode code, xmlNodePtr node,
                const char *path, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    g_autofree char *full = NULL;
    g_autofree char *shown = NULL;
    long line = spm_xml_node_line(node);
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (line > 0)
        full = g_strdup_printf("line %ld: %s: %s", line, path, msg);
    else
        full = g_strdup_printf("%s: %s", path, msg);
    /* the values it quotes are the user's: keep the message on one line */
    shown = spm_error_printable(full, 0);
    g_set_error_literal(error, SPM_ERROR, code, shown);
    return FALSE;
}

/* The "line N: PATH" prefix given to spm_units_* as their @what. */
static char *
spm_parse_what(xmlNodePtr node, const char *path)
{
    long line = spm_xml_node_line(node);

    if (line > 0)
        return g_strdup_printf("line %ld: %s", line, path);
    return g_strdup(path);
}

/* ---- value parsers ------------------------------------------------------ */

static gboolean
spm_parse_uint(xmlNodePtr node, const char *path, const char *value,
               guint64 max, guint64 *out, GError **error)
{
    guint64 v = 0;

    if (!value || !*value)
        return spm_parse_error(error, SPM_ERROR_INVALID, node, path, "missing value");
    for (const char *p = value; *p; p++) {
        if (!g_ascii_isdigit(*p))
            return spm_parse_error(error, SPM_ERROR_INVALID, node, path,
                                   "'%s' is not a non-negative integer", value);
    }
    for (const char *p = value; *p; p++) {
        guint d = *p - '0';

        if (d > max || v > (max - d) / 10)
            return spm_parse_error(error, SPM_ERROR_INVALID, node, path,
                                   "'%s' is out of range (0-%" G_GUINT64_FORMAT ")",
                                   value, max);
        v = v * 10 + d;
    }
    *out = v;
    return TRUE;
}

static gboolean
spm_parse_uint_text(xmlNodePtr node, const char *path, guint64 max,
                    guint64 *out, GError **error)
{
    g_autofree char *text = spm_xml_text(node);

    return spm_parse_uint(node, path, text, max, out, error);
}

static gboolean
spm_parse_uint_prop(xmlNodePtr node, const char *path, const char *attr,
                    guint64 max, gboolean *present, guint64 *out, GError **error)
{
    g_autofree char *value = spm_xml_prop(node, attr);
    g_autofree char *full = g_strdup_printf("%s@%s", path, attr);

    *present = value != NULL;
    if (!value)
        return TRUE;
    return spm_parse_uint(node, full, value, max, out, error);
}

/* <elem unit='U'>N</elem>, default KiB. */
static gboolean
spm_parse_scaled_elem(xmlNodePtr node, const char *path, guint64 *out, GError **error)
{
    g_autofree char *text = spm_xml_text(node);
    g_autofree char *unit = spm_xml_prop(node, "unit");
    g_autofree char *what = spm_parse_what(node, path);

    return spm_units_parse(what, text, unit, 1024, out, error);
}

/* <elem ATTR='N' unit='U'/>, default KiB. */
static gboolean
spm_parse_scaled_attr(xmlNodePtr node, const char *path, const char *attr,
                      guint64 *out, GError **error)
{
    g_autofree char *value = spm_xml_prop(node, attr);
    g_autofree char *unit = spm_xml_prop(node, "unit");
    g_autofree char *full = g_strdup_printf("%s@%s", path, attr);
    g_autofree char *what = spm_parse_what(node, full);

    if (!value)
        return spm_parse_error(error, SPM_ERROR_INVALID, node, full,
                               "required attribute is missing");
    return spm_units_parse(what, value, unit, 1024, out, error);
}

static gboolean
spm_parse_access(xmlNodePtr node, const char *path, const char *attr,
                 SpmAccess *out, GError **error)
{
    g_autofree char *value = spm_xml_prop(node, attr);
    g_autofree char *full = NULL;

    *out = SPM_ACCESS_DEFAULT;
    if (!value)
        return TRUE;
    if (g_str_equal(value, "shared")) {
        *out = SPM_ACCESS_SHARED;
        return TRUE;
    }
    if (g_str_equal(value, "private")) {
        *out = SPM_ACCESS_PRIVATE;
        return TRUE;
    }
    full = g_strdup_printf("%s@%s", path, attr);
    return spm_parse_error(error, SPM_ERROR_INVALID, node, full,
                           "unknown value '%s' (shared, private)", value);
}

static gboolean
spm_parse_yesno(xmlNodePtr node, const char *path, const char *attr,
                SpmTristate *out, GError **error)
{
    g_autofree char *value = spm_xml_prop(node, attr);
    g_autofree char *full = NULL;

    *out = SPM_TRISTATE_ABSENT;
    if (!value)
        return TRUE;
    if (g_str_equal(value, "yes")) {
        *out = SPM_TRISTATE_YES;
        return TRUE;
    }
    if (g_str_equal(value, "no")) {
        *out = SPM_TRISTATE_NO;
        return TRUE;
    }
    full = g_strdup_printf("%s@%s", path, attr);
    return spm_parse_error(error, SPM_ERROR_INVALID, node, full,
                           "unknown value '%s' (yes, no)", value);
}

/* ---- one memory device ------------------------------------------------- */

static gboolean
spm_mem_source_parse(xmlNodePtr source, const char *prefix, SpmMemDevice *dev,
                     GError **error)
{
    xmlNodePtr n;

    if ((n = spm_xml_child(source, "nodemask"))) {
        g_autofree char *path = g_strdup_printf("%s/source/nodemask", prefix);
        g_autofree char *mask = spm_xml_text(n);

        if (!spm_nodeset_is_valid(mask))
            return spm_parse_error(error, SPM_ERROR_INVALID, n, path,
                                   "'%s' is not a node set such as '0-3,5'", mask);
        dev->source.nodemask = g_steal_pointer(&mask);
    }
    if ((n = spm_xml_child(source, "pagesize"))) {
        g_autofree char *path = g_strdup_printf("%s/source/pagesize", prefix);

        if (!spm_parse_scaled_elem(n, path, &dev->source.pagesize, error))
            return FALSE;
        if (dev->source.pagesize == 0)
            return spm_parse_error(error, SPM_ERROR_INVALID, n, path,
                                   "page size must not be 0");
    }
    if ((n = spm_xml_child(source, "path"))) {
        g_autofree char *path = g_strdup_printf("%s/source/path", prefix);
        g_autofree char *file = spm_xml_text(n);

        if (file[0] != '/')
            return spm_parse_error(error, SPM_ERROR_INVALID, n, path,
                                   "'%s' is not an absolute path", file);
        dev->source.path = g_steal_pointer(&file);
    }
    if ((n = spm_xml_child(source, "alignsize"))) {
        g_autofree char *path = g_strdup_printf("%s/source/alignsize", prefix);

        if (!spm_parse_scaled_elem(n, path, &dev->source.alignsize, error))
            return FALSE;
    }
    if (spm_xml_child(source, "pmem"))
        dev->source.pmem = SPM_TRISTATE_YES;
    return TRUE;
}

static gboolean
spm_mem_target_parse(xmlNodePtr mem, xmlNodePtr target, const char *prefix,
                     SpmMemDevice *dev, GError **error)
{
    g_autofree char *size_path = g_strdup_printf("%s/target/size", prefix);
    g_autofree char *node_path = g_strdup_printf("%s/target/node", prefix);
    xmlNodePtr n;

    n = spm_xml_child(target, "size");
    if (!n)
        return spm_parse_error(error, SPM_ERROR_INVALID, target ? target : mem,
                               size_path, "required element is missing");
    if (!spm_parse_scaled_elem(n, size_path, &dev->size, error))
        return FALSE;
    if (dev->size == 0)
        return spm_parse_error(error, SPM_ERROR_INVALID, n, size_path,
                               "size must not be 0");

    n = spm_xml_child(target, "node");
    if (n) {
        guint64 v;

        if (!spm_parse_uint_text(n, node_path, SPM_MAX_NODE_ID, &v, error))
            return FALSE;
        dev->node = (guint)v;
        dev->has_node = TRUE;
    } else if (dev->model == SPM_MEM_MODEL_SPM) {
        return spm_parse_error(error, SPM_ERROR_INVALID, target ? target : mem,
                               node_path, "required element is missing");
    }

    /* what the guest should make of it (docs/guest-view.md) */
    if (dev->model == SPM_MEM_MODEL_SPM && (n = spm_xml_child(target, "guest"))) {
        g_autofree char *path = g_strdup_printf("%s/target/guest@mode", prefix);
        g_autofree char *mode = spm_xml_prop(n, "mode");
        int m = mode ? spm_guest_mode_from_string(mode) : -1;

        if (m < 0)
            return spm_parse_error(error, SPM_ERROR_INVALID, n, path,
                                   mode ? "'%s' is not one of reserved, devdax, system-ram"
                                        : "required attribute is missing%s", mode ? mode : "");
        dev->guest_mode = m;
    }
    if ((n = spm_xml_child(spm_xml_child(target, "label"), "size"))) {
        g_autofree char *path = g_strdup_printf("%s/target/label/size", prefix);

        if (!spm_parse_scaled_elem(n, path, &dev->label_size, error))
            return FALSE;
    }
    if ((n = spm_xml_child(target, "block"))) {
        g_autofree char *path = g_strdup_printf("%s/target/block", prefix);

        if (!spm_parse_scaled_elem(n, path, &dev->block_size, error))
            return FALSE;
    }
    if ((n = spm_xml_child(target, "requested"))) {
        g_autofree char *path = g_strdup_printf("%s/target/requested", prefix);

        if (!spm_parse_scaled_elem(n, path, &dev->requested_size, error))
            return FALSE;
    }
    /* virtio-mem keeps its guest-physical address in target/address@base */
    if (dev->model == SPM_MEM_MODEL_VIRTIO_MEM &&
        (n = spm_xml_child(target, "address"))) {
        g_autofree char *path = g_strdup_printf("%s/target/address@base", prefix);
        g_autofree char *base = spm_xml_prop(n, "base");
        g_autofree char *what = spm_parse_what(n, path);

        if (base) {
            if (!spm_units_parse_uint64(what, base, &dev->base, error))
                return FALSE;
            dev->has_base = TRUE;
        }
    }
    return TRUE;
}

static gboolean
spm_mem_address_parse(xmlNodePtr addr, const char *prefix, SpmMemDevice *dev,
                      GError **error)
{
    g_autofree char *type_path = g_strdup_printf("%s/address@type", prefix);
    g_autofree char *base_path = g_strdup_printf("%s/address@base", prefix);
    g_autofree char *slot_path = g_strdup_printf("%s/address", prefix);
    g_autofree char *type = spm_xml_prop(addr, "type");
    g_autofree char *base = NULL;
    const char *want;
    gboolean has_slot;
    guint64 slot = 0;

    switch (dev->model) {
    case SPM_MEM_MODEL_SPM:
        want = "spm";
        break;
    case SPM_MEM_MODEL_DIMM:
    case SPM_MEM_MODEL_NVDIMM:
        want = "dimm";
        break;
    default:
        /* virtio-mem/virtio-pmem sit on PCI: libvirt's business, not ours */
        return TRUE;
    }
    if (!type)
        return spm_parse_error(error, SPM_ERROR_INVALID, addr, type_path,
                               "required attribute is missing");
    if (!g_str_equal(type, want))
        return spm_parse_error(error, SPM_ERROR_INVALID, addr, type_path,
                               "'%s' does not fit memory model '%s' (expected '%s')",
                               type, spm_mem_model_to_string(dev->model), want);

    base = spm_xml_prop(addr, "base");
    if (base) {
        g_autofree char *what = spm_parse_what(addr, base_path);

        if (!spm_units_parse_uint64(what, base, &dev->base, error))
            return FALSE;
        dev->has_base = TRUE;
    }

    if (!spm_parse_uint_prop(addr, slot_path, "slot", G_MAXINT, &has_slot, &slot, error))
        return FALSE;
    if (has_slot) {
        if (dev->model == SPM_MEM_MODEL_SPM) {
            g_autofree char *full = g_strdup_printf("%s@slot", slot_path);

            return spm_parse_error(error, SPM_ERROR_INVALID, addr, full,
                                   "SPM devices have no slot (only base)");
        }
        dev->slot = (int)slot;
    }
    return TRUE;
}

SpmMemDevice *
spm_mem_device_parse(xmlNodePtr node, GError **error)
{
    g_autoptr(SpmMemDevice) dev = NULL;
    g_autofree char *model = NULL;
    g_autofree char *prefix = NULL;
    xmlNodePtr n;
    int m;

    if (!spm_xml_is_element(node, "memory")) {
        spm_parse_error(error, SPM_ERROR_INVALID, node, "memory",
                        "expected a <memory> element, got '%s'",
                        node && node->name ? (const char *)node->name : "nothing");
        return NULL;
    }
    if (node->ns && !xmlStrEqual(node->ns->href, (const xmlChar *)SPM_XMLNS)) {
        spm_parse_error(error, SPM_ERROR_INVALID, node, "memory",
                        "namespace '%s' is neither none nor '%s'",
                        (const char *)node->ns->href, SPM_XMLNS);
        return NULL;
    }

    model = spm_xml_prop(node, "model");
    if (!model) {
        spm_parse_error(error, SPM_ERROR_INVALID, node, "memory@model",
                        "required attribute is missing");
        return NULL;
    }
    m = spm_mem_model_from_string(model);
    if (m < 0) {
        spm_parse_error(error, SPM_ERROR_UNSUPPORTED, node, "memory@model",
                        "unknown memory model '%s' (spm, dimm, nvdimm, virtio-mem, virtio-pmem)",
                        model);
        return NULL;
    }
    dev = spm_mem_device_new(m);
    dev->line = (guint)spm_xml_node_line(node);
    prefix = g_strdup_printf("memory[model='%s']", model);

    if (!spm_parse_access(node, prefix, "access", &dev->access, error) ||
        !spm_parse_yesno(node, prefix, "discard", &dev->discard, error))
        return NULL;

    if ((n = spm_xml_child(node, "source")) &&
        !spm_mem_source_parse(n, prefix, dev, error))
        return NULL;

    if (!spm_mem_target_parse(node, spm_xml_child(node, "target"), prefix, dev, error))
        return NULL;

    if ((n = spm_xml_child(node, "address")) &&
        !spm_mem_address_parse(n, prefix, dev, error))
        return NULL;

    if ((n = spm_xml_child(node, "alias"))) {
        g_autofree char *path = g_strdup_printf("%s/alias@name", prefix);
        g_autofree char *alias = spm_xml_prop(n, "name");

        if (!alias || !*alias) {
            spm_parse_error(error, SPM_ERROR_INVALID, n, path,
                            "required attribute is missing");
            return NULL;
        }
        if (dev->model == SPM_MEM_MODEL_SPM && !spm_mem_alias_is_user(alias)) {
            spm_parse_error(error, SPM_ERROR_INVALID, n, path,
                            "'%s' does not follow libvirt's user alias rule "
                            "('ua-' then letters, digits, '_' or '-')", alias);
            return NULL;
        }
        dev->alias = g_steal_pointer(&alias);
    }
    return g_steal_pointer(&dev);
}

/* ---- the domain --------------------------------------------------------- */

/* "7.2" or "7.2.1" (the micro part is ignored) */
static gboolean
spm_parse_machine_version(const char *ver, guint *major, guint *minor)
{
    g_auto(GStrv) parts = g_strsplit(ver, ".", 0);
    guint n = g_strv_length(parts);
    guint64 v[3] = { 0 };

    if (n < 2 || n > 3)
        return FALSE;
    for (guint i = 0; i < n; i++) {
        if (!g_ascii_string_to_unsigned(parts[i], 10, 0, 9999, &v[i], NULL))
            return FALSE;
        for (const char *p = parts[i]; *p; p++) {
            if (!g_ascii_isdigit(*p))
                return FALSE;
        }
    }
    *major = (guint)v[0];
    *minor = (guint)v[1];
    return TRUE;
}

static gboolean
spm_parse_machine(SpmDomainDef *def, xmlNodePtr type, GError **error)
{
    const char *m = def->machine;
    const char *ver = NULL;

    def->machine_kind = SPM_MACHINE_I440FX;   /* libvirt's x86 default: pc */
    def->machine_major = 0;
    def->machine_minor = 0;
    if (!m)
        return TRUE;

    if (g_str_equal(m, "q35")) {
        def->machine_kind = SPM_MACHINE_Q35;
        return TRUE;
    }
    if (g_str_equal(m, "pc"))
        return TRUE;
    if (g_str_has_prefix(m, "pc-q35-")) {
        def->machine_kind = SPM_MACHINE_Q35;
        ver = m + strlen("pc-q35-");
    } else if (g_str_has_prefix(m, "pc-i440fx-")) {
        ver = m + strlen("pc-i440fx-");
    }
    if (ver && spm_parse_machine_version(ver, &def->machine_major, &def->machine_minor))
        return TRUE;

    return spm_parse_error(error, SPM_ERROR_UNSUPPORTED, type, "os/type@machine",
                           "machine '%s' is not supported: SPM needs pc or q35", m);
}

static gboolean
spm_parse_os(SpmDomainDef *def, xmlNodePtr os, GError **error)
{
    xmlNodePtr type = spm_xml_child(os, "type");
    xmlNodePtr loader = spm_xml_child(os, "loader");
    g_autofree char *firmware = spm_xml_prop(os, "firmware");

    def->arch = spm_xml_prop(type, "arch");
    def->machine = spm_xml_prop(type, "machine");
    if (!spm_parse_machine(def, type, error))
        return FALSE;

    if (firmware && g_str_equal(firmware, "efi"))
        def->firmware_efi = TRUE;
    def->loader_path = spm_xml_text_or_null(loader);
    if (def->loader_path &&
        (strstr(def->loader_path, "OVMF") || strstr(def->loader_path, "ovmf") ||
         strstr(def->loader_path, "edk2")))
        def->firmware_efi = TRUE;
    return TRUE;
}

static gboolean
spm_parse_cpu(SpmDomainDef *def, xmlNodePtr root, GError **error)
{
    xmlNodePtr vcpu = spm_xml_child(root, "vcpu");
    xmlNodePtr cpu = spm_xml_child(root, "cpu");
    xmlNodePtr n;

    if (vcpu) {
        guint64 v;

        if (!spm_parse_uint_text(vcpu, "vcpu", G_MAXUINT32, &v, error))
            return FALSE;
        if (v == 0)
            return spm_parse_error(error, SPM_ERROR_INVALID, vcpu, "vcpu",
                                   "'0' is not a valid number of vCPUs");
        def->vcpus = (guint)v;
    }
    if (!cpu)
        return TRUE;

    def->cpu_mode = spm_xml_prop(cpu, "mode");
    def->cpu_model = spm_xml_text_or_null(spm_xml_child(cpu, "model"));
    def->cpu_vendor = spm_xml_text_or_null(spm_xml_child(cpu, "vendor"));
    if ((n = spm_xml_child(cpu, "maxphysaddr"))) {
        gboolean has_bits;
        guint64 bits = 0;

        def->maxphysaddr_mode = spm_xml_prop(n, "mode");
        if (!spm_parse_uint_prop(n, "cpu/maxphysaddr", "bits", 64, &has_bits, &bits, error))
            return FALSE;
        def->maxphysaddr_bits = (guint)bits;
    }
    return TRUE;
}

static gboolean
spm_parse_numa(SpmDomainDef *def, xmlNodePtr root, GError **error)
{
    xmlNodePtr numa = spm_xml_child(spm_xml_child(root, "cpu"), "numa");
    g_autoptr(GHashTable) ids = g_hash_table_new(g_direct_hash, g_direct_equal);
    guint index = 0;

    for (xmlNodePtr c = spm_xml_child(numa, "cell"); c; c = spm_xml_next_same(c), index++) {
        g_autoptr(SpmNumaCell) cell = spm_numa_cell_new();
        gboolean has_id;
        guint64 id = index;
        SpmNumaCell *other;

        cell->line = (guint)spm_xml_node_line(c);
        if (!spm_parse_uint_prop(c, "cpu/numa/cell", "id", SPM_MAX_NODE_ID,
                                 &has_id, &id, error))
            return FALSE;
        cell->id = (guint)id;
        other = g_hash_table_lookup(ids, GUINT_TO_POINTER(cell->id + 1));
        if (other) {
            g_autofree char *value = g_strdup_printf("%u", cell->id);

            return spm_parse_error(error, SPM_ERROR_INVALID, c, "cpu/numa/cell@id",
                                   "'%s' is already used by the cell on line %u",
                                   value, other->line);
        }
        cell->cpus = spm_xml_prop(c, "cpus");
        if (cell->cpus && !*cell->cpus)
            g_clear_pointer(&cell->cpus, g_free);
        if (!spm_parse_scaled_attr(c, "cpu/numa/cell", "memory", &cell->memory, error) ||
            !spm_parse_access(c, "cpu/numa/cell", "memAccess", &cell->access, error) ||
            !spm_parse_yesno(c, "cpu/numa/cell", "discard", &cell->discard, error))
            return FALSE;
        g_hash_table_insert(ids, GUINT_TO_POINTER(cell->id + 1), cell);
        g_ptr_array_add(def->cells, g_steal_pointer(&cell));
    }
    return TRUE;
}

static gboolean
spm_parse_memory(SpmDomainDef *def, xmlNodePtr root, GError **error)
{
    xmlNodePtr n;

    if ((n = spm_xml_child(root, "memory")) &&
        !spm_parse_scaled_elem(n, "memory", &def->memory, error))
        return FALSE;

    if ((n = spm_xml_child(root, "maxMemory"))) {
        gboolean has_slots;
        guint64 slots = 0;

        if (!spm_parse_scaled_elem(n, "maxMemory", &def->max_memory, error) ||
            !spm_parse_uint_prop(n, "maxMemory", "slots", G_MAXUINT32, &has_slots,
                                 &slots, error))
            return FALSE;
        def->max_memory_slots = (guint)slots;
        def->has_max_memory = TRUE;
    }
    return TRUE;
}

static gboolean
spm_parse_memory_backing(SpmDomainDef *def, xmlNodePtr root, GError **error)
{
    xmlNodePtr mb = spm_xml_child(root, "memoryBacking");
    xmlNodePtr hp = spm_xml_child(mb, "hugepages");
    xmlNodePtr n;

    if (!mb)
        return TRUE;
    if (hp) {
        def->hugepages = TRUE;
        for (n = spm_xml_child(hp, "page"); n; n = spm_xml_next_same(n)) {
            g_autofree char *nodeset = spm_xml_prop(n, "nodeset");
            guint64 size;

            if (!spm_parse_scaled_attr(n, "memoryBacking/hugepages/page", "size",
                                       &size, error))
                return FALSE;
            if (size == 0)
                return spm_parse_error(error, SPM_ERROR_INVALID, n,
                                       "memoryBacking/hugepages/page@size",
                                       "page size must not be 0");
            if (!nodeset && def->hugepage_size == 0)
                def->hugepage_size = size;
        }
    }
    if ((n = spm_xml_child(mb, "source"))) {
        g_autofree char *type = spm_xml_prop(n, "type");

        if (!type || g_str_equal(type, "anonymous"))
            def->backing = type ? SPM_BACKING_ANONYMOUS : SPM_BACKING_DEFAULT;
        else if (g_str_equal(type, "memfd"))
            def->backing = SPM_BACKING_MEMFD;
        else if (g_str_equal(type, "file"))
            def->backing = SPM_BACKING_FILE;
        else
            return spm_parse_error(error, SPM_ERROR_INVALID, n, "memoryBacking/source@type",
                                   "unknown value '%s' (anonymous, file, memfd)", type);
    }
    if ((n = spm_xml_child(mb, "access")) &&
        !spm_parse_access(n, "memoryBacking/access", "mode", &def->access, error))
        return FALSE;
    if ((n = spm_xml_child(mb, "allocation"))) {
        g_autofree char *mode = spm_xml_prop(n, "mode");

        if (mode && g_str_equal(mode, "immediate"))
            def->prealloc = TRUE;
        else if (mode && !g_str_equal(mode, "ondemand"))
            return spm_parse_error(error, SPM_ERROR_INVALID, n,
                                   "memoryBacking/allocation@mode",
                                   "unknown value '%s' (immediate, ondemand)", mode);
    }
    if (spm_xml_child(mb, "discard"))
        def->discard = SPM_TRISTATE_YES;
    return TRUE;
}

static gboolean
spm_parse_devices(SpmDomainDef *def, xmlNodePtr root, GError **error)
{
    xmlNodePtr devices = spm_xml_child(root, "devices");
    xmlNodePtr n;

    if (!devices)
        return TRUE;
    def->emulator = spm_xml_text_or_null(spm_xml_child(devices, "emulator"));

    for (n = spm_xml_child(devices, "controller"); n; n = spm_xml_next_same(n)) {
        g_autofree char *model = spm_xml_prop(n, "model");
        g_autofree char *path = NULL;
        xmlNodePtr hole;

        if (!model || (!g_str_equal(model, "pcie-root") && !g_str_equal(model, "pci-root")))
            continue;
        hole = spm_xml_child(n, "pcihole64");
        if (!hole)
            continue;
        path = g_strdup_printf("devices/controller[model='%s']/pcihole64", model);
        if (!spm_parse_scaled_elem(hole, path, &def->pcihole64, error))
            return FALSE;
        def->has_pcihole64 = TRUE;
    }

    for (n = spm_xml_child(devices, "memory"); n; n = spm_xml_next_same(n)) {
        SpmMemDevice *dev = spm_mem_device_parse(n, error);

        if (!dev)
            return FALSE;
        g_ptr_array_add(def->mems, dev);
    }
    return TRUE;
}

static gboolean
spm_parse_metadata(SpmDomainDef *def, xmlNodePtr root, GError **error)
{
    xmlNodePtr devices = spm_xml_child(spm_xml_metadata_element(root), "devices");

    if (!spm_xml_metadata_check_single(root, error))
        return FALSE;
    for (xmlNodePtr n = spm_xml_child(devices, "memory"); n; n = spm_xml_next_same(n)) {
        g_autoptr(SpmMemDevice) dev = spm_mem_device_parse(n, error);

        if (!dev)
            return FALSE;
        if (dev->model != SPM_MEM_MODEL_SPM) {
            spm_parse_error(error, SPM_ERROR_INVALID, n, "metadata/spm:spm/spm:devices/spm:memory@model",
                            "'%s' found, but virt-spm metadata only holds model 'spm'",
                            spm_mem_model_to_string(dev->model));
            return FALSE;
        }
        g_ptr_array_add(def->mems, g_steal_pointer(&dev));
    }
    return TRUE;
}

static gboolean
spm_check_aliases(SpmDomainDef *def, GError **error)
{
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);

    for (guint i = 0; i < def->mems->len; i++) {
        SpmMemDevice *dev = g_ptr_array_index(def->mems, i);
        SpmMemDevice *other;

        if (!dev->alias)
            continue;
        other = g_hash_table_lookup(seen, dev->alias);
        if (other) {
            g_autofree char *path = g_strdup_printf("memory[model='%s']/alias@name",
                                                    spm_mem_model_to_string(dev->model));

            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "line %u: %s: '%s' is already used by the memory device on line %u",
                        dev->line, path, dev->alias, other->line);
            return FALSE;
        }
        g_hash_table_insert(seen, dev->alias, dev);
    }
    return TRUE;
}

SpmDomainDef *
spm_domain_def_parse(xmlDocPtr doc, GError **error)
{
    g_autoptr(SpmDomainDef) def = NULL;
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    xmlNodePtr n;

    if (!root) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID, "document has no root element");
        return NULL;
    }
    if (spm_xml_is_element(root, "domain") && root->ns && !root->ns->prefix) {
        spm_parse_error(error, SPM_ERROR_INVALID, root, "domain",
                        "root element is in namespace '%s', expected a libvirt <domain> "
                        "without namespace", (const char *)root->ns->href);
        return NULL;
    }
    if (!spm_xml_is_element(root, "domain") || root->ns) {
        spm_parse_error(error, SPM_ERROR_INVALID, root, (const char *)root->name,
                        "root element is <%s%s%s>, expected a libvirt <domain>",
                        root->ns && root->ns->prefix ? (const char *)root->ns->prefix : "",
                        root->ns && root->ns->prefix ? ":" : "",
                        (const char *)root->name);
        return NULL;
    }

    def = spm_domain_def_new();
    def->virt_type = spm_xml_prop(root, "type");
    if (!def->virt_type) {
        spm_parse_error(error, SPM_ERROR_INVALID, root, "domain@type",
                        "required attribute is missing");
        return NULL;
    }
    n = spm_xml_child(root, "name");
    def->name = spm_xml_text_or_null(n);
    if (!def->name) {
        spm_parse_error(error, SPM_ERROR_INVALID, n ? n : root, "name",
                        "required element is missing or empty");
        return NULL;
    }
    def->uuid = spm_xml_text_or_null(spm_xml_child(root, "uuid"));

    if (!spm_parse_os(def, spm_xml_child(root, "os"), error))
        return NULL;
    def->acpi = spm_xml_child(spm_xml_child(root, "features"), "acpi") != NULL;

    if (!spm_parse_cpu(def, root, error) ||
        !spm_parse_numa(def, root, error) ||
        !spm_parse_memory(def, root, error) ||
        !spm_parse_memory_backing(def, root, error) ||
        !spm_parse_devices(def, root, error) ||
        !spm_parse_metadata(def, root, error) ||
        !spm_check_aliases(def, error))
        return NULL;

    return g_steal_pointer(&def);
}

