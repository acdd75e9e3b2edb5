/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * spm-intervals.c: disjoint ranges in a balanced tree (GTree) keyed by
 * start address.  Because the ranges are disjoint, their ends are ordered
 * like their starts, so "the first range reaching X" is the last range
 * starting at or below X if it reaches X, else the one after it.
 */
#include "spm-intervals.h"

struct _SpmIntervals {
    GTree *tree;                /* &SpmInterval.start -> SpmInterval * */
};

static int
spm_cmp_u64(gconstpointer a, gconstpointer b, gpointer data)
{
    guint64 x = *(const guint64 *)a, y = *(const guint64 *)b;

    return x < y ? -1 : x > y;
}

SpmIntervals *
spm_intervals_new(void)
{
    SpmIntervals *set = g_new0(SpmIntervals, 1);

    set->tree = g_tree_new_full(spm_cmp_u64, NULL, NULL, g_free);
    return set;
}

void
spm_intervals_free(SpmIntervals *set)
{
    if (!set)
        return;
    g_tree_destroy(set->tree);
    g_free(set);
}

void
spm_intervals_add(SpmIntervals *set, guint64 start, guint64 last, gconstpointer owner)
{
    SpmInterval *iv = g_new(SpmInterval, 1);

    iv->start = start;
    iv->last = last;
    iv->owner = owner;
    g_tree_insert(set->tree, &iv->start, iv);
}

const SpmInterval *
spm_intervals_first_reaching(SpmIntervals *set, guint64 addr)
{
    /* first range starting above addr; the one before it starts at or below */
    GTreeNode *above = g_tree_upper_bound(set->tree, &addr);
    GTreeNode *below = above ? g_tree_node_previous(above) : g_tree_node_last(set->tree);

    if (below) {
        const SpmInterval *iv = g_tree_node_value(below);

        if (iv->last >= addr)
            return iv;
    }
    return above ? g_tree_node_value(above) : NULL;
}

const SpmInterval *
spm_intervals_next(SpmIntervals *set, const SpmInterval *iv)
{
    GTreeNode *node = g_tree_lookup_node(set->tree, &iv->start);
    GTreeNode *next = node ? g_tree_node_next(node) : NULL;

    return next ? g_tree_node_value(next) : NULL;
}

guint
spm_intervals_count(SpmIntervals *set)
{
    return (guint)g_tree_nnodes(set->tree);
}
