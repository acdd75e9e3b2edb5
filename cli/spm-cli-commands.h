/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-cli-commands.h: every command of virt-spm(1), once.
 *
 * One row a command: its name (the function is spm_cmd_NAME), the half
 * that runs it (offline: virt-spm itself; libvirt: virt-spm-libvirt, which
 * links libvirt, spm-cli.h says why), its arguments and its summary.  Each
 * program builds its dispatch table from this list with SPM_CLI_TABLE(),
 * so usage, dispatch and the hand-over to the other half cannot disagree.
 */
#pragma once

#define SPM_CLI_COMMANDS(ROW) \
    ROW(validate, offline, "FILE", "check a domain XML with SPM devices") \
    ROW(plan, offline, "FILE [--json]", "print where QEMU will place every memory device") \
    ROW(convert, offline, "FILE [--reverse]", "print the libvirt-ready XML (or the user's form back)") \
    ROW(argv, offline, "FILE", "print the QEMU arguments virt-spm generates") \
    ROW(define, libvirt, "FILE", "convert and define a domain in libvirt") \
    ROW(dumpxml, libvirt, "DOMAIN", "print a defined domain in the user's form") \
    ROW(edit, libvirt, "DOMAIN", "edit a domain in the user's form, as virsh edit") \
    ROW(audit, libvirt, "DOMAIN | --qmp PATH --plan FILE", "compare a running guest with its plan") \
    ROW(status, libvirt, "[--json]", "every SPM domain and its last audit verdict") \
    ROW(host, offline, "[--json]", "HBM nodes: capacity, reserved, free, holders") \
    ROW(nova, offline, "flavor|provider-config ...", "OpenStack Nova: flavor properties, Placement provider file")

/* The function of a row when @half is the program's own @self, else NULL. */
#define SPM_CLI_FUNC_offline_offline(name) spm_cmd_##name
#define SPM_CLI_FUNC_offline_libvirt(name) NULL
#define SPM_CLI_FUNC_libvirt_offline(name) NULL
#define SPM_CLI_FUNC_libvirt_libvirt(name) spm_cmd_##name
#define SPM_CLI_FUNC(half, self, name) SPM_CLI_FUNC_##half##_##self(name)

#define SPM_CLI_ROW_offline(name, half, args, summary) \
    { #name, SPM_CLI_FUNC(half, offline, name), args, summary },
#define SPM_CLI_ROW_libvirt(name, half, args, summary) \
    { #name, SPM_CLI_FUNC(half, libvirt, name), args, summary },

/* The dispatch table of the program that is the @self half. */
#define SPM_CLI_TABLE(self) { SPM_CLI_COMMANDS(SPM_CLI_ROW_##self) }
