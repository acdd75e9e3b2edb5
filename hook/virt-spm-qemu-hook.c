/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virt-spm-hook.c: the libvirt qemu hook, installed as
 * /etc/libvirt/hooks/qemu.d/virt-spm.
 *
 * libvirt runs it for every domain of every lifecycle step, with argv
 * NAME OP SUBOP - and the domain XML on standard input.  Almost all of
 * those calls concern domains without SPM, and a start must not get
 * slower for them: this front end links nothing but the C library (loading
 * libvirt, GLib and libxml2 alone costs several milliseconds), reads the
 * XML, and looks for virt-spm's namespace.  Only when it is there does it
 * hand the call, XML included, to virt-spm-hook-helper, which decides
 * (spm-hook-decide.c).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "spm-build-config.h"
#include "spm-env.h"
#include "spm-hook-ops.h"
/* Only its macros: nothing of GLib or libxml2 is linked in. */
#include "spm-xml.h"

#define SPM_HOOK_HELPER_PATH VIRT_SPM_LIBEXECDIR "/virt-spm-hook-helper"

#define SPM_HOOK_MAX_XML SPM_XML_MAX_BYTES
/* what the hook reads at most before it stops, kept or not (far above any domain XML) */
#define SPM_HOOK_MAX_DRAIN ((size_t)1024 * 1024 * 1024)


/*
 * A Nova domain (no virt-spm metadata; its flavor decides, docs/nova.md):
 * its start, migration and restore go to the helper, which resolves the
 * flavor; its other calls only when the hook stored a plan for its UUID.
 */
static int
spm_hook_nova_wanted(SpmHookOp hop, const char *xml, size_t len)
{
    static const char nova_ns[] = "http://openstack.org/xmlns/libvirt/nova/";
    const char *dir = spm_env(SPM_ENV_NOVA_PLAN_DIR);
    const char *uuid;
    char path[4096];

    if (!memmem(xml, len, nova_ns, strlen(nova_ns)))
        return 0;
    if (hop == SPM_HOOK_PREPARE_BEGIN || hop == SPM_HOOK_MIGRATE_BEGIN ||
        hop == SPM_HOOK_RESTORE_BEGIN)
        return 1;
    /* libvirt writes <uuid> once, at the top of <domain> */
    uuid = memmem(xml, len, "<uuid>", 6);
    if (!uuid || (size_t)(xml + len - uuid) < 6 + 36 + 7 || memcmp(uuid + 6 + 36, "</uuid>", 7) != 0)
        return 0;
    for (size_t i = 0; i < 36; i++) {
        char c = uuid[6 + i];

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '-'))
            return 0;
    }
    snprintf(path, sizeof(path), "%s/%.36s.plan", dir && *dir ? dir : VIRT_SPM_RUNDIR "/nova", uuid + 6);
    return access(path, F_OK) == 0;
}

/*
 * Read all of standard input: libvirt writes the whole XML before it
 * waits for the hook, and a hook that exits (or execs the helper) before
 * the end makes libvirt's write fail with EPIPE.  At most
 * SPM_HOOK_MAX_XML + 1 bytes are kept (the helper refuses an XML over the
 * limit); the rest is read and dropped, up to SPM_HOOK_MAX_DRAIN bytes in
 * all, so that a writer that never stops cannot hold the hook either.
 */
static char *
spm_hook_read_stdin(size_t *len)
{
    size_t cap = 64 * 1024;
    size_t total = 0;
    char *buf = malloc(cap);
    char scratch[64 * 1024];

    *len = 0;
    if (!buf)
        return NULL;
    while (total < SPM_HOOK_MAX_DRAIN) {
        ssize_t n;
        int keep = *len <= SPM_HOOK_MAX_XML;

        if (keep && *len == cap) {
            char *bigger;
            size_t want = cap * 2 > SPM_HOOK_MAX_XML + 1 ? SPM_HOOK_MAX_XML + 1 : cap * 2;

            if (!(bigger = realloc(buf, want))) {
                free(buf);
                return NULL;
            }
            buf = bigger;
            cap = want;
        }
        if (keep && *len < cap)
            n = read(STDIN_FILENO, buf + *len, cap - *len);
        else
            n = read(STDIN_FILENO, scratch, sizeof(scratch));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (keep && *len < cap)
            *len += n;
        total += n;
    }
    return buf;
}

int
main(int argc, char **argv)
{
    const char *helper = spm_env(SPM_ENV_HOOK_HELPER);
    SpmHookOp hop = argc >= 4 ? spm_hook_op_parse(argv[2], argv[3]) : SPM_HOOK_OP_LAST;
    int may_refuse = spm_hook_op_may_refuse(hop);
    size_t len;
    char *xml;
    int fd;

    if (hop == SPM_HOOK_OP_LAST) {
        /* still drain stdin so that libvirt never writes into a closed pipe */
        free(spm_hook_read_stdin(&len));
        return 0;
    }
    if (!(xml = spm_hook_read_stdin(&len))) {
        fprintf(stderr, "virt-spm: out of memory reading the domain XML\n");
        return may_refuse ? 1 : 0;
    }
    if (!memmem(xml, len, SPM_XMLNS, strlen(SPM_XMLNS)) &&
        !spm_hook_nova_wanted(hop, xml, len)) {
        free(xml);
        return 0;
    }

    /* An SPM domain: the helper gets the same arguments and the same XML. */
    if (!helper)
        helper = SPM_HOOK_HELPER_PATH;
    fd = memfd_create("virt-spm-hook-xml", 0);
    if (fd < 0 || write(fd, xml, len) != (ssize_t)len || lseek(fd, 0, SEEK_SET) != 0 ||
        dup2(fd, STDIN_FILENO) < 0) {
        fprintf(stderr, "virt-spm: cannot pass the domain XML to '%s': %s\n",
                helper, strerror(errno));
        return may_refuse ? 1 : 0;
    }
    free(xml);
    close(fd);
    argv[0] = (char *)helper;
    execv(helper, argv);
    fprintf(stderr, "virt-spm: cannot run '%s': %s\n", helper, strerror(errno));
    return may_refuse ? 1 : 0;
}
