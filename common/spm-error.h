/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-error.h: the one error convention of virt-spm
 *
 * Every fallible function takes a GError ** last and returns FALSE/NULL on
 * failure.  Messages are one line, name the element or option and the value,
 * and never end with a period or newline.  The error code decides the exit
 * status of the command-line tools (see spm_error_exit_status()).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SPM_ERROR (spm_error_quark())
GQuark spm_error_quark(void);

typedef enum {
    SPM_ERROR_INVALID = 1,    /* bad input: XML, values, placement; exit 1 */
    SPM_ERROR_USAGE,          /* bad command line; exit 2 */
    SPM_ERROR_UNSUPPORTED,    /* valid, but this QEMU/libvirt/firmware cannot do it; exit 1 */
    SPM_ERROR_MISMATCH,       /* audit: QEMU placed something elsewhere than planned; exit 1 */
    SPM_ERROR_SYSTEM,         /* I/O, sockets, processes; exit 1 */
    SPM_ERROR_LIBVIRT,        /* libvirt API failure; exit 1 */
    SPM_ERROR_QMP,            /* QMP protocol or command failure; exit 1 */
    SPM_ERROR_TIMEOUT,        /* a deadline passed; exit 1 */
} SpmErrorCode;

/* Exit status of a command that failed with @error (NULL means success). */
int spm_error_exit_status(const GError *error);

/*
 * @text as it may appear in a one-line message: control characters become
 * \n, \r, \t or \xNN, and beyond @max bytes (0: no limit) it is cut with
 * "...".  For values that come from the user, a file or a peer.
 */
char *spm_error_printable(const char *text, gsize max);

G_END_DECLS
