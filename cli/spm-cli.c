/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-cli.c: global options, usage and dispatch of virt-spm(1)
 */
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "spm-build-config.h"
#include "spm-cli.h"
#include "spm-error.h"

static void
spm_cli_usage(FILE *out, const SpmCommand *table, gsize ntable)
{
    fprintf(out,
            "Usage: virt-spm [-c URI] [--config FILE] COMMAND [ARGS...]\n"
            "\n"
            "Commands:\n");
    for (gsize i = 0; i < ntable; i++)
        fprintf(out, "  %-9s %-32s %s\n", table[i].name, table[i].args, table[i].summary);
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
spm_cli_main(int argc, char **argv,
             const SpmCommand *table, gsize ntable,
             int (*external)(int argc, char **argv))
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
            spm_cli_usage(stdout, table, ntable);
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
            spm_cli_usage(stderr, table, ntable);
            return 2;
        }
    }

    if (i >= argc) {
        spm_cli_usage(stderr, table, ntable);
        return 2;
    }

    for (gsize c = 0; c < ntable; c++) {
        if (!g_str_equal(argv[i], table[c].name))
            continue;
        if (!table[c].func) {
            if (external)
                return external(argc, argv);
            break;
        }
        if (!table[c].func(argc - i, argv + i, &global, &status, &error)) {
            fprintf(stderr, "error: %s\n", error->message);
            return spm_error_exit_status(error);
        }
        return status;
    }

    fprintf(stderr, "error: unknown command '%s'\n", argv[i]);
    spm_cli_usage(stderr, table, ntable);
    return 2;
}
