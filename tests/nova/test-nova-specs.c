/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-nova-specs.c: the spm: flavor vocabulary (the table the Python
 * validators are held to), Nova's metadata of both generations, profiles
 * and flavor files, and the wrapper's edit list.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "spm-domain-parse.h"
#include "spm-error.h"
#include "spm-nova-argv.h"
#include "spm-nova-config.h"
#include "spm-nova.h"
#include "spm-plan.h"
#include "spm-xml.h"

#define GiB (G_GUINT64_CONSTANT(1) << 30)
#define MiB (G_GUINT64_CONSTANT(1) << 20)

static GPtrArray *
specs_of(const char *const *kv)
{
    GPtrArray *specs = spm_nova_specs_new();

    for (; kv[0]; kv += 2)
        spm_nova_specs_add(specs, kv[0], kv[1]);
    return specs;
}

static SpmNovaRequest *
parse(const char *const *kv, GError **error)
{
    g_autoptr(GPtrArray) specs = specs_of(kv);

    return spm_nova_request_parse(specs, error);
}

static void
test_valid(void)
{
    const char *const kv[] = {
        "hw:cpu_policy", "dedicated",      /* Nova's own: not ours */
        "spm:devices", "3", "spm:size", "64GiB", "spm:1.size", "32 GiB",
        "spm:2.host_nodes", "2-3", "spm:pagesize", "2MiB", "spm:access", "shared", NULL,
    };
    g_autoptr(GError) error = NULL;
    g_autoptr(SpmNovaRequest) req = parse(kv, &error);
    g_auto(GStrv) props = NULL;
    g_autofree char *joined = NULL;
    const SpmMemDevice *d;

    g_assert_no_error(error);
    g_assert_cmpuint(req->devices->len, ==, 3);
    d = req->devices->pdata[1];
    g_assert_cmpuint(d->size, ==, 32 * GiB);
    g_assert_cmpstr(d->alias, ==, "ua-spm1");
    g_assert_cmpuint(d->source.pagesize, ==, 2 * MiB);
    g_assert_cmpint(d->access, ==, SPM_ACCESS_SHARED);
    d = req->devices->pdata[2];
    g_assert_cmpstr(d->source.nodemask, ==, "2-3");
    g_assert_cmpuint(req->total, ==, 160 * GiB);
    g_assert_cmpuint(spm_nova_request_gib(req), ==, 160);

    props = spm_nova_request_properties(req);
    joined = g_strjoinv(" ", props);
    g_assert_cmpstr(joined, ==,
                    "spm:devices=3 spm:0.size=64GiB spm:1.size=32GiB spm:2.size=64GiB "
                    "spm:2.host_nodes=2-3 spm:pagesize=2MiB spm:access=shared "
                    "resources:CUSTOM_SPM_HBM_GIB=160 trait:CUSTOM_SPM_MEMORY=required");
}

static void
test_nothing(void)
{
    const char *const kv[] = { "hw:numa_nodes", "1", NULL };
    g_autoptr(GError) error = NULL;
    g_autoptr(SpmNovaRequest) req = parse(kv, &error);

    g_assert_no_error(error);
    g_assert_cmpuint(req->devices->len, ==, 0);
    g_assert_null(req->profile);
}

/*
 * The vocabulary's table: every case, valid (message NULL) or not (the
 * message starts with @message).  @alone: the spec that the message names
 * is refused on its own, without the flavor's other specs -- what Nova's
 * flavor API can check, spec by spec.  The Python validators
 * (nova/virt_spm_nova) must agree with this parser on every case:
 * test-nova-validator.py reads the table and this parser's full messages
 * from `test-nova-specs --cases`.
 */
static const struct {
    const char *kv[13];
    const char *message;
    gboolean alone;
} spec_cases[] = {
    /* valid */
    { { "spm:size", "64GiB", NULL }, NULL, FALSE },
    { { "hw:cpu_policy", "dedicated", "spm:devices", "3", "spm:size", "64GiB", "spm:1.size",
        "32 GiB", "spm:2.host_nodes", "2-3", "spm:pagesize", "2MiB", NULL }, NULL, FALSE },
    { { "spm:devices", "2", "spm:0.size", "1GiB", "spm:1.size", "2 GiB", "spm:1.host_nodes",
        "0-3,5", "spm:access", "private", NULL }, NULL, FALSE },
    { { "spm:size", "65536", "spm:access", "shared", NULL }, NULL, FALSE },
    { { "spm:size", "1 G", "spm:pagesize", "1gib", NULL }, NULL, FALSE },
    { { "spm:size", "1\tGiB", "spm:0.host_nodes", "^1", NULL }, NULL, FALSE },
    { { "spm:size", "1PB", "spm:devices", "064", NULL }, NULL, FALSE },
    { { "spm:profile", "hbm2x", NULL }, NULL, FALSE },
    { { "hw:numa_nodes", "1", "resources:CUSTOM_SPM_HBM_GIB", "64", NULL }, NULL, FALSE },
    /* invalid */
    { { "spm:colour", "red", NULL }, "spm:colour: unknown extra spec", TRUE },
    { { "spm:", "x", NULL }, "spm:: unknown extra spec", TRUE },
    { { "spm:4294967296.size", "1GiB", NULL }, "spm:4294967296.size: unknown extra spec", TRUE },
    { { "spm:size", "64XB", NULL }, "spm:size: unknown unit 'XB'", TRUE },
    { { "spm:size", "64GB2", NULL }, "spm:size: unknown unit 'GB2'", TRUE },
    { { "spm:size", "1\xe2\x84\xaaiB", NULL }, "spm:size: unknown unit", TRUE }, /* Kelvin sign */
    { { "spm:size", "1\001", NULL }, "spm:size: unknown unit '\\x01'", TRUE },
    { { "spm:size", "1XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", NULL },
      "spm:size: unknown unit 'XXXX", TRUE },
    { { "spm:size", "0x10", NULL }, "spm:size: unknown unit 'x10'", TRUE },
    { { "spm:size", "-1GiB", NULL }, "spm:size: ", TRUE },
    { { "spm:size", "", NULL }, "spm:size: missing value", TRUE },
    { { "spm:size", "GiB", NULL }, "spm:size: missing value", TRUE },
    { { "spm:size", "0", NULL }, "spm:size: size must not be 0", TRUE },
    { { "spm:size", "99999999999999999999GiB", NULL }, "spm:size: '99999999999999999999' does not fit", TRUE },
    { { "spm:size", "16EiB", NULL }, "spm:size: '16 EiB' overflows 64 bits", TRUE },
    { { "spm:size", "18446744073709551615GiB", NULL }, "spm:size: ", TRUE },
    { { "spm:size", "18014398509481984", NULL }, "spm:size: '18014398509481984 KiB' overflows", TRUE },
    { { "spm:devices", "0", "spm:size", "1GiB", NULL }, "spm:devices: '0' is not a number", TRUE },
    { { "spm:devices", "65", "spm:size", "1GiB", NULL }, "spm:devices: '65' is not a number", TRUE },
    { { "spm:devices", "+2", "spm:size", "1GiB", NULL }, "spm:devices: '+2' is not a number", TRUE },
    { { "spm:devices", " 2", "spm:size", "1GiB", NULL }, "spm:devices: ' 2' is not a number", TRUE },
    { { "spm:devices", "two", NULL }, "spm:devices: 'two' is not a number", TRUE },
    { { "spm:devices", "2", "spm:0.size", "1GiB", NULL },
      "spm:1.size: required extra spec is missing", FALSE },
    { { "spm:devices", "2", "spm:size", "1GiB", "spm:2.size", "1GiB", NULL },
      "spm:2.size: device 2 does not exist", FALSE },
    { { "spm:0.colour", "red", "spm:size", "1GiB", NULL }, "spm:0.colour: unknown extra spec", TRUE },
    { { "spm:size", "1GiB", "spm:0.host_nodes", "two", NULL },
      "spm:0.host_nodes: 'two' is not a node set such as '0-3,5'", TRUE },
    { { "spm:size", "1GiB", "spm:0.host_nodes", "-1", NULL },
      "spm:0.host_nodes: '-1' is not a node set", TRUE },
    { { "spm:size", "1GiB", "spm:0.size", "1XB", NULL }, "spm:0.size: unknown unit 'XB'", TRUE },
    { { "spm:size", "1GiB", "spm:access", "public", NULL },
      "spm:access: unknown value 'public' (shared, private)", TRUE },
    { { "spm:size", "1GiB", "spm:access", "Shared", NULL }, "spm:access: unknown value 'Shared'", TRUE },
    { { "spm:size", "1GiB", "spm:pagesize", "0", NULL }, "spm:pagesize: size must not be 0", TRUE },
    { { "spm:size", "1GiB", "spm:pagesize", "2MB2", NULL }, "spm:pagesize: unknown unit 'MB2'", TRUE },
    { { "spm:profile", "a", "spm:size", "1GiB", NULL }, "spm:profile: cannot be combined", FALSE },
    { { "spm:profile", "../etc/passwd", NULL }, "spm:profile: '../etc/passwd' is not a profile name", TRUE },
    { { "spm:profile", ".hidden", NULL }, "spm:profile: '.hidden' is not a profile name", TRUE },
    { { "spm:size", "1GiB", "spm:size", "2GiB", NULL }, "spm:size: given twice", FALSE },
    { { "spm:devices", "2", "spm:size", "9223372036854775808B", NULL },
      "spm:1.size: the sizes of the devices overflow 64 bits", FALSE },
    /* one spelling per device index: "%u" is what the lookup asks for */
    { { "spm:size", "1GiB", "spm:01.size", "2GiB", NULL },
      "spm:01.size: device index '01' is not written in its canonical form (spm:1.size)", TRUE },
    { { "spm:devices", "2", "spm:size", "1GiB", "spm:01.host_nodes", "3", NULL },
      "spm:01.host_nodes: device index '01' is not", TRUE },
    { { "spm:size", "1GiB", "spm:1.size", "1GiB", "spm:01.size", "2GiB", NULL },
      "spm:01.size: device index '01' is not", TRUE },
    { { "spm:size", "1GiB", "spm:00.size", "2GiB", NULL }, "spm:00.size: device index '00' is not", TRUE },
};

static void
test_table(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(spec_cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(SpmNovaRequest) req = parse(spec_cases[i].kv, &error);

        if (!spec_cases[i].message) {
            if (!req)
                g_error("case %zu: refused: %s", i, error->message);
            continue;
        }
        g_assert_null(req);
        g_assert_error(error, SPM_ERROR, SPM_ERROR_INVALID);
        if (!g_str_has_prefix(error->message, spec_cases[i].message))
            g_error("case %zu: '%s' does not start with '%s'", i, error->message,
                    spec_cases[i].message);
        g_assert_null(strchr(error->message, '\n'));
    }
}

/* `--cases`: the table and this parser's verdicts, one JSON object a line. */
static int
print_cases(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(spec_cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(SpmNovaRequest) req = parse(spec_cases[i].kv, &error);
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonGenerator) gen = json_generator_new();
        g_autoptr(JsonNode) root = NULL;
        g_autofree char *line = NULL;

        json_builder_begin_object(b);
        json_builder_set_member_name(b, "specs");
        json_builder_begin_array(b);
        for (const char *const *kv = spec_cases[i].kv; kv[0]; kv += 2) {
            json_builder_begin_array(b);
            json_builder_add_string_value(b, kv[0]);
            json_builder_add_string_value(b, kv[1]);
            json_builder_end_array(b);
        }
        json_builder_end_array(b);
        json_builder_set_member_name(b, "expected");
        if (spec_cases[i].message)
            json_builder_add_string_value(b, spec_cases[i].message);
        else
            json_builder_add_null_value(b);
        json_builder_set_member_name(b, "alone");
        json_builder_add_boolean_value(b, spec_cases[i].alone);
        json_builder_set_member_name(b, "error");
        if (req)
            json_builder_add_null_value(b);
        else
            json_builder_add_string_value(b, error->message);
        json_builder_end_object(b);
        root = json_builder_get_root(b);
        json_generator_set_root(gen, root);
        line = json_generator_to_data(gen, NULL);
        g_print("%s\n", line);
    }
    return 0;
}

static const char nova26_xml[] =
    "<domain type='qemu'><uuid>142e7aec-cbbf-41ee-9e73-6ae195e7e78a</uuid>"
    "<name>vm1</name><memory>524288</memory><vcpu>2</vcpu>"
    "<metadata><nova:instance xmlns:nova='http://openstack.org/xmlns/libvirt/nova/1.1'>"
    "<nova:package version='26.2.2'/><nova:name>vm1</nova:name>"
    "<nova:flavor name='gpu.hbm.2x'><nova:memory>512</nova:memory></nova:flavor>"
    "</nova:instance></metadata>"
    "<os><type machine='q35'>hvm</type></os><features><acpi/><apic/></features>"
    "<devices><emulator>/usr/libexec/virt-spm/bin/qemu-system-x86_64</emulator></devices></domain>";

static const char later_xml[] =
    "<domain type='qemu'><uuid>142e7aec-cbbf-41ee-9e73-6ae195e7e78a</uuid>"
    "<name>vm,1</name><memory>524288</memory><vcpu>2</vcpu>"
    "<metadata><nova:instance xmlns:nova='http://openstack.org/xmlns/libvirt/nova/1.1'>"
    "<nova:flavor name='gpu.hbm.2x'><nova:memory>512</nova:memory>"
    "<nova:extraSpecs><nova:extraSpec name='hw:cpu_policy'>shared</nova:extraSpec>"
    "<nova:extraSpec name='spm:devices'>2</nova:extraSpec>"
    "<nova:extraSpec name='spm:size'> 1GiB </nova:extraSpec></nova:extraSpecs>"
    "</nova:flavor></nova:instance></metadata>"
    "<os><type machine='q35'>hvm</type></os><features><acpi/><apic/></features></domain>";

static xmlDocPtr
read_xml(const char *xml)
{
    g_autoptr(GError) error = NULL;
    xmlDocPtr doc = spm_xml_read_memory(xml, strlen(xml), "test", &error);

    g_assert_no_error(error);
    return doc;
}

static void
test_metadata(void)
{
    g_autoptr(xmlDoc) a = read_xml(nova26_xml);
    g_autoptr(xmlDoc) b = read_xml(later_xml);
    g_autoptr(xmlDoc) c = read_xml("<domain type='kvm'><name>x</name></domain>");
    g_autoptr(SpmNovaInstance) ia = spm_nova_instance_read(xmlDocGetRootElement(a));
    g_autoptr(SpmNovaInstance) ib = spm_nova_instance_read(xmlDocGetRootElement(b));

    g_assert_cmpstr(ia->flavor, ==, "gpu.hbm.2x");
    g_assert_false(ia->has_extra_specs);
    g_assert_cmpuint(ia->specs->len, ==, 0);
    g_assert_true(ib->has_extra_specs);
    g_assert_cmpuint(ib->specs->len, ==, 2);    /* hw: is Nova's */
    g_assert_cmpstr(((SpmNovaSpec *)ib->specs->pdata[1])->value, ==, "1GiB");
    g_assert_null(spm_nova_instance_read(xmlDocGetRootElement(c)));
}

/* Nova 26: the flavor's name -> flavors.d, [nova] flavors -> profiles.d */
static void
test_resolve(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("spm-nova-XXXXXX", &error);
    g_autofree char *flavors = g_build_filename(dir, "flavors.d", NULL);
    g_autofree char *profiles = g_build_filename(dir, "profiles.d", NULL);
    g_autofree char *conf = g_strdup_printf("[nova]\nflavors_dir=%s\nprofiles_dir=%s\n"
                                            "flavors = gpu.mapped=hbm1; gpu.broken=nope\n",
                                            flavors, profiles);
    g_autofree char *f1 = g_build_filename(flavors, "gpu.hbm.2x.conf", NULL);
    g_autofree char *p1 = g_build_filename(profiles, "hbm1.conf", NULL);
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(SpmNovaConfig) cfg = NULL;
    g_autoptr(xmlDoc) doc = read_xml(nova26_xml);
    g_autoptr(SpmNovaInstance) inst = spm_nova_instance_read(xmlDocGetRootElement(doc));
    g_autoptr(SpmNovaRequest) req = NULL;
    g_autofree char *source = NULL;

    g_assert_no_error(error);
    g_mkdir(flavors, 0755);
    g_mkdir(profiles, 0755);
    g_assert_true(g_file_set_contents(f1, "[spm]\ndevices=2\nsize=1GiB\n", -1, NULL));
    g_assert_true(g_file_set_contents(p1, "[spm]\nsize=4GiB\n0.host_nodes=2\n", -1, NULL));
    g_assert_true(g_key_file_load_from_data(kf, conf, -1, G_KEY_FILE_NONE, NULL));
    cfg = spm_nova_config_load(kf, &error);
    g_assert_no_error(error);

    req = spm_nova_request_resolve(cfg, inst, &source, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(req->devices->len, ==, 2);
    g_assert_true(g_str_has_prefix(source, "flavor 'gpu.hbm.2x' ("));
    g_clear_pointer(&req, spm_nova_request_free);
    g_clear_pointer(&source, g_free);

    g_free(inst->flavor);
    inst->flavor = g_strdup("gpu.mapped");
    req = spm_nova_request_resolve(cfg, inst, &source, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(req->devices->len, ==, 1);
    g_assert_cmpstr(((SpmMemDevice *)req->devices->pdata[0])->source.nodemask, ==, "2");
    g_clear_pointer(&req, spm_nova_request_free);
    g_clear_pointer(&source, g_free);

    g_free(inst->flavor);
    inst->flavor = g_strdup("gpu.broken");
    req = spm_nova_request_resolve(cfg, inst, NULL, &error);
    g_assert_null(req);
    g_assert_nonnull(strstr(error->message, "flavor 'gpu.broken' ([nova] flavors): spm:profile: "
                            "profile 'nope' does not exist"));
    g_clear_error(&error);

    /* a flavor virt-spm does not know asks for nothing */
    g_free(inst->flavor);
    inst->flavor = g_strdup("m1.small");
    req = spm_nova_request_resolve(cfg, inst, NULL, &error);
    g_assert_no_error(error);
    g_assert_cmpuint(req->devices->len, ==, 0);

    g_unlink(f1);
    g_unlink(p1);
    g_rmdir(flavors);
    g_rmdir(profiles);
    g_rmdir(dir);
}

/* The wrapper's edit list of a Nova guest without NUMA (docs/nova.md). */
static void
test_edits(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(xmlDoc) doc = read_xml(later_xml);
    g_autoptr(SpmNovaInstance) inst = spm_nova_instance_read(xmlDocGetRootElement(doc));
    g_autoptr(SpmNovaRequest) req = spm_nova_request_parse(inst->specs, &error);
    g_autoptr(SpmDomainDef) def = spm_domain_def_parse(doc, &error);
    g_auto(SpmPlanPolicy) policy = { 0 };
    g_autoptr(SpmPlan) plan = NULL;
    g_autofree char *edits = NULL;
    guint64 ram;

    g_assert_no_error(error);
    ram = def->memory;
    g_assert_true(spm_nova_request_apply(req, def, &error));
    g_assert_cmpuint(def->memory, ==, ram + 2 * GiB);
    spm_plan_policy_init(&policy);
    plan = spm_plan_build(def, &policy, &error);
    g_assert_no_error(error);
    edits = spm_nova_argv_edits(def, plan, ram, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(edits, ==,
                    SPM_NOVA_PLAN_MAGIC "\n"
                    "uuid 142e7aec-cbbf-41ee-9e73-6ae195e7e78a\n"
                    "name guest=vm,,1\n"
                    "m 512\n"
                    "m-set size=524288k,slots=1,maxmem=3145728k\n"
                    "numa 0\n"
                    "machine-drop memory-backend=pc.ram\n"
                    "add -numa\n"
                    "add node,nodeid=0,cpus=0-1,memdev=pc.ram\n"
                    "add -numa\n"
                    "add node,nodeid=1\n"
                    "add -numa\n"
                    "add node,nodeid=2\n"
                    "add -object\n"
                    "add memory-backend-ram,id=memua-spm0,size=1073741824\n"
                    "add -device\n"
                    "add sp-mem,id=ua-spm0,memdev=memua-spm0,node=1,addr=0x100000000\n"
                    "add -object\n"
                    "add memory-backend-ram,id=memua-spm1,size=1073741824\n"
                    "add -device\n"
                    "add sp-mem,id=ua-spm1,memdev=memua-spm1,node=2,addr=0x180000000\n");
}

int
main(int argc, char **argv)
{
    if (argc == 2 && g_str_equal(argv[1], "--cases"))
        return print_cases();
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/nova/specs/valid", test_valid);
    g_test_add_func("/nova/specs/nothing", test_nothing);
    g_test_add_func("/nova/specs/table", test_table);
    g_test_add_func("/nova/metadata", test_metadata);
    g_test_add_func("/nova/resolve", test_resolve);
    g_test_add_func("/nova/edits", test_edits);
    return g_test_run();
}
