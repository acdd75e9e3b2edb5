/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-xml-read.c: the hardened XML reader and the formatter
 *
 * Hostile inputs must each give exactly one line of error, never crash,
 * never touch the network, and never make libxml2 print anything itself.
 */
#include "spm-xml.h"
#include "spm-error.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <glib/gstdio.h>

static char *
data_path(const char *name)
{
    return g_build_filename(g_getenv("SPM_SOURCE_ROOT"), "tests", "xml", "data", name, NULL);
}

/*
 * Capture what is written to fd 2 while the reader runs: libxml2 must stay
 * silent, all it says has to arrive in the GError.
 */
typedef struct {
    int saved;
    char *path;
} StderrTrap;

static void
stderr_trap_start(StderrTrap *trap)
{
    int fd;

    trap->path = g_build_filename(g_get_tmp_dir(), "spm-xml-stderr-XXXXXX", NULL);
    fd = g_mkstemp(trap->path);
    g_assert_cmpint(fd, >=, 0);
    fflush(stderr);
    trap->saved = dup(STDERR_FILENO);
    g_assert_cmpint(trap->saved, >=, 0);
    g_assert_cmpint(dup2(fd, STDERR_FILENO), ==, STDERR_FILENO);
    close(fd);
}

static char *
stderr_trap_stop(StderrTrap *trap)
{
    char *contents = NULL;

    fflush(stderr);
    g_assert_cmpint(dup2(trap->saved, STDERR_FILENO), ==, STDERR_FILENO);
    close(trap->saved);
    g_assert_true(g_file_get_contents(trap->path, &contents, NULL, NULL));
    g_unlink(trap->path);
    g_free(trap->path);
    return contents;
}

/* Read @path; expect failure with @expected as the whole message. */
static void
assert_file_refused(const char *path, int code, const char *expected)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(xmlDoc) doc = NULL;
    g_autofree char *noise = NULL;
    StderrTrap trap;

    stderr_trap_start(&trap);
    doc = spm_xml_read_file(path, &error);
    noise = stderr_trap_stop(&trap);

    g_assert_null(doc);
    g_assert_error(error, SPM_ERROR, code);
    g_assert_null(strchr(error->message, '\n'));
    g_assert_cmpstr(error->message, ==, expected);
    g_assert_cmpstr(noise, ==, "");
}

static void
assert_memory_refused(const char *buf, gsize len, const char *expected)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(xmlDoc) doc = NULL;
    g_autofree char *noise = NULL;
    StderrTrap trap;

    stderr_trap_start(&trap);
    doc = spm_xml_read_memory(buf, len, "mem.xml", &error);
    noise = stderr_trap_stop(&trap);

    g_assert_null(doc);
    g_assert_error(error, SPM_ERROR, SPM_ERROR_INVALID);
    g_assert_null(strchr(error->message, '\n'));
    if (expected)
        g_assert_cmpstr(error->message, ==, expected);
    else
        g_assert_true(g_str_has_prefix(error->message, "mem.xml:"));
    g_assert_cmpstr(noise, ==, "");
}

static void
test_read_valid(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = data_path("full.xml");
    g_autoptr(xmlDoc) doc = spm_xml_read_file(path, &error);
    xmlNodePtr root;

    g_assert_no_error(error);
    g_assert_nonnull(doc);
    root = xmlDocGetRootElement(doc);
    g_assert_cmpstr((const char *)root->name, ==, "domain");
}

static void
test_billion_laughs(void)
{
    g_autofree char *path = data_path("billion-laughs.xml");
    g_autofree char *expected =
        g_strdup_printf("%s:3: DOCTYPE declares entity 'lol': entity declarations are not allowed",
                        path);

    assert_file_refused(path, SPM_ERROR_INVALID, expected);
}

static void
test_external_entity(void)
{
    g_autofree char *path = data_path("external-entity.xml");
    g_autofree char *expected =
        g_strdup_printf("%s:3: DOCTYPE declares entity 'xxe': entity declarations are not allowed",
                        path);

    assert_file_refused(path, SPM_ERROR_INVALID, expected);
}

static void
test_external_dtd(void)
{
    g_autofree char *path = data_path("external-dtd.xml");
    g_autofree char *expected =
        g_strdup_printf("%s:2: DOCTYPE 'domain' refers to external DTD "
                        "'http://127.0.0.1:1/domain.dtd': external DTDs are not allowed",
                        path);

    assert_file_refused(path, SPM_ERROR_INVALID, expected);
}

/* Undeclared entity reference, no DOCTYPE at all. */
static void
test_entity_reference(void)
{
    static const char xml[] = "<domain>\n  <name>&foo;</name>\n</domain>\n";

    assert_memory_refused(xml, strlen(xml),
                          "mem.xml:2: entity reference '&foo;' is not allowed");
}

/* Predefined entities and character references are plain text. */
static void
test_predefined_entities(void)
{
    static const char xml[] = "<domain><name>a&amp;b&#x41;&lt;</name></domain>";
    g_autoptr(GError) error = NULL;
    g_autoptr(xmlDoc) doc = spm_xml_read_memory(xml, strlen(xml), "mem.xml", &error);
    xmlChar *text;

    g_assert_no_error(error);
    text = xmlNodeGetContent(xmlDocGetRootElement(doc)->children);
    g_assert_cmpstr((const char *)text, ==, "a&bA<");
    xmlFree(text);
}

/* Other DTD declarations could default attributes or namespaces: refused. */
static void
test_dtd_declarations(void)
{
    static const char attlist_ns[] =
        "<!DOCTYPE domain [\n<!ATTLIST domain xmlns CDATA \"urn:evil\">\n]>\n<domain/>";
    static const char attlist_enum[] =
        "<!DOCTYPE domain [\n<!ATTLIST memory model (spm|dimm) \"spm\">\n]>\n<domain/>";
    static const char element[] =
        "<!DOCTYPE domain [\n\n<!ELEMENT domain ANY>\n]>\n<domain/>";
    static const char notation[] =
        "<!DOCTYPE domain [<!NOTATION n SYSTEM \"x\">]>\n<domain/>";

    assert_memory_refused(attlist_ns, strlen(attlist_ns),
                          "mem.xml:2: DOCTYPE declares attribute 'xmlns' of 'domain': "
                          "DTD declarations are not allowed");
    assert_memory_refused(attlist_enum, strlen(attlist_enum),
                          "mem.xml:2: DOCTYPE declares attribute 'model' of 'memory': "
                          "DTD declarations are not allowed");
    assert_memory_refused(element, strlen(element),
                          "mem.xml:3: DOCTYPE declares element 'domain': DTD declarations are not allowed");
    assert_memory_refused(notation, strlen(notation),
                          "mem.xml:1: DOCTYPE declares notation 'n': DTD declarations are not allowed");
}

/* A DOCTYPE without declarations or external DTD is harmless: accepted. */
static void
test_bare_doctype(void)
{
    static const char xml[] = "<!DOCTYPE domain [\n<!-- nothing -->\n]>\n<domain><name>x</name></domain>";
    g_autoptr(GError) error = NULL;
    g_autoptr(xmlDoc) doc = spm_xml_read_memory(xml, strlen(xml), "mem.xml", &error);

    g_assert_no_error(error);
    g_assert_nonnull(doc);
}

/*
 * No network: point the DTD, a parameter entity and an external entity at
 * a listening socket of ours and check that nobody connected.
 */
static void
test_no_network(void)
{
    struct sockaddr_in addr = { .sin_family = AF_INET };
    socklen_t len = sizeof(addr);
    struct pollfd pfd;
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    const char *templates[] = {
        "<!DOCTYPE domain SYSTEM \"http://127.0.0.1:PORT/x.dtd\">\n<domain/>",
        "<!DOCTYPE domain PUBLIC \"-//x//y\" \"http://127.0.0.1:PORT/x.dtd\">\n<domain/>",
        "<!DOCTYPE domain [<!ENTITY % p SYSTEM \"http://127.0.0.1:PORT/p\"> %p;]>\n<domain/>",
        "<!DOCTYPE domain [<!ENTITY e SYSTEM \"http://127.0.0.1:PORT/e\">]>\n<domain>&e;</domain>",
        "<domain xmlns:xi=\"http://www.w3.org/2001/XInclude\">"
        "<xi:include href=\"http://127.0.0.1:PORT/i\"/></domain>",
    };

    g_assert_cmpint(s, >=, 0);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    g_assert_cmpint(bind(s, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
    g_assert_cmpint(listen(s, 16), ==, 0);
    g_assert_cmpint(getsockname(s, (struct sockaddr *)&addr, &len), ==, 0);

    for (gsize i = 0; i < G_N_ELEMENTS(templates); i++) {
        g_autofree char *port = g_strdup_printf("%u", ntohs(addr.sin_port));
        GString *str = g_string_new(templates[i]);
        g_autofree char *xml = NULL;
        g_autoptr(GError) error = NULL;
        g_autoptr(xmlDoc) doc = NULL;

        g_string_replace(str, "PORT", port, 0);
        xml = g_string_free(str, FALSE);
        doc = spm_xml_read_memory(xml, strlen(xml), "net.xml", &error);
        /* XInclude is simply not processed: the element stays an element */
        if (i == G_N_ELEMENTS(templates) - 1) {
            g_assert_no_error(error);
            g_assert_nonnull(doc);
        } else {
            g_assert_null(doc);
            g_assert_error(error, SPM_ERROR, SPM_ERROR_INVALID);
        }
    }
    /* A connection would sit in the backlog by now (connect is synchronous). */
    pfd.fd = s;
    pfd.events = POLLIN;
    g_assert_cmpint(poll(&pfd, 1, 0), ==, 0);
    close(s);
}

/* A well-formed document of exactly @size bytes: many 1 KiB comments
 * (libxml2 caps a single text or comment node at 10 MB without HUGE). */
static char *
make_big(gsize size)
{
    static const char head[] = "<domain>\n";
    static const char tail[] = "</domain>\n";
    char *buf = g_malloc(size);
    gsize pos = strlen(head);
    gsize end = size - strlen(tail);

    memcpy(buf, head, strlen(head));
    while (end - pos > 1024 + 8) {
        memcpy(buf + pos, "<!--", 4);
        memset(buf + pos + 4, 'x', 1024);
        memcpy(buf + pos + 1028, "-->\n", 4);
        pos += 1032;
    }
    memset(buf + pos, ' ', end - pos);
    memcpy(buf + end, tail, strlen(tail));
    return buf;
}

static void
test_too_big(void)
{
    gsize size = 17 * 1024 * 1024;
    g_autofree char *buf = make_big(size);
    g_autofree char *path = g_build_filename(g_get_tmp_dir(), "spm-xml-big-XXXXXX", NULL);
    g_autofree char *expected = NULL;
    g_autoptr(GError) error = NULL;
    int fd;

    /* from memory: refused before parsing */
    assert_memory_refused(buf, size,
                          "mem.xml: document is 17825792 bytes, more than the limit of 16777216 bytes");

    /* from a file: refused while reading */
    fd = g_mkstemp(path);
    g_assert_cmpint(fd, >=, 0);
    g_assert_true(g_file_set_contents(path, buf, size, &error));
    g_assert_no_error(error);
    close(fd);
    expected = g_strdup_printf("%s: document is more than the limit of 16777216 bytes", path);
    assert_file_refused(path, SPM_ERROR_INVALID, expected);
    g_unlink(path);

    /* an endless file (a device) is cut off too */
    assert_file_refused("/dev/zero", SPM_ERROR_INVALID,
                        "/dev/zero: document is more than the limit of 16777216 bytes");

    /* exactly at the limit is still read (and parsed) */
    {
        g_autofree char *ok = make_big(SPM_XML_MAX_BYTES);
        g_autoptr(xmlDoc) doc = spm_xml_read_memory(ok, SPM_XML_MAX_BYTES, "max.xml", &error);

        g_assert_no_error(error);
        g_assert_nonnull(doc);
    }
}

/* stdin is bounded too: an endless stream stops at the limit. */
static void
test_stdin_bounded(void)
{
    int saved = dup(STDIN_FILENO);
    int zero = open("/dev/zero", O_RDONLY | O_CLOEXEC);
    g_autoptr(GError) error = NULL;
    g_autoptr(xmlDoc) doc = NULL;

    g_assert_cmpint(zero, >=, 0);
    g_assert_cmpint(dup2(zero, STDIN_FILENO), ==, STDIN_FILENO);
    close(zero);
    doc = spm_xml_read_file("-", &error);
    g_assert_cmpint(dup2(saved, STDIN_FILENO), ==, STDIN_FILENO);
    close(saved);

    g_assert_null(doc);
    g_assert_error(error, SPM_ERROR, SPM_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==, "stdin: document is more than the limit of 16777216 bytes");
}

static void
test_stdin_valid(void)
{
    g_autofree char *path = data_path("converted.xml");
    int saved = dup(STDIN_FILENO);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    g_autoptr(GError) error = NULL;
    g_autoptr(xmlDoc) doc = NULL;

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(dup2(fd, STDIN_FILENO), ==, STDIN_FILENO);
    close(fd);
    doc = spm_xml_read_file("-", &error);
    g_assert_cmpint(dup2(saved, STDIN_FILENO), ==, STDIN_FILENO);
    close(saved);

    g_assert_no_error(error);
    g_assert_nonnull(doc);
}

static char *
make_nested(guint depth)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; i < depth; i++)
        g_string_append(s, "<a>");
    for (guint i = 0; i < depth; i++)
        g_string_append(s, "</a>");
    return g_string_free(s, FALSE);
}

static void
test_depth(void)
{
    g_autofree char *deep = make_nested(10000);
    g_autofree char *limit = make_nested(SPM_XML_MAX_DEPTH);
    g_autofree char *over = make_nested(SPM_XML_MAX_DEPTH + 1);
    g_autoptr(GError) error = NULL;
    g_autoptr(xmlDoc) doc = NULL;

    assert_memory_refused(deep, strlen(deep), "mem.xml:1: element <a> nests deeper than 64 levels");
    assert_memory_refused(over, strlen(over), "mem.xml:1: element <a> nests deeper than 64 levels");
    doc = spm_xml_read_memory(limit, strlen(limit), "mem.xml", &error);
    g_assert_no_error(error);
    g_assert_nonnull(doc);
}

static void
test_truncated(void)
{
    g_autofree char *path = data_path("truncated.xml");
    g_autofree char *expected =
        g_strdup_printf("%s:7: Premature end of data in tag size line 6", path);

    assert_file_refused(path, SPM_ERROR_INVALID, expected);
}

static void
test_malformed(void)
{
    static const char mismatched[] = "<domain>\n<name>x</nam>\n</domain>";
    static const char undefined_prefix[] = "<domain>\n<spm:spm/>\n</domain>";
    static const char two_roots[] = "<domain/><domain/>";
    static const char attr_twice[] = "<domain a='1' a='2'/>";

    assert_memory_refused(mismatched, strlen(mismatched),
                          "mem.xml:2: Opening and ending tag mismatch: name line 2 and nam");
    assert_memory_refused(undefined_prefix, strlen(undefined_prefix),
                          "mem.xml:2: Namespace prefix spm on spm is not defined");
    assert_memory_refused(two_roots, strlen(two_roots),
                          "mem.xml:1: Extra content at the end of the document");
    assert_memory_refused(attr_twice, strlen(attr_twice),
                          "mem.xml:1: Attribute a redefined");
}

static void
test_empty(void)
{
    g_autofree char *path = g_build_filename(g_get_tmp_dir(), "spm-xml-empty-XXXXXX", NULL);
    g_autofree char *expected = NULL;
    int fd = g_mkstemp(path);

    g_assert_cmpint(fd, >=, 0);
    close(fd);
    expected = g_strdup_printf("%s:1: document is empty", path);
    assert_file_refused(path, SPM_ERROR_INVALID, expected);
    g_unlink(path);

    assert_memory_refused("", 0, "mem.xml:1: document is empty");
    assert_memory_refused("  \n ", 4, "mem.xml:2: Start tag expected, '<' not found");
}

static void
test_garbage(void)
{
    guint8 buf[4096];
    GRand *rand = g_rand_new_with_seed(42);

    /* fixed-seed random bytes, then a few classic ones */
    for (guint round = 0; round < 200; round++) {
        gsize len = 1 + g_rand_int_range(rand, 0, sizeof(buf));

        for (gsize i = 0; i < len; i++)
            buf[i] = (guint8)g_rand_int_range(rand, 0, 256);
        if (round % 2)
            buf[0] = '<';
        assert_memory_refused((const char *)buf, len, NULL);
    }
    g_rand_free(rand);

    assert_memory_refused("\xff\xfe\x00\x00<\x00", 6, NULL);
    assert_memory_refused("<domain>\xc3\x28</domain>", 19, NULL);
    assert_memory_refused("<domain>\0</domain>", 18, NULL);
    assert_memory_refused("<?xml version='1.0' encoding='bogus-enc'?><domain/>", 51, NULL);
}

/* Encoding failures are raised without a parser context: still one line,
 * still nothing on stderr. */
static void
test_bad_encoding(void)
{
    static const char iso2022[] =
        "<?xml version='1.0' encoding='ISO-2022-JP'?>\n<domain>\x1b$B\xff\xfe\x1b(B</domain>\n";
    static const char sjis[] =
        "<?xml version='1.0' encoding='SHIFT_JIS'?>\n<domain>\x81\x00\xff</domain>";
    static const char ebcdic[] = "<?xml version='1.0' encoding='EBCDIC'?><a/>";
    static const char utf16[] = "<?xml version='1.0' encoding='UTF-16'?>\n<domain/>";

    assert_memory_refused(iso2022, sizeof(iso2022) - 1,
                          "mem.xml:1: input conversion failed due to input error, "
                          "bytes 0xFF 0xFE 0x1B 0x28");
    assert_memory_refused(sjis, sizeof(sjis) - 1,
                          "mem.xml:1: input conversion failed due to input error, "
                          "bytes 0x81 0x00 0xFF 0x3C");
    assert_memory_refused(ebcdic, sizeof(ebcdic) - 1, "mem.xml:1: Unsupported encoding EBCDIC");
    assert_memory_refused(utf16, sizeof(utf16) - 1,
                          "mem.xml:1: Document labelled UTF-16 but has UTF-8 content");
}

static void
test_missing_file(void)
{
    assert_file_refused("/nonexistent/dir/domain.xml", SPM_ERROR_SYSTEM,
                        "/nonexistent/dir/domain.xml: cannot open: No such file or directory");
    assert_file_refused("/", SPM_ERROR_SYSTEM, "/: cannot read: Is a directory");
}

/* ---- formatting ---- */

static char *
format_string(const char *xml)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(xmlDoc) doc = spm_xml_read_memory(xml, strlen(xml), "fmt.xml", &error);

    g_assert_no_error(error);
    return spm_xml_format(doc);
}

static void
test_format(void)
{
    static const char messy[] =
        "<?xml version='1.0'?>\n"
        "<domain type='qemu'>  <name>f\xc3\xa9</name>\n\n\n"
        "\t<devices><memory model='spm'>\n"
        "   <target><size unit='GiB'>1</size>   <node>1</node></target></memory>\n"
        "</devices><description> keep  this </description></domain>\n";
    static const char expected[] =
        "<domain type=\"qemu\">\n"
        "  <name>f\xc3\xa9</name>\n"
        "  <devices>\n"
        "    <memory model=\"spm\">\n"
        "      <target>\n"
        "        <size unit=\"GiB\">1</size>\n"
        "        <node>1</node>\n"
        "      </target>\n"
        "    </memory>\n"
        "  </devices>\n"
        "  <description> keep  this </description>\n"
        "</domain>\n";
    g_autofree char *once = format_string(messy);
    g_autofree char *twice = format_string(once);

    g_assert_cmpstr(once, ==, expected);
    g_assert_cmpstr(twice, ==, expected);
}

/* Whitespace text nodes added in memory must not change the output. */
static void
test_format_edited(void)
{
    static const char xml[] = "<domain><devices/></domain>";
    g_autoptr(GError) error = NULL;
    g_autoptr(xmlDoc) doc = spm_xml_read_memory(xml, strlen(xml), "fmt.xml", &error);
    xmlNodePtr devices = xmlDocGetRootElement(doc)->children;
    xmlNodePtr mem;
    g_autofree char *out = NULL;

    g_assert_no_error(error);
    xmlAddChild(devices, xmlNewText((const xmlChar *)"\n    "));
    mem = xmlNewChild(devices, NULL, (const xmlChar *)"memory", NULL);
    xmlNewProp(mem, (const xmlChar *)"model", (const xmlChar *)"spm");
    xmlAddChild(devices, xmlNewText((const xmlChar *)"\n  "));
    xmlNewChild(mem, NULL, (const xmlChar *)"alias", NULL);

    out = spm_xml_format(doc);
    g_assert_cmpstr(out, ==,
                    "<domain>\n"
                    "  <devices>\n"
                    "    <memory model=\"spm\">\n"
                    "      <alias/>\n"
                    "    </memory>\n"
                    "  </devices>\n"
                    "</domain>\n");
    /* the caller's document is not modified */
    g_assert_nonnull(devices->children);
    g_assert_cmpint(devices->children->type, ==, XML_TEXT_NODE);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/xml/read/valid", test_read_valid);
    g_test_add_func("/xml/read/billion-laughs", test_billion_laughs);
    g_test_add_func("/xml/read/external-entity", test_external_entity);
    g_test_add_func("/xml/read/external-dtd", test_external_dtd);
    g_test_add_func("/xml/read/entity-reference", test_entity_reference);
    g_test_add_func("/xml/read/predefined-entities", test_predefined_entities);
    g_test_add_func("/xml/read/dtd-declarations", test_dtd_declarations);
    g_test_add_func("/xml/read/bare-doctype", test_bare_doctype);
    g_test_add_func("/xml/read/no-network", test_no_network);
    g_test_add_func("/xml/read/too-big", test_too_big);
    g_test_add_func("/xml/read/stdin-bounded", test_stdin_bounded);
    g_test_add_func("/xml/read/stdin-valid", test_stdin_valid);
    g_test_add_func("/xml/read/depth", test_depth);
    g_test_add_func("/xml/read/truncated", test_truncated);
    g_test_add_func("/xml/read/malformed", test_malformed);
    g_test_add_func("/xml/read/empty", test_empty);
    g_test_add_func("/xml/read/garbage", test_garbage);
    g_test_add_func("/xml/read/bad-encoding", test_bad_encoding);
    g_test_add_func("/xml/read/missing-file", test_missing_file);
    g_test_add_func("/xml/format/stable", test_format);
    g_test_add_func("/xml/format/edited", test_format_edited);

    return g_test_run();
}
