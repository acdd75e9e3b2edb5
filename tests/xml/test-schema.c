/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-schema.c: xmlschema/spm.rng and spm_domain_validate_schema()
 */
#include "spm-domain-parse.h"
#include "spm-xml.h"
#include "spm-error.h"
#include "spm-build-config.h"

#include <string.h>
#include <sys/wait.h>

static const char *
schema(void)
{
    const char *path = g_getenv("VIRT_SPM_SCHEMA");

    g_assert_nonnull(path);
    return path;
}

static char *
data_path(const char *name)
{
    return g_build_filename(g_getenv("SPM_SOURCE_ROOT"), "tests", "xml", "data", name, NULL);
}

static xmlDocPtr
read_string(const char *xml)
{
    g_autoptr(GError) error = NULL;
    xmlDocPtr doc = spm_xml_read_memory(xml, strlen(xml), "s.xml", &error);

    g_assert_no_error(error);
    return doc;
}

/* Validate @xml; NULL @expected means it must pass. */
static void
check(const char *xml, const char *expected)
{
    g_autoptr(xmlDoc) doc = read_string(xml);
    g_autoptr(GError) error = NULL;
    gboolean ok = spm_domain_validate_schema(doc, schema(), &error);

    if (!expected) {
        g_assert_no_error(error);
        g_assert_true(ok);
        return;
    }
    if (ok)
        g_test_message("unexpectedly valid:\n%s", xml);
    g_assert_false(ok);
    g_assert_error(error, SPM_ERROR, SPM_ERROR_INVALID);
    g_assert_null(strchr(error->message, '\n'));
    g_assert_cmpstr(error->message, ==, expected);
}

static void
test_data_files(void)
{
    static const char *const files[] = { "full.xml", "converted.xml" };

    for (gsize i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *path = data_path(files[i]);
        g_autoptr(GError) error = NULL;
        g_autoptr(xmlDoc) doc = spm_xml_read_file(path, &error);

        g_assert_no_error(error);
        g_assert_true(spm_domain_validate_schema(doc, schema(), &error));
        g_assert_no_error(error);
    }
}

/* A domain with @memory on line 2 in <devices>. */
static char *
in_devices(const char *memory)
{
    return g_strdup_printf("<domain type='qemu'><name>s</name><devices>\n%s\n</devices></domain>",
                           memory);
}

/* The same element, every element name in the spm namespace, in <metadata>
 * on line 2 too. */
static char *
in_metadata(const char *memory)
{
    g_autoptr(GRegex) re = g_regex_new("<(/?)([A-Za-z]+)", 0, 0, NULL);
    g_autofree char *ns = g_regex_replace(re, memory, -1, 0, "<\\1spm:\\2", 0, NULL);

    return g_strdup_printf("<domain type='qemu'><name>s</name><metadata>"
                           "<spm:spm xmlns:spm='http://virt-spm.org/xmlns/domain/1.0'>"
                           "<spm:devices>\n%s\n</spm:devices></spm:spm></metadata></domain>",
                           ns);
}

typedef struct {
    const char *memory;
    const char *error;        /* NULL: valid; for the <devices> form */
} SchemaCase;

#define T "<target><size unit='GiB'>1</size><node>1</node></target>"

static const SchemaCase cases[] = {
    { "<memory model='spm'>" T "</memory>", NULL },
    { "<memory model='spm' access='shared' discard='no'>"
      "<source><nodemask>2-3,^2,5</nodemask><pagesize unit='KiB'>2048</pagesize>"
      "<path>/dev/dax0.0</path><alignsize unit='M'>2</alignsize></source>"
      "<target><node>4095</node><size unit='bytes'>1073741824</size></target>"
      "<alias name='ua-hbm_0-x'/><address type='spm' base='0x2000000000'/></memory>", NULL },
    { "<memory model='spm'>" T "<address type='spm' base='4294967296'/></memory>", NULL },
    { "<memory model='spm'>" T "<address type='spm'/></memory>", NULL },
    { "<memory model='spm'><target><size>1048576</size><node>0</node></target></memory>", NULL },

    { "<memory model='spm'><target><size unit='GB2'>64</size><node>2</node></target></memory>",
      "line 2: memory[model='spm']/target/size: does not match the schema: "
      "Invalid attribute unit for element size" },
    { "<memory model='spm'><target><size unit='GiB'>64</size></target></memory>",
      "line 2: memory[model='spm']/target: does not match the schema: "
      "Expecting an element node, got nothing" },
    { "<memory model='spm'><target><node>1</node></target></memory>",
      "line 2: memory[model='spm']/target: does not match the schema: "
      "Expecting an element size, got nothing" },
    { "<memory model='spm'/>",
      "line 2: memory[model='spm']: does not match the schema: Expecting an element target, got nothing" },
    { "<memory model='spm'>" T "<alias name='hbm0'/></memory>",
      "line 2: memory[model='spm']: does not match the schema: Extra element alias in interleave" },
    { "<memory model='spm' access='public'>" T "</memory>",
      "line 2: memory[model='spm']: does not match the schema: "
      "Invalid attribute access for element memory" },
    { "<memory model='spm' discard='1'>" T "</memory>",
      "line 2: memory[model='spm']: does not match the schema: "
      "Invalid attribute discard for element memory" },
    { "<memory model='spm' slot='1'>" T "</memory>",
      "line 2: memory[model='spm']: does not match the schema: "
      "Invalid attribute slot for element memory" },
    { "<memory model='spm'><target><size unit='GiB'>0</size><node>1</node></target></memory>",
      "line 2: memory[model='spm']/target/size: does not match the schema: "
      "Error validating datatype unsignedLong" },
    { "<memory model='spm'><target><size unit='GiB'>1</size><node>4096</node></target></memory>",
      "line 2: memory[model='spm']/target/node: does not match the schema: "
      "Error validating datatype unsignedInt" },
    { "<memory model='spm'>" T "<address type='dimm' base='0x100000000'/></memory>",
      "line 2: memory[model='spm']: does not match the schema: Extra element address in interleave" },
    { "<memory model='spm'>" T "<address type='spm' base='0xZZ'/></memory>",
      "line 2: memory[model='spm']: does not match the schema: Extra element address in interleave" },
    { "<memory model='spm'><source><path>dax</path></source>" T "</memory>",
      "line 2: memory[model='spm']: does not match the schema: Extra element source in interleave" },
    { "<memory model='spm'><source><nodemask>all</nodemask></source>" T "</memory>",
      "line 2: memory[model='spm']: does not match the schema: Extra element source in interleave" },
    { "<memory model='spm'>" T "<unknown/></memory>",
      "line 2: memory[model='spm']/unknown: does not match the schema: "
      "Element memory has extra content: unknown" },
    { "<memory model='spm'>" T T "</memory>",
      "line 2: memory[model='spm']: does not match the schema: Extra element target in interleave" },
};

static void
test_cases_devices(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *xml = in_devices(cases[i].memory);

        check(xml, cases[i].error);
    }
}

/*
 * The schema writes the <memory> content model twice (once per
 * namespace): both copies must accept and refuse the same elements.
 */
static void
test_cases_metadata_same(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *xml = in_metadata(cases[i].memory);
        g_autoptr(xmlDoc) doc = read_string(xml);
        g_autoptr(GError) error = NULL;
        gboolean ok = spm_domain_validate_schema(doc, schema(), &error);

        if (ok != (cases[i].error == NULL))
            g_test_message("metadata form disagrees on: %s", cases[i].memory);
        g_assert_cmpint(ok, ==, cases[i].error == NULL);
        if (!ok) {
            g_assert_error(error, SPM_ERROR, SPM_ERROR_INVALID);
            g_assert_true(g_str_has_prefix(error->message,
                                           "line 2: metadata/spm:spm/spm:devices/spm:memory[model='spm']"));
        }
    }
}

static void
test_metadata(void)
{
    static const char ok_full[] =
        "<domain type='qemu'><name>s</name><metadata>\n"
        "<spm:spm xmlns:spm='http://virt-spm.org/xmlns/domain/1.0' version='1'>"
        "<spm:argv><spm:arg value='-numa'/><spm:arg value='node,nodeid=1'/></spm:argv>"
        "<spm:original maxMemory='0' maxMemorySlots='0' maxMemoryUnit='KiB' hadMaxMemory='no'"
        " synthesizedCell='yes'/>"
        "<spm:devices/>"
        "</spm:spm></metadata></domain>";
    static const char ok_empty[] =
        "<domain type='qemu'><name>s</name><metadata>\n"
        "<spm:spm xmlns:spm='http://virt-spm.org/xmlns/domain/1.0'/></metadata></domain>";
    static const char bad_original[] =
        "<domain type='qemu'><name>s</name><metadata>\n"
        "<spm:spm xmlns:spm='http://virt-spm.org/xmlns/domain/1.0' version='1'>\n"
        "<spm:original hadMaxMemory='maybe'/></spm:spm></metadata></domain>";
    static const char bad_child[] =
        "<domain type='qemu'><name>s</name><metadata>\n"
        "<spm:spm xmlns:spm='http://virt-spm.org/xmlns/domain/1.0' version='1'>\n"
        "<spm:other/></spm:spm></metadata></domain>";
    static const char bad_arg[] =
        "<domain type='qemu'><name>s</name><metadata>\n"
        "<spm:spm xmlns:spm='http://virt-spm.org/xmlns/domain/1.0' version='1'>\n"
        "<spm:argv><spm:arg/></spm:argv></spm:spm></metadata></domain>";
    static const char bad_version[] =
        "<domain type='qemu'><name>s</name><metadata>\n"
        "<spm:spm xmlns:spm='http://virt-spm.org/xmlns/domain/1.0' version='one'/>"
        "</metadata></domain>";
    /* a <memory> of another namespace in our metadata is refused */
    static const char plain_memory[] =
        "<domain type='qemu'><name>s</name><metadata>\n"
        "<spm:spm xmlns:spm='http://virt-spm.org/xmlns/domain/1.0'><spm:devices>\n"
        "<memory model='spm'>" T "</memory></spm:devices></spm:spm></metadata></domain>";

    check(ok_full, NULL);
    check(ok_empty, NULL);
    check(bad_original, "line 3: metadata/spm:spm/spm:original: does not match the schema: "
                        "Invalid attribute hadMaxMemory for element original");
    check(bad_child, "line 3: metadata/spm:spm/spm:other: does not match the schema: "
                     "Element spm has extra content: other");
    check(bad_arg, "line 3: metadata/spm:spm/spm:argv/spm:arg: does not match the schema: "
                   "Element arg failed to validate attributes");
    check(bad_version, "line 2: metadata/spm:spm: does not match the schema: "
                       "Invalid attribute version for element spm");
    /* position: only on converted devices, which remember where they were */
    static const char position_meta[] =
        "<domain type='qemu'><name>s</name><metadata>\n"
        "<spm:spm xmlns:spm='http://virt-spm.org/xmlns/domain/1.0' version='1' standIn='pc-dimm'>"
        "<spm:devices><spm:memory model='spm' position='4'><spm:target><spm:size>1048576</spm:size>"
        "<spm:node>1</spm:node></spm:target></spm:memory></spm:devices>"
        "<spm:original hadMaxMemory='no' memory='144' memoryUnit='GiB' synthesizedCpu='yes'"
        " createdMetadata='no' createdCommandline='yes' addedQemuNamespace='yes'/>"
        "</spm:spm></metadata></domain>";
    static const char position_devices[] =
        "<domain type='qemu'><name>s</name><devices>\n"
        "<memory model='spm' position='4'>" T "</memory></devices></domain>";
    static const char bad_position[] =
        "<domain type='qemu'><name>s</name><metadata>\n"
        "<spm:spm xmlns:spm='http://virt-spm.org/xmlns/domain/1.0'><spm:devices>\n"
        "<spm:memory model='spm' position='-1'><spm:target><spm:size>1048576</spm:size>"
        "<spm:node>1</spm:node></spm:target></spm:memory></spm:devices></spm:spm></metadata></domain>";

    /* the namespace declared far above the copied element */
    static const char ns_on_root[] =
        "<domain type='qemu' xmlns:v='http://virt-spm.org/xmlns/domain/1.0'><name>s</name>"
        "<metadata>\n<v:spm version='1'><v:devices><v:memory model='spm'><v:target>"
        "<v:size>1048576</v:size><v:node>1</v:node></v:target></v:memory></v:devices>"
        "</v:spm></metadata></domain>";
    static const char ns_on_root_bad[] =
        "<domain type='qemu' xmlns:v='http://virt-spm.org/xmlns/domain/1.0'><name>s</name>"
        "<metadata>\n<v:spm version='1'><v:devices><v:memory model='spm'><v:target>"
        "<v:size>1048576</v:size></v:target></v:memory></v:devices>"
        "</v:spm></metadata></domain>";

    check(ns_on_root, NULL);
    check(ns_on_root_bad, "line 2: metadata/v:spm/v:devices/v:memory[model='spm']/v:target: "
                          "does not match the schema: Expecting an element node, got nothing");
    check(position_meta, NULL);
    check(position_devices, "line 2: memory[model='spm']: does not match the schema: "
                            "Invalid attribute position for element memory");
    check(bad_position, "line 3: metadata/spm:spm/spm:devices/spm:memory[model='spm']: "
                        "does not match the schema: Invalid attribute position for element memory");
    check(plain_memory, "line 2: metadata/spm:spm: does not match the schema: "
                        "Extra element devices in interleave");
}

/* Only SPM elements are validated: libvirt's own devices are libvirt's. */
static void
test_only_spm(void)
{
    static const char xml[] =
        "<domain type='qemu'><name>s</name><devices>\n"
        "<memory model='dimm'><target><size unit='GiB'>1</size><node>0</node></target>"
        "<address type='dimm' slot='0'/><alias name='dimm0'/></memory>\n"
        "<memory model='virtio-mem'><target><size unit='GiB'>1</size><block>2048</block></target></memory>\n"
        "<disk type='file'/>\n"
        "</devices></domain>";

    check(xml, NULL);
}

static void
test_schema_paths(void)
{
    g_autofree char *not_schema = data_path("full.xml");
    g_autoptr(xmlDoc) doc = read_string("<domain type='qemu'><name>s</name></domain>");
    g_autoptr(GError) error = NULL;
    g_autofree char *expected = NULL;

    g_assert_false(spm_domain_validate_schema(doc, "/nonexistent/spm.rng", &error));
    g_assert_error(error, SPM_ERROR, SPM_ERROR_SYSTEM);
    g_assert_cmpstr(error->message, ==, "/nonexistent/spm.rng: cannot open: No such file or directory");
    g_clear_error(&error);

    g_assert_false(spm_domain_validate_schema(doc, not_schema, &error));
    g_assert_error(error, SPM_ERROR, SPM_ERROR_SYSTEM);
    expected = g_strdup_printf("%s: not a usable RelaxNG schema: xmlRelaxNGParse: schemas is empty",
                               not_schema);
    g_assert_cmpstr(error->message, ==, expected);
    g_clear_error(&error);

    /* NULL: the installed schema (present only after meson install) */
    if (g_file_test(VIRT_SPM_DATADIR "/schemas/spm.rng", G_FILE_TEST_EXISTS)) {
        g_assert_true(spm_domain_validate_schema(doc, NULL, &error));
        g_assert_no_error(error);
    } else {
        g_assert_false(spm_domain_validate_schema(doc, NULL, &error));
        g_assert_cmpstr(error->message, ==,
                        VIRT_SPM_DATADIR "/schemas/spm.rng: cannot open: No such file or directory");
    }
}

/* The schema is the one meson installs, and xmllint agrees with us. */
static void
test_xmllint(void)
{
    g_autofree char *xmllint = g_find_program_in_path("xmllint");
    static const struct {
        const char *file;
        gboolean valid;
    } files[] = {
        { "schema-valid-full.xml", TRUE },
        { "schema-valid-minimal.xml", TRUE },
        { "schema-valid-metadata.xml", TRUE },
        { "schema-invalid-unit.xml", FALSE },
        { "schema-invalid-no-node.xml", FALSE },
        { "schema-invalid-alias.xml", FALSE },
        { "schema-invalid-metadata.xml", FALSE },
    };

    if (!xmllint) {
        g_test_skip("xmllint not installed");
        return;
    }
    for (gsize i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *path = data_path(files[i].file);
        const char *argv[] = { xmllint, "--noout", "--nonet", "--relaxng", schema(), path, NULL };
        g_autofree char *out = NULL;
        g_autofree char *err = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(xmlDoc) doc = NULL;
        int status;

        g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                                   &out, &err, &status, &error));
        g_assert_no_error(error);
        if (files[i].valid) {
            g_assert_true(g_spawn_check_wait_status(status, NULL));
            g_assert_true(g_str_has_suffix(g_strstrip(err), "validates"));
        } else {
            /* 3: validation failed (not 4/5: schema unusable) */
            g_assert_true(WIFEXITED(status));
            g_assert_cmpint(WEXITSTATUS(status), ==, 3);
        }
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/xml/schema/data-files", test_data_files);
    g_test_add_func("/xml/schema/devices", test_cases_devices);
    g_test_add_func("/xml/schema/metadata-same-model", test_cases_metadata_same);
    g_test_add_func("/xml/schema/metadata", test_metadata);
    g_test_add_func("/xml/schema/only-spm", test_only_spm);
    g_test_add_func("/xml/schema/paths", test_schema_paths);
    g_test_add_func("/xml/schema/xmllint", test_xmllint);

    return g_test_run();
}
