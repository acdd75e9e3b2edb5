/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virt-spm-qemu.c: the emulator wrapper for Nova guests with SPM memory.
 *
 * Installed as $libexecdir/virt-spm/bin/qemu-system-x86_64 and found first
 * in libvirtd's/virtqemud's PATH (a systemd drop-in), so libvirt runs it
 * for every domain without <emulator>, Nova's included, and for its
 * capability probes.  Nova defines and starts at once (docs/nova.md):
 * nothing can change the XML in between, so the hook plans the guest at
 * prepare begin and stores an edit list for its UUID
 * (qemu-cmdline/spm-nova-argv.h); this wrapper applies it and executes the
 * real QEMU.  Every other run -- probes (-machine none, -help, -version,
 * ...) and guests without a stored plan -- gets the real QEMU with its
 * arguments byte for byte.
 *
 * It links nothing but the C library and never runs a shell: it sits on
 * the start path of every guest.  A plan that does not fit the arguments
 * libvirt wrote is refused: exit 1 and one line on stderr, which libvirt
 * shows as the start error.
 *
 * The real QEMU is DIR/../real/NAME when the wrapper runs as DIR/NAME (a
 * QEMU installed for libvirt's guests only, e.g. one with sp-mem), or
 * else the next file NAME in PATH that is not this program, or else
 * VIRT_SPM_REAL_QEMU.  libvirt probes QEMU's capabilities through the
 * wrapper too, so its arguments always fit the QEMU that gets them.  A
 * candidate that is this very program, or another copy of the wrapper (it
 * finds VIRT_SPM_WRAPPER_EXECUTED in its environment), is refused: one line, not
 * an endless chain of execs.
 *
 * The plan is trusted only as far as its directory is: root writes it
 * (the hook), so the file must be root's, a regular file, and writable by
 * root only, in a directory of root's that no one else can write, below
 * directories that no one else can change (a sticky one, as /tmp, aside).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "spm-build-config.h"
#include "spm-env.h"
#include "spm-nova-plan-format.h"

#define SPM_WRAPPER_MAX_PLAN SPM_NOVA_PLAN_MAX_BYTES
#define SPM_WRAPPER_MAX_ADD 512
/* set for the program the wrapper executes: QEMU ignores it, a wrapper refuses */

#ifndef VIRT_SPM_REAL_QEMU
#define VIRT_SPM_REAL_QEMU "/usr/bin/qemu-system-x86_64"
#endif

static const char *spm_uuid_for_messages = "?";

static void __attribute__((format(printf, 1, 2), noreturn))
spm_wrapper_refuse(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    for (char *p = msg; *p; p++) {
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    }
    fprintf(stderr, "virt-spm: refusing to start domain %s: %s\n", spm_uuid_for_messages, msg);
    exit(1);
}

/* 8-4-4-4-12 hexadecimal digits: nothing else reaches a file name. */
static int
spm_uuid_valid(const char *s)
{
    static const int dash[] = { 8, 13, 18, 23 };
    size_t d = 0;

    if (strlen(s) != 36)
        return 0;
    for (size_t i = 0; i < 36; i++) {
        if (d < 4 && (int)i == dash[d]) {
            if (s[i] != '-')
                return 0;
            d++;
        } else if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
                     (s[i] >= 'A' && s[i] <= 'F'))) {
            return 0;
        }
    }
    return 1;
}

/* The value of the only -@opt in @argv, or NULL; *count says how many there were. */
static int
spm_find_opt(int argc, char **argv, const char *opt, int *count)
{
    int at = -1;

    *count = 0;
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], opt) == 0) {
            (*count)++;
            at = i + 1;
            i++;
        }
    }
    return at;
}

/* Say that @qemu is a wrapper, not QEMU, in one line, and stop. */
static void __attribute__((noreturn))
spm_wrapper_loop(const char *qemu)
{
    fprintf(stderr, "virt-spm: '%s' is the virt-spm emulator wrapper, not QEMU: refusing to "
            "run it again (a second copy in PATH, or real/ linked back to the wrapper)\n", qemu);
    exit(1);
}

/* Is @path this very program (the same file, whatever the links)? */
static int
spm_is_self(const char *path)
{
    struct stat self, st;

    return stat("/proc/self/exe", &self) == 0 && stat(path, &st) == 0 &&
           st.st_dev == self.st_dev && st.st_ino == self.st_ino;
}

/*
 * libvirt's -m is the amount the plan is for, in MiB: libvirt 9.0 writes
 * "-m 512", libvirt 12.8 (measured with Nova 34's XML) "-m size=524288k".
 * Either spelling of that amount, nothing else.
 */
static int
spm_m_is(const char *libvirt_m, const char *plan_mib)
{
    char kib[64];
    unsigned long long mib;
    char *end;

    if (strcmp(libvirt_m, plan_mib) == 0)
        return 1;
    if (!*plan_mib || strspn(plan_mib, "0123456789") != strlen(plan_mib))
        return 0;
    errno = 0;
    mib = strtoull(plan_mib, &end, 10);
    if (errno || mib > ULLONG_MAX / 1024)
        return 0;
    snprintf(kib, sizeof(kib), "size=%lluk", mib * 1024);
    return strcmp(libvirt_m, kib) == 0;
}

/* DIR/../real/NAME, or the next file NAME in PATH that is not us. */
static const char *
spm_real_qemu(const char *argv0, char *buf, size_t len)
{
    const char *base = strrchr(argv0, '/');
    const char *path = spm_env(SPM_ENV_PATH);
    struct stat self, st;

    if (base && snprintf(buf, len, "%.*s/../real/%s", (int)(base - argv0), argv0, base + 1) < (int)len &&
        access(buf, X_OK) == 0) {
        if (spm_is_self(buf))
            spm_wrapper_loop(buf);
        return buf;
    }
    base = base ? base + 1 : argv0;
    if (!path || !*base || stat("/proc/self/exe", &self) < 0)
        return VIRT_SPM_REAL_QEMU;
    while (*path) {
        const char *end = strchrnul(path, ':');
        int n = (int)(end - path);

        if (n > 0 && snprintf(buf, len, "%.*s/%s", n, path, base) < (int)len &&
            stat(buf, &st) == 0 && S_ISREG(st.st_mode) && access(buf, X_OK) == 0 &&
            !(st.st_dev == self.st_dev && st.st_ino == self.st_ino))
            return buf;
        path = *end ? end + 1 : end;
    }
    return VIRT_SPM_REAL_QEMU;
}

static void __attribute__((noreturn))
spm_exec(const char *qemu, char **argv)
{
    if (spm_is_self(qemu))
        spm_wrapper_loop(qemu);
    /* a copy of the wrapper (another inode) finds it and refuses */
    setenv(spm_env_name(SPM_ENV_WRAPPER_EXECUTED), "1", 1);
    execv(qemu, argv);
    fprintf(stderr, "virt-spm: cannot run QEMU '%s': %s\n", qemu, strerror(errno));
    exit(1);
}

/* Owned by root, or by us when a test chose the plan directory. */
static int
spm_trusted_owner(uid_t uid, int test_dir)
{
    return uid == 0 || (test_dir && uid == geteuid());
}

/*
 * Is the plan directory @fd (@dir) root's, writable by its owner only,
 * and is every directory above it out of others' reach?  Up through ".."
 * from the directory itself: what really holds the plan, links or not.
 */
static void
spm_check_plan_dir(int fd, const char *dir, int test_dir)
{
    int cur = dup(fd);

    for (int depth = 0; cur >= 0; depth++) {
        struct stat st, up_st;
        int up;
        int others = 0;

        if (fstat(cur, &st) < 0 || depth > 4096)
            spm_wrapper_refuse("cannot check its plan directory '%s': %s", dir,
                               depth > 4096 ? strerror(ELOOP) : strerror(errno));
        others = (st.st_mode & (S_IWGRP | S_IWOTH)) && !(depth > 0 && (st.st_mode & S_ISVTX));
        if (!spm_trusted_owner(st.st_uid, test_dir) || others) {
            if (depth == 0)
                spm_wrapper_refuse("its plan directory '%s' is owned by uid %u with mode %04o, "
                                   "not root's and writable by root only: plan not applied",
                                   dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
            spm_wrapper_refuse("a directory %d levels above its plan directory '%s' is owned by "
                               "uid %u with mode %04o: others could replace the plan",
                               depth, dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
        }
        up = openat(cur, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (up < 0 || fstat(up, &up_st) < 0)
            spm_wrapper_refuse("cannot check the directories above '%s': %s", dir, strerror(errno));
        close(cur);
        if (up_st.st_dev == st.st_dev && up_st.st_ino == st.st_ino) {
            close(up);
            return;
        }
        cur = up;
    }
    spm_wrapper_refuse("cannot check its plan directory '%s': %s", dir, strerror(errno));
}

/* Read the plan of @uuid; NULL when there is none (pass through). */
static char *
spm_read_plan(const char *uuid)
{
    char path[PATH_MAX];
    char name[64];
    char *buf;
    size_t len = 0;
    int dfd, fd;
    struct stat st;
    const char *dir = spm_env(SPM_ENV_NOVA_PLAN_DIR);
    /* libvirt passes QEMU no such variable: the tests of the wrapper alone set it */
    int test_dir = dir && *dir;

    if (!test_dir)
        dir = VIRT_SPM_RUNDIR "/nova";
    snprintf(path, sizeof(path), "%s/%s.plan", dir, uuid);
    snprintf(name, sizeof(name), "%s.plan", uuid);
    /*
     * O_PATH: neither opening the directories nor walking up through ".."
     * reads them, so the QEMU user's confinement (AppArmor: the plan
     * files only) needs no rule for them
     */
    dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (dfd < 0) {
        if (errno == ENOENT)
            return NULL;
        spm_wrapper_refuse("cannot open its plan directory '%s': %s", dir, strerror(errno));
    }
    /* O_NONBLOCK: a FIFO or a device in its place must not hold the start */
    fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ENOENT) {
            close(dfd);
            return NULL;
        }
        spm_wrapper_refuse("cannot read its plan '%s': %s", path, strerror(errno));
    }
    if (fstat(fd, &st) < 0)
        spm_wrapper_refuse("cannot read its plan '%s': %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        spm_wrapper_refuse("its plan '%s' is not a regular file (mode %06o)", path,
                           (unsigned)st.st_mode);
    if (!spm_trusted_owner(st.st_uid, test_dir) || (st.st_mode & (S_IWGRP | S_IWOTH)))
        spm_wrapper_refuse("its plan '%s' is owned by uid %u with mode %04o, not root's and "
                           "writable by root only: plan not applied",
                           path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777));
    spm_check_plan_dir(dfd, dir, test_dir);
    close(dfd);
    /* one byte more than the limit: a plan of exactly the limit fits */
    if (!(buf = malloc(SPM_WRAPPER_MAX_PLAN + 2)))
        spm_wrapper_refuse("out of memory");
    for (;;) {
        ssize_t n = read(fd, buf + len, SPM_WRAPPER_MAX_PLAN + 1 - len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            spm_wrapper_refuse("cannot read its plan '%s': %s", path, strerror(errno));
        if (n == 0)
            break;
        len += n;
        if (len > SPM_WRAPPER_MAX_PLAN)
            spm_wrapper_refuse("its plan '%s' is larger than %d bytes", path, SPM_WRAPPER_MAX_PLAN);
    }
    close(fd);
    buf[len] = '\0';
    if (strlen(buf) != len)
        spm_wrapper_refuse("its plan '%s' holds a NUL byte", path);
    return buf;
}

/* Does the -machine value @value have the property @prop?  Where, in *at. */
static char *
spm_machine_find(char *value, const char *prop)
{
    size_t plen = strlen(prop);

    for (char *p = strchr(value, ','); p; p = strchr(p + 1, ',')) {
        /* a doubled comma is an escaped one inside a value */
        if (p[1] == ',') {
            p++;
            continue;
        }
        if (strncmp(p + 1, prop, plen) == 0 && (p[1 + plen] == ',' || p[1 + plen] == '\0'))
            return p;
    }
    return NULL;
}

int
main(int argc, char **argv)
{
    char qemu_buf[PATH_MAX];
    const char *qemu;
    const char *uuid;
    char *plan;
    char **out;
    int nout = 0;
    int count;
    int at;
    int numa = 0;
    int m_at, name_at, machine_at = -1;
    char *adds[SPM_WRAPPER_MAX_ADD];
    int nadd = 0;
    char *m_set = NULL;
    char *machine = NULL;
    int have_magic = 0, have_uuid = 0, have_name = 0, have_m = 0, have_numa = 0;

    /* A wrapper executed by a wrapper: it would run itself forever. */
    if (spm_env(SPM_ENV_WRAPPER_EXECUTED)) {
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

        self[n > 0 ? n : 0] = '\0';
        spm_wrapper_loop(n > 0 ? self : argv[0]);
    }

    /* Probes and guests without a plan: the real QEMU, arguments untouched. */
    at = spm_find_opt(argc, argv, "-uuid", &count);
    if (count != 1 || !spm_uuid_valid(argv[at]))
        spm_exec(spm_real_qemu(argv[0], qemu_buf, sizeof(qemu_buf)), argv);
    uuid = argv[at];
    spm_uuid_for_messages = uuid;
    if (!(plan = spm_read_plan(uuid)))
        spm_exec(spm_real_qemu(argv[0], qemu_buf, sizeof(qemu_buf)), argv);

    m_at = spm_find_opt(argc, argv, "-m", &count);
    if (count != 1)
        spm_wrapper_refuse("libvirt wrote %d -m options, the plan needs exactly one", count);
    name_at = spm_find_opt(argc, argv, "-name", &count);
    if (count != 1)
        spm_wrapper_refuse("libvirt wrote %d -name options, the plan needs exactly one", count);
    for (int i = 1; i + 1 < argc; i++) {
        if (strcmp(argv[i], "-numa") == 0 && strncmp(argv[i + 1], "node,", 5) == 0)
            numa++;
        if (strcmp(argv[i], "-machine") == 0)
            machine_at = i + 1;
    }

    for (char *line = plan, *next; line && *line; line = next) {
        char *sp;

        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (!have_magic) {
            if (strcmp(line, SPM_NOVA_PLAN_MAGIC) != 0)
                spm_wrapper_refuse("its plan does not start with '%s'", SPM_NOVA_PLAN_MAGIC);
            have_magic = 1;
            continue;
        }
        if (!(sp = strchr(line, ' ')))
            spm_wrapper_refuse("its plan has a line without a value: '%s'", line);
        *sp++ = '\0';
        if (strcmp(line, SPM_NOVA_PLAN_KEY_UUID) == 0) {
            if (strcasecmp(sp, uuid) != 0)
                spm_wrapper_refuse("its plan belongs to domain %s", sp);
            have_uuid = 1;
        } else if (strcmp(line, SPM_NOVA_PLAN_KEY_NAME) == 0) {
            const char *v = argv[name_at];
            size_t n = strlen(sp);

            /* the name ends at a comma that is not doubled (QEMU's escape) */
            if (strncmp(v, sp, n) != 0 || (v[n] != '\0' && (v[n] != ',' || v[n + 1] == ',')))
                spm_wrapper_refuse("its plan is for '-name %s', libvirt wrote '-name %s'", sp, v);
            have_name = 1;
        } else if (strcmp(line, SPM_NOVA_PLAN_KEY_M) == 0) {
            if (!spm_m_is(argv[m_at], sp))
                spm_wrapper_refuse("its plan is for '-m %s', libvirt wrote '-m %s' "
                                   "(the domain changed after the hook planned it)", sp, argv[m_at]);
            have_m = 1;
        } else if (strcmp(line, SPM_NOVA_PLAN_KEY_M_SET) == 0) {
            m_set = sp;
        } else if (strcmp(line, SPM_NOVA_PLAN_KEY_NUMA) == 0) {
            if (atoi(sp) != numa || strspn(sp, "0123456789") != strlen(sp))
                spm_wrapper_refuse("its plan is for %s NUMA nodes from libvirt, libvirt wrote %d",
                                   sp, numa);
            have_numa = 1;
        } else if (strcmp(line, SPM_NOVA_PLAN_KEY_MACHINE_DROP) == 0) {
            char *found;

            if (machine_at < 0 || !(machine = strdup(argv[machine_at])))
                spm_wrapper_refuse("its plan changes -machine, libvirt wrote none");
            if (!(found = spm_machine_find(machine, sp)))
                spm_wrapper_refuse("its plan drops '%s' from -machine, libvirt wrote '-machine %s'",
                                   sp, argv[machine_at]);
            memmove(found, found + 1 + strlen(sp), strlen(found + 1 + strlen(sp)) + 1);
        } else if (strcmp(line, SPM_NOVA_PLAN_KEY_ADD) == 0) {
            if (nadd == SPM_WRAPPER_MAX_ADD)
                spm_wrapper_refuse("its plan adds more than %d arguments", SPM_WRAPPER_MAX_ADD);
            adds[nadd++] = sp;
        } else {
            spm_wrapper_refuse("its plan has an unknown line '%s'", line);
        }
    }
    if (!have_uuid || !have_name || !have_m || !have_numa || !m_set)
        spm_wrapper_refuse("its plan lacks one of uuid, name, m, m-set, numa");

    if (!(out = calloc(argc + nadd + 1, sizeof(char *))))
        spm_wrapper_refuse("out of memory");
    for (int i = 0; i < argc; i++) {
        if (i == m_at)
            out[nout++] = m_set;
        else if (machine && i == machine_at)
            out[nout++] = machine;
        else
            out[nout++] = argv[i];
    }
    for (int i = 0; i < nadd; i++)
        out[nout++] = adds[i];
    out[nout] = NULL;

    qemu = spm_real_qemu(argv[0], qemu_buf, sizeof(qemu_buf));
    out[0] = (char *)qemu;
    spm_exec(qemu, out);
}
