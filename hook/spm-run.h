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

G_END_DECLS
