/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-guest-agent.c: the guest audit's questions to qemu-guest-agent,
 * through a fake transport (scripted replies: healthy, 10 MiB, malformed,
 * wrong types, never answering, endless file reads) and through the agent
 * socket transport against a fake agent thread on a real UNIX socket.
 * Every bad answer must give `unknown` (or a weaker source) with a reason,
 * the questions must stop at the first transport failure, and no wait may
 * outlast its timeout.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "spm-guest-agent.h"
#include "spm-guest-agent-socket.h"

/* ---- the fake transport -------------------------------------------------- */

typedef struct {
    const char *command;    /* "execute" value this answers */
    const char *path;       /* guest-file-open/-read: only for this (open) path; NULL: any */
    const char *reply;      /* NULL: no answer (a transport timeout) */
} FakeReply;

typedef struct {
    const FakeReply *replies;
    GPtrArray *sent;        /* "execute" of each command, in order */
    guint timeouts_sum;     /* ms of every timeout handed to the transport */
    char *big;              /* a reply built at run time (10 MiB) */
    const char *big_for;
    guint reads;            /* guest-file-read calls */
    gboolean endless_reads; /* every read: one byte, never eof */
    char *open_path;        /* the file last opened */
} Fake;

static char *
fake_send(const char *command, gsize max_reply, guint timeout_ms, gpointer data, GError **error)
{
    Fake *f = data;
    g_autoptr(JsonParser) p = json_parser_new();
    JsonObject *o, *args;
    const char *exec, *path = NULL;

    g_assert_true(json_parser_load_from_data(p, command, -1, NULL));
    o = json_node_get_object(json_parser_get_root(p));
    exec = json_object_get_string_member(o, "execute");
    args = json_object_has_member(o, "arguments") ? json_object_get_object_member(o, "arguments") : NULL;
    if (args && json_object_has_member(args, "path"))
        path = json_object_get_string_member(args, "path");
    g_assert_cmpuint(max_reply, <=, SPM_GUEST_MAX_REPLY);
    g_assert_cmpuint(timeout_ms, >, 0);
    f->timeouts_sum += timeout_ms;
    g_ptr_array_add(f->sent, g_strdup(path ? path : exec));
    /* no guest-exec, ever */
    g_assert_true(g_str_has_prefix(exec, "guest-get-memory-block") ||
                  g_str_has_prefix(exec, "guest-file-"));
    if (strcmp(exec, "guest-file-open") == 0) {
        g_free(f->open_path);
        f->open_path = g_strdup(path);
    } else if (strcmp(exec, "guest-file-read") == 0) {
        path = f->open_path;
    }
    if (f->big_for && strcmp(exec, f->big_for) == 0)
        return g_strdup(f->big);
    if (strcmp(exec, "guest-file-read") == 0) {
        f->reads++;
        if (f->endless_reads)
            return g_strdup("{\"return\":{\"count\":1,\"buf-b64\":\"eA==\",\"eof\":false}}");
    }
    for (const FakeReply *r = f->replies; r && r->command; r++) {
        if (strcmp(r->command, exec) != 0 || (r->path && g_strcmp0(r->path, path) != 0))
            continue;
        if (!r->reply) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "no answer within %u ms", timeout_ms);
            return NULL;
        }
        return g_strdup(r->reply);
    }
    return g_strdup("{\"error\":{\"class\":\"CommandNotFound\",\"desc\":\"not scripted\"}}");
}

static Fake *
fake_new(const FakeReply *replies)
{
    Fake *f = g_new0(Fake, 1);

    f->replies = replies;
    f->sent = g_ptr_array_new_with_free_func(g_free);
    return f;
}

static void
fake_free(Fake *f)
{
    g_ptr_array_unref(f->sent);
    g_free(f->big);
    g_free(f->open_path);
    g_free(f);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Fake, fake_free)

/* one 256 MiB SPM device at 4 GiB on node 1, as agent-guest plans it */
static SpmAuditPlan *
plan_new(SpmGuestMode mode)
{
    SpmAuditPlan *p = spm_audit_plan_new(NULL);

    spm_audit_plan_add(p, "ua-hbm0", "spm", 0x100000000, 0x10000000, 1, "memua-hbm0");
    ((SpmAuditDevice *) p->devices->pdata[0])->guest_mode = mode;
    return p;
}

static const SpmGuestDeviceVerdict *
audit(SpmGuestAudit **out, Fake *f, gboolean file_reads, SpmGuestMode mode)
{
    g_autoptr(SpmAuditPlan) p = plan_new(mode);
    SpmGuestAgentOptions o = { .file_reads = file_reads, .timeout_ms = 200 };
    const SpmGuestDeviceVerdict *v;
    g_autofree char *line = NULL;

    *out = spm_guest_agent_audit(p, fake_send, f, &o);
    g_assert_cmpuint((*out)->devices->len, ==, 1);
    v = (*out)->devices->pdata[0];
    line = spm_guest_device_verdict_to_string(v);
    g_test_message("%s", line);
    /* whatever happened: bounded by the audit's budget */
    g_assert_cmpuint(f->timeouts_sum, <=, 200 * 4 + 200 * f->sent->len);
    return v;
}

#define INFO { "guest-get-memory-block-info", NULL, "{\"return\":{\"size\":134217728}}" }
/* memory blocks 0 and 1 (boot RAM); the device at 4 GiB is blocks 32, 33 */
#define BLOCKS_OFF { "guest-get-memory-blocks", NULL, \
    "{\"return\":[{\"phys-index\":0,\"online\":true},{\"phys-index\":1,\"online\":true}]}" }
#define BLOCKS_ON { "guest-get-memory-blocks", NULL, \
    "{\"return\":[{\"phys-index\":0,\"online\":true},{\"phys-index\":32,\"online\":true}," \
    "{\"phys-index\":33,\"online\":true}]}" }
#define OPEN(path, h) { "guest-file-open", path, "{\"return\":" #h "}" }
#define CLOSE { "guest-file-close", NULL, "{\"return\":{}}" }
/* "0-fffffff : System RAM\n100000000-10fffffff : hmem.0\n  ...: Soft Reserved\n" */
#define IOMEM_SOFT "MC1mZmZmZmZmIDogU3lzdGVtIFJBTQoxMDAwMDAwMDAtMTBmZmZmZmZmIDogaG1lbS4wCiAgMTAw" \
                   "MDAwMDAwLTEwZmZmZmZmZiA6IFNvZnQgUmVzZXJ2ZWQK"

static char *
b64(const char *text)
{
    return g_base64_encode((const guchar *) text, strlen(text));
}

static void
test_reserved_iomem(void)
{
    g_autofree char *enc = b64("0-fffffff : System RAM\n100000000-10fffffff : hmem.0\n"
                               "  100000000-10fffffff : Soft Reserved\n");
    g_autofree char *read = NULL;
    g_autoptr(SpmGuestAudit) a = NULL;
    const SpmGuestDeviceVerdict *v;

    g_assert_cmpstr(enc, ==, IOMEM_SOFT);
    read = g_strdup_printf("{\"return\":{\"count\":%zu,\"buf-b64\":\"%s\",\"eof\":true}}",
                           strlen("0-fffffff : System RAM\n100000000-10fffffff : hmem.0\n"
                                  "  100000000-10fffffff : Soft Reserved\n"), enc);
    {
        const FakeReply r[] = { INFO, BLOCKS_OFF, OPEN("/proc/iomem", 7),
                                { "guest-file-read", NULL, read }, CLOSE, { NULL } };
        g_autoptr(Fake) f = fake_new(r);

        v = audit(&a, f, TRUE, SPM_GUEST_MODE_RESERVED);
        g_assert_cmpint(v->state, ==, SPM_GUEST_RESERVED);
        g_assert_cmpint(v->evidence, ==, SPM_GUEST_EVIDENCE_IOMEM);
        g_assert_cmpint(a->judgement, ==, SPM_GUEST_JUDGED_MATCH);
        /* info, blocks, open, read, close: the handle is closed */
        g_assert_cmpuint(f->sent->len, ==, 5);
        g_assert_cmpstr(f->sent->pdata[4], ==, "guest-file-close");
    }
}

static void
test_devdax_target_node(void)
{
    const char *iomem = "100000000-10fffffff : hmem.0\n  100000000-10fffffff : Soft Reserved\n"
                        "    100000000-10fffffff : dax0.0\n";
    g_autofree char *enc = b64(iomem);
    g_autofree char *read = g_strdup_printf("{\"return\":{\"count\":%zu,\"buf-b64\":\"%s\","
                                            "\"eof\":true}}", strlen(iomem), enc);
    const FakeReply r[] = {
        INFO, BLOCKS_OFF, OPEN("/proc/iomem", 1),
        { "guest-file-open", "/sys/bus/dax/devices/dax0.0/target_node", "{\"return\":2}" },
        { "guest-file-read", "/proc/iomem", read },
        /* "1\n" */
        { "guest-file-read", "/sys/bus/dax/devices/dax0.0/target_node",
          "{\"return\":{\"count\":2,\"buf-b64\":\"MQo=\",\"eof\":true}}" },
        CLOSE, { NULL } };
    g_autoptr(Fake) f = fake_new(r);
    g_autoptr(SpmGuestAudit) a = NULL;
    const SpmGuestDeviceVerdict *v = audit(&a, f, TRUE, SPM_GUEST_MODE_DEVDAX);

    g_assert_cmpint(v->state, ==, SPM_GUEST_DEVDAX);
    g_assert_cmpint(v->guest_node, ==, 1);
    g_assert_cmpint(v->judgement, ==, SPM_GUEST_JUDGED_MATCH);
    /* info, blocks, open+read+close of /proc/iomem, then of target_node */
    g_assert_cmpuint(f->sent->len, ==, 8);
    g_assert_cmpstr(f->sent->pdata[5], ==, "/sys/bus/dax/devices/dax0.0/target_node");
}

static void
test_devdax_node_garbage(void)
{
    const char *iomem = "100000000-10fffffff : Soft Reserved\n  100000000-10fffffff : dax0.0\n";
    g_autofree char *enc = b64(iomem);
    g_autofree char *read = g_strdup_printf("{\"return\":{\"count\":%zu,\"buf-b64\":\"%s\","
                                            "\"eof\":true}}", strlen(iomem), enc);
    /* target_node reads back as /proc/iomem's text: not an integer */
    const FakeReply r[] = { INFO, BLOCKS_OFF, OPEN(NULL, 1), { "guest-file-read", NULL, read },
                            CLOSE, { NULL } };
    g_autoptr(Fake) f = fake_new(r);
    g_autoptr(SpmGuestAudit) a = NULL;
    const SpmGuestDeviceVerdict *v = audit(&a, f, TRUE, SPM_GUEST_MODE_DEVDAX);

    /* the node is not known (-1), not guessed */
    g_assert_cmpint(v->state, ==, SPM_GUEST_DEVDAX);
    g_assert_cmpint(v->guest_node, ==, -1);
}

static void
test_blocks_only(void)
{
    const FakeReply r[] = { INFO, BLOCKS_ON, { NULL } };
    g_autoptr(Fake) f = fake_new(r);
    g_autoptr(SpmGuestAudit) a = NULL;
    const SpmGuestDeviceVerdict *v = audit(&a, f, FALSE, SPM_GUEST_MODE_RESERVED);

    /* without file reads: two questions, no file opened */
    g_assert_cmpuint(f->sent->len, ==, 2);
    g_assert_cmpint(v->state, ==, SPM_GUEST_SYSTEM_RAM);
    g_assert_cmpint(v->evidence, ==, SPM_GUEST_EVIDENCE_BLOCKS);
    g_assert_cmpint(v->judgement, ==, SPM_GUEST_JUDGED_MISMATCH);
}

static void
test_no_answer(void)
{
    const FakeReply r[] = { { "guest-get-memory-block-info", NULL, NULL }, { NULL } };
    g_autoptr(Fake) f = fake_new(r);
    g_autoptr(SpmGuestAudit) a = NULL;
    const SpmGuestDeviceVerdict *v = audit(&a, f, TRUE, SPM_GUEST_MODE_RESERVED);

    /* one question, then nothing more: unknown, with why */
    g_assert_cmpuint(f->sent->len, ==, 1);
    g_assert_cmpint(v->state, ==, SPM_GUEST_UNKNOWN);
    g_assert_cmpint(a->judgement, ==, SPM_GUEST_JUDGED_UNDETERMINED);
    g_assert_nonnull(strstr(v->reason, "no answer"));
    g_assert_nonnull(a->error);
}

/* Each bad reply to guest-get-memory-blocks: unknown with a reason that
 * names the command. */
static void
check_bad_blocks(const char *reply, const char *why)
{
    const FakeReply r[] = { INFO, { "guest-get-memory-blocks", NULL, reply }, { NULL } };
    g_autoptr(Fake) f = fake_new(r);
    g_autoptr(SpmGuestAudit) a = NULL;
    const SpmGuestDeviceVerdict *v = audit(&a, f, FALSE, SPM_GUEST_MODE_RESERVED);

    g_assert_cmpint(v->state, ==, SPM_GUEST_UNKNOWN);
    g_assert_nonnull(strstr(v->reason, "guest-get-memory-blocks"));
    g_assert_nonnull(strstr(v->reason, why));
}

static void
test_bad_replies(void)
{
    check_bad_blocks("{\"return\":[{\"phys-index\":32,\"online\":tru", "");
    check_bad_blocks("{\"return\":[{\"phys-index\":\"32\",\"online\":true}]}", "phys-index");
    check_bad_blocks("{\"return\":{\"phys-index\":32}}", "not an array");
    check_bad_blocks("[1,2,3]", "");
    check_bad_blocks("{\"return\":[{\"phys-index\":32,\"online\":\"yes\"}]}", "online");
    check_bad_blocks("{\"error\":{\"class\":\"GenericError\",\"desc\":\"nope\"}}", "nope");
}

static void
test_huge_reply(void)
{
    const FakeReply r[] = { INFO, { NULL } };
    g_autoptr(Fake) f = fake_new(r);
    g_autoptr(SpmGuestAudit) a = NULL;
    const SpmGuestDeviceVerdict *v;
    GString *s = g_string_sized_new(10 << 20);

    /* 10 MiB of valid-looking blocks from a transport that did not cap */
    g_string_append(s, "{\"return\":[");
    for (guint i = 0; s->len < (10u << 20); i++)
        g_string_append_printf(s, "%s{\"phys-index\":%u,\"online\":false}", i ? "," : "", i + 64);
    g_string_append(s, "]}");
    f->big = g_string_free(s, FALSE);
    f->big_for = "guest-get-memory-blocks";
    v = audit(&a, f, FALSE, SPM_GUEST_MODE_RESERVED);
    g_assert_cmpint(v->state, ==, SPM_GUEST_UNKNOWN);
    g_assert_nonnull(strstr(v->reason, "longer than"));
}

static void
test_endless_file(void)
{
    const FakeReply r[] = { INFO, BLOCKS_OFF, OPEN(NULL, 3), CLOSE, { NULL } };
    g_autoptr(Fake) f = fake_new(r);
    g_autoptr(SpmGuestAudit) a = NULL;
    const SpmGuestDeviceVerdict *v;

    f->endless_reads = TRUE;
    v = audit(&a, f, TRUE, SPM_GUEST_MODE_RESERVED);
    /* the reads stop; the verdict falls back on the memory blocks */
    g_assert_cmpuint(f->reads, <=, SPM_GUEST_MAX_FILE / (48 * 1024) + 4);
    g_assert_cmpint(v->state, ==, SPM_GUEST_RESERVED);
    g_assert_cmpint(v->evidence, ==, SPM_GUEST_EVIDENCE_BLOCKS);
    g_assert_cmpstr(g_ptr_array_index(f->sent, f->sent->len - 1), ==, "guest-file-close");
}

static void
test_file_refused(void)
{
    const FakeReply r[] = { INFO, BLOCKS_OFF,
                            { "guest-file-open", NULL,
                              "{\"error\":{\"class\":\"GenericError\",\"desc\":\"disabled\"}}" },
                            { NULL } };
    g_autoptr(Fake) f = fake_new(r);
    g_autoptr(SpmGuestAudit) a = NULL;
    const SpmGuestDeviceVerdict *v = audit(&a, f, TRUE, SPM_GUEST_MODE_RESERVED);

    g_assert_cmpint(v->state, ==, SPM_GUEST_RESERVED);
    g_assert_cmpint(v->evidence, ==, SPM_GUEST_EVIDENCE_BLOCKS);
    /* no handle: nothing to close */
    g_assert_cmpuint(f->sent->len, ==, 3);
}

static void
test_options(void)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    SpmGuestAgentOptions o;
    g_autoptr(GError) err = NULL;

    g_assert_true(spm_guest_agent_options_load(NULL, &o, &err));
    g_assert_false(o.file_reads);
    g_assert_cmpuint(o.timeout_ms, ==, SPM_GUEST_AGENT_DEFAULT_TIMEOUT_MS);
    g_assert_true(g_key_file_load_from_data(kf, "[guest-audit]\nfile_reads = true\ntimeout_ms = 750\n",
                                            -1, 0, NULL));
    g_assert_true(spm_guest_agent_options_load(kf, &o, &err));
    g_assert_true(o.file_reads);
    g_assert_cmpuint(o.timeout_ms, ==, 750);
    g_assert_true(g_key_file_load_from_data(kf, "[guest-audit]\nfile_reads = maybe\n", -1, 0, NULL));
    g_assert_false(spm_guest_agent_options_load(kf, &o, &err));
    g_assert_nonnull(strstr(err->message, "file_reads"));
    g_clear_error(&err);
    g_assert_true(g_key_file_load_from_data(kf, "[guest-audit]\ntimeout_ms = 5\n", -1, 0, NULL));
    g_assert_false(spm_guest_agent_options_load(kf, &o, &err));
}

/* ---- the socket transport against a fake agent thread ---------------------- */

typedef enum { AGENT_HEALTHY, AGENT_SILENT, AGENT_HUGE, AGENT_MALFORMED } AgentMode;

typedef struct {
    char *dir;
    char *path;
    int listen_fd;
    AgentMode mode;
    GThread *thread;
    int stop[2];            /* the test writes here to end the thread */
} FakeAgent;

static gboolean
read_line(int fd, GString *line, int stop_fd)
{
    g_string_truncate(line, 0);
    for (;;) {
        char c;
        GPollFD p[2] = { { fd, G_IO_IN, 0 }, { stop_fd, G_IO_IN, 0 } };

        if (g_poll(p, 2, -1) < 0 || p[1].revents)
            return FALSE;
        if (read(fd, &c, 1) != 1)
            return FALSE;
        if (c == '\n')
            return TRUE;
        g_string_append_c(line, c);
    }
}

static void
write_all(int fd, const char *s, gsize len)
{
    while (len) {
        ssize_t n = write(fd, s, len);

        if (n <= 0)
            return;     /* the client went away: fine */
        s += n;
        len -= n;
    }
}

static gpointer
fake_agent_thread(gpointer data)
{
    FakeAgent *a = data;
    int fd = accept(a->listen_fd, NULL, NULL);
    g_autoptr(GString) line = g_string_new(NULL);

    g_assert_cmpint(fd, >=, 0);
    /* an earlier client's leftover, which sync must skip */
    write_all(fd, "{\"return\":{}}\n", 14);
    while (read_line(fd, line, a->stop[0])) {
        const char *l = line->str + (line->str[0] == '\xff');
        g_autofree char *reply = NULL;

        if (strstr(l, "guest-sync-delimited")) {
            const char *id = strstr(l, "\"id\":");

            g_assert_nonnull(id);
            reply = g_strdup_printf("\xff{\"return\":%" G_GINT64_FORMAT "}\n",
                                    g_ascii_strtoll(id + 5, NULL, 10));
        } else if (a->mode == AGENT_SILENT) {
            continue;
        } else if (a->mode == AGENT_MALFORMED) {
            reply = g_strdup("{\"return\":{\"size\":\n");
        } else if (a->mode == AGENT_HUGE) {
            /* 10 MiB without a newline; a client that stops reading
             * makes the write fail or block until it closes */
            g_autofree char *blob = g_malloc(1 << 20);

            memset(blob, ' ', 1 << 20);
            for (int i = 0; i < 10; i++)
                write_all(fd, blob, 1 << 20);
            continue;
        } else if (strstr(l, "guest-get-memory-block-info")) {
            reply = g_strdup("{\"return\":{\"size\":134217728}}\n");
        } else {
            reply = g_strdup("{\"return\":[{\"phys-index\":32,\"online\":false}]}\n");
        }
        write_all(fd, reply, strlen(reply));
    }
    close(fd);
    return NULL;
}

static FakeAgent *
fake_agent_start(AgentMode mode)
{
    FakeAgent *a = g_new0(FakeAgent, 1);
    struct sockaddr_un sun = { .sun_family = AF_UNIX };

    a->dir = g_dir_make_tmp("spm-agent-XXXXXX", NULL);
    a->path = g_build_filename(a->dir, "agent.sock", NULL);
    a->mode = mode;
    g_assert_cmpuint(strlen(a->path), <, sizeof(sun.sun_path));
    strcpy(sun.sun_path, a->path);
    a->listen_fd = socket(AF_UNIX, SOCK_STREAM, 0);
    g_assert_cmpint(bind(a->listen_fd, (struct sockaddr *) &sun, sizeof(sun)), ==, 0);
    g_assert_cmpint(listen(a->listen_fd, 1), ==, 0);
    g_assert_cmpint(pipe(a->stop), ==, 0);
    a->thread = g_thread_new("fake-agent", fake_agent_thread, a);
    return a;
}

static void
fake_agent_stop(FakeAgent *a)
{
    write_all(a->stop[1], "x", 1);
    g_thread_join(a->thread);
    close(a->listen_fd);
    close(a->stop[0]);
    close(a->stop[1]);
    unlink(a->path);
    rmdir(a->dir);
    g_free(a->path);
    g_free(a->dir);
    g_free(a);
}

/* The audit over the socket: its first device, how long it took. */
static SpmGuestState
socket_audit(AgentMode mode, char **reason, gint64 *elapsed_ms)
{
    FakeAgent *fa = fake_agent_start(mode);
    g_autoptr(SpmAuditPlan) p = plan_new(SPM_GUEST_MODE_RESERVED);
    SpmGuestAgentOptions o = { .file_reads = FALSE, .timeout_ms = 300 };
    g_autoptr(GError) err = NULL;
    gint64 t0 = g_get_monotonic_time();
    g_autoptr(SpmGuestAgentSocket) s = spm_guest_agent_socket_open(fa->path, 2000, &err);
    g_autoptr(SpmGuestAudit) a = NULL;
    const SpmGuestDeviceVerdict *v;
    SpmGuestState state;

    g_assert_no_error(err);
    a = spm_guest_agent_audit(p, spm_guest_agent_socket_send, s, &o);
    *elapsed_ms = (g_get_monotonic_time() - t0) / 1000;
    v = a->devices->pdata[0];
    state = v->state;
    *reason = g_strdup(v->reason);
    g_test_message("%s after %" G_GINT64_FORMAT " ms", v->reason, *elapsed_ms);
    g_clear_pointer(&s, spm_guest_agent_socket_free);   /* closed before the thread ends */
    fake_agent_stop(fa);
    return state;
}

static void
test_socket_healthy(void)
{
    g_autofree char *reason = NULL;
    gint64 ms;

    g_assert_cmpint(socket_audit(AGENT_HEALTHY, &reason, &ms), ==, SPM_GUEST_RESERVED);
    g_assert_nonnull(strstr(reason, "1 offline"));
}

static void
test_socket_silent(void)
{
    g_autofree char *reason = NULL;
    gint64 ms;

    g_assert_cmpint(socket_audit(AGENT_SILENT, &reason, &ms), ==, SPM_GUEST_UNKNOWN);
    g_assert_nonnull(strstr(reason, "no answer in time"));
    /* one timeout of 300 ms, not one per question */
    g_assert_cmpint(ms, >=, 290);
    g_assert_cmpint(ms, <, 300 * 2 + 500);
}

static void
test_socket_huge(void)
{
    g_autofree char *reason = NULL;
    gint64 ms;

    g_assert_cmpint(socket_audit(AGENT_HUGE, &reason, &ms), ==, SPM_GUEST_UNKNOWN);
    g_assert_nonnull(strstr(reason, "longer than"));
    g_assert_cmpint(ms, <, 300 * 2 + 500);
}

static void
test_socket_malformed(void)
{
    g_autofree char *reason = NULL;
    gint64 ms;

    g_assert_cmpint(socket_audit(AGENT_MALFORMED, &reason, &ms), ==, SPM_GUEST_UNKNOWN);
    g_assert_nonnull(strstr(reason, "guest-get-memory-block-info"));
}

static void
test_socket_absent(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(SpmGuestAgentSocket) s = spm_guest_agent_socket_open("/nonexistent/agent.sock", 500, &err);

    g_assert_null(s);
    g_assert_nonnull(strstr(err->message, "cannot connect"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/guest-agent/reserved-iomem", test_reserved_iomem);
    g_test_add_func("/guest-agent/devdax-target-node", test_devdax_target_node);
    g_test_add_func("/guest-agent/devdax-node-garbage", test_devdax_node_garbage);
    g_test_add_func("/guest-agent/blocks-only", test_blocks_only);
    g_test_add_func("/guest-agent/no-answer", test_no_answer);
    g_test_add_func("/guest-agent/bad-replies", test_bad_replies);
    g_test_add_func("/guest-agent/huge-reply", test_huge_reply);
    g_test_add_func("/guest-agent/endless-file", test_endless_file);
    g_test_add_func("/guest-agent/file-refused", test_file_refused);
    g_test_add_func("/guest-agent/options", test_options);
    g_test_add_func("/guest-agent/socket/healthy", test_socket_healthy);
    g_test_add_func("/guest-agent/socket/silent", test_socket_silent);
    g_test_add_func("/guest-agent/socket/huge", test_socket_huge);
    g_test_add_func("/guest-agent/socket/malformed", test_socket_malformed);
    g_test_add_func("/guest-agent/socket/absent", test_socket_absent);
    return g_test_run();
}
