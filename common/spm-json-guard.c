/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-json-guard.c: nesting, integer range and UTF-8 checks before json-glib
 *
 * The scan is a tokenizer of its own, and it must never skip a bracket that
 * json-glib reads as one: a region the guard takes for a string or ignores
 * while json-glib sees structure in it would hide nesting from the depth
 * count, and json-glib recurses once per level.  json-glib 1.6 reads more
 * than RFC 8259 JSON: single-quoted strings (with no escapes at all: a
 * backslash is a plain character and the next quote ends the string),
 * C comments, hexadecimal numbers, leading zeros, `var NAME = ...`.  The
 * guard knows single-quoted strings exactly as json-glib does (QEMU's
 * -device JSON may use them) and refuses every other extension: nothing
 * virt-spm reads needs them, and a token the guard does not know is the
 * place where the two could disagree.
 */
#include <string.h>

#include "spm-error.h"
#include "spm-json-guard.h"

/* An integer literal of @len digits (no sign): does it fit in gint64? */
static gboolean
spm_json_int_fits(const char *digits, gsize len, gboolean negative)
{
    const char *limit = negative ? "9223372036854775808" : "9223372036854775807";

    if (len < 19)
        return TRUE;
    if (len > 19)
        return FALSE;
    return strncmp(digits, limit, 19) <= 0;
}

static gboolean
spm_json_refuse_char(GError **error, const char *text, gsize i)
{
    guchar c = (guchar)text[i];

    if (c >= 0x20 && c < 0x7f)
        g_set_error(error, SPM_ERROR, SPM_ERROR_QMP,
                    "JSON message has an unexpected character '%c' at byte %" G_GSIZE_FORMAT, c, i);
    else
        g_set_error(error, SPM_ERROR, SPM_ERROR_QMP,
                    "JSON message has an unexpected byte 0x%02x at byte %" G_GSIZE_FORMAT, c, i);
    return FALSE;
}

static gsize
spm_json_digits(const char *text, gsize i, gsize len)
{
    while (i < len && g_ascii_isdigit(text[i]))
        i++;
    return i;
}

/*
 * The number at @text[*pos] in RFC 8259 form: -?(0|[1-9][0-9]*)(.[0-9]+)?
 * ([eE][+-]?[0-9]+)?, not followed by a letter, digit or dot (json-glib
 * would read "0x10" or "010" as a number of its own).  An integer must fit
 * in gint64: json-glib wraps larger ones silently.
 */
static gboolean
spm_json_scan_number(const char *text, gsize len, gsize *pos, GError **error)
{
    gsize start = *pos;
    gsize i = start;
    gsize int_start, int_end;
    gboolean negative = FALSE, is_float = FALSE;

    if (text[i] == '-') {
        negative = TRUE;
        i++;
    }
    int_start = i;
    if (i < len && text[i] == '0')
        i++;
    else if (i < len && g_ascii_isdigit(text[i]))
        i = spm_json_digits(text, i, len);
    else
        goto malformed;
    int_end = i;
    if (i < len && text[i] == '.') {
        is_float = TRUE;
        if (i + 1 >= len || !g_ascii_isdigit(text[i + 1]))
            goto malformed;
        i = spm_json_digits(text, i + 1, len);
    }
    if (i < len && (text[i] == 'e' || text[i] == 'E')) {
        is_float = TRUE;
        i++;
        if (i < len && (text[i] == '+' || text[i] == '-'))
            i++;
        if (i >= len || !g_ascii_isdigit(text[i]))
            goto malformed;
        i = spm_json_digits(text, i, len);
    }
    if (i < len && (g_ascii_isalnum(text[i]) || text[i] == '.' || text[i] == '_'))
        goto malformed;
    if (!is_float && !spm_json_int_fits(text + int_start, int_end - int_start, negative)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_QMP, "JSON number '%.*s' is out of range",
                    (int)MIN(i - start, 40), text + start);
        return FALSE;
    }
    *pos = i;
    return TRUE;

malformed:
    while (i < len && (g_ascii_isalnum(text[i]) || strchr(".+-_", text[i])))
        i++;
    g_set_error(error, SPM_ERROR, SPM_ERROR_QMP, "JSON number '%.*s' at byte %" G_GSIZE_FORMAT
                " is malformed", (int)MIN(MAX(i - start, 1), 40), text + start, start);
    return FALSE;
}

/* The string opened by the quote at @text[*pos]; *pos moves past its end. */
static gboolean
spm_json_skip_string(const char *text, gsize len, gsize *pos, GError **error)
{
    char quote = text[*pos];
    gsize i = *pos + 1;

    while (i < len && text[i] != quote) {
        /* json-glib 1.6 knows escapes in double-quoted strings only */
        if (text[i] == '\\' && quote == '"')
            i++;
        i++;
    }
    if (i >= len) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_QMP,
                    "JSON message has an unterminated string at byte %" G_GSIZE_FORMAT, *pos);
        return FALSE;
    }
    *pos = i + 1;
    return TRUE;
}

/* true, false, null; any other word (json-glib's `var`) is refused */
static gboolean
spm_json_scan_word(const char *text, gsize len, gsize *pos, GError **error)
{
    static const char *const words[] = { "true", "false", "null" };
    gsize start = *pos;
    gsize i = start;

    while (i < len && (g_ascii_isalnum(text[i]) || text[i] == '_'))
        i++;
    for (guint w = 0; w < G_N_ELEMENTS(words); w++) {
        if (i - start == strlen(words[w]) && memcmp(text + start, words[w], i - start) == 0) {
            *pos = i;
            return TRUE;
        }
    }
    g_set_error(error, SPM_ERROR, SPM_ERROR_QMP,
                "JSON message has an unexpected word '%.*s' at byte %" G_GSIZE_FORMAT,
                (int)MIN(i - start, 40), text + start, start);
    return FALSE;
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

        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            i++;
            continue;
        }
        if (done) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_QMP, "JSON message has more text after its end");
            return FALSE;
        }
        switch (c) {
        case '"':
        case '\'':
            if (!spm_json_skip_string(text, len, &i, error))
                return FALSE;
            continue;
        case '[':
        case '{':
            if (++depth > max_depth) {
                g_set_error(error, SPM_ERROR, SPM_ERROR_QMP,
                            "JSON message nested deeper than %u levels", max_depth);
                return FALSE;
            }
            break;
        case ']':
        case '}':
            if (depth == 0)
                return spm_json_refuse_char(error, text, i);
            if (--depth == 0)
                done = TRUE;
            break;
        case ',':
        case ':':
            break;
        default:
            if (c == '-' || g_ascii_isdigit(c)) {
                if (!spm_json_scan_number(text, len, &i, error))
                    return FALSE;
                continue;
            }
            if (g_ascii_isalpha(c)) {
                if (!spm_json_scan_word(text, len, &i, error))
                    return FALSE;
                continue;
            }
            /* '/' (a comment to json-glib), '#', control and non-ASCII bytes */
            return spm_json_refuse_char(error, text, i);
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
