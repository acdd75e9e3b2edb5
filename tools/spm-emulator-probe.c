/*
 * spm-emulator-probe.c: does a QEMU binary have a device?
 */
#include "spm-emulator-probe.h"
#include "spm-error.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <gio/gio.h>

#define SPM_PROBE_GROUP "probe"

const char *
spm_emulator_cache_dir(void)
{
    const char *env = g_getenv("SPM_HOOK_CACHE_DIR");

    return env && *env ? env : SPM_EMULATOR_CACHE_DIR;
}

/* One file per (binary, driver): the name hashes both. */
static char *
spm_emulator_cache_file(const char *cache_dir, const char *emulator, const char *driver)
{
    g_autofree char *key = g_strdup_printf("%s\n%s", emulator, driver);
    g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, key, -1);
    g_autofree char *base = g_strdup_printf("emulator-%.32s.ini", sum);

    return g_build_filename(cache_dir, base, NULL);
}

static char *
spm_emulator_stamp(const struct stat *st)
{
    return g_strdup_printf("%lld.%09ld", (long long)st->st_mtim.tv_sec, (long)st->st_mtim.tv_nsec);
}

/* TRUE and *has_device when the cache holds an answer for this very binary. */
static gboolean
spm_emulator_cache_lookup(const char *file, const char *emulator, const char *driver,
                          const struct stat *st, gboolean *has_device)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *path = NULL;
    g_autofree char *drv = NULL;
    g_autofree char *mtime = NULL;
    g_autofree char *stamp = spm_emulator_stamp(st);
    g_autoptr(GError) error = NULL;
    guint64 size;
    gboolean has;

    if (!g_key_file_load_from_file(kf, file, G_KEY_FILE_NONE, NULL))
        return FALSE;
    path = g_key_file_get_string(kf, SPM_PROBE_GROUP, "emulator", NULL);
    drv = g_key_file_get_string(kf, SPM_PROBE_GROUP, "driver", NULL);
    mtime = g_key_file_get_string(kf, SPM_PROBE_GROUP, "mtime", NULL);
    size = g_key_file_get_uint64(kf, SPM_PROBE_GROUP, "size", NULL);
    has = g_key_file_get_boolean(kf, SPM_PROBE_GROUP, "has_device", &error);
    if (error || g_strcmp0(path, emulator) != 0 || g_strcmp0(drv, driver) != 0 ||
        g_strcmp0(mtime, stamp) != 0 || size != (guint64)st->st_size)
        return FALSE;
    *has_device = has;
    return TRUE;
}

static void
spm_emulator_cache_store(const char *cache_dir, const char *file, const char *emulator,
                         const char *driver, const struct stat *st, gboolean has_device)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autofree char *stamp = spm_emulator_stamp(st);
    g_autofree char *data = NULL;

    g_key_file_set_string(kf, SPM_PROBE_GROUP, "emulator", emulator);
    g_key_file_set_string(kf, SPM_PROBE_GROUP, "driver", driver);
    g_key_file_set_uint64(kf, SPM_PROBE_GROUP, "size", st->st_size);
    g_key_file_set_string(kf, SPM_PROBE_GROUP, "mtime", stamp);
    g_key_file_set_boolean(kf, SPM_PROBE_GROUP, "has_device", has_device);
    data = g_key_file_to_data(kf, NULL, NULL);
    /* best effort: the next start probes again when this fails */
    if (g_mkdir_with_parents(cache_dir, 0755) == 0)
        g_file_set_contents(file, data, -1, NULL);
}

typedef struct {
    GMainLoop *loop;
    char *output;
    GError *error;
    gboolean timed_out;
} SpmProbeRun;

static void
spm_emulator_probe_done(GObject *source, GAsyncResult *result, gpointer opaque)
{
    SpmProbeRun *run = opaque;

    g_subprocess_communicate_utf8_finish(G_SUBPROCESS(source), result,
                                         &run->output, NULL, &run->error);
    g_main_loop_quit(run->loop);
}

static gboolean
spm_emulator_probe_timeout(gpointer opaque)
{
    SpmProbeRun *run = opaque;

    run->timed_out = TRUE;
    g_main_loop_quit(run->loop);
    return G_SOURCE_REMOVE;
}

/* SPM_EMULATOR_PROBE_TIMEOUT_MS, or $SPM_HOOK_PROBE_TIMEOUT_MS for tests. */
static guint
spm_emulator_probe_timeout_ms(void)
{
    const char *env = g_getenv("SPM_HOOK_PROBE_TIMEOUT_MS");
    guint64 ms;

    if (env && g_ascii_string_to_unsigned(env, 10, 1, G_MAXUINT, &ms, NULL))
        return (guint)ms;
    return SPM_EMULATOR_PROBE_TIMEOUT_MS;
}

/* Run EMULATOR -device DRIVER,help and read its answer, within the timeout. */
static gboolean
spm_emulator_probe_run(const char *emulator, const char *driver,
                       gboolean *has_device, GError **error)
{
    g_autoptr(GMainContext) context = g_main_context_new();
    g_autoptr(GMainLoop) loop = g_main_loop_new(context, FALSE);
    guint timeout_ms = spm_emulator_probe_timeout_ms();
    g_autoptr(GSource) timeout = g_timeout_source_new(timeout_ms);
    g_autoptr(GSubprocess) proc = NULL;
    g_autofree char *arg = g_strdup_printf("%s,help", driver);
    g_autofree char *header = g_strdup_printf("%s options:", driver);
    g_autofree char *first_line = NULL;
    SpmProbeRun run = { .loop = loop };
    GError *local = NULL;

    g_main_context_push_thread_default(context);
    /* stdin stays /dev/null: the hook's own stdin is libvirt's XML */
    proc = g_subprocess_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE,
                            &local, emulator, "-device", arg, NULL);
    if (proc) {
        g_subprocess_communicate_utf8_async(proc, NULL, NULL, spm_emulator_probe_done, &run);
        g_source_set_callback(timeout, spm_emulator_probe_timeout, &run, NULL);
        g_source_attach(timeout, context);
        g_main_loop_run(loop);
        g_source_destroy(timeout);
        if (run.timed_out) {
            g_subprocess_force_exit(proc);
            /* the pending communicate finishes once the pipe closes */
            while (!run.output && !run.error)
                g_main_context_iteration(context, TRUE);
        }
    }
    g_main_context_pop_thread_default(context);

    if (!proc) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "cannot run '%s': %s",
                    emulator, local->message);
        g_error_free(local);
        return FALSE;
    }
    if (run.timed_out) {
        g_clear_error(&run.error);
        g_free(run.output);
        g_set_error(error, SPM_ERROR, SPM_ERROR_TIMEOUT,
                    "'%s -device %s' gave no answer within %u ms",
                    emulator, arg, timeout_ms);
        return FALSE;
    }
    if (run.error) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "reading '%s -device %s': %s",
                    emulator, arg, run.error->message);
        g_error_free(run.error);
        g_free(run.output);
        return FALSE;
    }

    /* QEMU 7.2 exits 0 either way: the text tells */
    if (strstr(run.output, header) && strstr(run.output, "memdev")) {
        *has_device = TRUE;
    } else if (strstr(run.output, "not found")) {
        *has_device = FALSE;
    } else {
        first_line = g_strndup(run.output, strcspn(run.output, "\n"));
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM,
                    "'%s -device %s' answered '%s', not QEMU's device help",
                    emulator, arg, first_line);
        g_free(run.output);
        return FALSE;
    }
    g_free(run.output);
    return TRUE;
}

gboolean
spm_emulator_probe(const char *emulator,
                   const char *driver,
                   const char *cache_dir,
                   gboolean *has_device,
                   GError **error)
{
    g_autofree char *file = NULL;
    struct stat st;

    if (stat(emulator, &st) < 0) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "emulator '%s': %s",
                    emulator, g_strerror(errno));
        return FALSE;
    }
    if (cache_dir) {
        file = spm_emulator_cache_file(cache_dir, emulator, driver);
        if (spm_emulator_cache_lookup(file, emulator, driver, &st, has_device))
            return TRUE;
    }
    if (!spm_emulator_probe_run(emulator, driver, has_device, error))
        return FALSE;
    if (cache_dir)
        spm_emulator_cache_store(cache_dir, file, emulator, driver, &st, *has_device);
    return TRUE;
}
