# SPDX-License-Identifier: LGPL-2.1-or-later
"""Nova's own code writes, defines and starts the test guests (docs/nova.md).

The domain XML comes from nova.virt.libvirt.config (Debian's python3-nova
26.2.2), built with the config objects and values Nova's libvirt driver
uses for a q35 guest without disks: <nova:instance> metadata with the
flavor, no SPM element, no <emulator>, no <maxMemory>, no
<qemu:commandline>.  Later Nova releases also write the flavor's extra
specs into <nova:flavor>; Nova 26 has no class for that element, so
FlavorWithExtraSpecs adds it in the same form.  Definition and start go
through nova.virt.libvirt.guest.Guest.create() and .launch(): defineXML
and at once createWithFlags, nothing in between.
"""
import time
import uuid as uuidlib

from nova.virt.libvirt import config as vconfig
from nova.virt.libvirt import guest as nguest
from nova.virt.libvirt import host as nhost


class FlavorWithExtraSpecs(vconfig.LibvirtConfigGuestMetaNovaFlavor):
    """<nova:flavor> as Nova after 26 writes it: <nova:extraSpecs> inside."""

    def __init__(self, extra_specs):
        super().__init__()
        self.extra_specs = extra_specs

    def format_dom(self):
        meta = super().format_dom()
        specs = self._new_node("extraSpecs")
        for key, value in self.extra_specs.items():
            spec = self._text_node("extraSpec", value)
            spec.set("name", key)
            specs.append(spec)
        meta.append(specs)
        return meta


def domain_xml(name, flavor, extra_specs=None, memory_mib=512, vcpus=2, numa_cell=False):
    """The domain XML of instance @name of @flavor, as Nova's driver builds it."""
    guest = vconfig.LibvirtConfigGuest()
    guest.virt_type = "qemu"          # TCG: runs on any test machine
    guest.name = name
    guest.uuid = str(uuidlib.uuid4())
    guest.memory = memory_mib * 1024
    guest.vcpus = vcpus

    meta = vconfig.LibvirtConfigGuestMetaNovaInstance()
    meta.package = "26.2.2"
    meta.name = name
    meta.creationTime = time.time()
    fl = FlavorWithExtraSpecs(extra_specs) if extra_specs is not None else \
        vconfig.LibvirtConfigGuestMetaNovaFlavor()
    fl.name = flavor
    fl.memory = memory_mib
    fl.disk = 1
    fl.swap = 0
    fl.ephemeral = 0
    fl.vcpus = vcpus
    meta.flavor = fl
    owner = vconfig.LibvirtConfigGuestMetaNovaOwner()
    owner.userid = "2c7d2f0e5f0b4a4c9a0e7e5b1f3a9d11"
    owner.username = "admin"
    owner.projectid = "9b0f2e4d6c1a4e3f8d7c6b5a49382716"
    owner.projectname = "admin"
    meta.owner = owner
    meta.roottype = "image"
    meta.rootid = "0c5ec4a4-5f1e-4e43-9d26-0d1c5c3b6a11"
    guest.metadata.append(meta)

    guest.sysinfo = vconfig.LibvirtConfigGuestSysinfo()
    guest.sysinfo.system_manufacturer = "OpenStack Foundation"
    guest.sysinfo.system_product = "OpenStack Nova"
    guest.sysinfo.system_version = "26.2.2"
    guest.sysinfo.system_serial = guest.uuid
    guest.sysinfo.system_uuid = guest.uuid
    guest.sysinfo.system_family = "Virtual Machine"

    guest.os_type = "hvm"
    guest.os_mach_type = "q35"
    guest.os_smbios = vconfig.LibvirtConfigGuestSMBIOS()
    guest.add_feature(vconfig.LibvirtConfigGuestFeatureACPI())
    guest.add_feature(vconfig.LibvirtConfigGuestFeatureAPIC())

    clock = vconfig.LibvirtConfigGuestClock()
    clock.offset = "utc"
    guest.set_clock(clock)

    cpu = vconfig.LibvirtConfigGuestCPU()
    cpu.sockets = vcpus
    cpu.cores = 1
    cpu.threads = 1
    if numa_cell:
        # hw:numa_nodes=1: one guest NUMA cell, as Nova's _get_guest_numa_config writes it
        cell = vconfig.LibvirtConfigGuestCPUNUMACell()
        cell.id = 0
        cell.cpus = set(range(vcpus))
        cell.memory = memory_mib * 1024
        cpu.numa = vconfig.LibvirtConfigGuestCPUNUMA()
        cpu.numa.cells.append(cell)
    guest.cpu = cpu

    serial = vconfig.LibvirtConfigGuestSerial()
    serial.type = "pty"
    guest.add_device(serial)
    balloon = vconfig.LibvirtConfigMemoryBalloon()
    balloon.model = "virtio"
    balloon.period = 10
    guest.add_device(balloon)
    return guest.uuid, guest.to_xml()


_HOST = None


def host(uri="qemu:///system"):
    global _HOST
    if _HOST is None:
        _HOST = nhost.Host(uri)
    return _HOST


def reconnect():
    """Forget the connection (libvirtd was restarted under it)."""
    global _HOST
    _HOST = None


def create_and_launch(xml):
    """Nova's define-then-start (LibvirtDriver._create_guest)."""
    guest = nguest.Guest.create(xml, host())
    guest.launch()
    return guest
