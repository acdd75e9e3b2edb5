/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rq-domain.c: generated domains for the real-QEMU tests.
 */
#include "rq-domain.h"

guint
rq_domain_ncells(const RqDomain *d)
{
    guint n = 0;

    while (n < RQ_MAX_CELLS && d->cells[n])
        n++;
    return n;
}

guint
rq_domain_vcpus(const RqDomain *d)
{
    return MAX(rq_domain_ncells(d), 1);
}

/* Sizes in MiB when they are whole MiB (all of ours), as users write them. */
static void
rq_append_size(GString *xml, const char *element, const char *attrs, guint64 bytes)
{
    if (bytes % RQ_MiB == 0)
        g_string_append_printf(xml, "<%s%s unit='MiB'>%" G_GUINT64_FORMAT "</%s>",
                               element, attrs, bytes / RQ_MiB, element);
    else
        g_string_append_printf(xml, "<%s%s unit='b'>%" G_GUINT64_FORMAT "</%s>",
                               element, attrs, bytes, element);
}

char *
rq_domain_xml(const RqDomain *d, const char *name)
{
    return rq_domain_xml_on(d, name, NULL);
}

char *
rq_domain_xml_on(const RqDomain *d, const char *name, const RqHost *host)
{
    static const RqHost defaults = { NULL };
    g_autoptr(GString) xml = g_string_new(NULL);
    guint ncells = rq_domain_ncells(d);
    guint64 total = d->memory;

    if (ncells) {
        total = 0;
        for (guint i = 0; i < ncells; i++)
            total += d->cells[i];
    }
    for (guint i = 0; i < RQ_MAX_DEVS && d->devs[i].kind; i++) {
        if (d->devs[i].kind == RQ_DEV_DIMM)
            total += d->devs[i].size;
    }

    g_string_append_printf(xml, "<domain type='qemu'>\n  <name>%s</name>\n", name);
    if (d->max_memory) {
        g_autofree char *attrs = g_strdup_printf(" slots='%u'", d->slots);

        g_string_append(xml, "  ");
        rq_append_size(xml, "maxMemory", attrs, d->max_memory);
        g_string_append_c(xml, '\n');
    }
    if (!host)
        host = &defaults;
    g_string_append(xml, "  ");
    rq_append_size(xml, "memory", "", total);
    if (d->memfd)
        g_string_append(xml, "\n  <memoryBacking>\n    <source type='memfd'/>\n  </memoryBacking>");
    g_string_append_printf(xml, "\n  <vcpu placement='static'>%u</vcpu>\n", rq_domain_vcpus(d));
    g_string_append_printf(xml, "  <os>\n    <type arch='x86_64' machine='%s'>hvm</type>\n",
                           d->i440fx ? "pc-i440fx-7.2" : "pc-q35-7.2");
    if (host->loader)
        g_string_append_printf(xml, "    <loader readonly='yes' type='rom'>%s</loader>\n",
                               host->loader);
    if (host->kernel)
        g_string_append_printf(xml, "    <kernel>%s</kernel>\n", host->kernel);
    if (host->initrd)
        g_string_append_printf(xml, "    <initrd>%s</initrd>\n", host->initrd);
    if (host->cmdline)
        g_string_append_printf(xml, "    <cmdline>%s</cmdline>\n", host->cmdline);
    g_string_append(xml, "  </os>\n  <features>\n    <acpi/>\n  </features>\n");
    if (ncells || d->phys_bits)
        g_string_append(xml, "  <cpu>\n");
    if (d->phys_bits)
        g_string_append_printf(xml, "    <maxphysaddr mode='emulate' bits='%u'/>\n", d->phys_bits);
    if (ncells) {
        g_string_append(xml, "    <numa>\n");
        for (guint i = 0; i < ncells; i++)
            g_string_append_printf(xml,
                                   "      <cell id='%u' cpus='%u' memory='%" G_GUINT64_FORMAT
                                   "' unit='MiB'/>\n", i, i, d->cells[i] / RQ_MiB);
        g_string_append(xml, "    </numa>\n");
    }
    if (ncells || d->phys_bits)
        g_string_append(xml, "  </cpu>\n");
    if (host->serial)
        g_string_append(xml, "  <on_poweroff>destroy</on_poweroff>\n");
    g_string_append_printf(xml, "  <devices>\n    <emulator>%s</emulator>\n"
                           "    <controller type='usb' model='none'/>\n",
                           host->emulator ? host->emulator : "/usr/bin/qemu-system-x86_64");
    if (host->serial)
        g_string_append_printf(xml, "    <serial type='file'>\n      <source path='%s'/>\n"
                               "      <target port='0'/>\n    </serial>\n", host->serial);
    for (guint i = 0; i < RQ_MAX_DEVS && d->devs[i].kind; i++) {
        const RqDev *m = &d->devs[i];
        gboolean spm = m->kind == RQ_DEV_SPM;

        g_string_append_printf(xml, "    <memory model='%s'>\n", spm ? "spm" : "dimm");
        if (m->file)
            g_string_append_printf(xml, "      <source>\n        <path>%s/%s-%u</path>\n"
                                   "      </source>\n",
                                   host->file_dir ? host->file_dir : "/tmp", name, i);
        g_string_append(xml, "      <target>\n        ");
        rq_append_size(xml, "size", "", m->size);
        g_string_append_printf(xml, "\n        <node>%u</node>\n      </target>\n", m->node);
        if (m->base || m->has_slot) {
            g_string_append_printf(xml, "      <address type='%s'", spm ? "spm" : "dimm");
            if (m->has_slot)
                g_string_append_printf(xml, " slot='%u'", m->slot);
            if (m->base)
                g_string_append_printf(xml, " base='0x%" G_GINT64_MODIFIER "x'", m->base);
            g_string_append(xml, "/>\n");
        }
        if (m->alias)
            g_string_append_printf(xml, "      <alias name='%s'/>\n", m->alias);
        g_string_append(xml, "    </memory>\n");
    }
    g_string_append(xml, "    <memballoon model='none'/>\n  </devices>\n</domain>\n");
    return g_string_free(g_steal_pointer(&xml), FALSE);
}
