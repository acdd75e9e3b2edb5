/* spm-control-client.c: placeholder, implemented in its own change */
#include <stdlib.h>
#include "spm-error.h"
#include "spm-control.h"

const char *
spm_control_socket_path(void)
{
    const char *env = g_getenv("VIRT_SPM_CONTROL_SOCKET");

    return env && *env ? env : SPM_CONTROL_SOCKET;
}

gboolean
spm_control_notify(const char *event, const char *domain, const char *uuid,
                   guint timeout_ms, GError **error)
{
    g_set_error(error, SPM_ERROR, SPM_ERROR_UNSUPPORTED, "control client: not implemented yet");
    return FALSE;
}

char *
spm_control_request(const char *request_json, guint timeout_ms, GError **error)
{
    g_set_error(error, SPM_ERROR, SPM_ERROR_UNSUPPORTED, "control client: not implemented yet");
    return NULL;
}
