/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-placement-bind.c: Placement's allocation to a node per device
 * (hook/spm-placement-bind.c), pure: the answer's parsing, the exact cover,
 * and each refusal's one line.
 */
#include <string.h>

#include "spm-error.h"
#include "spm-placement-bind.h"

#define GiB (G_GUINT64_CONSTANT(1) << 30)
#define UUID "6a1c9d1e-2f3b-4c5d-8e9f-0a1b2c3d4e5f"

/* A domain with SPM devices of @sizes bytes (0-terminated), @pins[i] their nodemask or NULL. */
static SpmDomainDef *
domain(const guint64 *sizes, const char *const *pins)
{
    SpmDomainDef *def = spm_domain_def_new();

    for (guint i = 0; sizes[i]; i++) {
        SpmMemDevice *dev = spm_mem_device_new(SPM_MEM_MODEL_SPM);

        dev->size = sizes[i];
        dev->source.nodemask = pins && pins[i] ? g_strdup(pins[i]) : NULL;
        g_ptr_array_add(def->mems, dev);
    }
    return def;
}

static SpmPlacementAllocation *
answer(const char *nodes, guint64 root_gib, const char *elsewhere)
{
    g_autofree char *text = g_strdup_printf("{\"consumer\": \"" UUID "\", \"host\": \"cn1\", "
                                            "\"registered\": true, \"allocated\": true, "
                                            "\"nodes\": {%s}, \"root_gib\": %" G_GUINT64_FORMAT
                                            ", \"elsewhere\": [%s]}", nodes, root_gib,
                                            elsewhere ? elsewhere : "");
    g_autoptr(GError) err = NULL;
    SpmPlacementAllocation *a = spm_placement_allocation_parse(text, &err);

    g_assert_no_error(err);
    return a;
}

static char *
nodemasks(SpmDomainDef *def)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; i < def->mems->len; i++) {
        SpmMemDevice *dev = def->mems->pdata[i];

        g_string_append_printf(s, "%s%s", i ? " " : "", dev->source.nodemask ? dev->source.nodemask : "-");
    }
    return g_string_free(s, FALSE);
}

/* Bind @sizes/@pins to @nodes; the device's nodemasks, or "refused: MESSAGE". */
static char *
bind(const char *nodes, guint64 root_gib, const char *elsewhere, const guint64 *sizes,
     const char *const *pins, gboolean *bound)
{
    g_autoptr(SpmPlacementAllocation) a = answer(nodes, root_gib, elsewhere);
    g_autoptr(SpmDomainDef) def = domain(sizes, pins);
    g_autoptr(GError) err = NULL;

    if (!spm_placement_bind(a, def, bound, &err)) {
        g_assert_error(err, SPM_ERROR, SPM_ERROR_INVALID);
        g_assert_null(strchr(err->message, '\n'));
        return g_strdup_printf("refused: %s", err->message);
    }
    return nodemasks(def);
}

static void
test_cover(void)
{
    const guint64 two[] = { GiB, GiB, 0 };
    const guint64 mixed[] = { GiB, 3 * GiB, 0 };
    const guint64 half[] = { GiB + GiB / 2, 0 };
    const char *const pin1[] = { "1", NULL };
    gboolean bound = FALSE;
    g_autofree char *a = bind("\"2\": 1, \"1\": 1", 0, NULL, two, NULL, &bound);
    g_autofree char *b = NULL, *c = NULL, *d = NULL, *e = NULL;

    g_assert_cmpstr(a, ==, "1 2");
    g_assert_true(bound);
    b = bind("\"2\": 2", 0, NULL, two, NULL, &bound);
    g_assert_cmpstr(b, ==, "2 2");
    /* the 1 GiB device must take the 1 GiB node, though node 0 comes first for it */
    c = bind("\"0\": 3, \"5\": 1", 0, NULL, mixed, NULL, &bound);
    g_assert_cmpstr(c, ==, "5 0");
    /* a started GiB is a whole one, as the flavor asks */
    d = bind("\"3\": 2", 0, NULL, half, NULL, &bound);
    g_assert_cmpstr(d, ==, "3");
    /* the pinned device stays on node 1, the other takes node 2 */
    e = bind("\"1\": 1, \"2\": 1", 0, NULL, two, pin1, &bound);
    g_assert_cmpstr(e, ==, "1 2");
}

static void
test_pooled(void)
{
    const guint64 two[] = { GiB, GiB, 0 };
    gboolean bound = TRUE;
    g_autofree char *a = bind("", 2, NULL, two, NULL, &bound);

    g_assert_cmpstr(a, ==, "- -");
    g_assert_false(bound);
}

static void
test_refusals(void)
{
    const guint64 two[] = { GiB, GiB, 0 };
    const guint64 one[] = { GiB, 0 };
    const char *const pin2[] = { "2", NULL };
    const char *const span[] = { "1-2", NULL };
    gboolean bound;
    g_autofree char *none = bind("", 0, NULL, one, NULL, &bound);
    g_autofree char *other = bind("", 0, "\"cn2_SPM_NODE_0\"", one, NULL, &bound);
    g_autofree char *misfit = bind("\"1\": 3", 0, NULL, two, NULL, &bound);
    g_autofree char *short_ = bind("\"1\": 1", 0, NULL, two, NULL, &bound);
    g_autofree char *pinned = bind("\"1\": 1", 0, NULL, one, pin2, &bound);
    g_autofree char *spans = bind("\"1\": 1", 0, NULL, one, span, &bound);

    g_assert_true(g_str_has_prefix(none, "refused: Placement holds no CUSTOM_SPM_HBM_GIB of compute "
                                   "node 'cn1' for instance " UUID " (its allocation has none"));
    g_assert_cmpstr(other, ==, "refused: Placement holds instance " UUID "'s CUSTOM_SPM_HBM_GIB on "
                    "cn2_SPM_NODE_0, not on compute node 'cn1'");
    g_assert_cmpstr(misfit, ==, "refused: Placement's allocation for instance " UUID " on compute "
                    "node 'cn1' (host node 1: 3 GiB) does not fit its 2 SPM devices (1 GiB, 1 GiB)");
    g_assert_true(strstr(short_, "(host node 1: 1 GiB) does not fit its 2 SPM devices"));
    g_assert_true(strstr(pinned, "(host node 1: 1 GiB) does not fit its 1 SPM device (1 GiB)"));
    g_assert_cmpstr(spans, ==, "refused: SPM device 0 is bound to host nodes '1-2', but Placement "
                    "allocates each device from one node");
}

static void
test_parse_errors(void)
{
    static const char *const bad[][2] = {
        { "[]", "Placement's answer is not a JSON object" },
        { "not json", "Placement's answer is not a JSON object" },
        { "{\"nodes\": {\"x\": 1}}", "Placement's answer: 'x' is not a host node" },
        { "{\"nodes\": {\"1\": \"many\"}}", "Placement's answer: 1 is not a number of GiB" },
        { "{\"root_gib\": -1}", "Placement's answer: root_gib is not a number of GiB" },
    };

    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) err = NULL;
        g_autoptr(SpmPlacementAllocation) a = spm_placement_allocation_parse(bad[i][0], &err);

        g_assert_null(a);
        g_assert_error(err, SPM_ERROR, SPM_ERROR_INVALID);
        g_assert_cmpstr(err->message, ==, bad[i][1]);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/placement-bind/cover", test_cover);
    g_test_add_func("/placement-bind/pooled", test_pooled);
    g_test_add_func("/placement-bind/refusals", test_refusals);
    g_test_add_func("/placement-bind/parse-errors", test_parse_errors);
    return g_test_run();
}
