# SPDX-License-Identifier: LGPL-2.1-or-later
"""The qemu hook's Nova path without libvirt: the front end and the helper
run as libvirt runs them (NAME OP SUBOP - and the domain XML on stdin), on
Nova domain XML as libvirt hands it over (<emulator> filled in).

prepare begin stores the plan and reserves the HBM; stopped end removes
and releases both; migrate and restore are refused; a flavor that asks for
nothing, or a domain that is not Nova's, is left alone; every refusal is
one line naming the flavor and the spec, and reserves nothing.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import check, finish  # noqa: E402

BUILD = os.environ["SPM_BUILD_ROOT"]
FRONT = os.path.join(BUILD, "hook", "virt-spm-qemu-hook")
HELPER = os.path.join(BUILD, "hook", "virt-spm-hook-helper")
WRAPPER = os.path.join(BUILD, "wrapper", "virt-spm-qemu")
UUID = "6a1c9d1e-2f3b-4c5d-8e9f-0a1b2c3d4e5f"
# <nova:instance> as Nova 26, 31 and 34 write it (fixtures/nova-metadata/README.md)
METADATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "nova-metadata")
SPM_XMLNS = "http://virt-spm.org/xmlns/domain/1.0"


def wrap(meta, emulator=WRAPPER, name="instance-0000002a"):
    """A domain around @meta (<metadata>'s content) as libvirt hands it over."""
    meta = "<metadata>%s</metadata>" % meta if meta else ""
    return ('<domain type="qemu"><name>%s</name><uuid>%s</uuid><memory unit="KiB">524288</memory>'
            '<vcpu placement="static">2</vcpu>%s<os><type arch="x86_64" machine="pc-q35-7.2">hvm</type>'
            '</os><features><acpi/><apic/></features><devices><emulator>%s</emulator></devices>'
            '</domain>' % (name, UUID, meta, emulator))


def domain(flavor, extra=None, emulator=WRAPPER, name="instance-0000002a", nova=True, tenant="vm1"):
    specs = ""
    if extra is not None:
        specs = "<nova:extraSpecs>%s</nova:extraSpecs>" % "".join(
            '<nova:extraSpec name="%s">%s</nova:extraSpec>' % kv for kv in extra.items())
    meta = ('<nova:instance xmlns:nova="http://openstack.org/xmlns/libvirt/nova/1.1">'
            '<nova:package version="26.2.2"/><nova:name>%s</nova:name>'
            '<nova:flavor name="%s"><nova:memory>512</nova:memory><nova:vcpus>2</nova:vcpus>%s'
            '</nova:flavor></nova:instance>' % (tenant, flavor, specs)) if nova else ""
    return wrap(meta, emulator, name)


def nova_destination_xml(xml, sid_root=None):
    """What Nova's live migration sends the destination for the source's @xml,
    by Nova's own code (tests/nova/nova-migration-xml.py): Debian 12's Nova 26,
    or with @sid_root the sid root's Nova 34.  None when that Nova is absent."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nova-migration-xml.py")
    inside = None
    if sid_root is None:
        if subprocess.run(["/usr/bin/python3", "-c", "import nova.virt.libvirt.migration"],
                          capture_output=True).returncode != 0:
            return None
        cmd = ["/usr/bin/python3", script]
    else:
        if os.geteuid() != 0 or not os.path.isdir(os.path.join(sid_root, "usr/lib/python3/dist-packages/nova")):
            return None
        inside = tempfile.mkdtemp(prefix="spm-nova-migration-", dir=os.path.join(sid_root, "tmp"))
        shutil.copy(script, inside)
        cmd = ["chroot", sid_root, "/usr/bin/python3", "/%s/nova-migration-xml.py" % os.path.relpath(inside, sid_root)]
    try:
        p = subprocess.run(cmd, input=xml.encode(), capture_output=True, timeout=180)
    finally:
        if inside:
            shutil.rmtree(inside, ignore_errors=True)
    assert p.returncode == 0, p.stderr.decode()[-2000:]
    return p.stdout.decode()


def fixture(name):
    with open(os.path.join(METADATA, name + ".xml")) as f:
        return f.read()


def main():
    if not os.access("/usr/bin/qemu-system-x86_64", os.X_OK):
        print("# SKIP the hook probes QEMU for the stand-in device: qemu-system-x86 is not installed")
        sys.exit(77)
    d = tempfile.mkdtemp(prefix="spm-nova-hook-")
    try:
        plans = os.path.join(d, "plans")
        ledger = os.path.join(d, "ledger")
        flavors = os.path.join(d, "flavors.d")
        os.makedirs(flavors)
        profiles = os.path.join(d, "profiles.d")
        os.makedirs(profiles)
        with open(os.path.join(flavors, "gpu.hbm.2x.conf"), "w") as f:
            f.write("[spm]\ndevices = 2\nsize = 1GiB\n")
        # flavor files made for Nova 26..31 that a Nova 32+ guest must not use
        with open(os.path.join(flavors, "m1.bare.conf"), "w") as f:
            f.write("[spm]\nsize = 1GiB\n")
        with open(os.path.join(profiles, "hbm1.conf"), "w") as f:
            f.write("[spm]\nsize = 1GiB\n")
        conf = os.path.join(d, "virt-spm.conf")
        with open(conf, "w") as f:
            f.write("[host]\nspm_nodes = 0:2GiB, 1:1GiB\n[nova]\nwrapper = %s\nflavors_dir = %s\n"
                    "profiles_dir = %s\nflavors = m1.other=hbm1\n[test]\nstand_in_driver = pc-dimm\n"
                    % (WRAPPER, flavors, profiles))
        env = {"PATH": "/usr/bin:/bin", "VIRT_SPM_HOOK_HELPER": HELPER, "VIRT_SPM_HOOK_CONFIG": conf,
               "VIRT_SPM_HOOK_CACHE_DIR": os.path.join(d, "cache"), "VIRT_SPM_HOOK_LIBVIRT_VERSION": "9000000",
               "VIRT_SPM_NOVA_PLAN_DIR": plans, "VIRT_SPM_LEDGER_DIR": ledger,
               "VIRT_SPM_CONTROL_SOCKET": os.path.join(d, "nobody.sock")}
        plan = os.path.join(plans, UUID + ".plan")

        def hook(xml, op, subop):
            return subprocess.run([FRONT, "instance-0000002a", op, subop, "-"], input=xml.encode(),
                                  capture_output=True, env=env, timeout=60)

        def holdings():
            try:
                with open(os.path.join(ledger, "ledger.json")) as f:
                    return {h["uuid"]: h for h in json.load(f)["holdings"]}
            except FileNotFoundError:
                return {}

        # Nova 26: the flavor's name -> flavors.d
        p = hook(domain("gpu.hbm.2x"), "prepare", "begin")
        check(p.returncode == 0 and p.stderr == b"", "prepare begin of a Nova 26 SPM flavor (%s)" % p.stderr)
        text = open(plan).read() if os.path.exists(plan) else ""
        check(text.startswith("virt-spm-nova-plan 1\nuuid " + UUID) and "add pc-dimm," in text and
              "m-set size=524288k," in text, "the wrapper's plan is stored")
        j = json.load(open(os.path.join(plans, UUID + ".json")))
        check([x["id"] for x in j["devices"]] == ["ua-spm0", "ua-spm1"] and
              j.get("stand_in_driver") == "pc-dimm", "the audit's plan is stored")
        h = holdings().get(UUID)
        check(h is not None and [r["nodeset"] for r in h["devices"]] == ["0", "0"],
              "the ledger chose host node 0 for both devices (first fit) and holds them")
        check(hook(domain("gpu.hbm.2x"), "started", "begin").returncode == 0,
              "started begin (virt-spmd away: ignored)")
        check(hook(domain("gpu.hbm.2x"), "migrate", "begin").returncode == 1, "migrate begin refused")
        p = hook(domain("gpu.hbm.2x"), "restore", "begin")
        check(p.returncode == 1 and b"virt-spm does not yet move the HBM reservations" in p.stderr
              and b"not migratable" not in p.stderr, "restore begin refused, saying why")
        p = hook(domain("gpu.hbm.2x"), "stopped", "end")
        check(p.returncode == 0 and not os.path.exists(plan) and UUID not in holdings(),
              "stopped end removes the plan and releases the HBM")
        check(hook(domain("gpu.hbm.2x"), "release", "end").returncode == 0, "release end after it")

        # later Nova: the extra specs in the XML; spm:0.host_nodes fixed, device 1 chosen
        p = hook(domain("gpu.x", {"hw:cpu_policy": "shared", "spm:devices": "2", "spm:size": "1GiB",
                                  "spm:1.host_nodes": "0"}), "prepare", "begin")
        h = holdings().get(UUID)
        check(p.returncode == 0 and h and [r["nodeset"] for r in h["devices"]] == ["0", "0"],
              "later Nova: extraSpecs, a fixed node and a chosen one (%s, %s)" % (p.stderr, h))

        # a restart without a stop: the old plan never applies, the holding is replaced
        p = hook(domain("m1.small"), "prepare", "begin")
        check(p.returncode == 0 and not os.path.exists(plan),
              "a flavor that asks for nothing: allowed, the stale plan removed")
        hook(domain("m1.small"), "release", "end")

        # refusals: one line naming the flavor and the spec, nothing reserved or stored
        before = holdings()
        for what, xml, words in (
                ("unknown key", domain("gpu.x", {"spm:colour": "red"}), "spm:colour: unknown extra spec"),
                ("bad size", domain("gpu.x", {"spm:size": "1XB"}), "spm:size: unknown unit 'XB'"),
                ("too many", domain("gpu.x", {"spm:devices": "4", "spm:size": "1GiB"}),
                 "spm:devices=4: SPM device 3 (1 GiB)"),
                ("no profile", domain("gpu.x", {"spm:profile": "nope"}), "profile 'nope' does not exist"),
                ("not the wrapper", domain("gpu.hbm.2x", emulator="/usr/bin/qemu-system-x86_64"),
                 "is not the virt-spm wrapper")):
            p = hook(xml, "prepare", "begin")
            err = p.stderr.decode()
            check(p.returncode == 1 and err.count("\n") == 1 and words in err and
                  "refusing to start domain 'instance-0000002a'" in err and
                  holdings() == before and not os.path.exists(plan),
                  "refused (%s): %s" % (what, err.strip()))

        # D6: a tenant's display name holding virt-spm's namespace URI is text,
        # not metadata: the flavor still decides (it was started unplanned)
        for what, xml in (("Nova 26", domain("gpu.hbm.2x", tenant=SPM_XMLNS)),
                          ("Nova 34", wrap(fixture("nova34-gpu.hbm.2x").replace(
                              "<nova:name>vm1<", "<nova:name>%s<" % SPM_XMLNS)))):
            p = hook(xml, "prepare", "begin")
            check(p.returncode == 0 and os.path.exists(plan) and UUID in holdings(),
                  "%s: a <nova:name> holding virt-spm's URI is still a Nova guest, planned (%s)"
                  % (what, p.stderr))
            hook(xml, "stopped", "end")

        # The generations, told apart by the XML alone (Nova's own metadata)
        def devices():
            with open(os.path.join(plans, UUID + ".json")) as f:
                return len(json.load(f)["devices"])
        for meta, source, want in (
                ("nova26-name-only", "flavors.d (2 devices)", 2),
                ("nova31-name-only", "flavors.d (2 devices)", 2),
                ("nova34-gpu.hbm.2x", "its extra specs (2 devices)", 2)):
            p = hook(wrap(fixture(meta)), "prepare", "begin")
            check(p.returncode == 0 and p.stderr == b"" and os.path.exists(plan) and devices() == want,
                  "%s: planned from %s (%s)" % (meta, source, p.stderr))
            hook(wrap(fixture(meta)), "stopped", "end")
        # Nova 34 and the flavors.d file: 1 device there, 2 in the extra specs
        with open(os.path.join(flavors, "gpu.hbm.2x.conf"), "w") as f:
            f.write("[spm]\ndevices = 1\nsize = 1GiB\n")
        p = hook(wrap(fixture("nova34-gpu.hbm.2x")), "prepare", "begin")
        check(p.returncode == 0 and devices() == 2,
              "Nova 34: the extra specs, not flavors.d, give the devices")
        hook(wrap(fixture("nova34-gpu.hbm.2x")), "stopped", "end")
        p = hook(wrap(fixture("nova26-name-only")), "prepare", "begin")
        check(p.returncode == 0 and devices() == 1, "Nova 26: flavors.d gives the devices")
        hook(wrap(fixture("nova26-name-only")), "stopped", "end")
        before = holdings()
        for meta, words in (
                ("nova34-m1.other", "its entry in [nova] flavors is for Nova 26 to 31 and is not used"),
                ("nova34-m1.bare", "%s is for Nova 26 to 31 and is not used"
                 % os.path.join(flavors, "m1.bare.conf"))):
            p = hook(wrap(fixture(meta)), "prepare", "begin")
            err = p.stderr.decode()
            check(p.returncode == 0 and not os.path.exists(plan) and holdings() == before and
                  err.startswith("virt-spm: warning: flavor '%s': " % meta.split("-", 1)[1]) and
                  words in err and err.count("\n") == 1,
                  "%s: no spm: extra spec, not an SPM guest though a mapping exists; "
                  "a warning says so: %s" % (meta, err.strip()))
        p = hook(wrap(fixture("nova34-m1.bare").replace('"m1.bare"', '"m1.unmapped"')),
                 "prepare", "begin")
        check(p.returncode == 0 and p.stderr == b"" and not os.path.exists(plan),
              "Nova 34, an empty <nova:extraSpecs/> and no mapping: left alone, silently")

        # the plan directory: an existing one gets root's mode, another user's is refused
        os.chmod(plans, 0o777)
        p = hook(domain("gpu.hbm.2x"), "prepare", "begin")
        check(p.returncode == 0 and os.stat(plans).st_mode & 0o7777 == 0o755 and os.path.exists(plan),
              "an existing plan directory writable by others is made 0755 (%s)" % p.stderr)
        hook(domain("gpu.hbm.2x"), "stopped", "end")
        if os.geteuid() == 0:
            import pwd
            nobody = pwd.getpwnam("nobody")
            os.chown(plans, nobody.pw_uid, nobody.pw_gid)
            before = holdings()
            p = hook(domain("gpu.hbm.2x"), "prepare", "begin")
            err = p.stderr.decode()
            check(p.returncode == 1 and err.count("\n") == 1 and
                  "is owned by uid %d, not by uid 0" % nobody.pw_uid in err and
                  not os.path.exists(plan) and holdings() == before,
                  "a plan directory of another user's is refused, nothing stored (%s)" % err.strip())
            os.chown(plans, 0, 0)
        else:
            print("ok - # SKIP a plan directory of another user's needs root")

        # live migration: the XML Nova itself sends the destination, at its migrate begin
        vnc = '<graphics type="vnc" port="-1" autoport="yes" listen="192.0.2.10">' \
              '<listen type="address" address="192.0.2.10"/></graphics></devices>'
        sid_root = os.environ.get("SPM_SID_ROOT")
        for nova, meta, root in (("Nova 26", "nova26-name-only", None),
                                 ("Nova 34", "nova34-gpu.hbm.2x", sid_root and os.path.realpath(sid_root))):
            source = wrap(fixture(meta)).replace("</devices>", vnc)
            sent = nova_destination_xml(source, root) if nova == "Nova 26" or root else None
            if sent is None:
                print("ok - # SKIP %s's nova.virt.libvirt.migration is not here%s"
                      % (nova, "" if nova == "Nova 26" else " ($SPM_SID_ROOT with Nova 34, as root)"))
                continue
            before = holdings()
            p = hook(sent, "migrate", "begin")
            err = p.stderr.decode()
            check('listen="192.0.2.20"' in sent and "<nova:instance" in sent and WRAPPER in sent and
                  p.returncode == 1 and err.count("\n") == 1 and
                  "refusing to migrate domain 'instance-0000002a': its flavor 'gpu.hbm.2x' asks for "
                  "SPM memory" in err and holdings() == before and not os.path.exists(plan),
                  "%s's live migration XML (graphics moved to the destination's address, its metadata "
                  "kept): migrate begin refused, nothing reserved (%s)" % (nova, err.strip()))

        # not Nova's: the front end passes it without the helper
        env["VIRT_SPM_HOOK_HELPER"] = "/nonexistent"
        p = hook(domain("gpu.hbm.2x", nova=False), "prepare", "begin")
        check(p.returncode == 0 and p.stderr == b"", "a domain without Nova metadata is not Nova's")
    finally:
        shutil.rmtree(d, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
