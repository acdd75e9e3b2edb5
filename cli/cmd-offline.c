/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-offline.c: validate, plan, convert, argv: the commands that work on a
 * file and need no libvirt connection.
 */
#include <stdio.h>

#include "spm-argv.h"
#include "spm-cli-device.h"
#include "spm-config.h"
#include "spm-convert.h"
#include "spm-domain-parse.h"
#include "spm-error.h"
#include "spm-plan-format.h"
#include "spm-xml.h"
#include "virt-spm-commands.h"

/* What every offline command loads: the document, its model and plan. */
typedef struct {
    SpmConfig *config;
    xmlDocPtr doc;
    SpmDomainDef *def;
    SpmPlan *plan;
} SpmOffline;

static void
spm_offline_clear(SpmOffline *o)
{
    g_clear_pointer(&o->plan, spm_plan_free);
    g_clear_pointer(&o->def, spm_domain_def_free);
    g_clear_pointer(&o->doc, xmlFreeDoc);
    g_clear_pointer(&o->config, spm_config_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SpmOffline, spm_offline_clear)

/*
 * Parse the command's options; exactly one FILE must remain.  A usage
 * error is SPM_ERROR_USAGE (exit 2), as with virsh.
 */
static gboolean
spm_offline_parse_args(int argc, char **argv, const char *summary,
                       GOptionEntry *entries, char **file, GError **error)
{
    g_autoptr(GOptionContext) ctx = NULL;
    g_autofree char *param = g_strdup_printf("%s FILE - %s", argv[0], summary);
    g_autoptr(GError) local = NULL;
    g_auto(GStrv) args = g_new0(char *, argc + 1);

    for (int i = 0; i < argc; i++)
        args[i] = g_strdup(argv[i]);

    ctx = g_option_context_new(param);
    g_option_context_set_help_enabled(ctx, TRUE);
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_strict_posix(ctx, FALSE);
    if (!g_option_context_parse_strv(ctx, &args, &local)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_USAGE, "%s: %s", argv[0], local->message);
        return FALSE;
    }
    if (g_strv_length(args) != 2) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_USAGE,
                    "%s: expected exactly one FILE ('-' for standard input)", argv[0]);
        return FALSE;
    }
    *file = g_strdup(args[1]);
    return TRUE;
}

static gboolean
spm_offline_load(SpmOffline *o, const char *file, const SpmGlobalOptions *global,
                 const char *stand_in, gboolean plan, GError **error)
{
    if (!(o->config = spm_config_load(global->config_path, error)))
        return FALSE;
    if (stand_in) {
        g_free(o->config->policy.stand_in_driver);
        o->config->policy.stand_in_driver = g_strdup(stand_in);
    }
    if (!(o->doc = spm_xml_read_file(file, error)))
        return FALSE;
    /* the domain's emulator says which SPM device to generate, when it can */
    spm_cli_choose_device(o->config, o->doc);
    if (!plan)
        return TRUE;
    /* The parser's messages name the value; the schema is the backstop. */
    if (!(o->def = spm_domain_def_parse(o->doc, error)))
        return FALSE;
    if (!spm_domain_validate_schema(o->doc, spm_config_schema_path(), error))
        return FALSE;
    if (!(o->plan = spm_plan_build(o->def, &o->config->policy, error)))
        return FALSE;
    return TRUE;
}

static void
spm_print_warnings(const SpmGlobalOptions *global, const SpmPlan *plan)
{
    if (global->quiet || !plan)
        return;
    for (guint i = 0; i < plan->warnings->len; i++)
        fprintf(stderr, "warning: %s\n", (const char *)g_ptr_array_index(plan->warnings, i));
}

/* --stand-in DRIVER (hidden): the tests generate a device Debian's QEMU has. */
#define SPM_OFFLINE_STAND_IN_ENTRY(var) \
    { "stand-in", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &(var), \
      "testing: generate DRIVER instead of the SPM device", "DRIVER" }

gboolean
spm_cmd_validate(int argc, char **argv, const SpmGlobalOptions *global, int *st, GError **error)
{
    g_auto(SpmOffline) o = { 0 };
    GOptionEntry entries[] = { { NULL } };
    g_autofree char *file = NULL;
    guint nspm;

    if (!spm_offline_parse_args(argc, argv, "check a domain XML with SPM devices",
                                entries, &file, error) ||
        !spm_offline_load(&o, file, global, NULL, TRUE, error))
        return FALSE;

    spm_print_warnings(global, o.plan);
    nspm = spm_domain_def_count_model(o.def, SPM_MEM_MODEL_SPM);
    printf("Domain '%s' is valid: %u SPM device%s, %u memory device%s planned\n",
           o.def->name ? o.def->name : "(unnamed)",
           nspm, nspm == 1 ? "" : "s",
           o.plan->devices->len, o.plan->devices->len == 1 ? "" : "s");
    return TRUE;
}

gboolean
spm_cmd_plan(int argc, char **argv, const SpmGlobalOptions *global, int *st, GError **error)
{
    g_auto(SpmOffline) o = { 0 };
    gboolean json = FALSE;
    g_autofree char *stand_in = NULL;
    GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "print the plan as JSON", NULL },
        SPM_OFFLINE_STAND_IN_ENTRY(stand_in),
        { NULL }
    };
    g_autofree char *out = NULL;
    g_autofree char *file = NULL;

    if (!spm_offline_parse_args(argc, argv, "print where QEMU will place every memory device",
                                entries, &file, error) ||
        !spm_offline_load(&o, file, global, stand_in, TRUE, error))
        return FALSE;

    out = json ? spm_plan_to_json(o.plan, TRUE) : spm_plan_to_table(o.plan);
    fputs(out, stdout);
    return TRUE;
}

gboolean
spm_cmd_convert(int argc, char **argv, const SpmGlobalOptions *global, int *st, GError **error)
{
    g_auto(SpmOffline) o = { 0 };
    gboolean reverse = FALSE;
    g_autofree char *stand_in = NULL;
    GOptionEntry entries[] = {
        { "reverse", 'r', 0, G_OPTION_ARG_NONE, &reverse, "give back the user's form of a converted domain", NULL },
        SPM_OFFLINE_STAND_IN_ENTRY(stand_in),
        { NULL }
    };
    g_autofree char *out = NULL;
    g_autofree char *file = NULL;

    if (!spm_offline_parse_args(argc, argv, "print the libvirt-ready XML (or, with --reverse, the user's form)",
                                entries, &file, error) ||
        !spm_offline_load(&o, file, global, stand_in, FALSE, error))
        return FALSE;

    if (reverse) {
        if (!spm_convert_reverse(o.doc, error))
            return FALSE;
    } else {
        /*
         * Convert parses first (its errors name the value); the schema then
         * checks what the user wrote, not virt-spm's own output.
         */
        g_autoptr(xmlDoc) input = xmlCopyDoc(o.doc, 1);

        if (!spm_convert_forward(o.doc, &o.config->policy, &o.plan, &o.def, error) ||
            !spm_domain_validate_schema(input, spm_config_schema_path(), error))
            return FALSE;
        spm_print_warnings(global, o.plan);
    }
    out = spm_xml_format(o.doc);
    fputs(out, stdout);
    return TRUE;
}

gboolean
spm_cmd_argv(int argc, char **argv, const SpmGlobalOptions *global, int *st, GError **error)
{
    g_auto(SpmOffline) o = { 0 };
    g_autofree char *stand_in = NULL;
    GOptionEntry entries[] = {
        SPM_OFFLINE_STAND_IN_ENTRY(stand_in),
        { NULL }
    };
    g_auto(GStrv) args = NULL;
    g_autofree char *file = NULL;

    if (!spm_offline_parse_args(argc, argv, "print the QEMU arguments virt-spm generates",
                                entries, &file, error) ||
        !spm_offline_load(&o, file, global, stand_in, TRUE, error))
        return FALSE;
    if (!(args = spm_argv_build(o.plan, o.config->policy.stand_in_driver, error)))
        return FALSE;

    spm_print_warnings(global, o.plan);
    /* One option and its value per line, quoted for a POSIX shell. */
    for (char **a = args; *a; a++) {
        g_autofree char *q = g_shell_quote(*a);

        if ((*a)[0] == '-' && a[1]) {
            g_autofree char *qv = g_shell_quote(a[1]);

            printf("%s %s\n", *a, qv);
            a++;
        } else {
            printf("%s\n", q);
        }
    }
    return TRUE;
}
