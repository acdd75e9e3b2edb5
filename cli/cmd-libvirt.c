/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cmd-libvirt.c: virt-spm define, dumpxml and edit, through the libvirt API.
 *
 * They behave like their virsh namesakes, with virt-spm's conversion in
 * between: define converts the user's form and defines the result with
 * validation (libvirt keeps the old definition when that fails), dumpxml
 * gives the user's form back from the stored metadata, edit does both
 * around an editor.  The connection honours -c/--connect and
 * LIBVIRT_DEFAULT_URI (virConnectOpen(NULL) reads it), as virsh does.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "spm-config.h"
#include "spm-env.h"
#include "spm-cli-device.h"
#include "spm-convert.h"
#include "spm-error.h"
#include "spm-ledger-domain.h"
#include "spm-libvirt-conn.h"
#include "spm-xml.h"
#include "spm-xml-node.h"
#include "virt-spm-commands.h"

/* Policy from the configuration, plus what only the connection knows. */
static SpmConfig *
spm_libvirt_config(const SpmGlobalOptions *g, virConnectPtr conn,
                   const char *stand_in_driver, GError **error)
{
    g_autoptr(SpmConfig) config = spm_config_load(g->config_path, error);
    unsigned long version = 0;

    if (!config)
        return NULL;
    /* the daemon's version is the one that runs the domain */
    if (virConnectGetLibVersion(conn, &version) == 0)
        config->policy.host.libvirt_version = version;
    if (stand_in_driver) {
        g_free(config->policy.stand_in_driver);
        config->policy.stand_in_driver = g_strdup(stand_in_driver);
    }
    return g_steal_pointer(&config);
}

/*
 * The stand-in driver a converted @doc was made with (its metadata's
 * standIn), or NULL: converting it again must keep it, or a test domain
 * would silently switch to an SPM device.
 */
static char *
spm_doc_stand_in(xmlDocPtr doc)
{
    xmlNodePtr meta = spm_xml_metadata_element(xmlDocGetRootElement(doc));

    return meta ? spm_xml_prop(meta, "standIn") : NULL;
}

static void
spm_print_warnings(const SpmGlobalOptions *g, const SpmPlan *plan)
{
    if (g->quiet || !plan || !plan->warnings)
        return;
    for (guint i = 0; i < plan->warnings->len; i++)
        fprintf(stderr, "warning: %s\n", (const char *)plan->warnings->pdata[i]);
}

/*
 * Convert @doc and define it.  libvirt validates the XML (schema and
 * driver) before replacing anything: on failure the old definition stays.
 */
static virDomainPtr
spm_libvirt_define_doc(const SpmGlobalOptions *g, virConnectPtr conn, SpmConfig *config,
                       xmlDocPtr doc, const char *from, GError **error)
{
    g_autoptr(SpmPlan) plan = NULL;
    SpmDomainDef *def = NULL;
    g_autofree char *xml = NULL;
    virDomainPtr dom;

    /* the domain's emulator says which SPM device to generate, when it can */
    spm_cli_choose_device(config, doc);
    /* SPM devices without a host nodemask get free HBM nodes, kept in the definition */
    if (!spm_convert_reverse(doc, error) ||
        !spm_ledger_assign_config(config->keyfile, doc, g->quiet, error) ||
        !spm_convert_forward(doc, &config->policy, &plan, &def, error))
        return NULL;
    xml = spm_xml_format(doc);
    dom = virDomainDefineXMLFlags(conn, xml, VIR_DOMAIN_DEFINE_VALIDATE);
    if (!dom)
        spm_libvirt_error(error, "failed to define domain from %s", from);
    else
        spm_print_warnings(g, plan);
    g_clear_pointer(&plan, spm_plan_free);
    spm_domain_def_free(def);
    return dom;
}

static gboolean
spm_parse_options(int *argc, char ***argv, const GOptionEntry *entries,
                  const char *params, const char *summary, GError **error)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new(params);

    g_option_context_set_summary(ctx, summary);
    g_option_context_add_main_entries(ctx, entries, NULL);
    return g_option_context_parse(ctx, argc, argv, error);
}

static gboolean
spm_usage_error(GError **error, const char *command, const char *args)
{
    g_set_error(error, SPM_ERROR, SPM_ERROR_USAGE, "usage: virt-spm %s %s", command, args);
    return FALSE;
}

gboolean
spm_cmd_define(int argc, char **argv, const SpmGlobalOptions *g, int *st, GError **error)
{
    g_autofree char *stand_in = NULL;
    const GOptionEntry entries[] = {
        { "stand-in-driver", 0, 0, G_OPTION_ARG_STRING, &stand_in,
          "generate DRIVER instead of the SPM device (tests on a QEMU without one)", "DRIVER" },
        { NULL }
    };
    g_autoptr(virConnect) conn = NULL;
    g_autoptr(virDomain) dom = NULL;
    g_autoptr(SpmConfig) config = NULL;
    g_autoptr(xmlDoc) doc = NULL;

    if (!spm_parse_options(&argc, &argv, entries, "FILE",
                           "Convert a domain XML with SPM devices and define it in libvirt.", error))
        return FALSE;
    if (argc != 2)
        return spm_usage_error(error, "define", "FILE [--stand-in-driver=DRIVER]");

    if (!(doc = spm_xml_read_file(argv[1], error)))
        return FALSE;
    if (!stand_in)
        stand_in = spm_doc_stand_in(doc);
    if (!(conn = spm_libvirt_open(g->connect_uri, error)) ||
        !(config = spm_libvirt_config(g, conn, stand_in, error)) ||
        !(dom = spm_libvirt_define_doc(g, conn, config, doc, argv[1], error)))
        return FALSE;

    printf("Domain '%s' defined from %s\n", virDomainGetName(dom), argv[1]);
    return TRUE;
}

/* The user's form of @dom, and the stand-in it was converted with (nullable). */
static char *
spm_libvirt_user_xml(virDomainPtr dom, unsigned int flags, char **stand_in, GError **error)
{
    g_autofree char *xml = virDomainGetXMLDesc(dom, flags);
    g_autoptr(xmlDoc) doc = NULL;

    if (!xml) {
        spm_libvirt_error(error, "failed to get the XML of domain '%s'", virDomainGetName(dom));
        return NULL;
    }
    if (!(doc = spm_xml_read_memory(xml, strlen(xml), virDomainGetName(dom), error)))
        return NULL;
    if (stand_in)
        *stand_in = spm_doc_stand_in(doc);
    if (!spm_convert_reverse(doc, error))
        return NULL;
    return spm_xml_format(doc);
}

gboolean
spm_cmd_dumpxml(int argc, char **argv, const SpmGlobalOptions *g, int *st, GError **error)
{
    gboolean inactive = FALSE;
    gboolean secure = FALSE;
    const GOptionEntry entries[] = {
        { "inactive", 0, 0, G_OPTION_ARG_NONE, &inactive,
          "show the definition used at the next start", NULL },
        { "security-info", 0, 0, G_OPTION_ARG_NONE, &secure,
          "include security sensitive information", NULL },
        { NULL }
    };
    g_autoptr(virConnect) conn = NULL;
    g_autoptr(virDomain) dom = NULL;
    g_autofree char *xml = NULL;
    unsigned int flags = 0;

    if (!spm_parse_options(&argc, &argv, entries, "DOMAIN",
                           "Print a defined domain in the user's form (SPM devices in <devices>).",
                           error))
        return FALSE;
    if (argc != 2)
        return spm_usage_error(error, "dumpxml", "DOMAIN [--inactive] [--security-info]");
    if (inactive)
        flags |= VIR_DOMAIN_XML_INACTIVE;
    if (secure)
        flags |= VIR_DOMAIN_XML_SECURE;

    if (!(conn = spm_libvirt_open(g->connect_uri, error)) ||
        !(dom = spm_libvirt_lookup(conn, argv[1], error)) ||
        !(xml = spm_libvirt_user_xml(dom, flags, NULL, error)))
        return FALSE;
    fputs(xml, stdout);
    return TRUE;
}

/* $VISUAL, $EDITOR or vi on @path, through the shell as virsh does. */
static gboolean
spm_run_editor(const char *path, GError **error)
{
    const char *editor = spm_env(SPM_ENV_VISUAL);
    g_autofree char *quoted = g_shell_quote(path);
    g_autofree char *cmd = NULL;
    int status = 0;

    if (!editor)
        editor = spm_env(SPM_ENV_EDITOR);
    if (!editor)
        editor = "vi";
    cmd = g_strdup_printf("%s %s", editor, quoted);
    {
        const char *argv[] = { "/bin/sh", "-c", cmd, NULL };
        g_autoptr(GError) local = NULL;

        if (!g_spawn_sync(NULL, (char **)argv, NULL,
                          G_SPAWN_CHILD_INHERITS_STDIN, NULL, NULL, NULL, NULL,
                          &status, &local)) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "cannot run editor '%s': %s",
                        editor, local->message);
            return FALSE;
        }
    }
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                    "editor '%s' failed on '%s'", editor, path);
        return FALSE;
    }
    return TRUE;
}

/* Interactive only: ask as virsh edit does. */
static gboolean
spm_ask_retry(const char *message)
{
    char answer[16];

    if (!isatty(STDIN_FILENO))
        return FALSE;
    fprintf(stderr, "error: %s\n", message);
    for (;;) {
        fprintf(stderr, "Failed. Try again? [y,n]: ");
        fflush(stderr);
        if (!fgets(answer, sizeof(answer), stdin))
            return FALSE;
        if (answer[0] == 'y' || answer[0] == 'Y')
            return TRUE;
        if (answer[0] == 'n' || answer[0] == 'N')
            return FALSE;
    }
}

gboolean
spm_cmd_edit(int argc, char **argv, const SpmGlobalOptions *g, int *st, GError **error)
{
    const GOptionEntry entries[] = { { NULL } };
    g_autoptr(virConnect) conn = NULL;
    g_autoptr(virDomain) dom = NULL;
    g_autoptr(virDomain) defined = NULL;
    g_autoptr(SpmConfig) config = NULL;
    g_autofree char *original = NULL;
    g_autofree char *stand_in = NULL;
    g_autofree char *tmp = NULL;
    g_autofree char *name = NULL;
    int fd;

    if (!spm_parse_options(&argc, &argv, entries, "DOMAIN",
                           "Edit a domain in the user's form, then convert and define it.", error))
        return FALSE;
    if (argc != 2)
        return spm_usage_error(error, "edit", "DOMAIN");

    if (!(conn = spm_libvirt_open(g->connect_uri, error)) ||
        !(dom = spm_libvirt_lookup(conn, argv[1], error)) ||
        !(original = spm_libvirt_user_xml(dom, VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE,
                                          &stand_in, error)) ||
        !(config = spm_libvirt_config(g, conn, stand_in, error)))
        return FALSE;
    name = g_strdup(virDomainGetName(dom));

    if ((fd = g_file_open_tmp("virt-spm-XXXXXX.xml", &tmp, error)) < 0)
        return FALSE;
    close(fd);
    if (!g_file_set_contents(tmp, original, -1, error))
        goto fail;

    for (;;) {
        g_autofree char *edited = NULL;
        g_autoptr(xmlDoc) doc = NULL;
        g_autoptr(GError) local = NULL;

        if (!spm_run_editor(tmp, error) ||
            !g_file_get_contents(tmp, &edited, NULL, error))
            goto fail;
        if (g_str_equal(edited, original)) {
            printf("Domain '%s' XML configuration not changed.\n", name);
            unlink(tmp);
            return TRUE;
        }
        if ((doc = spm_xml_read_memory(edited, strlen(edited), tmp, &local)) &&
            (defined = spm_libvirt_define_doc(g, conn, config, doc, tmp, &local)))
            break;
        if (spm_ask_retry(local->message))
            continue;
        /* nothing is lost: the edit stays where the user can take it up */
        g_set_error(error, SPM_ERROR, local->domain == SPM_ERROR ? local->code : SPM_ERROR_INVALID,
                    "%s (domain '%s' unchanged; your edit is kept in %s)",
                    local->message, name, tmp);
        return FALSE;
    }

    printf("Domain '%s' XML configuration edited.\n", virDomainGetName(defined));
    unlink(tmp);
    return TRUE;

 fail:
    unlink(tmp);
    return FALSE;
}
