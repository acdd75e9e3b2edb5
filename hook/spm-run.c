/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-run.c: run a helper program within a deadline
 */
#include "spm-run.h"
#include "spm-error.h"

#include <gio/gio.h>

typedef struct {
    GMainLoop *loop;
    char *output;
    char *errors;
    GError *error;
    gboolean finished;
    gboolean timed_out;
} SpmRun;

static void
spm_run_done(GObject *source, GAsyncResult *result, gpointer opaque)
{
    SpmRun *run = opaque;

    g_subprocess_communicate_utf8_finish(G_SUBPROCESS(source), result,
                                         &run->output, &run->errors, &run->error);
    run->finished = TRUE;
    g_main_loop_quit(run->loop);
}

static gboolean
spm_run_timeout(gpointer opaque)
{
    SpmRun *run = opaque;

    run->timed_out = TRUE;
    g_main_loop_quit(run->loop);
    return G_SOURCE_REMOVE;
}

/* The one runner: @errors NULL = standard error merged (@merge) or discarded. */
static gboolean
spm_run(const char *const *argv, gboolean merge_stderr, guint timeout_ms,
        char **output, char **errors, int *exit_status, GError **error)
{
    g_autoptr(GMainContext) context = g_main_context_new();
    g_autoptr(GMainLoop) loop = g_main_loop_new(context, FALSE);
    g_autoptr(GSource) timeout = g_timeout_source_new(timeout_ms);
    g_autoptr(GSubprocess) proc = NULL;
    g_autoptr(GError) local = NULL;
    g_autofree char *command = g_strjoinv(" ", (char **)argv);
    SpmRun run = { .loop = loop };
    GSubprocessFlags flags = G_SUBPROCESS_FLAGS_STDOUT_PIPE;

    if (errors)
        flags |= G_SUBPROCESS_FLAGS_STDERR_PIPE;
    else
        flags |= merge_stderr ? G_SUBPROCESS_FLAGS_STDERR_MERGE : G_SUBPROCESS_FLAGS_STDERR_SILENCE;
    g_main_context_push_thread_default(context);
    proc = g_subprocess_newv(argv, flags, &local);
    if (proc) {
        g_subprocess_communicate_utf8_async(proc, NULL, NULL, spm_run_done, &run);
        g_source_set_callback(timeout, spm_run_timeout, &run, NULL);
        g_source_attach(timeout, context);
        g_main_loop_run(loop);
        g_source_destroy(timeout);
        if (run.timed_out) {
            g_subprocess_force_exit(proc);
            /* the pending communicate finishes once the pipe closes */
            while (!run.finished)
                g_main_context_iteration(context, TRUE);
        }
    }
    g_main_context_pop_thread_default(context);

    if (!proc) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "cannot run '%s': %s",
                    argv[0], local->message);
        return FALSE;
    }
    if (run.timed_out) {
        g_clear_error(&run.error);
        g_free(run.output);
        g_free(run.errors);
        g_set_error(error, SPM_ERROR, SPM_ERROR_TIMEOUT, "'%s' gave no answer within %u ms",
                    command, timeout_ms);
        return FALSE;
    }
    if (run.error) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "reading '%s': %s",
                    command, run.error->message);
        g_error_free(run.error);
        g_free(run.output);
        g_free(run.errors);
        return FALSE;
    }
    *output = run.output ? run.output : g_strdup("");
    if (errors)
        *errors = run.errors ? run.errors : g_strdup("");
    if (exit_status) {
        /* the communicate has reaped it */
        *exit_status = g_subprocess_get_if_exited(proc) ? g_subprocess_get_exit_status(proc) : -1;
    }
    return TRUE;
}

gboolean
spm_run_capture(const char *const *argv, gboolean merge_stderr, guint timeout_ms,
                char **output, GError **error)
{
    return spm_run(argv, merge_stderr, timeout_ms, output, NULL, NULL, error);
}

gboolean
spm_run_capture_status(const char *const *argv, guint timeout_ms, char **output,
                       char **errors, int *exit_status, GError **error)
{
    return spm_run(argv, FALSE, timeout_ms, output, errors, exit_status, error);
}
