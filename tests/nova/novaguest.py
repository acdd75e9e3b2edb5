# SPDX-License-Identifier: LGPL-2.1-or-later
"""Nova's own code writes, defines and starts the test guests (docs/nova.md).

The domain XML comes from nova.virt.libvirt.config of the Nova that is
imported -- Debian 12's python3-nova 26.2.2 on the host, Debian sid's 34.0.0
in the sid root (test-nova-libvirt.py --sid runs this file there with the
root's python3, as "novaguest.py launch ...") -- built with the config
objects and values Nova's libvirt driver uses for a q35 guest without
disks: <nova:instance> metadata with the flavor, no SPM element, no
<emulator>, no <maxMemory>, no <qemu:commandline>.

Nova 32 and later write the flavor's extra specs themselves, with
LibvirtConfigGuestMetaNovaFlavorExtraSpecs: always, empty when the flavor
has none, with the flavor's id=.  Nova 26 has no class for that element, so
FlavorWithExtraSpecs adds it in the same form there only; with a Nova that
has the class it is never used.  Definition and start go through
nova.virt.libvirt.guest.Guest.create() and .launch(): defineXML and at
once createWithFlags, nothing in between.
"""
import json
import sys
import types
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


# Nova 32+ (commit 619cd0a9c733): the flavor's extra specs are Nova's own element
NOVA_WRITES_EXTRA_SPECS = hasattr(vconfig, "LibvirtConfigGuestMetaNovaFlavorExtraSpecs")


def nova_version():
    from nova import version
    return version.version_string()


def domain_xml(name, flavor, extra_specs=None, memory_mib=512, vcpus=2, numa_cell=False):
    """The domain XML of instance @name of @flavor, as Nova's driver builds it.
    @extra_specs None: a flavor without extra specs (Nova 26 writes none,
    Nova 32+ an empty <nova:extraSpecs/>)."""
    guest = vconfig.LibvirtConfigGuest()
    guest.virt_type = "qemu"          # TCG: runs on any test machine
    guest.name = name
    guest.uuid = str(uuidlib.uuid4())
    guest.memory = memory_mib * 1024
    guest.vcpus = vcpus

    meta = vconfig.LibvirtConfigGuestMetaNovaInstance()
    meta.package = nova_version()
    meta.name = name
    meta.creationTime = time.time()
    if NOVA_WRITES_EXTRA_SPECS:
        # _get_guest_config_meta of Nova 32+: flavorid and extra_specs
        # always, the image element always (even when booted from volume)
        fl = vconfig.LibvirtConfigGuestMetaNovaFlavor()
        fl.id = "spmtest-" + flavor
        fl.extra_specs = dict(extra_specs or {})
        imeta = vconfig.LibvirtConfigGuestMetaImage()
        imeta.uuid = "0c5ec4a4-5f1e-4e43-9d26-0d1c5c3b6a11"
        imeta.image_meta = types.SimpleNamespace(container_format="bare", disk_format="qcow2",
                                                 min_disk="1", min_ram="0", properties={})
        meta.image = imeta
        meta.ports = vconfig.LibvirtConfigGuestMetaNovaPorts([])   # no network here
    elif extra_specs is not None:
        fl = FlavorWithExtraSpecs(extra_specs)
    else:
        fl = vconfig.LibvirtConfigGuestMetaNovaFlavor()
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
    guest.sysinfo.system_version = nova_version()
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


def answer(request):
    """One request of serve(): {"op": "xml", "name", "flavor", "specs",
    "numa"} -> uuid, xml, nova (the version), nova_extra_specs (Nova's own
    class wrote <nova:extraSpecs>); {"op": "launch", "xml"} -> error
    (libvirt's, or null); {"op": "reconnect"} -> {} (libvirtd restarted)."""
    import libvirt
    op = request.get("op")
    if op == "xml":
        uuid, xml = domain_xml(request["name"], request["flavor"], request.get("specs"),
                               numa_cell=bool(request.get("numa")))
        return {"uuid": uuid, "xml": xml, "nova": nova_version(), "nova_extra_specs": NOVA_WRITES_EXTRA_SPECS}
    if op == "launch":
        try:
            create_and_launch(request["xml"])
            return {"error": None}
        except libvirt.libvirtError as e:
            return {"error": str(e)}
    if op == "reconnect":
        reconnect()
        return {}
    return {"error": "unknown op %r" % op}


def serve(inp, out):
    """One JSON request a line on @inp, one JSON answer a line on @out,
    until end of input: test-nova-libvirt.py --sid runs this with the sid
    root's python3, so that Nova is imported once, not once a case."""
    for line in inp:
        out.write(json.dumps(answer(json.loads(line))) + "\n")
        out.flush()


def main(argv):
    import logging
    logging.basicConfig(level=logging.CRITICAL)   # Nova's own report of a refused start
    if argv != ["serve"]:
        sys.exit("usage: novaguest.py serve")
    serve(sys.stdin, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1:])
