/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-argv.c: the QEMU arguments of hand-built plans, word for word, and
 * proof that no value can add a property (read back with a parser that
 * follows QEMU's key=value rules).
 */
#include <string.h>
#include "spm-error.h"
#include "spm-argv.h"
#include "argv-test-plan.h"

#define GiB (G_GUINT64_CONSTANT(1) << 30)
#define MiB (G_GUINT64_CONSTANT(1) << 20)

/*
 * QEMU's key=value option syntax read back: the first word may be an
 * implied value without '=' (key "" here); a value ends at a single ',';
 * ",," is a comma inside the value.  Returns pairs key, value, key, value...
 */
static GStrv
parse_qemu_opts(const char *text)
{
    g_autoptr(GStrvBuilder) out = g_strv_builder_new();
    const char *p = text;
    gboolean first = TRUE;

    while (*p) {
        g_autoptr(GString) key = g_string_new(NULL);
        g_autoptr(GString) value = g_string_new(NULL);
        const char *q = p;

        /* a key runs to '=' or ','; an implied value has no '=' */
        while (*q && *q != '=' && *q != ',')
            q++;
        if (*q == '=') {
            g_string_append_len(key, p, q - p);
            p = q + 1;
        } else {
            g_assert_true(first);   /* only the first word may be implied */
        }
        for (;;) {
            if (*p == ',' && p[1] == ',') {
                g_string_append_c(value, ',');
                p += 2;
            } else if (*p == ',' || *p == '\0') {
                break;
            } else {
                g_string_append_c(value, *p++);
            }
        }
        if (*p == ',')
            p++;
        g_strv_builder_add(out, key->str);
        g_strv_builder_add(out, value->str);
        first = FALSE;
    }
    return g_strv_builder_end(out);
}

/* The value of @key in parsed pairs; NULL if absent; fails if repeated. */
static const char *
opts_get(GStrv pairs, const char *key)
{
    const char *found = NULL;

    for (guint i = 0; pairs[i]; i += 2) {
        if (g_str_equal(pairs[i], key)) {
            g_assert_null(found);
            found = pairs[i + 1];
        }
    }
    return found;
}

static guint
opts_count(GStrv pairs)
{
    return g_strv_length(pairs) / 2;
}

static void
assert_strv(GStrv got, const char *const *want)
{
    guint n = g_strv_length((GStrv)want);

    for (guint i = 0; i < n && got[i]; i++)
        g_assert_cmpstr(got[i], ==, want[i]);
    g_assert_cmpuint(g_strv_length(got), ==, n);
}

static void
test_quote(void)
{
    static const char *const cases[][2] = {
        { "", "" },
        { "plain", "plain" },
        { "a,b", "a,,b" },
        { ",", ",," },
        { ",,", ",,,," },
        { "/a,b/c,", "/a,,b/c,," },
        { "x,share=on", "x,,share=on" },
        { "k=v", "k=v" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *q = spm_qemu_opt_quote(cases[i][0]);
        g_autofree char *word = g_strdup_printf("memory-backend-file,mem-path=%s", q);
        g_auto(GStrv) pairs = parse_qemu_opts(word);

        g_assert_cmpstr(q, ==, cases[i][1]);
        /* read back: exactly one property, the value unchanged */
        g_assert_cmpuint(opts_count(pairs), ==, 2);
        g_assert_cmpstr(opts_get(pairs, "mem-path"), ==, cases[i][0]);
    }
}

/* Two SPM devices (realize order opposite to address order), libvirt's DIMM. */
static ArgvTestPlan *
make_two_spm_plan(void)
{
    ArgvTestPlan *plan = argv_test_plan_new();

    argv_test_plan_add_node(plan, 0, SPM_NUMA_CELL, GiB);
    argv_test_plan_add_node(plan, 1, SPM_NUMA_SPM, 0);
    argv_test_plan_add_node(plan, 2, SPM_NUMA_SPM, 0);
    argv_test_plan_add_device(plan, "ua-hbm0", SPM_MEM_MODEL_SPM,
                              0x100000000, GiB, 1, 1, TRUE);
    argv_test_plan_add_device(plan, "ua-hbm1", SPM_MEM_MODEL_SPM,
                              0x1c0000000, 2 * GiB, 2, 0, TRUE);
    argv_test_plan_add_device(plan, "dimm0", SPM_MEM_MODEL_DIMM,
                              0x280000000, 512 * MiB, 0, 2, FALSE);
    return plan;
}

static void
test_two_devices(void)
{
    g_autoptr(ArgvTestPlan) plan = make_two_spm_plan();
    g_autoptr(GError) err = NULL;
    g_auto(GStrv) argv = spm_argv_build(plan, NULL, &err);
    static const char *const want[] = {
        "-numa", "node,nodeid=1",
        "-numa", "node,nodeid=2",
        "-object", "memory-backend-ram,id=mem-ua-hbm1,size=2147483648",
        "-device", "sp-mem,id=ua-hbm1,memdev=mem-ua-hbm1,node=2,addr=0x1c0000000",
        "-object", "memory-backend-ram,id=mem-ua-hbm0,size=1073741824",
        "-device", "sp-mem,id=ua-hbm0,memdev=mem-ua-hbm0,node=1,addr=0x100000000",
        NULL
    };

    g_assert_no_error(err);
    assert_strv(argv, want);
}

/* The same plan for each revision: only the driver differs. */
static void
test_revisions(void)
{
    g_autoptr(ArgvTestPlan) plan = make_two_spm_plan();
    g_autoptr(GError) err = NULL;
    g_auto(GStrv) sp_mem = NULL;
    g_auto(GStrv) v8 = NULL;

    plan->device = SPM_DEVICE_SP_MEM;
    sp_mem = spm_argv_build(plan, NULL, &err);
    g_assert_no_error(err);
    plan->device = SPM_DEVICE_SPM_MEMORY;
    v8 = spm_argv_build(plan, NULL, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(g_strv_length(sp_mem), ==, g_strv_length(v8));
    for (guint i = 0; sp_mem[i]; i++) {
        if (g_str_has_prefix(sp_mem[i], "sp-mem,")) {
            g_assert_true(g_str_has_prefix(v8[i], "spm-memory,"));
            g_assert_cmpstr(sp_mem[i] + strlen("sp-mem"), ==, v8[i] + strlen("spm-memory"));
        } else {
            g_assert_cmpstr(sp_mem[i], ==, v8[i]);
        }
    }
    g_assert_cmpstr(sp_mem[7], ==, "sp-mem,id=ua-hbm1,memdev=mem-ua-hbm1,node=2,addr=0x1c0000000");

    /* a value outside the enum is refused, not written */
    plan->device = SPM_DEVICE_LAST;
    g_assert_null(spm_argv_build(plan, NULL, &err));
    g_assert_error(err, SPM_ERROR, SPM_ERROR_INVALID);
}

/* Nodes out of id order in the array still come out by id. */
static void
test_numa_order(void)
{
    g_autoptr(ArgvTestPlan) plan = argv_test_plan_new();
    g_autoptr(GError) err = NULL;
    g_auto(GStrv) argv = NULL;
    static const char *const want[] = {
        "-numa", "node,nodeid=1",
        "-numa", "node,nodeid=3",
        "-numa", "node,nodeid=10",
        NULL
    };

    argv_test_plan_add_node(plan, 10, SPM_NUMA_SPM, 0);
    argv_test_plan_add_node(plan, 0, SPM_NUMA_SYNTHESIZED, GiB);
    argv_test_plan_add_node(plan, 3, SPM_NUMA_SPM, 0);
    argv_test_plan_add_node(plan, 2, SPM_NUMA_CELL, GiB);
    argv_test_plan_add_node(plan, 1, SPM_NUMA_SPM, 0);
    argv = spm_argv_build(plan, NULL, &err);
    g_assert_no_error(err);
    assert_strv(argv, want);
}

static void
test_empty(void)
{
    g_autoptr(ArgvTestPlan) plan = argv_test_plan_new();
    g_autoptr(GError) err = NULL;
    g_auto(GStrv) argv = NULL;

    /* libvirt's own devices only: nothing for virt-spm to add */
    argv_test_plan_add_node(plan, 0, SPM_NUMA_CELL, GiB);
    argv_test_plan_add_device(plan, "dimm0", SPM_MEM_MODEL_DIMM,
                              0x100000000, GiB, 0, 0, FALSE);
    argv = spm_argv_build(plan, NULL, &err);
    g_assert_no_error(err);
    g_assert_nonnull(argv);
    g_assert_null(argv[0]);
}

static void
test_all_properties(void)
{
    g_autoptr(ArgvTestPlan) plan = argv_test_plan_new();
    g_autoptr(GError) err = NULL;
    g_auto(GStrv) argv = NULL;
    SpmPlannedDevice *dev;
    static const char *const want[] = {
        "-numa", "node,nodeid=1",
        "-numa", "node,nodeid=2",
        "-object", "memory-backend-file,id=mem-ua-f,size=1073741824,"
                   "mem-path=/dev/hugepages/a,,b,share=on,prealloc=on,"
                   "discard-data=on,host-nodes=0,host-nodes=2-3,policy=bind,"
                   "align=1073741824",
        "-device", "sp-mem,id=ua-f,memdev=mem-ua-f,node=1,addr=0x100000000",
        "-object", "memory-backend-memfd,id=mem-ua-m,size=2147483648,share=off,"
                   "host-nodes=5,policy=bind,hugetlb=on,hugetlbsize=1073741824",
        "-device", "sp-mem,id=ua-m,memdev=mem-ua-m,node=2",
        "-object", "memory-backend-file,id=mem-ua-d,size=2147483648,"
                   "mem-path=/dev/dax0.0,discard-data=off",
        "-device", "sp-mem,id=ua-d,memdev=mem-ua-d,node=0,addr=0x300000000",
        NULL
    };

    argv_test_plan_add_node(plan, 0, SPM_NUMA_CELL, GiB);
    argv_test_plan_add_node(plan, 1, SPM_NUMA_SPM, 0);
    argv_test_plan_add_node(plan, 2, SPM_NUMA_SPM, 0);

    dev = argv_test_plan_add_device(plan, "ua-f", SPM_MEM_MODEL_SPM,
                                    0x100000000, GiB, 1, 0, TRUE);
    dev->backend.kind = SPM_BACKEND_FILE;
    dev->backend.mem_path = g_strdup("/dev/hugepages/a,b");
    dev->backend.has_share = TRUE;
    dev->backend.share = TRUE;
    dev->backend.prealloc = TRUE;
    dev->backend.has_discard_data = TRUE;
    dev->backend.discard_data = TRUE;
    dev->backend.host_nodes = g_strdup("0,2-3");
    dev->backend.align = GiB;

    dev = argv_test_plan_add_device(plan, "ua-m", SPM_MEM_MODEL_SPM,
                                    0x200000000, 2 * GiB, 2, 1, TRUE);
    dev->explicit_addr = FALSE;     /* no addr= on the command line */
    dev->backend.kind = SPM_BACKEND_MEMFD;
    dev->backend.has_share = TRUE;
    dev->backend.share = FALSE;
    dev->backend.host_nodes = g_strdup("5");
    dev->backend.hugetlb = TRUE;
    dev->backend.hugetlbsize = GiB;

    /* non-strict policy: an SPM device on a cell node; discard explicitly off */
    dev = argv_test_plan_add_device(plan, "ua-d", SPM_MEM_MODEL_SPM,
                                    0x300000000, 2 * GiB, 0, 2, TRUE);
    dev->backend.kind = SPM_BACKEND_FILE;
    dev->backend.mem_path = g_strdup("/dev/dax0.0");
    dev->backend.has_discard_data = TRUE;

    argv = spm_argv_build(plan, NULL, &err);
    g_assert_no_error(err);
    assert_strv(argv, want);
}

static void
test_stand_in(void)
{
    g_autoptr(ArgvTestPlan) plan = make_two_spm_plan();
    g_autoptr(GError) err = NULL;
    g_auto(GStrv) argv = NULL;
    SpmPlannedDevice *dev = g_ptr_array_index(plan->devices, 0);

    dev->slot = 3;
    argv = spm_argv_build(plan, "pc-dimm", &err);
    g_assert_no_error(err);
    g_assert_cmpuint(g_strv_length(argv), ==, 12);
    g_assert_cmpstr(argv[7], ==, "pc-dimm,id=ua-hbm1,memdev=mem-ua-hbm1,node=2,addr=0x1c0000000");
    g_assert_cmpstr(argv[11], ==, "pc-dimm,id=ua-hbm0,memdev=mem-ua-hbm0,node=1,addr=0x100000000,slot=3");
    g_clear_pointer(&argv, g_strfreev);

    /* neither SPM device has a slot property: never written for them */
    argv = spm_argv_build(plan, NULL, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(argv[11], ==, "sp-mem,id=ua-hbm0,memdev=mem-ua-hbm0,node=1,addr=0x100000000");
    g_clear_pointer(&argv, g_strfreev);
    plan->device = SPM_DEVICE_SPM_MEMORY;
    argv = spm_argv_build(plan, NULL, &err);
    g_assert_no_error(err);
    g_assert_cmpstr(argv[11], ==, "spm-memory,id=ua-hbm0,memdev=mem-ua-hbm0,node=1,addr=0x100000000");
    g_clear_pointer(&argv, g_strfreev);
    plan->device = SPM_DEVICE_SP_MEM;

    /* the driver name is an implied value: it may not carry properties */
    argv = spm_argv_build(plan, "pc-dimm,addr=0", &err);
    g_assert_error(err, SPM_ERROR, SPM_ERROR_INVALID);
    g_assert_null(argv);
    g_assert_nonnull(strstr(err->message, "pc-dimm,addr=0"));
}

static void
test_nodemask(void)
{
    static const struct {
        const char *mask;
        const char *want;       /* NULL: refused */
    } cases[] = {
        { "0", ",host-nodes=0,policy=bind" },
        { "2-3", ",host-nodes=2-3,policy=bind" },
        { "0,2-3", ",host-nodes=0,host-nodes=2-3,policy=bind" },
        { "0,2-3,5,7-127", ",host-nodes=0,host-nodes=2-3,host-nodes=5,host-nodes=7-127,policy=bind" },
        { "1-1", ",host-nodes=1,policy=bind" },
        { "007", ",host-nodes=7,policy=bind" },
        { "", NULL },
        { ",", NULL },
        { "1,", NULL },
        { ",1", NULL },
        { "1,,2", NULL },
        { "a", NULL },
        { "1a", NULL },
        { " 1", NULL },
        { "1 ", NULL },
        { "+1", NULL },
        { "-1", NULL },
        { "1-", NULL },
        { "1--2", NULL },
        { "1-2-3", NULL },
        { "3-2", NULL },
        { "2,1", NULL },
        { "2,2", NULL },
        { "0-3,3", NULL },
        { "0-3,2-5", NULL },
        { "0-4,^2", NULL },
        { "128", NULL },
        { "0-128", NULL },
        { "99999999999999999999", NULL },
        { "1,share=on", NULL },
        { "0x1", NULL },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(ArgvTestPlan) plan = argv_test_plan_new();
        g_autoptr(GError) err = NULL;
        g_auto(GStrv) argv = NULL;
        SpmPlannedDevice *dev;

        dev = argv_test_plan_add_device(plan, "ua-x", SPM_MEM_MODEL_SPM,
                                        0x100000000, GiB, 1, 0, TRUE);
        dev->backend.host_nodes = g_strdup(cases[i].mask);
        argv = spm_argv_build(plan, NULL, &err);
        if (cases[i].want) {
            g_autofree char *object = g_strconcat("memory-backend-ram,id=mem-ua-x,size=1073741824",
                                                  cases[i].want, NULL);

            g_assert_no_error(err);
            g_assert_cmpstr(argv[1], ==, object);
        } else {
            g_test_message("nodemask '%s': %s", cases[i].mask, err ? err->message : "accepted");
            g_assert_error(err, SPM_ERROR, SPM_ERROR_INVALID);
            g_assert_null(argv);
            /* the message names the value */
            g_assert_nonnull(strstr(err->message, cases[i].mask));
            g_assert_null(strchr(err->message, '\n'));
        }
    }
}

/* A path (or an id) can never add a property or change another. */
static void
test_injection(void)
{
    static const char *const paths[] = {
        "/tmp/x,share=on",
        "/tmp/x,,share=on",
        "/tmp/x,share=on,mem-path=/etc/passwd",
        ",",
        "/a,b,c,,d,,,e",
        "/tmp/=,id=evil",
        "x,prealloc=on,host-nodes=0,policy=bind",
    };

    for (guint i = 0; i < G_N_ELEMENTS(paths); i++) {
        g_autoptr(ArgvTestPlan) plan = argv_test_plan_new();
        g_autoptr(GError) err = NULL;
        g_auto(GStrv) argv = NULL;
        g_auto(GStrv) object = NULL;
        g_auto(GStrv) device = NULL;
        SpmPlannedDevice *dev;

        dev = argv_test_plan_add_device(plan, "ua-x", SPM_MEM_MODEL_SPM,
                                        0x100000000, GiB, 1, 0, TRUE);
        dev->backend.kind = SPM_BACKEND_FILE;
        dev->backend.mem_path = g_strdup(paths[i]);
        argv = spm_argv_build(plan, NULL, &err);
        g_assert_no_error(err);
        g_assert_cmpuint(g_strv_length(argv), ==, 4);

        object = parse_qemu_opts(argv[1]);
        g_assert_cmpuint(opts_count(object), ==, 4);
        g_assert_cmpstr(opts_get(object, ""), ==, "memory-backend-file");
        g_assert_cmpstr(opts_get(object, "id"), ==, "mem-ua-x");
        g_assert_cmpstr(opts_get(object, "size"), ==, "1073741824");
        g_assert_cmpstr(opts_get(object, "mem-path"), ==, paths[i]);

        device = parse_qemu_opts(argv[3]);
        g_assert_cmpuint(opts_count(device), ==, 5);
        g_assert_cmpstr(opts_get(device, ""), ==, "sp-mem");
        g_assert_cmpstr(opts_get(device, "memdev"), ==, "mem-ua-x");
    }
}

/* Ids QEMU would reject (and that could carry properties) are refused. */
static void
test_bad_ids(void)
{
    static const char *const ids[] = {
        "x,share=on", "x,,share=on", "", "0abc", "-x", "a b", "a=b", "ua-hbm0\n", "é",
    };

    for (guint i = 0; i < G_N_ELEMENTS(ids); i++) {
        for (guint backend = 0; backend < 2; backend++) {
            g_autoptr(ArgvTestPlan) plan = argv_test_plan_new();
            g_autoptr(GError) err = NULL;
            g_auto(GStrv) argv = NULL;
            SpmPlannedDevice *dev;

            dev = argv_test_plan_add_device(plan, "ua-ok", SPM_MEM_MODEL_SPM,
                                            0x100000000, GiB, 1, 0, TRUE);
            if (backend) {
                g_free(dev->backend.id);
                dev->backend.id = g_strdup(ids[i]);
            } else {
                g_free(dev->id);
                dev->id = g_strdup(ids[i]);
            }
            argv = spm_argv_build(plan, NULL, &err);
            g_assert_error(err, SPM_ERROR, SPM_ERROR_INVALID);
            g_assert_null(argv);
            g_assert_nonnull(strstr(err->message, backend ? "backend id" : "device id"));
            g_assert_nonnull(strstr(err->message, ids[i]));
        }
    }

    /* and the accepted alphabet, as QEMU's id_wellformed() */
    {
        g_autoptr(ArgvTestPlan) plan = argv_test_plan_new();
        g_autoptr(GError) err = NULL;
        g_auto(GStrv) argv = NULL;

        argv_test_plan_add_device(plan, "Ua-h.b_m0", SPM_MEM_MODEL_SPM,
                                  0x100000000, GiB, 1, 0, TRUE);
        argv = spm_argv_build(plan, NULL, &err);
        g_assert_no_error(err);
        g_assert_cmpstr(argv[3], ==, "sp-mem,id=Ua-h.b_m0,memdev=mem-Ua-h.b_m0,node=1,addr=0x100000000");
    }
}

typedef void (*BackendTweak)(SpmBackend *backend);

static void tweak_ram_path(SpmBackend *b) { b->mem_path = g_strdup("/x"); }
static void tweak_file_no_path(SpmBackend *b) { b->kind = SPM_BACKEND_FILE; }
static void tweak_file_empty_path(SpmBackend *b) { b->kind = SPM_BACKEND_FILE; b->mem_path = g_strdup(""); }
static void tweak_ram_discard(SpmBackend *b) { b->has_discard_data = TRUE; b->discard_data = TRUE; }
static void tweak_file_hugetlb(SpmBackend *b) { tweak_ram_path(b); b->kind = SPM_BACKEND_FILE; b->hugetlb = TRUE; }
static void tweak_ram_hugetlbsize(SpmBackend *b) { b->hugetlbsize = 2 * MiB; }
static void tweak_memfd_align(SpmBackend *b) { b->kind = SPM_BACKEND_MEMFD; b->align = 2 * MiB; }
static void tweak_size_zero(SpmBackend *b) { b->size = 0; }
static void tweak_bad_kind(SpmBackend *b) { b->kind = (SpmBackendKind)42; }

static void
test_backend_mismatch(void)
{
    static const struct {
        BackendTweak tweak;
        const char *needle;
    } cases[] = {
        { tweak_ram_path, "mem-path is not available on memory-backend-ram" },
        { tweak_file_no_path, "without mem-path" },
        { tweak_file_empty_path, "without mem-path" },
        { tweak_ram_discard, "discard-data is not available on memory-backend-ram" },
        { tweak_file_hugetlb, "hugetlb is not available on memory-backend-file" },
        { tweak_ram_hugetlbsize, "hugetlbsize is not available on memory-backend-ram" },
        { tweak_memfd_align, "align is not available on memory-backend-memfd" },
        { tweak_size_zero, "size 0" },
        { tweak_bad_kind, "unknown backend kind 42" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(ArgvTestPlan) plan = argv_test_plan_new();
        g_autoptr(GError) err = NULL;
        g_auto(GStrv) argv = NULL;
        SpmPlannedDevice *dev;

        dev = argv_test_plan_add_device(plan, "ua-x", SPM_MEM_MODEL_SPM,
                                        0x100000000, GiB, 1, 0, TRUE);
        cases[i].tweak(&dev->backend);
        argv = spm_argv_build(plan, NULL, &err);
        g_assert_error(err, SPM_ERROR, SPM_ERROR_INVALID);
        g_assert_null(argv);
        g_test_message("%s", err->message);
        g_assert_nonnull(strstr(err->message, cases[i].needle));
        g_assert_nonnull(strstr(err->message, "mem-ua-x"));
    }
}

/* QEMU's size syntax as the fixtures use it: digits and an optional K/M/G/T. */
static guint64
parse_qemu_size(const char *text)
{
    char *end = NULL;
    guint64 v = g_ascii_strtoull(text, &end, 10);

    g_assert_true(end != text);
    switch (*end) {
    case '\0': return v;
    case 'K': v <<= 10; break;
    case 'M': v <<= 20; break;
    case 'G': v <<= 30; break;
    case 'T': v <<= 40; break;
    default: g_assert_not_reached();
    }
    g_assert_cmpint(end[1], ==, '\0');
    return v;
}

/* Same option: same keys in the same order, same values (sizes by value). */
static void
assert_same_option(const char *got, const char *want)
{
    g_auto(GStrv) g = parse_qemu_opts(got);
    g_auto(GStrv) w = parse_qemu_opts(want);

    g_assert_cmpuint(g_strv_length(g), ==, g_strv_length(w));
    for (guint i = 0; w[i]; i += 2) {
        g_assert_cmpstr(g[i], ==, w[i]);
        if (g_str_equal(w[i], "size"))
            g_assert_cmpuint(parse_qemu_size(g[i + 1]), ==, parse_qemu_size(w[i + 1]));
        else
            g_assert_cmpstr(g[i + 1], ==, w[i + 1]);
    }
}

typedef struct {
    const char *fixture;
    guint nnodes;               /* SPM nodes 1..nnodes */
    struct {
        const char *id;
        const char *memdev;
        guint64 size;
        guint node;
        guint64 addr;           /* 0: QEMU chooses (no addr=) */
    } devs[2];
} FixtureCase;

/*
 * The SPM arguments of the fixtures, which the QEMU of each revision
 * accepted (10.2 with the v8 spm-memory, 11.1.3 with sp-mem), rebuilt
 * from hand-made plans: same words,
 * same order (sizes compared by value: the fixtures write "1G").
 */
static void
check_fixture_cmds(const char *dir, SpmDeviceRev device)
{
    static const FixtureCase cases[] = {
        { "single-natural", 1, { { "dev0", "spm0", GiB, 1, 0 } } },
        { "single-explicit-addr", 1, { { "dev0", "spm0", GiB, 1, 0x200000000 } } },
        { "two-gap", 2, { { "dev0", "spm0", GiB, 1, 0 },
                          { "dev1", "spm1", GiB, 2, 0x180000000 } } },
        { "two-tight", 2, { { "dev0", "spm0", GiB, 1, 0 },
                            { "dev1", "spm1", 2 * GiB, 2, 0 } } },
        { "big-ram-above-4g", 1, { { "dev0", "spm0", 8 * GiB, 1, 0 } } },
    };
    /* the fixtures ship with the project: missing ones are a failure */
    g_assert_true(dir && g_file_test(dir, G_FILE_TEST_IS_DIR));
    for (guint c = 0; c < G_N_ELEMENTS(cases); c++) {
        g_autoptr(ArgvTestPlan) plan = argv_test_plan_new();
        g_autoptr(GError) err = NULL;
        g_autofree char *name = g_strconcat(cases[c].fixture, ".cmd", NULL);
        g_autofree char *path = g_build_filename(dir, name, NULL);
        g_autofree char *text = NULL;
        g_auto(GStrv) words = NULL;
        g_auto(GStrv) argv = NULL;
        guint start = 0;
        guint nwords;

        g_test_message("%s", cases[c].fixture);
        g_file_get_contents(path, &text, NULL, &err);
        g_assert_no_error(err);
        g_shell_parse_argv(g_strstrip(text), NULL, &words, &err);
        g_assert_no_error(err);
        nwords = g_strv_length(words);
        /* the SPM part starts at the first memory-less -numa node */
        while (start + 1 < nwords &&
               !(g_str_equal(words[start], "-numa") && !strstr(words[start + 1], "memdev=")))
            start++;
        g_assert_cmpuint(start + 1, <, nwords);

        argv_test_plan_add_node(plan, 0, SPM_NUMA_CELL, GiB);
        for (guint n = 1; n <= cases[c].nnodes; n++)
            argv_test_plan_add_node(plan, n, SPM_NUMA_SPM, 0);
        for (guint d = 0; d < G_N_ELEMENTS(cases[c].devs) && cases[c].devs[d].id; d++) {
            SpmPlannedDevice *dev;

            dev = argv_test_plan_add_device(plan, cases[c].devs[d].id, SPM_MEM_MODEL_SPM,
                                            cases[c].devs[d].addr, cases[c].devs[d].size,
                                            cases[c].devs[d].node, d, TRUE);
            dev->explicit_addr = cases[c].devs[d].addr != 0;
            g_free(dev->backend.id);
            dev->backend.id = g_strdup(cases[c].devs[d].memdev);
        }
        plan->device = device;
        argv = spm_argv_build(plan, NULL, &err);
        g_assert_no_error(err);

        g_assert_cmpuint(g_strv_length(argv), ==, nwords - start);
        for (guint i = 0; argv[i]; i++) {
            if (argv[i][0] == '-')
                g_assert_cmpstr(argv[i], ==, words[start + i]);
            else
                assert_same_option(argv[i], words[start + i]);
        }
    }
}

/* tests/fixtures/qemu-spm: the v8 spm-memory; qemu-spmem: QEMU 11.1.3's sp-mem */
static void
test_fixture_cmds(void)
{
    check_fixture_cmds(g_getenv("SPM_FIXTURES_DIR"), SPM_DEVICE_SPM_MEMORY);
    check_fixture_cmds(g_getenv("SPM_FIXTURES_SPMEM_DIR"), SPM_DEVICE_SP_MEM);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/argv/quote", test_quote);
    g_test_add_func("/argv/two-devices", test_two_devices);
    g_test_add_func("/argv/revisions", test_revisions);
    g_test_add_func("/argv/numa-order", test_numa_order);
    g_test_add_func("/argv/empty", test_empty);
    g_test_add_func("/argv/all-properties", test_all_properties);
    g_test_add_func("/argv/stand-in", test_stand_in);
    g_test_add_func("/argv/nodemask", test_nodemask);
    g_test_add_func("/argv/injection", test_injection);
    g_test_add_func("/argv/bad-ids", test_bad_ids);
    g_test_add_func("/argv/backend-mismatch", test_backend_mismatch);
    g_test_add_func("/argv/fixture-cmds", test_fixture_cmds);
    return g_test_run();
}
