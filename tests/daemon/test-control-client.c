/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-control-client.c: spm_control_notify/request against scripted
 * servers: a good reply, an error reply, a server that never answers (the
 * deadline holds), no server at all, a server that closes at once, a
 * server whose listen backlog is full.
 */
#include <string.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <gio/gunixsocketaddress.h>

#include "spm-control.h"
#include "spm-error.h"

typedef enum { SRV_OK, SRV_REFUSE, SRV_HANG, SRV_CLOSE } SrvMode;

typedef struct {
    SrvMode mode;
    GSocket *listener;
    char *dir;
    char *path;
    GThread *thread;
    char *request;
} Srv;

static gpointer
srv_thread(gpointer data)
{
    Srv *s = data;
    g_autoptr(GSocket) c = g_socket_accept(s->listener, NULL, NULL);
    GString *req = g_string_new(NULL);
    char ch;

    g_assert_nonnull(c);
    if (s->mode == SRV_CLOSE) {
        g_string_free(req, TRUE);
        return NULL;
    }
    while (g_socket_receive(c, &ch, 1, NULL, NULL) == 1 && ch != '\n')
        g_string_append_c(req, ch);
    s->request = g_string_free(req, FALSE);
    if (s->mode == SRV_OK)
        g_socket_send(c, "{\"ok\":true}\n", 12, NULL, NULL);
    else if (s->mode == SRV_REFUSE)
        g_socket_send(c, "{\"ok\":false,\"error\":\"nope\"}\n", 28, NULL, NULL);
    else
        g_socket_receive(c, &ch, 1, NULL, NULL);   /* hang until the client gives up */
    return NULL;
}

static Srv *
srv_start(SrvMode mode)
{
    Srv *s = g_new0(Srv, 1);
    g_autoptr(GSocketAddress) addr = NULL;

    s->mode = mode;
    s->dir = g_dir_make_tmp("spm-ctl-XXXXXX", NULL);
    s->path = g_build_filename(s->dir, "control.sock", NULL);
    addr = g_unix_socket_address_new(s->path);
    s->listener = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, 0, NULL);
    g_assert_true(g_socket_bind(s->listener, addr, TRUE, NULL));
    g_assert_true(g_socket_listen(s->listener, NULL));
    g_setenv("VIRT_SPM_CONTROL_SOCKET", s->path, TRUE);
    s->thread = g_thread_new("srv", srv_thread, s);
    return s;
}

static void
srv_stop(Srv *s)
{
    if (s->thread)
        g_thread_join(s->thread);
    g_object_unref(s->listener);
    g_unlink(s->path);
    g_rmdir(s->dir);
    g_free(s->dir);
    g_free(s->path);
    g_free(s->request);
    g_free(s);
}

static void
test_notify_ok(void)
{
    Srv *s = srv_start(SRV_OK);
    g_autoptr(GError) error = NULL;

    g_assert_true(spm_control_notify("started", "g1", "7b540244-7e5a-40b8-a78f-7ddfdcdf6b43", 7, 2000, &error));
    g_assert_no_error(error);
    g_thread_join(g_steal_pointer(&s->thread));   /* the request is complete */
    g_assert_nonnull(strstr(s->request, "\"command\":\"event\""));
    g_assert_nonnull(strstr(s->request, "\"event\":\"started\""));
    g_assert_nonnull(strstr(s->request, "\"uuid\":\"7b540244-7e5a-40b8-a78f-7ddfdcdf6b43\""));
    g_assert_nonnull(strstr(s->request, "\"id\":7"));
    srv_stop(s);
}

static void
test_notify_refused(void)
{
    Srv *s = srv_start(SRV_REFUSE);
    g_autoptr(GError) error = NULL;

    g_assert_false(spm_control_notify("stopped", "g1", "", -1, 2000, &error));
    g_assert_error(error, SPM_ERROR, SPM_ERROR_SYSTEM);
    g_assert_nonnull(strstr(error->message, "nope"));
    srv_stop(s);
}

static void
test_hung_daemon(void)
{
    Srv *s = srv_start(SRV_HANG);
    g_autoptr(GError) error = NULL;
    gint64 t0 = g_get_monotonic_time();

    g_assert_false(spm_control_notify("started", "g1", "", -1, 300, &error));
    g_assert_error(error, SPM_ERROR, SPM_ERROR_TIMEOUT);
    /* the deadline holds: well under a second for a 300 ms budget */
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 2 * G_USEC_PER_SEC);
    srv_stop(s);
}

static void
test_closed(void)
{
    Srv *s = srv_start(SRV_CLOSE);
    g_autoptr(GError) error = NULL;
    g_autofree char *reply = spm_control_request("{\"command\":\"status\"}", 2000, &error);

    g_assert_null(reply);
    g_assert_error(error, SPM_ERROR, SPM_ERROR_SYSTEM);
    srv_stop(s);
}

/*
 * A listen backlog full of other clients: a non-blocking connect to a UNIX
 * socket fails at once with EAGAIN; the client tries again until the
 * server has room (here after 200 ms), within its deadline.
 */
static gpointer
backlog_thread(gpointer data)
{
    GSocket *listener = data;

    g_usleep(200 * 1000);       /* the fault: a server busy for 200 ms */
    for (;;) {
        g_autoptr(GSocket) c = g_socket_accept(listener, NULL, NULL);
        GString *req = g_string_new(NULL);
        char ch;

        g_assert_nonnull(c);
        while (g_socket_receive(c, &ch, 1, NULL, NULL) == 1 && ch != '\n')
            g_string_append_c(req, ch);
        if (req->len == 0) {    /* one of the idle clients that filled the backlog */
            g_string_free(req, TRUE);
            continue;
        }
        g_string_free(req, TRUE);
        g_socket_send(c, "{\"ok\":true}\n", 12, NULL, NULL);
        return NULL;
    }
}

static void
test_backlog_full(void)
{
    g_autofree char *dir = g_dir_make_tmp("spm-ctl-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "control.sock", NULL);
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
    g_autoptr(GSocket) listener = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, 0, NULL);
    g_autoptr(GError) error = NULL;
    g_autofree char *reply = NULL;
    GThread *thread;
    guint filled = 0;

    g_assert_true(g_socket_bind(listener, addr, TRUE, NULL));
    g_socket_set_listen_backlog(listener, 1);
    g_assert_true(g_socket_listen(listener, NULL));
    for (;;) {
        g_autoptr(GSocket) c = g_socket_new(G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, 0, NULL);
        g_autoptr(GError) e = NULL;

        g_socket_set_blocking(c, FALSE);
        if (!g_socket_connect(c, addr, NULL, &e)) {
            g_assert_error(e, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
            break;
        }
        g_assert_cmpuint(++filled, <, 64);
    }
    g_setenv("VIRT_SPM_CONTROL_SOCKET", path, TRUE);
    thread = g_thread_new("backlog", backlog_thread, listener);
    reply = spm_control_request("{\"command\":\"status\"}", 5000, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(reply, ==, "{\"ok\":true}");
    g_thread_join(thread);
    g_unlink(path);
    g_rmdir(dir);
}

static void
test_no_daemon(void)
{
    g_autoptr(GError) error = NULL;

    g_setenv("VIRT_SPM_CONTROL_SOCKET", "/nonexistent/virt-spm/control.sock", TRUE);
    g_assert_cmpstr(spm_control_socket_path(), ==, "/nonexistent/virt-spm/control.sock");
    g_assert_false(spm_control_notify("started", "g1", "", -1, 500, &error));
    g_assert_error(error, SPM_ERROR, SPM_ERROR_SYSTEM);
    g_unsetenv("VIRT_SPM_CONTROL_SOCKET");
    g_assert_cmpstr(spm_control_socket_path(), ==, "/run/virt-spm/control.sock");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/daemon/control-client/notify-ok", test_notify_ok);
    g_test_add_func("/daemon/control-client/notify-refused", test_notify_refused);
    g_test_add_func("/daemon/control-client/hung-daemon", test_hung_daemon);
    g_test_add_func("/daemon/control-client/closed", test_closed);
    g_test_add_func("/daemon/control-client/backlog-full", test_backlog_full);
    g_test_add_func("/daemon/control-client/no-daemon", test_no_daemon);
    return g_test_run();
}
