/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * test-hugepages.c: libvirt's qemu.conf and hugetlbfs mounts as virt-spm
 * reads them, the huge page pool check on fake sysfs trees, and the
 * per-domain directories (spm-hugepages.h, spm-memdir.h).  The real pools
 * are used by test-libvirt-real.
 */
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <libxml/tree.h>

#include "spm-domain-parse.h"
#include "spm-error.h"
#include "spm-hugepages.h"
#include "spm-memdir.h"
#include "spm-plan.h"
#include "spm-xml.h"

static char *tmpdir;

static char *
write_tmp(const char *name, const char *text)
{
    char *path = g_build_filename(tmpdir, name, NULL);

    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    return path;
}

/* ---- qemu.conf ---- */

static void
test_qemu_conf(void)
{
    g_autofree char *path = write_tmp("qemu.conf",
        "# memory_backing_dir = \"/commented\"\n"
        "cgroup_controllers = [ \"cpu\", \"devices\" ]\n"
        "security_driver = \"none\"\n"
        "memory_backing_dir = \"/srv/ram\"   # trailing comment\n"
        "hugetlbfs_mount = [ \"/dev/hugepages2M\",\n"
        "                    '/dev/hugepages1G' ]\n"
        "max_files = 32768\n");
    g_autofree char *dir = NULL;
    g_auto(GStrv) mounts = NULL;
    g_autoptr(GError) error = NULL;

    g_assert_true(spm_qemu_conf_read(path, &dir, &mounts, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(dir, ==, "/srv/ram");
    g_assert_cmpuint(g_strv_length(mounts), ==, 2);
    g_assert_cmpstr(mounts[0], ==, "/dev/hugepages2M");
    g_assert_cmpstr(mounts[1], ==, "/dev/hugepages1G");
}

static void
test_qemu_conf_single_and_missing(void)
{
    g_autofree char *path = write_tmp("qemu1.conf", "hugetlbfs_mount = \"/dev/hugepages\"\n");
    g_autofree char *bad = write_tmp("qemu2.conf", "hugetlbfs_mount = 42\n");
    g_autofree char *missing = g_build_filename(tmpdir, "no-such.conf", NULL);
    g_autofree char *dir = NULL;
    g_auto(GStrv) mounts = NULL;
    g_autoptr(GError) error = NULL;

    g_assert_true(spm_qemu_conf_read(path, &dir, &mounts, &error));
    g_assert_null(dir);
    g_assert_cmpuint(g_strv_length(mounts), ==, 1);
    g_clear_pointer(&mounts, g_strfreev);

    /* root's file, unreadable to others: libvirt's defaults */
    g_assert_true(spm_qemu_conf_read(missing, &dir, &mounts, &error));
    g_assert_null(dir);
    g_assert_null(mounts);

    g_assert_false(spm_qemu_conf_read(bad, &dir, &mounts, &error));
    g_assert_error(error, SPM_ERROR, SPM_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "hugetlbfs_mount"));
}

/* ---- /proc/mounts and [host] hugetlbfs_mount ---- */

static void
test_mounts(void)
{
    /* as this machine's kernel (6.x) writes them */
    GArray *m = spm_hugetlbfs_parse_mounts(
        "proc /proc proc rw,nosuid 0 0\n"
        "none /run/hp/2M hugetlbfs rw,relatime,pagesize=2M 0 0\n"
        "none /run/hp\\0401G hugetlbfs rw,relatime,pagesize=1024M 0 0\n"
        "tmpfs /dev/shm tmpfs rw,pagesize=2M 0 0\n"
        "none /bad hugetlbfs rw,pagesize=2X 0 0\n");

    g_assert_cmpuint(m->len, ==, 2);
    g_assert_cmpstr(g_array_index(m, SpmHugetlbfs, 0).path, ==, "/run/hp/2M");
    g_assert_cmpuint(g_array_index(m, SpmHugetlbfs, 0).page_size, ==, 2 << 20);
    g_assert_cmpstr(g_array_index(m, SpmHugetlbfs, 1).path, ==, "/run/hp 1G");
    g_assert_cmpuint(g_array_index(m, SpmHugetlbfs, 1).page_size, ==, 1 << 30);
    spm_hugetlbfs_array_free(m);
}

static void
test_setting(void)
{
    g_auto(SpmPlanPolicy) p = { 0 };
    g_autoptr(GError) error = NULL;

    spm_plan_policy_init(&p);
    g_assert_true(spm_hugepages_parse_setting("2MiB:/dev/hugepages; 1GiB:/mnt/h1G", &p.host, &error));
    g_assert_cmpuint(p.host.n_hugetlbfs, ==, 2);
    g_assert_cmpuint(p.host.hugetlbfs[1].page_size, ==, 1 << 30);
    g_assert_cmpstr(p.host.hugetlbfs[1].path, ==, "/mnt/h1G");
    g_assert_true(spm_hugepages_parse_setting("", &p.host, &error));
    g_assert_cmpuint(p.host.n_hugetlbfs, ==, 0);
    g_assert_false(spm_hugepages_parse_setting("/dev/hugepages", &p.host, &error));
    g_assert_error(error, SPM_ERROR, SPM_ERROR_INVALID);
}

/* ---- the pool check on fake sysfs trees ---- */

static void
set_pool(const char *root, int node, guint64 kb, guint64 nr, guint64 free_pages, guint64 resv)
{
    g_autofree char *leaf = g_strdup_printf("hugepages-%" G_GUINT64_FORMAT "kB", kb);
    g_autofree char *dir = NULL;
    g_autofree char *nodedir = g_strdup_printf("node%d", node);
    const struct {
        const char *file;
        guint64 value;
    } files[] = { { "nr_hugepages", nr }, { "free_hugepages", free_pages }, { "resv_hugepages", resv } };

    if (node < 0)
        dir = g_build_filename(root, "kernel", "mm", "hugepages", leaf, NULL);
    else
        dir = g_build_filename(root, "devices", "system", "node", nodedir, "hugepages", leaf, NULL);
    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    for (gsize i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *path = g_build_filename(dir, files[i].file, NULL);
        g_autofree char *text = g_strdup_printf("%" G_GUINT64_FORMAT "\n", files[i].value);

        /* per-node pools have no resv_hugepages */
        if (node >= 0 && g_str_equal(files[i].file, "resv_hugepages"))
            continue;
        g_assert_true(g_file_set_contents(path, text, -1, NULL));
    }
}

/* Two nodes, 2 MiB and 1 GiB pools: @free1g_node0 1 GiB pages free on node 0. */
static char *
fake_sysfs(const char *name, guint64 free1g_node0, guint64 resv1g)
{
    char *root = g_build_filename(tmpdir, name, NULL);

    set_pool(root, -1, 2048, 600, 600, 0);
    set_pool(root, -1, 1048576, 2, free1g_node0 + 1, resv1g);
    set_pool(root, 0, 2048, 300, 300, 0);
    set_pool(root, 1, 2048, 300, 300, 0);
    set_pool(root, 0, 1048576, 1, free1g_node0, 0);
    set_pool(root, 1, 1048576, 1, 1, 0);
    return root;
}

typedef struct {
    SpmDomainDef *def;
    SpmPlan *plan;
} Planned;

static void
planned_clear(Planned *p)
{
    g_clear_pointer(&p->plan, spm_plan_free);
    g_clear_pointer(&p->def, spm_domain_def_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Planned, planned_clear)

/* RAM 512 MiB on 2 MiB pages; ua-hbm0 @dev_gib GiB of 1 GiB pages bound to @nodemask */
static void
plan_guest(Planned *p, guint dev_gib, const char *nodemask, const char *pagesize_kib)
{
    g_autofree char *bind = nodemask ? g_strdup_printf("<nodemask>%s</nodemask>", nodemask)
                                     : g_strdup("");
    g_autofree char *source = g_strdup_printf("<source>%s<pagesize unit='KiB'>%s</pagesize></source>",
                                              bind, pagesize_kib);
    g_autofree char *xml = g_strdup_printf(
        "<domain type='qemu'><name>hp</name><memory unit='MiB'>%u</memory>"
        "<memoryBacking><hugepages><page size='2048' unit='KiB'/></hugepages></memoryBacking>"
        "<vcpu>1</vcpu><os><type arch='x86_64' machine='q35'>hvm</type></os>"
        "<features><acpi/></features><devices>"
        "<memory model='spm'>%s<target><size unit='GiB'>%u</size><node>1</node></target>"
        "<alias name='ua-hbm0'/></memory></devices></domain>",
        512 + dev_gib * 1024, source, dev_gib);
    g_autoptr(xmlDoc) doc = NULL;
    g_autoptr(GError) error = NULL;
    g_auto(SpmPlanPolicy) policy = { 0 };

    spm_plan_policy_init(&policy);
    policy.host.host_phys_bits = 46;
    doc = spm_xml_read_memory(xml, strlen(xml), "test", &error);
    g_assert_no_error(error);
    p->def = spm_domain_def_parse(doc, &error);
    g_assert_no_error(error);
    p->plan = spm_plan_build(p->def, &policy, &error);
    g_assert_no_error(error);
}

static void
test_check_fits(void)
{
    g_autofree char *root = fake_sysfs("fits", 1, 0);
    g_auto(Planned) p = { 0 };
    g_autoptr(GError) error = NULL;

    plan_guest(&p, 1, "0", "1048576");
    g_assert_true(spm_hugepages_check(p.plan, p.def, root, &error));
    g_assert_no_error(error);
}

static void
test_check_node_short(void)
{
    g_autofree char *root = fake_sysfs("node-short", 1, 0);
    g_auto(Planned) p = { 0 };
    g_autoptr(GError) error = NULL;

    /* 2 pages on node 0, which has 1 free (the host has 2) */
    plan_guest(&p, 2, "0", "1048576");
    g_assert_false(spm_hugepages_check(p.plan, p.def, root, &error));
    g_assert_error(error, SPM_ERROR, SPM_ERROR_INVALID);
    g_assert_cmpstr(error->message, ==,
                    "memory 'ua-hbm0' needs 2 huge pages of 1 GiB on host node 0 (2 with the "
                    "domain's other users bound there), but host node 0 has 1 free");
    g_clear_error(&error);

    /* over two nodes, 1 + 1 free pages: enough */
    planned_clear(&p);
    plan_guest(&p, 2, "0-1", "1048576");
    g_assert_true(spm_hugepages_check(p.plan, p.def, root, &error));
}

static void
test_check_host_reserved(void)
{
    /* 2 free on the host, but another process holds a reservation of 1 */
    g_autofree char *root = fake_sysfs("host-reserved", 1, 1);
    g_auto(Planned) p = { 0 };
    g_autoptr(GError) error = NULL;

    plan_guest(&p, 2, NULL, "1048576");
    g_assert_false(spm_hugepages_check(p.plan, p.def, root, &error));
    g_assert_cmpstr(error->message, ==,
                    "memory 'ua-hbm0' needs 2 huge pages of 1 GiB (2 with the domain's other "
                    "users of that size), but the host has 1 free on all nodes "
                    "(free_hugepages 2, resv_hugepages 1)");
}

static void
test_check_ram_counted(void)
{
    /* 600 free 2 MiB pages: RAM (256) + a 1 GiB device of 2 MiB pages (512) is too much */
    g_autofree char *root = fake_sysfs("ram-counted", 1, 0);
    g_auto(Planned) p = { 0 };
    g_autoptr(GError) error = NULL;

    plan_guest(&p, 1, NULL, "2048");
    g_assert_false(spm_hugepages_check(p.plan, p.def, root, &error));
    g_assert_cmpstr(error->message, ==,
                    "guest RAM needs 256 huge pages of 2 MiB (768 with the domain's other users "
                    "of that size), but the host has 600 free on all nodes (free_hugepages 600, "
                    "resv_hugepages 0)");
}

static void
test_check_missing_size_and_node(void)
{
    g_autofree char *root = fake_sysfs("missing", 1, 0);
    g_auto(Planned) p = { 0 };
    g_autoptr(GError) error = NULL;

    plan_guest(&p, 1, NULL, "16384");
    g_assert_false(spm_hugepages_check(p.plan, p.def, root, &error));
    g_assert_nonnull(strstr(error->message, "memory 'ua-hbm0': huge page size 16 MiB does not "
                                            "exist on this host"));
    g_assert_nonnull(strstr(error->message, "huge page sizes here: 2 MiB, 1 GiB)"));
    g_clear_error(&error);
    planned_clear(&p);

    plan_guest(&p, 1, "3", "1048576");
    g_assert_false(spm_hugepages_check(p.plan, p.def, root, &error));
    g_assert_nonnull(strstr(error->message, "memory 'ua-hbm0': host NUMA node 3 of nodemask '3' "
                                            "does not exist"));
}

/* ---- per-domain directories ---- */

static void
test_memdir(void)
{
    g_autofree char *base = g_build_filename(tmpdir, "ram", NULL);
    g_autofree char *dir = spm_plan_domain_dir(base, "guest one");
    g_autofree char *inside = g_build_filename(dir, "qemu_back_mem.XXXX", NULL);
    g_autofree char *target = write_tmp("target", "keep me");
    g_autofree char *link = g_build_filename(tmpdir, "ram", "virt-spm-link", NULL);
    g_autoptr(GError) error = NULL;
    GStatBuf st;

    g_assert_cmpstr(strrchr(dir, '/') + 1, ==, "virt-spm-guest one");
    g_assert_null(spm_plan_domain_dir(base, "a/b"));
    g_assert_null(spm_plan_domain_dir(base, ""));

    g_assert_true(spm_memdir_create(dir, getuid(), getgid(), NULL, &error));
    g_assert_no_error(error);
    g_assert_cmpint(g_lstat(dir, &st), ==, 0);
    g_assert_cmpuint(st.st_mode & 0777, ==, 0700);
    /* a stop that was never seen: taken over */
    g_assert_true(spm_memdir_create(dir, getuid(), getgid(), NULL, &error));

    /* a file QEMU did not unlink (it died) goes with the directory */
    g_assert_true(g_file_set_contents(inside, "x", -1, NULL));
    g_assert_true(spm_memdir_remove(dir, &error));
    g_assert_false(g_file_test(dir, G_FILE_TEST_EXISTS));
    g_assert_true(spm_memdir_remove(dir, &error));   /* already gone */

    /* never through a symbolic link */
    g_assert_cmpint(symlink(target, link), ==, 0);
    g_assert_false(spm_memdir_remove(link, &error));
    g_assert_true(g_file_test(target, G_FILE_TEST_EXISTS));
}

static void
test_memdir_candidates_and_label(void)
{
    g_auto(SpmPlanPolicy) p = { 0 };
    g_autoptr(GPtrArray) dirs = NULL;
    g_autoptr(GError) error = NULL;
    uid_t uid;
    gid_t gid;

    spm_plan_policy_init(&p);
    g_assert_true(spm_hugepages_parse_setting("2MiB:/dev/hugepages;1GiB:/dev/hugepages1G",
                                              &p.host, &error));
    dirs = spm_memdir_candidates(&p.host, "vm1");
    g_assert_cmpuint(dirs->len, ==, 3);
    g_assert_cmpstr(dirs->pdata[0], ==, "/var/lib/libvirt/qemu/ram/virt-spm-vm1");
    g_assert_cmpstr(dirs->pdata[1], ==, "/dev/hugepages/libvirt/qemu/virt-spm-vm1");
    g_assert_cmpstr(dirs->pdata[2], ==, "/dev/hugepages1G/libvirt/qemu/virt-spm-vm1");

    g_assert_true(spm_memdir_parse_dac_label("+107:+108", &uid, &gid, &error));
    g_assert_cmpuint(uid, ==, 107);
    g_assert_cmpuint(gid, ==, 108);
    g_assert_true(spm_memdir_parse_dac_label("root:root", &uid, &gid, &error));
    g_assert_cmpuint(uid, ==, 0);
    g_assert_false(spm_memdir_parse_dac_label("+x:+1", &uid, &gid, &error));
    g_assert_error(error, SPM_ERROR, SPM_ERROR_INVALID);
}

/* The domain's SELinux image label on its directory, as setfilecon() would set it. */
static void
test_memdir_selinux_label(void)
{
    g_autofree char *dir = g_build_filename(tmpdir, "labelled", NULL);
    const char *label = "system_u:object_r:svirt_image_t:s0:c1,c2";
    g_autoptr(GError) error = NULL;
    char got[128] = "";
    ssize_t n;

    if (geteuid() != 0) {
        g_test_skip("security.* extended attributes need CAP_SYS_ADMIN");
        return;
    }
    g_assert_true(spm_memdir_create(dir, getuid(), getgid(), label, &error));
    g_assert_no_error(error);
    n = lgetxattr(dir, "security.selinux", got, sizeof(got) - 1);
    g_assert_cmpint(n, ==, (ssize_t)strlen(label) + 1);
    g_assert_cmpstr(got, ==, label);
    g_assert_true(spm_memdir_remove(dir, &error));
}

int
main(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    int rc;

    g_test_init(&argc, &argv, NULL);
    tmpdir = g_dir_make_tmp("spm-hugepages-XXXXXX", &error);
    g_assert_no_error(error);

    g_test_add_func("/hugepages/qemu-conf", test_qemu_conf);
    g_test_add_func("/hugepages/qemu-conf-single-and-missing", test_qemu_conf_single_and_missing);
    g_test_add_func("/hugepages/mounts", test_mounts);
    g_test_add_func("/hugepages/setting", test_setting);
    g_test_add_func("/hugepages/check/fits", test_check_fits);
    g_test_add_func("/hugepages/check/node-short", test_check_node_short);
    g_test_add_func("/hugepages/check/host-reserved", test_check_host_reserved);
    g_test_add_func("/hugepages/check/ram-counted", test_check_ram_counted);
    g_test_add_func("/hugepages/check/missing-size-and-node", test_check_missing_size_and_node);
    g_test_add_func("/hugepages/memdir", test_memdir);
    g_test_add_func("/hugepages/memdir-candidates-and-label", test_memdir_candidates_and_label);
    g_test_add_func("/hugepages/memdir-selinux-label", test_memdir_selinux_label);
    rc = g_test_run();
    {
        g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);

        if (system(cmd) != 0)
            rc = 1;
    }
    return rc;
}
