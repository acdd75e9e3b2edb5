/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-run.h: run a helper program and read what it prints, within a
 * deadline -- for the hook, which must never hang libvirt's start.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/*
 * Run @argv (standard input /dev/null: the hook's own is libvirt's XML;
 * standard error merged into the output when @merge_stderr, else
 * discarded) and set *@output to all it printed, whatever its exit status.
 * Errors name the command: SPM_ERROR_SYSTEM "cannot run 'PROG': ..." and
 * "reading 'ARGV...': ...", SPM_ERROR_TIMEOUT "'ARGV...' gave no answer
 * within N ms" (the program is killed).
 */
gboolean spm_run_capture(const char *const *argv,
                         gboolean merge_stderr,
                         guint timeout_ms,
                         char **output,
                         GError **error);

/*
 * The same with standard output and standard error apart, and the exit
 * status (-1 when a signal ended it): for a helper that answers on
 * standard output and explains a failure in one line on standard error.
 */
gboolean spm_run_capture_status(const char *const *argv,
                                guint timeout_ms,
                                char **output,
                                char **errors,
                                int *exit_status,
                                GError **error);

G_END_DECLS
