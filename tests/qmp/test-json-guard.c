/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-json-guard.c: the guard in front of json-glib tokenizes as
 * json-glib 1.6 does wherever it lets text through, single-quoted strings
 * included, and refuses json-glib's other extensions.
 */
#include <string.h>

#include "spm-error.h"
#include "spm-json-guard.h"

/* @head, then @levels '[' and as many ']', then @tail */
static char *
nest(const char *head, guint levels, const char *tail)
{
    GString *s = g_string_new(head);

    for (guint i = 0; i < levels; i++)
        g_string_append_c(s, '[');
    for (guint i = 0; i < levels; i++)
        g_string_append_c(s, ']');
    g_string_append(s, tail);
    return g_string_free(s, FALSE);
}

static void
accepts(const char *text)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(JsonNode) node = spm_json_guard_parse(text, strlen(text), 8, &error);

    g_test_message("accepts %s", text);
    g_assert_no_error(error);
    g_assert_nonnull(node);
}

static void
refuses(const char *text, const char *needle)
{
    g_autoptr(GError) error = NULL;
    gboolean ok = spm_json_guard_check(text, strlen(text), 8, &error);

    g_test_message("refuses %.80s: %s", text, error ? error->message : "(accepted)");
    g_assert_false(ok);
    g_assert_error(error, SPM_ERROR, SPM_ERROR_QMP);
    g_assert_nonnull(strstr(error->message, needle));
    g_assert_null(strchr(error->message, '\n'));
}

static void
test_single_quotes(void)
{
    g_autofree char *hidden = nest("{\"a\": '\"', \"b\": ", 9, ", \"c\": '\"'}");
    g_autofree char *behind_backslash = nest("['\\', ", 8, "]");
    g_autofree char *behind_dq = nest("[\"'\", ", 8, ", \"'\"]");

    /* json-glib 1.6 reads these: the guard lets them through */
    accepts("{'driver': 'sp-mem', 'id': \"x\"}");
    accepts("['\"', \"'\", '[[[[[[[[[[', \"]]]]]]]]]]\"]");
    accepts("['\\']");             /* a backslash, and the quote ends the string */
    /* nesting behind '"' counts */
    refuses(hidden, "nested deeper than 8");
    /* no escapes in single quotes: '\' is a string, the brackets count */
    refuses(behind_backslash, "nested deeper than 8");
    /* a ' inside "..." opens nothing */
    refuses(behind_dq, "nested deeper than 8");
    refuses("['abc", "unterminated string");
}

static void
test_double_quotes(void)
{
    g_autofree char *escaped_quote = nest("[\"\\\"\", ", 8, ", \"x\"]");
    g_autofree char *escaped_backslash = nest("[\"\\\\\", ", 8, "]");

    accepts("[\"\\\"[[[[[[[[[[\", \"\\\\\"]");
    refuses(escaped_quote, "nested deeper than 8");
    refuses(escaped_backslash, "nested deeper than 8");
    refuses("[\"abc\\\"]", "unterminated string");
}

static void
test_depth(void)
{
    g_autofree char *eight = nest("", 8, "");
    g_autofree char *nine = nest("", 9, "");

    accepts(eight);
    refuses(nine, "nested deeper than 8");
}

/* json-glib's other extensions: where the guard and json-glib could part */
static void
test_extensions(void)
{
    g_autofree char *comment = nest("[/* \" */ ", 8, ", \"\"]");

    refuses(comment, "unexpected character '/'");
    refuses("[1 // x\n]", "unexpected character '/'");
    refuses("[# x\n1]", "unexpected character '#'");
    /* json-glib reads 0x... as hexadecimal, past the range check */
    refuses("[0x10000000000000000]", "malformed");
    refuses("[010]", "malformed");
    refuses("[1.]", "malformed");
    refuses("[-]", "malformed");
    refuses("[truex]", "unexpected word");
    refuses("{\"a\": var}", "unexpected word");
    refuses("var x = [1]", "not an object or an array");
    refuses("[1] [2]", "more text after its end");
    refuses("[1]]", "more text after its end");
    refuses("{\"a\": [1]}}", "more text after its end");
    refuses("[\x01]", "unexpected byte 0x01");
    accepts("[true, false, null, -0, 0.5, -1.25e+10, 1E-3, 9223372036854775807, -9223372036854775808]");
    refuses("[9223372036854775808]", "out of range");
    refuses("[-9223372036854775809]", "out of range");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/json-guard/single-quotes", test_single_quotes);
    g_test_add_func("/json-guard/double-quotes", test_double_quotes);
    g_test_add_func("/json-guard/depth", test_depth);
    g_test_add_func("/json-guard/extensions", test_extensions);
    return g_test_run();
}
