/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-domain-parse.c: libvirt domain XML to SpmDomainDef
 */
#include "spm-domain-parse.h"
#include "spm-xml.h"
#include "spm-error.h"

#include <string.h>

#define KiB 1024ULL
#define MiB (1024ULL * KiB)
#define GiB (1024ULL * MiB)

static char *
data_path(const char *name)
{
    return g_build_filename(g_getenv("SPM_SOURCE_ROOT"), "tests", "xml", "data", name, NULL);
}

static SpmDomainDef *
parse_file(const char *name)
{
    g_autofree char *path = data_path(name);
    g_autoptr(GError) error = NULL;
    g_autoptr(xmlDoc) doc = spm_xml_read_file(path, &error);
    SpmDomainDef *def;

    g_assert_no_error(error);
    def = spm_domain_def_parse(doc, &error);
    g_assert_no_error(error);
    g_assert_nonnull(def);
    return def;
}

static SpmMemDevice *
mem(SpmDomainDef *def, guint i)
{
    g_assert_cmpuint(i, <, def->mems->len);
    return g_ptr_array_index(def->mems, i);
}

static SpmNumaCell *
cell(SpmDomainDef *def, guint i)
{
    g_assert_cmpuint(i, <, def->cells->len);
    return g_ptr_array_index(def->cells, i);
}

static void
test_full(void)
{
    g_autoptr(SpmDomainDef) def = parse_file("full.xml");
    SpmMemDevice *d;
    SpmNumaCell *c;

    g_assert_cmpstr(def->name, ==, "full-guest");
    g_assert_cmpstr(def->uuid, ==, "4dea22b3-1d52-d8f3-2516-782e98ab3fa0");
    g_assert_cmpstr(def->virt_type, ==, "kvm");
    g_assert_cmpstr(def->arch, ==, "x86_64");
    g_assert_cmpstr(def->machine, ==, "pc-q35-7.2");
    g_assert_cmpint(def->machine_kind, ==, SPM_MACHINE_Q35);
    g_assert_cmpuint(def->machine_major, ==, 7);
    g_assert_cmpuint(def->machine_minor, ==, 2);
    g_assert_cmpstr(def->emulator, ==, "/usr/bin/qemu-system-x86_64");
    g_assert_true(def->firmware_efi);
    g_assert_cmpstr(def->loader_path, ==, "/usr/share/OVMF/OVMF_CODE_4M.fd");
    g_assert_true(def->acpi);

    g_assert_cmpuint(def->vcpus, ==, 8);
    g_assert_cmpstr(def->cpu_mode, ==, "custom");
    g_assert_cmpstr(def->cpu_model, ==, "EPYC");
    g_assert_cmpstr(def->cpu_vendor, ==, "AMD");
    g_assert_cmpstr(def->maxphysaddr_mode, ==, "emulate");
    g_assert_cmpuint(def->maxphysaddr_bits, ==, 48);

    g_assert_cmpuint(def->memory, ==, 8 * GiB);
    g_assert_true(def->has_max_memory);
    g_assert_cmpuint(def->max_memory, ==, 256 * GiB);
    g_assert_cmpuint(def->max_memory_slots, ==, 16);

    g_assert_true(def->hugepages);
    g_assert_cmpuint(def->hugepage_size, ==, 2 * MiB);   /* the nodeset-less page */
    g_assert_cmpint(def->backing, ==, SPM_BACKING_MEMFD);
    g_assert_cmpint(def->access, ==, SPM_ACCESS_SHARED);
    g_assert_true(def->prealloc);
    g_assert_cmpint(def->discard, ==, SPM_TRISTATE_YES);

    g_assert_true(def->has_pcihole64);
    g_assert_cmpuint(def->pcihole64, ==, 64 * GiB);

    g_assert_cmpuint(def->cells->len, ==, 3);
    c = cell(def, 0);
    g_assert_cmpuint(c->id, ==, 0);
    g_assert_cmpstr(c->cpus, ==, "0-3");
    g_assert_cmpuint(c->memory, ==, 4 * GiB);
    g_assert_cmpint(c->access, ==, SPM_ACCESS_SHARED);
    g_assert_cmpint(c->discard, ==, SPM_TRISTATE_YES);
    g_assert_cmpuint(c->line, ==, 47);
    c = cell(def, 1);
    g_assert_cmpuint(c->id, ==, 1);
    g_assert_cmpstr(c->cpus, ==, "4-7");
    g_assert_cmpuint(c->memory, ==, 4 * GiB);          /* default unit KiB */
    g_assert_cmpint(c->access, ==, SPM_ACCESS_PRIVATE);
    g_assert_cmpint(c->discard, ==, SPM_TRISTATE_NO);
    c = cell(def, 2);
    g_assert_cmpuint(c->id, ==, 2);
    g_assert_null(c->cpus);
    g_assert_cmpuint(c->memory, ==, 0);
    g_assert_cmpint(c->access, ==, SPM_ACCESS_DEFAULT);
    g_assert_cmpint(c->discard, ==, SPM_TRISTATE_ABSENT);

    /* <devices> memory in document order, then the metadata ones */
    g_assert_cmpuint(def->mems->len, ==, 6);
    g_assert_cmpuint(spm_domain_def_count_model(def, SPM_MEM_MODEL_SPM), ==, 2);

    d = mem(def, 0);
    g_assert_cmpint(d->model, ==, SPM_MEM_MODEL_SPM);
    g_assert_cmpuint(d->line, ==, 57);
    g_assert_cmpint(d->access, ==, SPM_ACCESS_SHARED);
    g_assert_cmpint(d->discard, ==, SPM_TRISTATE_NO);
    g_assert_cmpstr(d->source.nodemask, ==, "2-3");
    g_assert_cmpuint(d->source.pagesize, ==, 2 * MiB);
    g_assert_cmpstr(d->source.path, ==, "/dev/dax0.0");
    g_assert_cmpuint(d->source.alignsize, ==, 2 * MiB);
    g_assert_cmpint(d->source.pmem, ==, SPM_TRISTATE_ABSENT);
    g_assert_cmpuint(d->size, ==, 64 * GiB);
    g_assert_true(d->has_node);
    g_assert_cmpuint(d->node, ==, 2);
    g_assert_true(d->has_base);
    g_assert_cmpuint(d->base, ==, 0x2000000000ULL);
    g_assert_cmpint(d->slot, ==, -1);
    g_assert_cmpstr(d->alias, ==, "ua-hbm0");
    g_assert_cmpuint(d->label_size, ==, 0);
    g_assert_cmpuint(d->block_size, ==, 0);
    g_assert_cmpuint(d->requested_size, ==, 0);

    d = mem(def, 1);
    g_assert_cmpint(d->model, ==, SPM_MEM_MODEL_DIMM);
    g_assert_cmpuint(d->line, ==, 71);
    g_assert_cmpint(d->access, ==, SPM_ACCESS_PRIVATE);
    g_assert_cmpint(d->discard, ==, SPM_TRISTATE_YES);
    g_assert_cmpuint(d->source.pagesize, ==, 4 * KiB);
    g_assert_cmpstr(d->source.nodemask, ==, "0");
    g_assert_null(d->source.path);
    g_assert_cmpuint(d->size, ==, 512 * MiB);
    g_assert_true(d->has_node);
    g_assert_cmpuint(d->node, ==, 0);
    g_assert_cmpint(d->slot, ==, 3);
    g_assert_true(d->has_base);
    g_assert_cmpuint(d->base, ==, 4 * GiB);
    g_assert_cmpstr(d->alias, ==, "dimm0");       /* libvirt's own alias: allowed */

    d = mem(def, 2);
    g_assert_cmpint(d->model, ==, SPM_MEM_MODEL_NVDIMM);
    g_assert_cmpstr(d->source.path, ==, "/tmp/nvdimm");
    g_assert_cmpuint(d->source.alignsize, ==, 2 * MiB);
    g_assert_cmpint(d->source.pmem, ==, SPM_TRISTATE_YES);
    g_assert_cmpuint(d->size, ==, 512 * MiB);
    g_assert_cmpuint(d->node, ==, 1);
    g_assert_cmpuint(d->label_size, ==, 128 * KiB);
    g_assert_cmpint(d->slot, ==, 1);
    g_assert_false(d->has_base);
    g_assert_null(d->alias);

    d = mem(def, 3);
    g_assert_cmpint(d->model, ==, SPM_MEM_MODEL_VIRTIO_MEM);
    g_assert_cmpuint(d->size, ==, 2 * GiB);
    g_assert_cmpuint(d->node, ==, 0);
    g_assert_cmpuint(d->block_size, ==, 2 * MiB);
    g_assert_cmpuint(d->requested_size, ==, 1 * GiB);
    g_assert_true(d->has_base);
    g_assert_cmpuint(d->base, ==, 0x180000000ULL);
    g_assert_cmpint(d->slot, ==, -1);            /* its PCI address is not a slot */

    d = mem(def, 4);
    g_assert_cmpint(d->model, ==, SPM_MEM_MODEL_VIRTIO_PMEM);
    g_assert_cmpint(d->access, ==, SPM_ACCESS_SHARED);
    g_assert_cmpstr(d->source.path, ==, "/tmp/virtio_pmem");
    g_assert_cmpuint(d->size, ==, 256 * MiB);
    g_assert_false(d->has_node);                 /* absent: not invented */

    d = mem(def, 5);                             /* from <metadata> */
    g_assert_cmpint(d->model, ==, SPM_MEM_MODEL_SPM);
    g_assert_cmpuint(d->line, ==, 10);
    g_assert_cmpint(d->access, ==, SPM_ACCESS_PRIVATE);
    g_assert_cmpuint(d->size, ==, 512 * MiB);
    g_assert_true(d->has_node);
    g_assert_cmpuint(d->node, ==, 4);
    g_assert_cmpstr(d->alias, ==, "ua-meta0");
    g_assert_false(d->has_base);
}

static void
test_converted(void)
{
    g_autoptr(SpmDomainDef) def = parse_file("converted.xml");
    SpmMemDevice *d;

    g_assert_cmpstr(def->name, ==, "converted");
    g_assert_null(def->uuid);
    g_assert_cmpstr(def->virt_type, ==, "qemu");
    g_assert_cmpstr(def->machine, ==, "pc");
    g_assert_cmpint(def->machine_kind, ==, SPM_MACHINE_I440FX);
    g_assert_cmpuint(def->machine_major, ==, 0);
    g_assert_cmpuint(def->machine_minor, ==, 0);
    g_assert_false(def->firmware_efi);
    g_assert_null(def->loader_path);
    g_assert_false(def->acpi);
    g_assert_null(def->emulator);
    g_assert_cmpuint(def->vcpus, ==, 1);
    g_assert_null(def->cpu_mode);
    g_assert_null(def->cpu_model);
    g_assert_null(def->maxphysaddr_mode);
    g_assert_cmpuint(def->maxphysaddr_bits, ==, 0);
    g_assert_cmpuint(def->memory, ==, 2 * GiB);
    g_assert_cmpuint(def->max_memory, ==, 5 * GiB);
    g_assert_cmpuint(def->max_memory_slots, ==, 2);
    g_assert_false(def->hugepages);
    g_assert_cmpuint(def->hugepage_size, ==, 0);
    g_assert_cmpint(def->backing, ==, SPM_BACKING_DEFAULT);
    g_assert_false(def->prealloc);
    g_assert_false(def->has_pcihole64);
    g_assert_cmpuint(def->cells->len, ==, 3);

    /* the dimm in <devices> first, then both metadata devices in order;
     * the foreign-namespace <memory> is not ours and is ignored */
    g_assert_cmpuint(def->mems->len, ==, 3);
    d = mem(def, 0);
    g_assert_cmpint(d->model, ==, SPM_MEM_MODEL_DIMM);
    g_assert_cmpuint(d->size, ==, 1 * GiB);
    d = mem(def, 1);
    g_assert_cmpint(d->model, ==, SPM_MEM_MODEL_SPM);
    g_assert_cmpstr(d->alias, ==, "ua-hbm0");
    g_assert_cmpuint(d->size, ==, 1 * GiB);
    g_assert_cmpuint(d->node, ==, 1);
    g_assert_cmpuint(d->line, ==, 29);
    d = mem(def, 2);
    g_assert_cmpint(d->model, ==, SPM_MEM_MODEL_SPM);
    g_assert_cmpstr(d->alias, ==, "ua-hbm1");
    g_assert_cmpint(d->discard, ==, SPM_TRISTATE_YES);
    g_assert_cmpuint(d->source.pagesize, ==, 2 * MiB);
    g_assert_cmpuint(d->size, ==, 2 * GiB);
    g_assert_cmpuint(d->node, ==, 2);
    g_assert_true(d->has_base);
    g_assert_cmpuint(d->base, ==, 8 * GiB);
}

/* ---- building small domains -------------------------------------------- */

/*
 * A domain whose <devices> holds @devices starting on line 7:
 *   1 <domain type='qemu'>
 *   2   <name>t</name>
 *   3   <memory unit='GiB'>2</memory>
 *   4   <os><type arch='x86_64' machine='MACHINE'>hvm</type></os>
 *   5   <cpu><numa><cell id='0' cpus='0' memory='1' unit='GiB'/></numa></cpu>
 *   6   <devices>
 *   7 @devices
 */
static char *
domain_xml(const char *machine, const char *devices, const char *extra)
{
    return g_strdup_printf("<domain type='qemu'>\n"
                           "  <name>t</name>\n"
                           "  <memory unit='GiB'>2</memory>\n"
                           "  <os><type arch='x86_64'%s%s%s>hvm</type></os>\n"
                           "  <cpu><numa><cell id='0' cpus='0' memory='1' unit='GiB'/></numa></cpu>\n"
                           "  <devices>\n"
                           "%s\n"
                           "  </devices>\n"
                           "%s"
                           "</domain>\n",
                           machine ? " machine='" : "", machine ? machine : "",
                           machine ? "'" : "",
                           devices ? devices : "", extra ? extra : "");
}

static SpmDomainDef *
parse_string(const char *xml, GError **error)
{
    g_autoptr(GError) read_error = NULL;
    g_autoptr(xmlDoc) doc = spm_xml_read_memory(xml, strlen(xml), "t.xml", &read_error);

    g_assert_no_error(read_error);
    return spm_domain_def_parse(doc, error);
}

static void
assert_refused(const char *xml, int code, const char *expected)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SpmDomainDef) def = parse_string(xml, &error);

    if (def)
        g_test_message("unexpectedly accepted:\n%s", xml);
    g_assert_null(def);
    g_assert_error(error, SPM_ERROR, code);
    g_assert_null(strchr(error->message, '\n'));
    g_assert_cmpstr(error->message, ==, expected);
}

#define SPM_TARGET "<target><size unit='GiB'>1</size><node>1</node></target>"

typedef struct {
    const char *what;
    const char *devices;
    int code;
    const char *expected;
} ErrorCase;

static const ErrorCase error_cases[] = {
    { "unknown unit",
      "<memory model='spm'><target><size unit='GB2'>64</size><node>1</node></target></memory>",
      SPM_ERROR_INVALID,
      "line 7: memory[model='spm']/target/size: unknown unit 'GB2'" },
    { "overflow, number",
      "<memory model='spm'><target><size unit='KiB'>18446744073709551616</size><node>1</node></target></memory>",
      SPM_ERROR_INVALID,
      "line 7: memory[model='spm']/target/size: '18446744073709551616' does not fit in 64 bits" },
    { "overflow, scaled",
      "<memory model='spm'><target><size>18446744073709551615</size><node>1</node></target></memory>",
      SPM_ERROR_INVALID,
      "line 7: memory[model='spm']/target/size: '18446744073709551615 KiB' overflows 64 bits" },
    { "overflow, EiB",
      "<memory model='spm'><target><size unit='EiB'>16</size><node>1</node></target></memory>",
      SPM_ERROR_INVALID,
      "line 7: memory[model='spm']/target/size: '16 EiB' overflows 64 bits" },
    { "negative size",
      "<memory model='spm'><target><size unit='GiB'>-1</size><node>1</node></target></memory>",
      SPM_ERROR_INVALID,
      "line 7: memory[model='spm']/target/size: '-1' is not a non-negative integer" },
    { "zero size",
      "<memory model='spm'><target><size unit='GiB'>0</size><node>1</node></target></memory>",
      SPM_ERROR_INVALID,
      "line 7: memory[model='spm']/target/size: size must not be 0" },
    { "empty size",
      "<memory model='spm'><target><size unit='GiB'> </size><node>1</node></target></memory>",
      SPM_ERROR_INVALID,
      "line 7: memory[model='spm']/target/size: missing value" },
    { "missing target/size",
      "<memory model='spm'>\n  <target>\n    <node>1</node>\n  </target>\n</memory>",
      SPM_ERROR_INVALID,
      "line 8: memory[model='spm']/target/size: required element is missing" },
    { "missing target",
      "<memory model='spm'/>",
      SPM_ERROR_INVALID,
      "line 7: memory[model='spm']/target/size: required element is missing" },
    { "missing target/node for spm",
      "<memory model='spm'>\n  <target>\n    <size unit='GiB'>1</size>\n  </target>\n</memory>",
      SPM_ERROR_INVALID,
      "line 8: memory[model='spm']/target/node: required element is missing" },
    { "non-numeric node",
      "<memory model='spm'><target><size unit='GiB'>1</size><node>one</node></target></memory>",
      SPM_ERROR_INVALID,
      "line 7: memory[model='spm']/target/node: 'one' is not a non-negative integer" },
    { "node too big",
      "<memory model='spm'><target><size unit='GiB'>1</size><node>4096</node></target></memory>",
      SPM_ERROR_INVALID,
      "line 7: memory[model='spm']/target/node: '4096' is out of range (0-4095)" },
    { "node overflows",
      "<memory model='spm'><target><size unit='GiB'>1</size><node>99999999999999999999999</node></target></memory>",
      SPM_ERROR_INVALID,
      "line 7: memory[model='spm']/target/node: '99999999999999999999999' is out of range (0-4095)" },
    { "bad alias",
      "<memory model='spm'>" SPM_TARGET "<alias name='hbm0'/></memory>",
      SPM_ERROR_INVALID,
      "line 7: memory[model='spm']/alias@name: 'hbm0' does not follow libvirt's user alias rule "
      "('ua-' then letters, digits, '_' or '-')" },
    { "alias with a bad character",
      "<memory model='spm'>" SPM_TARGET "<alias name='ua-hbm.0'/></memory>",
      SPM_ERROR_INVALID,
      "line 7: memory[model='spm']/alias@name: 'ua-hbm.0' does not follow libvirt's user alias rule "
      "('ua-' then letters, digits, '_' or '-')" },
    { "alias only the prefix",
      "<memory model='spm'>" SPM_TARGET "<alias name='ua-'/></memory>",
      SPM_ERROR_INVALID,
      "line 7: memory[model='spm']/alias@name: 'ua-' does not follow libvirt's user alias rule "
      "('ua-' then letters, digits, '_' or '-')" },
    { "duplicate alias",
      "<memory model='spm'>" SPM_TARGET "<alias name='ua-hbm0'/></memory>\n"
      "<memory model='spm'><target><size unit='GiB'>1</size><node>2</node></target>"
      "<alias name='ua-hbm0'/></memory>",
      SPM_ERROR_INVALID,
      "line 8: memory[model='spm']/alias@name: 'ua-hbm0' is already used by the memory device on line 7" },
    { "duplicate alias with a dimm",
      "<memory model='dimm'><target><size unit='GiB'>1</size><node>0</node></target>"
      "<alias name='ua-x'/></memory>\n"
      "<memory model='spm'>" SPM_TARGET "<alias name='ua-x'/></memory>",
      SPM_ERROR_INVALID,
      "line 8: memory[model='spm']/alias@name: 'ua-x' is already used by the memory device on line 7" },
    { "unknown model",
      "<memory model='sgx-epc'><target><size unit='GiB'>1</size></target></memory>",
      SPM_ERROR_UNSUPPORTED,
      "line 7: memory@model: unknown memory model 'sgx-epc' (spm, dimm, nvdimm, virtio-mem, virtio-pmem)" },
    { "missing model",
      "<memory>" SPM_TARGET "</memory>",
      SPM_ERROR_INVALID,
      "line 7: memory@model: required attribute is missing" },
    { "bad base",
      "<memory model='spm'>" SPM_TARGET "<address type='spm' base='0x12G'/></memory>",
      SPM_ERROR_INVALID,
      "line 7: memory[model='spm']/address@base: '0x12G' is not a number" },
    { "base overflows",
      "<memory model='spm'>" SPM_TARGET "<address type='spm' base='0x10000000000000000'/></memory>",
      SPM_ERROR_INVALID,
      "line 7: memory[model='spm']/address@base: '0x10000000000000000' does not fit in 64 bits" },
    { "empty base",
      "<memory model='spm'>" SPM_TARGET "<address type='spm' base=''/></memory>",
      SPM_ERROR_INVALID,
      "line 7: memory[model='spm']/address@base: missing value" },
    { "wrong address type",
      "<memory model='spm'>" SPM_TARGET "<address type='dimm' base='0x100000000'/></memory>",
      SPM_ERROR_INVALID,
      "line 7: memory[model='spm']/address@type: 'dimm' does not fit memory model 'spm' (expected 'spm')" },
    { "address without type",
      "<memory model='spm'>" SPM_TARGET "<address base='0x100000000'/></memory>",
      SPM_ERROR_INVALID,
      "line 7: memory[model='spm']/address@type: required attribute is missing" },
    { "slot on spm",
      "<memory model='spm'>" SPM_TARGET "<address type='spm' slot='1'/></memory>",
      SPM_ERROR_INVALID,
      "line 7: memory[model='spm']/address@slot: SPM devices have no slot (only base)" },
    { "non-numeric slot",
      "<memory model='dimm'>" SPM_TARGET "<address type='dimm' slot='x1'/></memory>",
      SPM_ERROR_INVALID,
      "line 7: memory[model='dimm']/address@slot: 'x1' is not a non-negative integer" },
    { "bad access",
      "<memory model='spm' access='public'>" SPM_TARGET "</memory>",
      SPM_ERROR_INVALID,
      "line 7: memory[model='spm']@access: unknown value 'public' (shared, private)" },
    { "bad discard",
      "<memory model='spm' discard='maybe'>" SPM_TARGET "</memory>",
      SPM_ERROR_INVALID,
      "line 7: memory[model='spm']@discard: unknown value 'maybe' (yes, no)" },
    { "bad nodemask",
      "<memory model='spm'><source><nodemask>all</nodemask></source>" SPM_TARGET "</memory>",
      SPM_ERROR_INVALID,
      "line 7: memory[model='spm']/source/nodemask: 'all' is not a node set such as '0-3,5'" },
    { "bad pagesize unit",
      "<memory model='spm'><source><pagesize unit='pages'>1</pagesize></source>" SPM_TARGET "</memory>",
      SPM_ERROR_INVALID,
      "line 7: memory[model='spm']/source/pagesize: unknown unit 'pages'" },
    { "relative path",
      "<memory model='spm'><source><path>dax0.0</path></source>" SPM_TARGET "</memory>",
      SPM_ERROR_INVALID,
      "line 7: memory[model='spm']/source/path: 'dax0.0' is not an absolute path" },
    { "bad alignsize",
      "<memory model='spm'><source><alignsize unit='KiB'>2M</alignsize></source>" SPM_TARGET "</memory>",
      SPM_ERROR_INVALID,
      "line 7: memory[model='spm']/source/alignsize: '2M' is not a non-negative integer" },
    { "bad nvdimm label",
      "<memory model='nvdimm'><target><size unit='GiB'>1</size><label><size unit='XB'>1</size></label>"
      "</target></memory>",
      SPM_ERROR_INVALID,
      "line 7: memory[model='nvdimm']/target/label/size: unknown unit 'XB'" },
    { "bad virtio-mem block",
      "<memory model='virtio-mem'><target><size unit='GiB'>1</size><block unit='MiB'>x</block>"
      "</target></memory>",
      SPM_ERROR_INVALID,
      "line 7: memory[model='virtio-mem']/target/block: 'x' is not a non-negative integer" },
    { "missing alias name",
      "<memory model='spm'>" SPM_TARGET "<alias/></memory>",
      SPM_ERROR_INVALID,
      "line 7: memory[model='spm']/alias@name: required attribute is missing" },
};

static void
test_error_case(gconstpointer data)
{
    const ErrorCase *c = data;
    g_autofree char *xml = domain_xml("q35", c->devices, NULL);

    assert_refused(xml, c->code, c->expected);
}

static void
test_machines(void)
{
    static const struct {
        const char *machine;
        SpmMachineKind kind;
        guint major, minor;
    } ok[] = {
        { NULL, SPM_MACHINE_I440FX, 0, 0 },
        { "pc", SPM_MACHINE_I440FX, 0, 0 },
        { "q35", SPM_MACHINE_Q35, 0, 0 },
        { "pc-q35-7.2", SPM_MACHINE_Q35, 7, 2 },
        { "pc-q35-10.2", SPM_MACHINE_Q35, 10, 2 },
        { "pc-q35-2.11.1", SPM_MACHINE_Q35, 2, 11 },
        { "pc-i440fx-7.2", SPM_MACHINE_I440FX, 7, 2 },
        { "pc-i440fx-1.4", SPM_MACHINE_I440FX, 1, 4 },
    };
    static const char *const bad[] = {
        "microvm", "isapc", "virt", "pc-q35", "pc-q35-", "pc-q35-7", "pc-q35-7.x",
        "pc-i440fx-7.2.1.1", "pc-q35-+7.2", "q35x", "",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(ok); i++) {
        g_autofree char *xml = domain_xml(ok[i].machine, NULL, NULL);
        g_autoptr(GError) error = NULL;
        g_autoptr(SpmDomainDef) def = parse_string(xml, &error);

        g_assert_no_error(error);
        g_assert_cmpstr(def->machine, ==, ok[i].machine);
        g_assert_cmpint(def->machine_kind, ==, ok[i].kind);
        g_assert_cmpuint(def->machine_major, ==, ok[i].major);
        g_assert_cmpuint(def->machine_minor, ==, ok[i].minor);
    }
    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *xml = domain_xml(bad[i], NULL, NULL);
        g_autofree char *expected =
            g_strdup_printf("line 4: os/type@machine: machine '%s' is not supported: "
                            "SPM needs pc or q35", bad[i]);

        assert_refused(xml, SPM_ERROR_UNSUPPORTED, expected);
    }
}

static void
test_firmware(void)
{
    static const struct {
        const char *os;
        gboolean efi;
        const char *loader;
    } cases[] = {
        { "<os><type>hvm</type></os>", FALSE, NULL },
        { "<os firmware='efi'><type>hvm</type></os>", TRUE, NULL },
        { "<os firmware='bios'><type>hvm</type></os>", FALSE, NULL },
        { "<os><type>hvm</type><loader type='pflash'>/usr/share/qemu/edk2-x86_64-code.fd</loader></os>",
          TRUE, "/usr/share/qemu/edk2-x86_64-code.fd" },
        { "<os><type>hvm</type><loader>/usr/share/seabios/bios-256k.bin</loader></os>",
          FALSE, "/usr/share/seabios/bios-256k.bin" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *xml = g_strdup_printf("<domain type='qemu'><name>f</name>%s</domain>",
                                               cases[i].os);
        g_autoptr(GError) error = NULL;
        g_autoptr(SpmDomainDef) def = parse_string(xml, &error);

        g_assert_no_error(error);
        g_assert_cmpint(def->firmware_efi, ==, cases[i].efi);
        g_assert_cmpstr(def->loader_path, ==, cases[i].loader);
        g_assert_cmpint(def->machine_kind, ==, SPM_MACHINE_I440FX);
    }
}

static void
test_domain_errors(void)
{
    static const struct {
        const char *xml;
        int code;
        const char *expected;
    } cases[] = {
        { "<network>\n  <name>default</name>\n</network>", SPM_ERROR_INVALID,
          "line 1: network: root element is <network>, expected a libvirt <domain>" },
        { "<x:domain xmlns:x='urn:x' type='qemu'><x:name>a</x:name></x:domain>", SPM_ERROR_INVALID,
          "line 1: domain: root element is <x:domain>, expected a libvirt <domain>" },
        { "<domain xmlns='http://libvirt.org/schemas/domain' type='qemu'><name>a</name></domain>",
          SPM_ERROR_INVALID,
          "line 1: domain: root element is in namespace 'http://libvirt.org/schemas/domain', "
          "expected a libvirt <domain> without namespace" },
        { "<domain><name>a</name></domain>", SPM_ERROR_INVALID,
          "line 1: domain@type: required attribute is missing" },
        { "<domain type='qemu'>\n  <uuid>x</uuid>\n</domain>", SPM_ERROR_INVALID,
          "line 1: name: required element is missing or empty" },
        { "<domain type='qemu'>\n  <name> </name>\n</domain>", SPM_ERROR_INVALID,
          "line 2: name: required element is missing or empty" },
        { "<domain type='qemu'><name>a</name>\n<memory unit='GiB'>lots</memory></domain>",
          SPM_ERROR_INVALID, "line 2: memory: 'lots' is not a non-negative integer" },
        { "<domain type='qemu'><name>a</name>\n<maxMemory slots='x' unit='GiB'>4</maxMemory></domain>",
          SPM_ERROR_INVALID, "line 2: maxMemory@slots: 'x' is not a non-negative integer" },
        { "<domain type='qemu'><name>a</name>\n<maxMemory slots='2' unit='Gibibytes'>4</maxMemory></domain>",
          SPM_ERROR_INVALID, "line 2: maxMemory: unknown unit 'Gibibytes'" },
        { "<domain type='qemu'><name>a</name>\n<vcpu>0</vcpu></domain>",
          SPM_ERROR_INVALID, "line 2: vcpu: '0' is not a valid number of vCPUs" },
        { "<domain type='qemu'><name>a</name>\n<vcpu>four</vcpu></domain>",
          SPM_ERROR_INVALID, "line 2: vcpu: 'four' is not a non-negative integer" },
        { "<domain type='qemu'><name>a</name>\n<cpu><maxphysaddr mode='emulate' bits='65'/></cpu></domain>",
          SPM_ERROR_INVALID, "line 2: cpu/maxphysaddr@bits: '65' is out of range (0-64)" },
        { "<domain type='qemu'><name>a</name><cpu><numa>\n"
          "<cell id='0' memory='1' unit='GiB'/>\n<cell id='0' memory='1' unit='GiB'/>\n"
          "</numa></cpu></domain>",
          SPM_ERROR_INVALID, "line 3: cpu/numa/cell@id: '0' is already used by the cell on line 2" },
        { "<domain type='qemu'><name>a</name><cpu><numa>\n"
          "<cell id='zero' memory='1' unit='GiB'/>\n</numa></cpu></domain>",
          SPM_ERROR_INVALID, "line 2: cpu/numa/cell@id: 'zero' is not a non-negative integer" },
        { "<domain type='qemu'><name>a</name><cpu><numa>\n"
          "<cell id='5000' memory='1' unit='GiB'/>\n</numa></cpu></domain>",
          SPM_ERROR_INVALID, "line 2: cpu/numa/cell@id: '5000' is out of range (0-4095)" },
        { "<domain type='qemu'><name>a</name><cpu><numa>\n"
          "<cell id='0' cpus='0'/>\n</numa></cpu></domain>",
          SPM_ERROR_INVALID, "line 2: cpu/numa/cell@memory: required attribute is missing" },
        { "<domain type='qemu'><name>a</name><cpu><numa>\n"
          "<cell id='0' memory='1' unit='GiB' memAccess='public'/>\n</numa></cpu></domain>",
          SPM_ERROR_INVALID, "line 2: cpu/numa/cell@memAccess: unknown value 'public' (shared, private)" },
        { "<domain type='qemu'><name>a</name><memoryBacking>\n"
          "<hugepages><page size='2' unit='Mb2'/></hugepages></memoryBacking></domain>",
          SPM_ERROR_INVALID, "line 2: memoryBacking/hugepages/page@size: unknown unit 'Mb2'" },
        { "<domain type='qemu'><name>a</name><memoryBacking>\n"
          "<source type='hugetlbfs'/></memoryBacking></domain>",
          SPM_ERROR_INVALID,
          "line 2: memoryBacking/source@type: unknown value 'hugetlbfs' (anonymous, file, memfd)" },
        { "<domain type='qemu'><name>a</name><memoryBacking>\n"
          "<access mode='public'/></memoryBacking></domain>",
          SPM_ERROR_INVALID,
          "line 2: memoryBacking/access@mode: unknown value 'public' (shared, private)" },
        { "<domain type='qemu'><name>a</name><memoryBacking>\n"
          "<allocation mode='later'/></memoryBacking></domain>",
          SPM_ERROR_INVALID,
          "line 2: memoryBacking/allocation@mode: unknown value 'later' (immediate, ondemand)" },
        { "<domain type='qemu'><name>a</name><devices>\n"
          "<controller type='pci' model='pci-root'><pcihole64 unit='GB'>-2</pcihole64></controller>"
          "</devices></domain>",
          SPM_ERROR_INVALID,
          "line 2: devices/controller[model='pci-root']/pcihole64: '-2' is not a non-negative integer" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++)
        assert_refused(cases[i].xml, cases[i].code, cases[i].expected);
}

/* <memoryBacking> and <pcihole64> variants the full example does not show. */
static void
test_backing_variants(void)
{
    static const struct {
        const char *body;
        gboolean hugepages;
        guint64 hugepage_size;
        SpmBackingType backing;
        SpmAccess access;
        gboolean prealloc;
        SpmTristate discard;
        gboolean has_hole;
        guint64 hole;
    } cases[] = {
        { "<memoryBacking><hugepages/></memoryBacking>",
          TRUE, 0, SPM_BACKING_DEFAULT, SPM_ACCESS_DEFAULT, FALSE, SPM_TRISTATE_ABSENT, FALSE, 0 },
        { "<memoryBacking><hugepages><page size='1' unit='GiB' nodeset='0'/></hugepages></memoryBacking>",
          TRUE, 0, SPM_BACKING_DEFAULT, SPM_ACCESS_DEFAULT, FALSE, SPM_TRISTATE_ABSENT, FALSE, 0 },
        { "<memoryBacking><hugepages><page size='1048576'/><page size='2' unit='M'/></hugepages>"
          "<source type='file'/><access mode='private'/><allocation mode='ondemand'/></memoryBacking>",
          TRUE, 1 * GiB, SPM_BACKING_FILE, SPM_ACCESS_PRIVATE, FALSE, SPM_TRISTATE_ABSENT, FALSE, 0 },
        { "<memoryBacking><source type='anonymous'/><allocation mode='immediate' threads='4'/>"
          "</memoryBacking>",
          FALSE, 0, SPM_BACKING_ANONYMOUS, SPM_ACCESS_DEFAULT, TRUE, SPM_TRISTATE_ABSENT, FALSE, 0 },
        { "<memoryBacking><source/><discard/></memoryBacking>"
          "<devices><controller type='pci' index='0' model='pci-root'>"
          "<pcihole64 unit='MiB'>2048</pcihole64></controller></devices>",
          FALSE, 0, SPM_BACKING_DEFAULT, SPM_ACCESS_DEFAULT, FALSE, SPM_TRISTATE_YES, TRUE, 2 * GiB },
        { "<devices><controller type='pci' index='0' model='pcie-root'>"
          "<pcihole64>0</pcihole64></controller>"
          "<controller type='pci' index='1' model='pcie-root-port'>"
          "<pcihole64>1</pcihole64></controller></devices>",
          FALSE, 0, SPM_BACKING_DEFAULT, SPM_ACCESS_DEFAULT, FALSE, SPM_TRISTATE_ABSENT, TRUE, 0 },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *xml = g_strdup_printf("<domain type='qemu'><name>b</name>%s</domain>",
                                               cases[i].body);
        g_autoptr(GError) error = NULL;
        g_autoptr(SpmDomainDef) def = parse_string(xml, &error);

        g_assert_no_error(error);
        g_assert_cmpint(def->hugepages, ==, cases[i].hugepages);
        g_assert_cmpuint(def->hugepage_size, ==, cases[i].hugepage_size);
        g_assert_cmpint(def->backing, ==, cases[i].backing);
        g_assert_cmpint(def->access, ==, cases[i].access);
        g_assert_cmpint(def->prealloc, ==, cases[i].prealloc);
        g_assert_cmpint(def->discard, ==, cases[i].discard);
        g_assert_cmpint(def->has_pcihole64, ==, cases[i].has_hole);
        g_assert_cmpuint(def->pcihole64, ==, cases[i].hole);
        g_assert_false(def->has_max_memory);
        g_assert_cmpuint(def->memory, ==, 0);
        g_assert_cmpuint(def->cells->len, ==, 0);
        g_assert_cmpuint(def->mems->len, ==, 0);
    }
}

/* A well-formed document of something else: one line, from the file. */
static void
test_non_domain_file(void)
{
    g_autofree char *path = data_path("non-domain.xml");
    g_autoptr(GError) error = NULL;
    g_autoptr(xmlDoc) doc = spm_xml_read_file(path, &error);
    g_autoptr(SpmDomainDef) def = NULL;

    g_assert_no_error(error);
    def = spm_domain_def_parse(doc, &error);
    g_assert_null(def);
    g_assert_error(error, SPM_ERROR, SPM_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==,
                    "line 1: network: root element is <network>, expected a libvirt <domain>");
    g_clear_error(&error);
    g_assert_false(spm_domain_def_parse(NULL, &error));
    g_assert_cmpstr(error->message, ==, "document has no root element");
}

/* Errors in the metadata form carry their line in the document too. */
static void
test_metadata_errors(void)
{
    static const char meta_bad_unit[] =
        "<metadata>\n"
        "  <spm:spm xmlns:spm='http://virt-spm.org/xmlns/domain/1.0'>\n"
        "    <spm:devices>\n"
        "      <spm:memory model='spm'>\n"
        "        <spm:target><spm:size unit='GB2'>1</spm:size><spm:node>1</spm:node></spm:target>\n"
        "      </spm:memory>\n"
        "    </spm:devices>\n"
        "  </spm:spm>\n"
        "</metadata>\n";
    /* children in no namespace do not count: the spm:memory has no target */
    static const char meta_mixed_ns[] =
        "<metadata>\n"
        "  <spm:spm xmlns:spm='http://virt-spm.org/xmlns/domain/1.0'>\n"
        "    <spm:devices>\n"
        "      <spm:memory model='spm'>\n"
        "        <target><size unit='GiB'>1</size><node>1</node></target>\n"
        "      </spm:memory>\n"
        "    </spm:devices>\n"
        "  </spm:spm>\n"
        "</metadata>\n";
    static const char meta_dimm[] =
        "<metadata>\n"
        "  <spm:spm xmlns:spm='http://virt-spm.org/xmlns/domain/1.0'>\n"
        "    <spm:devices>\n"
        "      <spm:memory model='dimm'>\n"
        "        <spm:target><spm:size unit='GiB'>1</spm:size><spm:node>0</spm:node></spm:target>\n"
        "      </spm:memory>\n"
        "    </spm:devices>\n"
        "  </spm:spm>\n"
        "</metadata>\n";
    static const char meta_dup[] =
        "<metadata>\n"
        "  <spm:spm xmlns:spm='http://virt-spm.org/xmlns/domain/1.0'>\n"
        "    <spm:devices>\n"
        "      <spm:memory model='spm'>\n"
        "        <spm:target><spm:size unit='GiB'>1</spm:size><spm:node>2</spm:node></spm:target>\n"
        "        <spm:alias name='ua-hbm0'/>\n"
        "      </spm:memory>\n"
        "    </spm:devices>\n"
        "  </spm:spm>\n"
        "</metadata>\n";
    /* libvirt keeps a second element of a namespace as it is: stale at once */
    static const char meta_twice[] =
        "<metadata>\n"
        "  <spm:spm xmlns:spm='http://virt-spm.org/xmlns/domain/1.0'/>\n"
        "  <v:spm xmlns:v='http://virt-spm.org/xmlns/domain/1.0'/>\n"
        "</metadata>\n";
    g_autofree char *x1 = domain_xml("q35", "", meta_bad_unit);
    g_autofree char *x2 = domain_xml("q35", "", meta_mixed_ns);
    g_autofree char *x3 = domain_xml("q35", "", meta_dimm);
    g_autofree char *x4 = domain_xml("q35", "<memory model='spm'>" SPM_TARGET "<alias name='ua-hbm0'/></memory>",
                                     meta_dup);

    assert_refused(x1, SPM_ERROR_INVALID, "line 13: memory[model='spm']/target/size: unknown unit 'GB2'");
    assert_refused(x2, SPM_ERROR_INVALID, "line 12: memory[model='spm']/target/size: required element is missing");
    assert_refused(x3, SPM_ERROR_INVALID,
                   "line 12: metadata/spm:spm/spm:devices/spm:memory@model: 'dimm' found, "
                   "but virt-spm metadata only holds model 'spm'");
    assert_refused(x4, SPM_ERROR_INVALID,
                   "line 12: memory[model='spm']/alias@name: 'ua-hbm0' is already used by the memory device on line 7");
    {
        g_autofree char *x5 = domain_xml("q35", "", meta_twice);

        assert_refused(x5, SPM_ERROR_INVALID,
                       "line 11: metadata: a second element 'spm' in virt-spm's namespace "
                       "http://virt-spm.org/xmlns/domain/1.0; keep one");
    }
}

/* spm_mem_device_parse on its own, both namespaces, and wrong input. */
static void
test_device_parse_direct(void)
{
    static const char plain[] =
        "<memory model='spm'><target><size unit='MiB'>256</size><node>3</node></target></memory>";
    static const char spmns[] =
        "<x:memory xmlns:x='http://virt-spm.org/xmlns/domain/1.0' model='spm'>"
        "<x:target><x:size unit='MiB'>256</x:size><x:node>3</x:node></x:target></x:memory>";
    static const char foreign[] =
        "<x:memory xmlns:x='urn:other' model='spm'>"
        "<x:target><x:size unit='MiB'>256</x:size><x:node>3</x:node></x:target></x:memory>";
    static const char notmem[] = "<disk type='file'/>";
    const char *ok[] = { plain, spmns };

    for (gsize i = 0; i < G_N_ELEMENTS(ok); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(xmlDoc) doc = spm_xml_read_memory(ok[i], strlen(ok[i]), "d.xml", &error);
        g_autoptr(SpmMemDevice) dev = spm_mem_device_parse(xmlDocGetRootElement(doc), &error);

        g_assert_no_error(error);
        g_assert_cmpint(dev->model, ==, SPM_MEM_MODEL_SPM);
        g_assert_cmpuint(dev->size, ==, 256 * MiB);
        g_assert_cmpuint(dev->node, ==, 3);
        g_assert_cmpuint(dev->line, ==, 1);
    }
    {
        g_autoptr(GError) error = NULL;
        g_autoptr(xmlDoc) doc = spm_xml_read_memory(foreign, strlen(foreign), "d.xml", &error);
        g_autoptr(SpmMemDevice) dev = spm_mem_device_parse(xmlDocGetRootElement(doc), &error);

        g_assert_null(dev);
        g_assert_error(error, SPM_ERROR, SPM_ERROR_INVALID);
        g_assert_cmpstr(error->message, ==,
                        "line 1: memory: namespace 'urn:other' is neither none nor "
                        "'http://virt-spm.org/xmlns/domain/1.0'");
    }
    {
        g_autoptr(GError) error = NULL;
        g_autoptr(xmlDoc) doc = spm_xml_read_memory(notmem, strlen(notmem), "d.xml", &error);
        g_autoptr(SpmMemDevice) dev = spm_mem_device_parse(xmlDocGetRootElement(doc), &error);

        g_assert_null(dev);
        g_assert_cmpstr(error->message, ==, "line 1: memory: expected a <memory> element, got 'disk'");
    }
    {
        g_autoptr(GError) error = NULL;
        g_autoptr(SpmMemDevice) dev = spm_mem_device_parse(NULL, &error);

        g_assert_null(dev);
        g_assert_cmpstr(error->message, ==, "memory: expected a <memory> element, got 'nothing'");
    }
}

/* Line numbers above 65535 must still be right (XML_PARSE_BIG_LINES). */
static void
test_big_line_numbers(void)
{
    GString *xml = g_string_new("<domain type='qemu'>\n<name>big</name>\n<devices>\n");
    g_autoptr(GError) error = NULL;
    g_autoptr(SpmDomainDef) def = NULL;

    for (int i = 0; i < 70000; i++)
        g_string_append(xml, "<!-- -->\n");
    /* line 70004 */
    g_string_append(xml, "<memory model='spm'><target><size unit='XiB'>1</size><node>1</node></target></memory>\n"
                         "</devices>\n</domain>\n");
    def = parse_string(xml->str, &error);
    g_assert_null(def);
    g_assert_cmpstr(error->message, ==, "line 70004: memory[model='spm']/target/size: unknown unit 'XiB'");
    g_string_free(xml, TRUE);
}

/*
 * Nothing in a document may crash the parser: mutate the full example at
 * random (fixed seed) and parse whatever still reads as XML.
 */
static void
test_fuzz(void)
{
    g_autofree char *path = data_path("full.xml");
    g_autofree char *orig = NULL;
    gsize len;
    GRand *rand = g_rand_new_with_seed(20261125);
    static const char *const tokens[] = {
        "0", "-1", "18446744073709551616", "0x", "GiB", "EiB", "", " ", "spm",
        "ua-", "<node>", "</target>", "'", "model='spm'", "4096", "99999999999",
    };
    guint parsed = 0, refused = 0;

    g_assert_true(g_file_get_contents(path, &orig, &len, NULL));
    for (guint round = 0; round < 3000; round++) {
        GString *s = g_string_new_len(orig, len);
        guint edits = 1 + g_rand_int_range(rand, 0, 4);
        g_autoptr(GError) error = NULL;
        g_autoptr(xmlDoc) doc = NULL;

        for (guint e = 0; e < edits; e++) {
            gsize pos = g_rand_int_range(rand, 0, (gint32)s->len);
            gsize cut = g_rand_int_range(rand, 0, 8);

            if (pos + cut > s->len)
                cut = s->len - pos;
            g_string_erase(s, pos, cut);
            g_string_insert(s, pos, tokens[g_rand_int_range(rand, 0, G_N_ELEMENTS(tokens))]);
        }
        doc = spm_xml_read_memory(s->str, s->len, "fuzz.xml", &error);
        if (doc) {
            g_autoptr(SpmDomainDef) def = spm_domain_def_parse(doc, &error);

            if (def) {
                parsed++;
            } else {
                g_assert_nonnull(error);
                g_assert_null(strchr(error->message, '\n'));
                refused++;
            }
        } else {
            g_assert_nonnull(error);
            g_assert_null(strchr(error->message, '\n'));
        }
        g_string_free(s, TRUE);
    }
    g_rand_free(rand);
    g_test_message("fuzz: %u parsed, %u refused by the domain parser", parsed, refused);
    /* the mutations hit both outcomes */
    g_assert_cmpuint(parsed, >, 0);
    g_assert_cmpuint(refused, >, 0);
}

static void
collect_elements(xmlNodePtr node, GPtrArray *out)
{
    for (xmlNodePtr cur = node; cur; cur = cur->next) {
        if (cur->type == XML_ELEMENT_NODE) {
            g_ptr_array_add(out, cur);
            collect_elements(cur->children, out);
        }
    }
}

/* Well-formed but wrong: random values in random attributes and elements. */
static void
test_fuzz_values(void)
{
    g_autofree char *path = data_path("full.xml");
    g_autoptr(GError) error = NULL;
    g_autoptr(xmlDoc) orig = spm_xml_read_file(path, &error);
    GRand *rand = g_rand_new_with_seed(4242);
    static const char *const values[] = {
        "0", "-1", "18446744073709551616", "18446744073709551615", "0x", "0xffffffffffffffff",
        "GiB", "EiB", "", " ", "spm", "dimm", "ua-", "ua-ok", "4096", "4095", "99999999999",
        "shared", "yes", "q35", "pc-q35-", "efi", "1e3", "\xc3\xa9",
    };
    static const char *const attrs[] = {
        "unit", "model", "base", "slot", "id", "memory", "cpus", "name", "type", "machine",
        "access", "discard", "mode", "bits", "size", "slots", "memAccess",
    };
    guint parsed = 0, refused = 0;

    g_assert_no_error(error);
    for (guint round = 0; round < 3000; round++) {
        g_autoptr(xmlDoc) doc = xmlCopyDoc(orig, 1);
        g_autoptr(GPtrArray) elems = g_ptr_array_new();
        g_autoptr(SpmDomainDef) def = NULL;
        g_autoptr(GError) perr = NULL;
        guint edits = 1 + g_rand_int_range(rand, 0, 3);

        collect_elements(xmlDocGetRootElement(doc), elems);
        for (guint e = 0; e < edits; e++) {
            xmlNodePtr n = g_ptr_array_index(elems, g_rand_int_range(rand, 0, (gint32)elems->len));
            const char *v = values[g_rand_int_range(rand, 0, G_N_ELEMENTS(values))];

            if (g_rand_boolean(rand))
                xmlSetProp(n, (const xmlChar *)attrs[g_rand_int_range(rand, 0, G_N_ELEMENTS(attrs))],
                           (const xmlChar *)v);
            else if (!n->children || n->children->type == XML_TEXT_NODE)
                xmlNodeSetContent(n, (const xmlChar *)v);
        }
        def = spm_domain_def_parse(doc, &perr);
        if (def) {
            parsed++;
        } else {
            g_assert_nonnull(perr);
            g_assert_null(strchr(perr->message, '\n'));
            refused++;
        }
    }
    g_rand_free(rand);
    g_test_message("fuzz-values: %u parsed, %u refused", parsed, refused);
    g_assert_cmpuint(parsed, >, 0);
    g_assert_cmpuint(refused, >, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/xml/domain/full", test_full);
    g_test_add_func("/xml/domain/converted", test_converted);
    g_test_add_func("/xml/domain/machines", test_machines);
    g_test_add_func("/xml/domain/firmware", test_firmware);
    g_test_add_func("/xml/domain/backing-variants", test_backing_variants);
    g_test_add_func("/xml/domain/errors", test_domain_errors);
    g_test_add_func("/xml/domain/non-domain-file", test_non_domain_file);
    g_test_add_func("/xml/domain/metadata-errors", test_metadata_errors);
    g_test_add_func("/xml/domain/device-parse", test_device_parse_direct);
    g_test_add_func("/xml/domain/big-line-numbers", test_big_line_numbers);
    g_test_add_func("/xml/domain/fuzz", test_fuzz);
    g_test_add_func("/xml/domain/fuzz-values", test_fuzz_values);
    for (gsize i = 0; i < G_N_ELEMENTS(error_cases); i++) {
        g_autofree char *name = g_strdup_printf("/xml/domain/error/%s", error_cases[i].what);

        g_strdelimit(name + strlen("/xml/domain/error/"), " /", '-');
        g_test_add_data_func(name, &error_cases[i], test_error_case);
    }

    return g_test_run();
}
