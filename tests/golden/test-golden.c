/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-golden.c: XML in, plan/argv/XML out, compared with files, as
 * libvirt's qemuxmlconftest does.
 *
 * For every tests/data/NAME.xml (NAME.conf, when present, is layered over
 * tests/data/golden.conf for that case):
 *   - it plans:  NAME.plan.json, NAME.plan.txt, NAME.argv and NAME.convert.xml
 *     must match; converting the converted XML again gives the same bytes;
 *     reversing it gives back the input as written;
 *   - it fails:  NAME.err holds "CODE: MESSAGE" (CODE invalid, unsupported,
 *     ...), the exact one-line error.
 * VIRT_SPM_TEST_REGENERATE=1 writes the expected files instead of
 * comparing (review the diff before committing it).
 */
#include <string.h>
#include <glib/gstdio.h>

#include "spm-argv.h"
#include "spm-config.h"
#include "spm-convert.h"
#include "spm-domain-parse.h"
#include "spm-error.h"
#include "spm-plan-format.h"
#include "spm-test-golden.h"
#include "spm-xml.h"

static const char *data_dir;

static const char *
spm_test_code_name(const GError *error)
{
    if (error->domain != SPM_ERROR)
        return "other";
    switch ((SpmErrorCode)error->code) {
    case SPM_ERROR_INVALID: return "invalid";
    case SPM_ERROR_USAGE: return "usage";
    case SPM_ERROR_UNSUPPORTED: return "unsupported";
    case SPM_ERROR_MISMATCH: return "mismatch";
    case SPM_ERROR_SYSTEM: return "system";
    case SPM_ERROR_LIBVIRT: return "libvirt";
    case SPM_ERROR_QMP: return "qmp";
    case SPM_ERROR_TIMEOUT: return "timeout";
    }
    return "other";
}

/* Compare @actual with the file @name.@suffix, or write it when regenerating. */
static void
spm_test_compare(const char *name, const char *suffix, const char *actual)
{
    g_autofree char *path = g_strdup_printf("%s/%s.%s", data_dir, name, suffix);

    spm_test_golden_compare(path, actual);
}

static void
spm_test_remove_stale(const char *name, const char *const *suffixes)
{
    if (!spm_test_golden_regenerating())
        return;
    for (const char *const *s = suffixes; *s; s++) {
        g_autofree char *path = g_strdup_printf("%s/%s.%s", data_dir, name, *s);

        g_unlink(path);
    }
}

static SpmConfig *
spm_test_config(const char *name)
{
    g_autofree char *base = g_build_filename(data_dir, "golden.conf", NULL);
    g_autofree char *own = g_strdup_printf("%s/%s.conf", data_dir, name);
    g_autoptr(GError) error = NULL;
    SpmConfig *config = spm_config_load(base, &error);

    g_assert_no_error(error);
    if (g_file_test(own, G_FILE_TEST_EXISTS)) {
        g_autoptr(GKeyFile) kf = g_key_file_new();

        g_assert_true(g_key_file_load_from_file(kf, own, G_KEY_FILE_NONE, &error));
        g_assert_true(spm_config_apply_keyfile(config, kf, &error));
    }
    return config;
}

/* Everything but the final convert, which runs on its own document. */
static gboolean
spm_test_plan(const char *path, SpmConfig *config, char **json, char **table,
              char **argv_text, GError **error)
{
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(SpmPlan) plan = NULL;
    g_autoptr(SpmDomainDef) def = NULL;
    g_auto(GStrv) argv = NULL;
    g_autoptr(GString) text = g_string_new(NULL);

    if (!(doc = spm_xml_read_file(path, error)) ||
        !(def = spm_domain_def_parse(doc, error)) ||
        !spm_domain_validate_schema(doc, g_getenv("VIRT_SPM_SCHEMA"), error))
        return FALSE;
    if (!(plan = spm_plan_build(def, &config->policy, error)))
        return FALSE;
    if (!(argv = spm_argv_build(plan, config->policy.stand_in_driver, error)))
        return FALSE;
    for (char **a = argv; *a; a++)
        g_string_append_printf(text, "%s\n", *a);
    *json = spm_plan_to_json(plan, TRUE);
    *table = spm_plan_to_table(plan);
    *argv_text = g_string_free(g_steal_pointer(&text), FALSE);
    return TRUE;
}

static void
spm_test_golden(gconstpointer data)
{
    const char *name = data;
    g_autofree char *path = g_strdup_printf("%s/%s.xml", data_dir, name);
    g_autoptr(SpmConfig) config = spm_test_config(name);
    g_autoptr(GError) error = NULL;
    g_autofree char *json = NULL;
    g_autofree char *table = NULL;
    g_autofree char *argv_text = NULL;
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(xmlDoc) again = NULL;
    g_autoptr(xmlDoc) input = NULL;
    g_autofree char *converted = NULL;
    g_autofree char *converted_twice = NULL;
    g_autofree char *reversed = NULL;
    g_autofree char *original = NULL;
    static const char *const ok_files[] = { "plan.json", "plan.txt", "argv", "convert.xml", NULL };
    static const char *const err_files[] = { "err", NULL };

    if (!spm_test_plan(path, config, &json, &table, &argv_text, &error)) {
        g_autofree char *line = NULL;

        g_autoptr(GString) message = NULL;

        g_assert_nonnull(error);
        g_assert_null(strchr(error->message, '\n'));
        /* File errors name the file: keep the golden files free of this checkout's path. */
        message = g_string_new(error->message);
        g_string_replace(message, data_dir, "tests/data", 0);
        line = g_strdup_printf("%s: %s\n", spm_test_code_name(error), message->str);
        spm_test_remove_stale(name, ok_files);
        spm_test_compare(name, "err", line);
        return;
    }
    spm_test_remove_stale(name, err_files);
    spm_test_compare(name, "plan.json", json);
    spm_test_compare(name, "plan.txt", table);
    spm_test_compare(name, "argv", argv_text);

    /* convert, and the two properties that make it safe to run anywhere */
    doc = spm_xml_read_file(path, &error);
    g_assert_no_error(error);
    g_assert_true(spm_convert_forward(doc, &config->policy, NULL, NULL, &error));
    g_assert_no_error(error);
    converted = spm_xml_format(doc);
    spm_test_compare(name, "convert.xml", converted);

    again = spm_xml_read_memory(converted, strlen(converted), "converted", &error);
    g_assert_no_error(error);
    g_assert_true(spm_convert_forward(again, &config->policy, NULL, NULL, &error));
    converted_twice = spm_xml_format(again);
    g_assert_cmpstr(converted_twice, ==, converted);

    g_assert_true(spm_convert_reverse(again, &error));
    reversed = spm_xml_format(again);
    input = spm_xml_read_file(path, &error);
    g_assert_no_error(error);
    original = spm_xml_format(input);
    g_assert_cmpstr(reversed, ==, original);
}

static gint
spm_test_name_cmp(gconstpointer a, gconstpointer b)
{
    return g_strcmp0(*(char *const *)a, *(char *const *)b);
}

int
main(int argc, char **argv)
{
    g_autoptr(GDir) dir = NULL;
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *dir_path = NULL;

    g_test_init(&argc, &argv, NULL);
    dir_path = g_build_filename(g_getenv("SPM_SOURCE_ROOT"), "tests", "data", NULL);
    data_dir = dir_path;

    dir = g_dir_open(data_dir, 0, NULL);
    g_assert_nonnull(dir);
    for (const char *f; (f = g_dir_read_name(dir));) {
        if (g_str_has_suffix(f, ".xml") && !g_str_has_suffix(f, ".convert.xml"))
            g_ptr_array_add(names, g_strndup(f, strlen(f) - 4));
    }
    g_ptr_array_sort(names, spm_test_name_cmp);
    g_assert_cmpuint(names->len, >, 0);
    for (guint i = 0; i < names->len; i++) {
        g_autofree char *test = g_strdup_printf("/golden/%s", (char *)names->pdata[i]);

        g_test_add_data_func(test, names->pdata[i], spm_test_golden);
    }
    return g_test_run();
}
