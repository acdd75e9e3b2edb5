/*
 * test-corpus.c: convert is lossless on every libvirt domain.
 *
 * Every domain XML of libvirt's own test suite (scripts/fetch-libvirt-corpus.sh
 * unpacks Debian's libvirt source into a cache; the files are never part of
 * this repository) gets one SPM device on a new guest NUMA node, then:
 *   - convert gives a document, or a clean one-line virt-spm error;
 *   - reverse gives back the input with the device, in canonical XML
 *     (C14N 1.0 with comments);
 *   - converting the converted document again changes nothing (C14N);
 *   - when libvirt's own schema (the domain.rng virt-xml-validate uses)
 *     accepts the original, it accepts the converted document too.
 * The figures go to stdout; any loss, non-idempotence, schema regression or
 * unclean error fails the test.  The comparison itself is checked to fail on
 * a document with one element dropped, so a test that cannot fail cannot
 * pass.
 *
 * Corpus: $SPM_LIBVIRT_CORPUS, else the newest complete directory under
 * ${XDG_CACHE_HOME:-~/.cache}/virt-spm/libvirt-corpus.  Without one the
 * test skips (exit 77).
 */
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <libxml/c14n.h>
#include <libxml/relaxng.h>

#include "spm-config.h"
#include "spm-convert.h"
#include "spm-error.h"
#include "spm-units.h"
#include "spm-xml.h"
#include "spm-xml-node.h"

#define SPM_TEST_SKIP 77
#define LIBVIRT_DOMAIN_RNG "/usr/share/libvirt/schemas/domain.rng"

typedef struct {
    guint files;
    guint not_domain;
    guint refused_by_reader;
    guint rejected;
    guint converted;
    guint lossless;
    guint idempotent;
    guint schema_checked;       /* originals libvirt's schema accepts */
    guint schema_kept;          /* ... whose converted form it accepts too */
    guint tool_checked;         /* ... also checked by virt-xml-validate itself */
    guint failures;
    GHashTable *reasons;        /* rejection reason -> count */
    GHashTable *refusals;       /* reader refusal reason -> count */
} SpmCorpusStats;

static xmlRelaxNGPtr libvirt_schema;

static void
spm_silent(void *ctx, const char *msg, ...)
{
}

static void
spm_silent_structured(void *ctx, xmlErrorPtr err)
{
}

static char *
spm_c14n(xmlDocPtr doc)
{
    xmlChar *out = NULL;
    int len = xmlC14NDocDumpMemory(doc, NULL, XML_C14N_1_0, NULL, 1, &out);
    char *ret;

    g_assert_cmpint(len, >=, 0);
    ret = g_strndup((const char *)out, len);
    xmlFree(out);
    return ret;
}

static gboolean
spm_libvirt_valid(xmlDocPtr doc)
{
    xmlRelaxNGValidCtxtPtr ctxt;
    int rc;

    if (!libvirt_schema)
        return FALSE;
    ctxt = xmlRelaxNGNewValidCtxt(libvirt_schema);
    xmlRelaxNGSetValidStructuredErrors(ctxt, spm_silent_structured, NULL);
    rc = xmlRelaxNGValidateDoc(ctxt, doc);
    xmlRelaxNGFreeValidCtxt(ctxt);
    return rc == 0;
}

/* Number of guest NUMA cells of the domain (0 without <numa>). */
static guint
spm_cell_count(xmlNodePtr root)
{
    xmlNodePtr numa = spm_xml_child(spm_xml_child(root, "cpu"), "numa");
    guint n = 0;

    for (xmlNodePtr c = spm_xml_child(numa, "cell"); c; c = spm_xml_next_same(c))
        n++;
    return n;
}

/* An x86 domain whose machine is pc or q35 (or libvirt's default). */
static gboolean
spm_is_pc(xmlNodePtr root)
{
    xmlNodePtr type = spm_xml_child(spm_xml_child(root, "os"), "type");
    g_autofree char *arch = type ? spm_xml_prop(type, "arch") : NULL;
    g_autofree char *machine = type ? spm_xml_prop(type, "machine") : NULL;

    if (!type || (arch && !g_str_equal(arch, "x86_64") && !g_str_equal(arch, "i686")))
        return FALSE;
    return !machine || g_str_has_prefix(machine, "pc") || g_str_has_prefix(machine, "q35");
}

/* Add <memory model='spm'> on the first node after the cells (cell 0 is
 * synthesized when there are none). */
static void
spm_inject_device(xmlDocPtr doc)
{
    xmlNodePtr root = xmlDocGetRootElement(doc);
    xmlNodePtr devices = spm_xml_child(root, "devices");
    xmlNodePtr mem_total = spm_xml_child(root, "memory");
    xmlNodePtr mem;
    xmlNodePtr target;
    xmlNodePtr size;
    guint cells = spm_cell_count(root);
    g_autofree char *node = g_strdup_printf("%u", cells ? cells : 1);

    /* <memory> counts memory devices, as for libvirt's DIMMs */
    if (mem_total) {
        g_autofree char *value = spm_xml_text(mem_total);
        g_autofree char *unit = spm_xml_prop(mem_total, "unit");
        guint64 bytes;

        if (spm_units_parse("memory", value, unit, 1024, &bytes, NULL)) {
            g_autofree char *kib = g_strdup_printf("%" G_GUINT64_FORMAT, bytes / 1024 + 1024 * 1024);

            xmlNodeSetContent(mem_total, BAD_CAST kib);
            xmlSetProp(mem_total, BAD_CAST "unit", BAD_CAST "KiB");
        }
    }
    /* memory devices need ACPI: give it to PC machines that lack it */
    if (spm_is_pc(root)) {
        xmlNodePtr features = spm_xml_child(root, "features");

        if (!features) {
            features = xmlNewDocNode(doc, NULL, BAD_CAST "features", NULL);
            xmlAddPrevSibling(devices ? devices : spm_xml_child(root, "os"), features);
        }
        if (!spm_xml_child(features, "acpi"))
            xmlNewChild(features, NULL, BAD_CAST "acpi", NULL);
    }
    if (!devices)
        devices = xmlNewChild(root, NULL, BAD_CAST "devices", NULL);
    mem = xmlNewChild(devices, NULL, BAD_CAST "memory", NULL);
    xmlSetProp(mem, BAD_CAST "model", BAD_CAST "spm");
    target = xmlNewChild(mem, NULL, BAD_CAST "target", NULL);
    size = xmlNewChild(target, NULL, BAD_CAST "size", BAD_CAST "1");
    xmlSetProp(size, BAD_CAST "unit", BAD_CAST "GiB");
    xmlNewChild(target, NULL, BAD_CAST "node", BAD_CAST node);
}

/* A reason with its numbers and quoted values taken out, to group by. */
static char *
spm_reason(const char *message)
{
    g_autoptr(GString) s = g_string_new(NULL);
    gboolean quoted = FALSE;

    for (const char *p = message; *p; p++) {
        if (*p == '\'') {
            quoted = !quoted;
            g_string_append(s, quoted ? "'...'" : "");
        } else if (!quoted && g_ascii_isdigit(*p)) {
            if (s->len == 0 || s->str[s->len - 1] != 'N')
                g_string_append_c(s, 'N');
        } else if (!quoted) {
            g_string_append_c(s, *p);
        }
    }
    return g_string_free(g_steal_pointer(&s), FALSE);
}

static void
spm_count(GHashTable *table, const char *message)
{
    char *key = spm_reason(message);

    g_hash_table_insert(table, key,
                        GUINT_TO_POINTER(GPOINTER_TO_UINT(g_hash_table_lookup(table, key)) + 1));
}

static void G_GNUC_PRINTF(3, 4)
spm_fail(SpmCorpusStats *st, const char *path, const char *fmt, ...)
{
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    printf("FAIL %s: %s\n", path, msg);
    st->failures++;
}

/*
 * The in-process check uses the schema virt-xml-validate uses; for the
 * first few documents, the tool itself must agree.
 */
#define SPM_TOOL_CHECKS 10

static void
spm_tool_check(SpmCorpusStats *st, const char *path, xmlDocPtr doc)
{
    g_autofree char *tool = g_find_program_in_path("virt-xml-validate");
    g_autofree char *tmp = NULL;
    g_autofree char *text = NULL;
    g_autoptr(GError) error = NULL;
    const char *argv[] = { NULL, NULL, "domain", NULL };
    int status = -1;
    int fd;

    if (!tool)
        return;
    fd = g_file_open_tmp("spm-corpus-XXXXXX.xml", &tmp, &error);
    g_assert_no_error(error);
    close(fd);
    text = spm_xml_format(doc);
    g_assert_true(g_file_set_contents(tmp, text, -1, &error));
    argv[0] = tool;
    argv[1] = tmp;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                      NULL, NULL, NULL, NULL, &status, &error) ||
        !g_spawn_check_wait_status(status, NULL))
        spm_fail(st, path, "virt-xml-validate refuses the converted document");
    st->tool_checked++;
    g_unlink(tmp);
}

static gboolean
spm_clean_error(const GError *error)
{
    return error && error->domain == SPM_ERROR && error->message[0] &&
           !strchr(error->message, '\n');
}

static void
spm_corpus_file(SpmCorpusStats *st, const char *path, const SpmPlanPolicy *policy)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(xmlDoc) orig = spm_xml_read_file(path, &error);
    g_autoptr(xmlDoc) input = NULL;
    g_autoptr(xmlDoc) conv = NULL;
    g_autoptr(xmlDoc) again = NULL;
    g_autofree char *input_c14n = NULL;
    g_autofree char *conv_c14n = NULL;
    g_autofree char *again_c14n = NULL;
    g_autofree char *reversed_c14n = NULL;
    xmlNodePtr root;
    gboolean orig_valid;

    st->files++;
    if (!orig) {
        if (!spm_clean_error(error))
            spm_fail(st, path, "the reader's error is not one clean line");
        st->refused_by_reader++;
        spm_count(st->refusals, strchr(error->message, ' ') ? strchr(error->message, ' ') + 1 : error->message);
        return;
    }
    root = xmlDocGetRootElement(orig);
    if (!spm_xml_is_element(root, "domain") || root->ns) {
        st->not_domain++;
        return;
    }
    orig_valid = spm_libvirt_valid(orig);

    input = xmlCopyDoc(orig, 1);
    spm_inject_device(input);
    input_c14n = spm_c14n(input);
    conv = xmlCopyDoc(input, 1);
    if (!spm_convert_forward(conv, policy, NULL, NULL, &error)) {
        g_autofree char *after = spm_c14n(conv);

        if (!spm_clean_error(error))
            spm_fail(st, path, "convert failed without a clean one-line error");
        else if (!g_str_equal(after, input_c14n))
            spm_fail(st, path, "a failed convert changed the document");
        st->rejected++;
        spm_count(st->reasons, error->message);
        if (g_getenv("SPM_CORPUS_VERBOSE"))
            printf("rejected %s: %s\n", path, error->message);
        return;
    }
    st->converted++;
    conv_c14n = spm_c14n(conv);

    again = xmlCopyDoc(conv, 1);
    if (!spm_convert_forward(again, policy, NULL, NULL, &error)) {
        spm_fail(st, path, "converting the converted document failed: %s", error->message);
        return;
    }
    again_c14n = spm_c14n(again);
    if (g_str_equal(again_c14n, conv_c14n))
        st->idempotent++;
    else
        spm_fail(st, path, "converting twice differs from converting once");

    if (!spm_convert_reverse(conv, &error)) {
        spm_fail(st, path, "reverse failed: %s", error->message);
        return;
    }
    reversed_c14n = spm_c14n(conv);
    if (g_str_equal(reversed_c14n, input_c14n))
        st->lossless++;
    else
        spm_fail(st, path, "reverse does not give the input back");

    if (orig_valid) {
        g_autoptr(xmlDoc) converted = xmlCopyDoc(again, 1);

        st->schema_checked++;
        if (spm_libvirt_valid(converted))
            st->schema_kept++;
        else
            spm_fail(st, path, "libvirt's schema accepts the original, not the converted document");
        if (st->tool_checked < SPM_TOOL_CHECKS)
            spm_tool_check(st, path, again);
    }
}

/* The comparison detects one element dropped by convert. */
static gboolean
spm_self_check(const SpmPlanPolicy *policy)
{
    static const char xml[] =
        "<domain type='kvm'><name>c</name><memory unit='GiB'>1</memory>"
        "<os><type arch='x86_64' machine='q35'>hvm</type></os><features><acpi/></features>"
        "<devices><emulator>/usr/bin/qemu-system-x86_64</emulator><console type='pty'/></devices>"
        "</domain>";
    g_autoptr(xmlDoc) input = spm_xml_read_memory(xml, sizeof(xml) - 1, "self-check", NULL);
    g_autoptr(xmlDoc) conv = NULL;
    g_autofree char *input_c14n = NULL;
    g_autofree char *broken_c14n = NULL;
    xmlNodePtr console;

    if (!spm_libvirt_valid(input))
        return FALSE;
    spm_inject_device(input);
    /* libvirt's schema knows no model='spm': the check can fail */
    if (spm_libvirt_valid(input))
        return FALSE;
    input_c14n = spm_c14n(input);
    conv = xmlCopyDoc(input, 1);
    if (!spm_convert_forward(conv, policy, NULL, NULL, NULL) || !spm_convert_reverse(conv, NULL))
        return FALSE;
    broken_c14n = spm_c14n(conv);
    if (!g_str_equal(broken_c14n, input_c14n))
        return FALSE;
    g_clear_pointer(&broken_c14n, g_free);
    /* as if convert had dropped <console> */
    console = spm_xml_child(spm_xml_child(xmlDocGetRootElement(conv), "devices"), "console");
    xmlUnlinkNode(console);
    xmlFreeNode(console);
    broken_c14n = spm_c14n(conv);
    return !g_str_equal(broken_c14n, input_c14n);
}

static char *
spm_find_corpus(void)
{
    const char *env = g_getenv("SPM_LIBVIRT_CORPUS");
    g_autofree char *base = g_build_filename(g_get_user_cache_dir(), "virt-spm", "libvirt-corpus", NULL);
    g_autoptr(GDir) dir = NULL;
    char *best = NULL;

    if (env && *env)
        return g_strdup(env);
    if (!(dir = g_dir_open(base, 0, NULL)))
        return NULL;
    for (const char *f; (f = g_dir_read_name(dir));) {
        g_autofree char *done = g_build_filename(base, f, ".complete", NULL);

        if (g_file_test(done, G_FILE_TEST_EXISTS) &&
            (!best || g_strcmp0(f, strrchr(best, '/') + 1) > 0)) {
            g_free(best);
            best = g_build_filename(base, f, NULL);
        }
    }
    return best;
}

static gint
spm_cmp_str(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

static void
spm_print_reasons(const char *title, GHashTable *table)
{
    GHashTableIter it;
    gpointer k, v;
    g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);

    g_hash_table_iter_init(&it, table);
    while (g_hash_table_iter_next(&it, &k, &v))
        g_ptr_array_add(lines, g_strdup_printf("%5u  %s", GPOINTER_TO_UINT(v), (char *)k));
    g_ptr_array_sort(lines, spm_cmp_str);
    printf("%s:\n", title);
    for (guint i = lines->len; i-- > 0;)
        printf("  %s\n", (char *)lines->pdata[i]);
}

int
main(int argc, char **argv)
{
    static const char *const subdirs[] = {
        "qemuxml2argvdata", "qemuxml2xmloutdata", "genericxml2xmlindata", "domainschemadata", NULL
    };
    g_autofree char *corpus = spm_find_corpus();
    g_autofree char *conf = g_build_filename(g_getenv("SPM_SOURCE_ROOT"), "tests", "data", "golden.conf", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(SpmConfig) config = NULL;
    SpmCorpusStats st = { 0 };
    guint dirs = 0;

    if (!corpus || !g_file_test(corpus, G_FILE_TEST_IS_DIR)) {
        printf("SKIP no libvirt corpus: run scripts/fetch-libvirt-corpus.sh (or set SPM_LIBVIRT_CORPUS)\n");
        return SPM_TEST_SKIP;
    }
    config = spm_config_load(conf, &error);
    g_assert_no_error(error);
    xmlSetGenericErrorFunc(NULL, spm_silent);
    if (g_file_test(LIBVIRT_DOMAIN_RNG, G_FILE_TEST_EXISTS)) {
        xmlRelaxNGParserCtxtPtr pctxt = xmlRelaxNGNewParserCtxt(LIBVIRT_DOMAIN_RNG);

        libvirt_schema = xmlRelaxNGParse(pctxt);
        xmlRelaxNGFreeParserCtxt(pctxt);
    }
    if (!libvirt_schema) {
        printf("SKIP libvirt's schema %s is not there (libvirt-clients)\n", LIBVIRT_DOMAIN_RNG);
        return SPM_TEST_SKIP;
    }

    if (!spm_self_check(&config->policy)) {
        printf("FAIL the checks do not see an element dropped by convert or a device libvirt's schema refuses\n");
        return 1;
    }

    st.reasons = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    st.refusals = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    for (const char *const *sub = subdirs; *sub; sub++) {
        g_autofree char *path = g_build_filename(corpus, *sub, NULL);
        g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
        g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);

        if (!dir)
            continue;
        dirs++;
        for (const char *f; (f = g_dir_read_name(dir));) {
            if (g_str_has_suffix(f, ".xml"))
                g_ptr_array_add(names, g_build_filename(path, f, NULL));
        }
        g_ptr_array_sort(names, spm_cmp_str);
        for (guint i = 0; i < names->len; i++)
            spm_corpus_file(&st, names->pdata[i], &config->policy);
    }
    if (dirs == 0 || st.files == 0) {
        printf("FAIL %s holds no domain XMLs\n", corpus);
        return 1;
    }

    printf("corpus %s\n", corpus);
    printf("files %u: not a <domain> %u, refused by the reader %u, domains %u\n",
           st.files, st.not_domain, st.refused_by_reader,
           st.files - st.not_domain - st.refused_by_reader);
    printf("with an SPM device: converted %u, rejected with a one-line error %u\n",
           st.converted, st.rejected);
    printf("converted: lossless %u/%u, idempotent %u/%u\n",
           st.lossless, st.converted, st.idempotent, st.converted);
    printf("libvirt schema: %u originals valid, %u of their converted forms valid "
           "(%u of them also by virt-xml-validate)\n",
           st.schema_checked, st.schema_kept, st.tool_checked);
    spm_print_reasons("reader refusals", st.refusals);
    spm_print_reasons("convert rejections", st.reasons);
    printf("failures %u\n", st.failures);

    g_hash_table_unref(st.reasons);
    g_hash_table_unref(st.refusals);
    xmlRelaxNGFree(libvirt_schema);
    return st.failures ? 1 : 0;
}
