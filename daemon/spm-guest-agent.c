/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-guest-agent.c: the guest audit's questions to qemu-guest-agent (see
 * spm-guest-agent.h)
 */
#include <string.h>

#include "spm-error.h"
#include "spm-guest-agent.h"

/* Bytes asked for per guest-file-read: 64 KiB of base64, far below the
 * reply cap. */
#define SPM_GUEST_READ_CHUNK (48 * 1024)
/* The whole gathering may take this many per-command timeouts: a guest
 * that answers every command just in time still ends. */
#define SPM_GUEST_AGENT_BUDGET 4

typedef struct {
    SpmGuestAgentSendFunc send;
    gpointer data;
    guint timeout_ms;
    gint64 deadline;        /* monotonic µs */
    char *dead;             /* why the transport is not asked again; NULL = alive */
} SpmAgentAsk;

gboolean
spm_guest_agent_options_load(GKeyFile *kf, SpmGuestAgentOptions *opts, GError **error)
{
    g_autoptr(GError) local = NULL;
    gint64 t;

    opts->file_reads = FALSE;
    opts->timeout_ms = SPM_GUEST_AGENT_DEFAULT_TIMEOUT_MS;
    if (!kf || !g_key_file_has_group(kf, "guest-audit"))
        return TRUE;
    if (g_key_file_has_key(kf, "guest-audit", "file_reads", NULL)) {
        opts->file_reads = g_key_file_get_boolean(kf, "guest-audit", "file_reads", &local);
        if (local) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "[guest-audit] file_reads: not true or false");
            return FALSE;
        }
    }
    if (g_key_file_has_key(kf, "guest-audit", "timeout_ms", NULL)) {
        t = g_key_file_get_int64(kf, "guest-audit", "timeout_ms", &local);
        if (local || t < 100 || t > 600000) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_INVALID,
                        "[guest-audit] timeout_ms: not a number from 100 to 600000");
            return FALSE;
        }
        opts->timeout_ms = (guint) t;
    }
    return TRUE;
}

/* {"execute": NAME, "arguments": ARGS}; @args (nullable) is a builder
 * whose object the caller has ended. */
static char *
spm_agent_command(const char *name, JsonBuilder *args)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autoptr(JsonNode) root = NULL;

    json_builder_begin_object(b);
    json_builder_set_member_name(b, "execute");
    json_builder_add_string_value(b, name);
    if (args) {
        json_builder_set_member_name(b, "arguments");
        json_builder_add_value(b, json_builder_get_root(args));
    }
    json_builder_end_object(b);
    root = json_builder_get_root(b);
    return json_to_string(root, FALSE);
}

/* The reply text of @command, or NULL + error; a transport failure makes
 * every later question fail at once with the same reason. */
static char *
spm_agent_ask(SpmAgentAsk *a, const char *command, GError **error)
{
    gint64 left = (a->deadline - g_get_monotonic_time()) / 1000;
    g_autoptr(GError) local = NULL;
    char *reply;

    if (!a->dead && left <= 0)
        a->dead = g_strdup_printf("the guest audit took longer than %u ms",
                                  a->timeout_ms * SPM_GUEST_AGENT_BUDGET);
    if (a->dead) {
        g_set_error(error, SPM_ERROR, SPM_ERROR_TIMEOUT, "%s", a->dead);
        return NULL;
    }
    reply = a->send(command, SPM_GUEST_MAX_REPLY, MIN((guint) left, a->timeout_ms), a->data, &local);
    if (!reply) {
        a->dead = g_strdup(local ? local->message : "the agent gave no reply");
        g_propagate_error(error, g_steal_pointer(&local));
        if (error && !*error)
            g_set_error(error, SPM_ERROR, SPM_ERROR_SYSTEM, "%s", a->dead);
    }
    return reply;
}

static JsonBuilder *
spm_agent_args_begin(void)
{
    JsonBuilder *b = json_builder_new();

    json_builder_begin_object(b);
    return b;
}

/* guest-file-open/read/close of @path: at most @max bytes, or NULL. */
static GBytes *
spm_agent_read_file(SpmAgentAsk *a, const char *path, gsize max, GError **error)
{
    g_autoptr(JsonBuilder) args = spm_agent_args_begin();
    g_autofree char *cmd = NULL;
    g_autofree char *reply = NULL;
    g_autoptr(GByteArray) data = g_byte_array_new();
    gint64 handle;
    gboolean ok = FALSE, eof = FALSE;
    guint reads = 0;
    /* a guest handing out a few bytes per read must still end */
    guint max_reads = max / SPM_GUEST_READ_CHUNK + 4;

    json_builder_set_member_name(args, "path");
    json_builder_add_string_value(args, path);
    json_builder_set_member_name(args, "mode");
    json_builder_add_string_value(args, "r");
    json_builder_end_object(args);
    cmd = spm_agent_command("guest-file-open", args);
    if (!(reply = spm_agent_ask(a, cmd, error)) ||
        !spm_guest_file_handle_parse(reply, strlen(reply), &handle, error)) {
        g_prefix_error(error, "%s: ", path);
        return NULL;
    }
    while (!eof) {
        g_autoptr(JsonBuilder) r = spm_agent_args_begin();
        g_autofree char *rcmd = NULL;
        g_autofree char *rreply = NULL;
        g_autoptr(GBytes) chunk = NULL;
        gsize n;

        if (++reads > max_reads) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_QMP,
                        "guest-file-read: no end after %u reads", max_reads);
            goto out;
        }
        json_builder_set_member_name(r, "handle");
        json_builder_add_int_value(r, handle);
        json_builder_set_member_name(r, "count");
        json_builder_add_int_value(r, SPM_GUEST_READ_CHUNK);
        json_builder_end_object(r);
        rcmd = spm_agent_command("guest-file-read", r);
        if (!(rreply = spm_agent_ask(a, rcmd, error)) ||
            !(chunk = spm_guest_file_read_parse(rreply, strlen(rreply), SPM_GUEST_READ_CHUNK,
                                                &eof, error)))
            goto out;
        n = g_bytes_get_size(chunk);
        if (data->len + n > max) {
            g_set_error(error, SPM_ERROR, SPM_ERROR_QMP, "longer than %" G_GSIZE_FORMAT " bytes", max);
            goto out;
        }
        g_byte_array_append(data, g_bytes_get_data(chunk, NULL), n);
        if (n == 0)
            eof = TRUE;
    }
    ok = TRUE;
out:
    if (!a->dead) {
        /* best effort: a handle left open costs the guest, not us */
        g_autoptr(JsonBuilder) c = spm_agent_args_begin();
        g_autofree char *ccmd = NULL;
        g_autofree char *creply = NULL;

        json_builder_set_member_name(c, "handle");
        json_builder_add_int_value(c, handle);
        json_builder_end_object(c);
        ccmd = spm_agent_command("guest-file-close", c);
        creply = spm_agent_ask(a, ccmd, NULL);
    }
    if (!ok) {
        g_prefix_error(error, "%s: ", path);
        return NULL;
    }
    return g_byte_array_free_to_bytes(g_steal_pointer(&data));
}

static void
spm_agent_gather_blocks(SpmAgentAsk *a, SpmGuestFacts *f)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *info = spm_agent_command("guest-get-memory-block-info", NULL);
    g_autofree char *list = spm_agent_command("guest-get-memory-blocks", NULL);
    g_autofree char *reply = NULL;
    g_autofree char *reply2 = NULL;

    if (!(reply = spm_agent_ask(a, info, &error))) {
        /* not one answer: the agent is absent (or hostile) */
        f->agent_error = g_strdup_printf("qemu-guest-agent: %s", error->message);
        return;
    }
    if (!spm_guest_block_size_parse(reply, strlen(reply), &f->block_size, &error) ||
        !(reply2 = spm_agent_ask(a, list, &error)) ||
        !(f->blocks = spm_guest_blocks_parse(reply2, strlen(reply2), &error))) {
        f->block_size = 0;
        f->blocks_error = g_strdup(error->message);
    }
}

static void
spm_agent_gather_files(SpmAgentAsk *a, SpmGuestFacts *f)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GBytes) text = spm_agent_read_file(a, "/proc/iomem", SPM_GUEST_MAX_FILE, &error);
    g_autoptr(GHashTable) seen = g_hash_table_new(g_str_hash, g_str_equal);
    gsize len = 0;
    const char *s = text ? g_bytes_get_data(text, &len) : NULL;

    if (!text || !(f->iomem = spm_iomem_parse(s, len, &error))) {
        f->iomem_error = g_strdup(error->message);
        return;
    }
    for (guint i = 0; i < f->iomem->len && g_hash_table_size(seen) < SPM_GUEST_AGENT_MAX_DAX; i++) {
        const SpmIomemEntry *e = g_ptr_array_index(f->iomem, i);
        g_autofree char *path = NULL;
        g_autoptr(GBytes) node = NULL;
        g_autoptr(GError) local = NULL;
        gint64 target = -1;
        const char *bytes;
        gsize n = 0;

        /* the name is checked to be daxN.M: no path can be made of it */
        if (!spm_guest_is_dax_name(e->name) || g_hash_table_contains(seen, e->name))
            continue;
        g_hash_table_add(seen, e->name);
        path = g_strdup_printf("/sys/bus/dax/devices/%s/target_node", e->name);
        node = spm_agent_read_file(a, path, 32, &local);
        bytes = node ? g_bytes_get_data(node, &n) : NULL;
        if (bytes && !spm_guest_sysfs_int_parse(bytes, n, -1, 4095, &target, &local))
            target = -1;
        spm_guest_facts_add_dax(f, e->name, target);
    }
}

SpmGuestFacts *
spm_guest_agent_gather(SpmGuestAgentSendFunc send, gpointer user_data,
                       const SpmGuestAgentOptions *opts)
{
    SpmGuestFacts *f = spm_guest_facts_new();
    guint timeout = opts->timeout_ms ? opts->timeout_ms : SPM_GUEST_AGENT_DEFAULT_TIMEOUT_MS;
    SpmAgentAsk a = {
        .send = send,
        .data = user_data,
        .timeout_ms = timeout,
        .deadline = g_get_monotonic_time() + (gint64) timeout * SPM_GUEST_AGENT_BUDGET * 1000,
    };

    spm_agent_gather_blocks(&a, f);
    if (f->agent_error)
        ;
    else if (!opts->file_reads)
        f->iomem_error = g_strdup("file reads not allowed ([guest-audit] file_reads = false)");
    else if (a.dead)
        f->iomem_error = g_strdup_printf("not read: %s", a.dead);
    else
        spm_agent_gather_files(&a, f);
    g_free(a.dead);
    return f;
}

SpmGuestAudit *
spm_guest_agent_audit(const SpmAuditPlan *plan, SpmGuestAgentSendFunc send, gpointer user_data,
                      const SpmGuestAgentOptions *opts)
{
    gint64 start = g_get_monotonic_time();
    g_autoptr(SpmGuestFacts) facts = spm_guest_agent_gather(send, user_data, opts);
    SpmGuestAudit *audit = spm_guest_audit_judge(plan, facts);

    audit->duration_us = g_get_monotonic_time() - start;
    return audit;
}
