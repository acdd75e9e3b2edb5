/*
 * test-nova-specs.c: the spm: flavor vocabulary, Nova's metadata of both
 * generations, profiles and flavor files, and the wrapper's edit list.
 */
#include <glib.h>
#include <glib/gstdio.h>

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

/* Each invalid spec names itself, with the XML reader's words for values. */
static void
test_invalid(void)
{
    static const struct {
        const char *kv[7];
        const char *message;
    } cases[] = {
        { { "spm:colour", "red", NULL }, "spm:colour: unknown extra spec" },
        { { "spm:size", "64XB", NULL }, "spm:size: unknown unit 'XB'" },
        { { "spm:size", "-1GiB", NULL }, "spm:size: " },
        { { "spm:size", "0", NULL }, "spm:size: size must not be 0" },
        { { "spm:devices", "0", "spm:size", "1GiB", NULL }, "spm:devices: '0' is not a number" },
        { { "spm:devices", "65", "spm:size", "1GiB", NULL }, "spm:devices: '65' is not a number" },
        { { "spm:devices", "2", "spm:0.size", "1GiB", NULL },
          "spm:1.size: required extra spec is missing" },
        { { "spm:devices", "2", "spm:size", "1GiB", "spm:2.size", "1GiB", NULL },
          "spm:2.size: device 2 does not exist" },
        { { "spm:0.colour", "red", "spm:size", "1GiB", NULL }, "spm:0.colour: unknown extra spec" },
        { { "spm:size", "1GiB", "spm:0.host_nodes", "two", NULL },
          "spm:0.host_nodes: 'two' is not a node set such as '0-3,5'" },
        { { "spm:size", "1GiB", "spm:access", "public", NULL },
          "spm:access: unknown value 'public' (shared, private)" },
        { { "spm:size", "1GiB", "spm:pagesize", "0", NULL }, "spm:pagesize: size must not be 0" },
        { { "spm:profile", "a", "spm:size", "1GiB", NULL }, "spm:profile: cannot be combined" },
        { { "spm:profile", "../etc/passwd", NULL }, "spm:profile: '../etc/passwd' is not a profile name" },
        { { "spm:size", "1GiB", "spm:size", "2GiB", NULL }, "spm:size: given twice" },
        { { "spm:size", "18446744073709551615GiB", NULL }, "spm:size: " },
        /* one spelling per device index: "%u" is what the lookup asks for */
        { { "spm:size", "1GiB", "spm:01.size", "2GiB", NULL },
          "spm:01.size: device index '01' is not written in its canonical form (spm:1.size)" },
        { { "spm:devices", "2", "spm:size", "1GiB", "spm:01.host_nodes", "3", NULL },
          "spm:01.host_nodes: device index '01' is not" },
        { { "spm:size", "1GiB", "spm:1.size", "1GiB", "spm:01.size", "2GiB", NULL },
          "spm:01.size: device index '01' is not" },
        { { "spm:size", "1GiB", "spm:00.size", "2GiB", NULL }, "spm:00.size: device index '00' is not" },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(SpmNovaRequest) req = parse(cases[i].kv, &error);

        g_assert_null(req);
        g_assert_error(error, SPM_ERROR, SPM_ERROR_INVALID);
        if (!g_str_has_prefix(error->message, cases[i].message))
            g_error("case %zu: '%s' does not start with '%s'", i, error->message, cases[i].message);
        g_assert_null(strchr(error->message, '\n'));
    }
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

/* The wrapper's edit list of a Nova guest without NUMA (SPEC.md section 6). */
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
                    "add spm-memory,id=ua-spm0,memdev=memua-spm0,node=1,addr=0x100000000\n"
                    "add -object\n"
                    "add memory-backend-ram,id=memua-spm1,size=1073741824\n"
                    "add -device\n"
                    "add spm-memory,id=ua-spm1,memdev=memua-spm1,node=2,addr=0x180000000\n");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/nova/specs/valid", test_valid);
    g_test_add_func("/nova/specs/nothing", test_nothing);
    g_test_add_func("/nova/specs/invalid", test_invalid);
    g_test_add_func("/nova/metadata", test_metadata);
    g_test_add_func("/nova/resolve", test_resolve);
    g_test_add_func("/nova/edits", test_edits);
    return g_test_run();
}
