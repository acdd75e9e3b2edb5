# SPDX-License-Identifier: LGPL-2.1-or-later
"""Run by Nova's own interpreter (Debian 12's Nova 26, the sid root's Nova
34): the domain XML on stdin is a running guest's migratable XML on the
source; print the XML Nova's live migration sends to the destination
(nova.virt.libvirt.migration.get_updated_guest_xml, which libvirt hands to
the destination's qemu hook at migrate begin), with the migrate data a
plain live migration between two compute nodes carries: listen addresses,
no volumes, no VIFs, no NUMA or CPU-set changes."""
import sys
import types

from nova import objects
from nova.virt.libvirt import migration

objects.register_all()


class SourceGuest:
    """nova.virt.libvirt.guest.Guest as far as get_updated_guest_xml uses it."""

    def __init__(self, xml):
        self.xml = xml

    def get_xml_desc(self, dump_inactive=False, dump_sensitive=False, dump_migratable=False):
        return self.xml


def main():
    data = objects.LibvirtLiveMigrateData(
        serial_listen_addr="192.0.2.20", serial_listen_ports=[], graphics_listen_addr_vnc="192.0.2.20",
        graphics_listen_addr_spice="192.0.2.20", target_connect_addr=None, bdms=[], vifs=[],
        dst_wants_file_backed_memory=False, file_backed_memory_discard=False,
        supported_perf_events=[])
    instance = types.SimpleNamespace(flavor=types.SimpleNamespace(extra_specs={}), uuid="?")
    out = migration.get_updated_guest_xml(instance, SourceGuest(sys.stdin.read()), data,
                                          lambda *a, **k: None)
    sys.stdout.write(out)


if __name__ == "__main__":
    main()
