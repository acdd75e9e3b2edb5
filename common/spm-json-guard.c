/*
 * spm-json-guard.c: nesting, integer range and UTF-8 checks before json-glib
 */
#include <string.h>

#include "spm-error.h"
#include "spm-json-guard.h"

/* An integer literal of @len digits (no sign): does it fit in gint64? */
static gboolean
spm_json_int_fits(const char *digits, gsize len, gboolean negative)
{
    const char *limit = negative ? "9223372036854775808" : "9223372036854775807";

    while (len > 1 && *digits == '0') {
        digits++;
        len--;
    }
    if (len < 19)
        return TRUE;
    if (len > 19)
        return FALSE;
    return strncmp(digits, limit, 19) <= 0;
}

gboolean
spm_json_guard_check(const char *text, gsize len, guint max_depth, GError **error)
{
    guint depth = 0;
    gsize i = 0;
    gboolean done = FALSE;      /* the top-level object or array is closed */

    if (!g_utf8_validate(text, len, NULL)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_QMP, "JSON message is not valid UTF-8");
        return FALSE;
    }
    /*
     * Every message virt-spm reads is one object or array.  Anything else,
     * or more text after it, is refused here: json-glib 1.6 leaks the nodes
     * it built when it fails on trailing text ("4{}").
     */
    while (i < len && g_ascii_isspace(text[i]))
        i++;
    if (i < len && text[i] != '{' && text[i] != '[') {
        g_set_error(error, SPM_ERROR, SPM_ERROR_QMP, "JSON message is not an object or an array");
        return FALSE;
    }
    while (i < len) {
        char c = text[i];

        if (done && !g_ascii_isspace(c)) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_QMP, "JSON message has more text after its end");
            return FALSE;
        }
        if (c == '"') {
            /* skip the string, escapes included */
            for (i++; i < len && text[i] != '"'; i++) {
                if (text[i] == '\\')
                    i++;
            }
            i++;
            continue;
        }
        if (c == '[' || c == '{') {
            if (++depth > max_depth) {
                g_set_error(error, SPM_ERROR, SPM_ERROR_QMP,
                            "JSON message nested deeper than %u levels", max_depth);
                return FALSE;
            }
        } else if (c == ']' || c == '}') {
            if (depth > 0 && --depth == 0)
                done = TRUE;
        } else if (c == '-' || g_ascii_isdigit(c)) {
            gboolean negative = c == '-';
            gsize start = negative ? i + 1 : i;
            gsize end = start;
            gboolean is_float = FALSE;

            while (end < len && (g_ascii_isdigit(text[end]) || strchr(".eE+-", text[end]))) {
                if (!g_ascii_isdigit(text[end]))
                    is_float = TRUE;
                end++;
            }
            if (!is_float && end > start &&
                !spm_json_int_fits(text + start, end - start, negative)) {
                g_set_error(error, SPM_ERROR, SPM_ERROR_QMP,
                            "JSON number '%.*s' is out of range",
                            (int) MIN(end - i, 40), text + i);
                return FALSE;
            }
            i = MAX(end, i + 1);
            continue;
        }
        i++;
    }
    return TRUE;
}

JsonNode *
spm_json_guard_parse(const char *text, gsize len, guint max_depth, GError **error)
{
    g_autoptr(JsonParser) parser = NULL;
    g_autoptr(GError) local = NULL;
    JsonNode *root;

    if (!spm_json_guard_check(text, len, max_depth, error))
        return NULL;
    parser = json_parser_new_immutable();
    if (!json_parser_load_from_data(parser, text, len, &local)) {
        /* json-glib quotes the text around the error, newlines and all */
        g_autofree char *shown = spm_error_printable(local->message, 160);

        g_set_error(error, SPM_ERROR, SPM_ERROR_QMP, "malformed JSON message: %s", shown);
        return NULL;
    }
    root = json_parser_get_root(parser);
    if (!root) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_QMP, "empty JSON message");
        return NULL;
    }
    return json_node_ref(root);
}
