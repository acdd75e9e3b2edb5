/*
 * virt-spm.c: the command-line tool; dispatches to the sub-commands.
 */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "spm-build-config.h"
#include "spm-error.h"
#include "virt-spm-commands.h"

static const SpmCommand spm_commands[] = {
    { "validate", spm_cmd_validate, "FILE", "check a domain XML with SPM devices" },
    { "plan", spm_cmd_plan, "FILE [--json]", "print where QEMU will place every memory device" },
    { "convert", spm_cmd_convert, "FILE [--reverse]", "print the libvirt-ready XML (or the user's form back)" },
    { "argv", spm_cmd_argv, "FILE", "print the QEMU arguments virt-spm generates" },
    { "define", spm_cmd_define, "FILE", "convert and define a domain in libvirt" },
    { "dumpxml", spm_cmd_dumpxml, "DOMAIN", "print a defined domain in the user's form" },
    { "edit", spm_cmd_edit, "DOMAIN", "edit a domain in the user's form, as virsh edit" },
    { "audit", spm_cmd_audit, "DOMAIN | --qmp PATH --plan FILE", "compare a running guest with its plan" },
    { "status", spm_cmd_status, "[--json]", "every SPM domain and its last audit verdict" },
};

static void
spm_print_usage(FILE *out)
{
    fprintf(out,
            "Usage: virt-spm [-c URI] [--config FILE] COMMAND [ARGS...]\n"
            "\n"
            "Commands:\n");
    for (gsize i = 0; i < G_N_ELEMENTS(spm_commands); i++)
        fprintf(out, "  %-9s %-32s %s\n", spm_commands[i].name,
                spm_commands[i].args, spm_commands[i].summary);
    fprintf(out,
            "\n"
            "Options:\n"
            "  -c, --connect=URI   libvirt connection URI (default: $LIBVIRT_DEFAULT_URI or qemu:///system)\n"
            "  --config=FILE       configuration file (default: " VIRT_SPM_SYSCONFDIR "/virt-spm.conf)\n"
            "  -q, --quiet         print no warnings\n"
            "  -V, --version       print the version\n"
            "  -h, --help          print this help\n"
            "\n"
            "'virt-spm COMMAND --help' describes a command. Exit status: 0 success,\n"
            "1 invalid input or failure, 2 usage error.\n");
}

int
main(int argc, char **argv)
{
    SpmGlobalOptions global = { 0 };
    g_autoptr(GError) error = NULL;
    int status = 0;
    int i;

    setlocale(LC_ALL, "");

    /* Global options come before the command, as with virsh. */
    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];

        if (arg[0] != '-')
            break;
        if (g_str_equal(arg, "-h") || g_str_equal(arg, "--help")) {
            spm_print_usage(stdout);
            return 0;
        } else if (g_str_equal(arg, "-V") || g_str_equal(arg, "--version")) {
            printf("%s\n", VIRT_SPM_VERSION);
            return 0;
        } else if (g_str_equal(arg, "-q") || g_str_equal(arg, "--quiet")) {
            global.quiet = TRUE;
        } else if (g_str_equal(arg, "-c") || g_str_equal(arg, "--connect") ||
                   g_str_equal(arg, "--config")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "error: option '%s' needs a value\n", arg);
                return 2;
            }
            if (g_str_equal(arg, "--config"))
                global.config_path = argv[++i];
            else
                global.connect_uri = argv[++i];
        } else if (g_str_has_prefix(arg, "--connect=")) {
            global.connect_uri = arg + strlen("--connect=");
        } else if (g_str_has_prefix(arg, "--config=")) {
            global.config_path = arg + strlen("--config=");
        } else {
            fprintf(stderr, "error: unknown option '%s'\n", arg);
            spm_print_usage(stderr);
            return 2;
        }
    }

    if (i >= argc) {
        spm_print_usage(stderr);
        return 2;
    }

    for (gsize c = 0; c < G_N_ELEMENTS(spm_commands); c++) {
        if (!g_str_equal(argv[i], spm_commands[c].name))
            continue;
        if (!spm_commands[c].func(argc - i, argv + i, &global, &status, &error)) {
            fprintf(stderr, "error: %s\n", error->message);
            return spm_error_exit_status(error);
        }
        return status;
    }

    fprintf(stderr, "error: unknown command '%s'\n", argv[i]);
    spm_print_usage(stderr);
    return 2;
}
