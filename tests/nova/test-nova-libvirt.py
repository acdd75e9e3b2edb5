#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Nova guests with SPM memory, end to end (docs/nova.md, docs/testing.md).

Nova's own code (Debian's python3-nova, imported with /usr/bin/python3)
writes the domain XML and defines and starts it (Guest.create + launch),
against the real libvirtd with virt-spm's hook installed, the emulator
wrapper first in libvirtd's PATH (SPM_TEST_EMULATOR_DIR, which every test
harness puts there) and a virt-spmd of the test's own.  Debian's QEMU 7.2
has no spm-memory: pc-dimm stands in; with the spm-memory QEMU built by
../shared/spm-qemu (~/.cache/spm-qemu) the real device is used too.

Cases:
 - Nova 26 (flavor name only -> flavors.d), later Nova (<nova:extraSpecs>):
   query-memory-devices shows the planned devices, virt-spmd's verdict is
   match, the ledger holds the HBM; a stop releases it and the plan;
 - invalid specs (unknown key, bad size, more devices than free HBM, a
   missing profile): the start is refused with a message naming the spec,
   nothing reserved, no QEMU left;
 - a flavor without spm: specs: QEMU runs with exactly the arguments libvirt
   wrote (the wrapper passed them through byte for byte).

--sid: the same under the Debian sid root ($SPM_SID_ROOT, docs/testing.md
"The Nova tier on libvirt 12.8"): Nova 34's own code, run by the root's
python3 (novaguest.py launch), writes the XML with its own
<nova:extraSpecs> and starts it on the root's libvirtd 12.8; the hook and
the wrapper are the build inside the root, the wrapper first in that
daemon's PATH (scripts/sid-libvirtd.sh, SPM_SID_LIBVIRTD_PATH), QEMU 11.1.3
behind it with the real sp-mem device.  Nova 34 has no name-only XML: a
flavor whose <nova:extraSpecs> has no spm: spec starts untouched even when
flavors.d has a file of its name.
"""
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import check, finish  # noqa: E402
import time

sys.path.insert(0, os.path.join(os.environ.get("SPM_SOURCE_ROOT", ""), "tests", "daemon"))
import spmtest  # noqa: E402
from spmtest import wait_for, virsh, run, skip  # noqa: E402

SID = "--sid" in sys.argv[1:]
# Paths as libvirtd (and the hook and wrapper it runs) see them: in the sid
# root, the test reads and writes them under spmtest.daemon_path().
EMULATOR_DIR = "/run/virt-spm-test/bin"          # SPM_TEST_EMULATOR_DIR
WRAPPER_LINK = os.path.join(EMULATOR_DIR, "qemu-system-x86_64")
REAL_DIR = "/run/virt-spm-test/real"             # the wrapper's DIR/../real
PLAN_DIR = "/run/virt-spm/nova"                  # what the wrapper reads under libvirt
SPM_QEMU = os.path.expanduser("~/.cache/spm-qemu/qemu-10.2.2/build/qemu-system-x86_64")
PREFIX = "spmtest-nova-%d-" % os.getpid()
# the root daemon's PATH while the test runs (SPM_SID_LIBVIRTD_PATH)
SID_LIBVIRTD_PATH = EMULATOR_DIR + ":/usr/sbin:/usr/bin:/sbin:/bin"
SID_NOVA = "usr/lib/python3/dist-packages/nova/virt/libvirt/guest.py"
SID_LIBVIRT_PY = "usr/lib/python3/dist-packages/libvirt.py"
# the build whose hook and wrapper libvirtd runs (in the root: the build inside it)
HOOK_BUILD = os.environ.get("SPM_BUILD_ROOT", "")
MiB = 1 << 20



def need_sid():
    """--sid: the root with Nova in it, its daemon up, virt-spm built inside."""
    global HOOK_BUILD
    if os.geteuid() != 0:
        skip("needs root (chroot, the sid root's libvirtd)")
    root = os.environ.get("SPM_SID_ROOT")
    if not root:
        skip("SPM_SID_ROOT is not set (scripts/setup-sid-root.sh --nova makes the root)")
    for f in (SID_NOVA, SID_LIBVIRT_PY):
        if not os.path.exists(os.path.join(root, f)):
            skip("no python3-nova/python3-libvirt in the sid root %s (scripts/setup-sid-root.sh --nova)" % root)
    spmtest.use_sid_root()
    HOOK_BUILD = spmtest.build_in_sid_root()


def need():
    if SID:
        need_sid()
        return
    if os.geteuid() != 0:
        skip("needs root (libvirtd, /etc/libvirt/hooks)")
    for tool in ("virsh", "libvirtd", "/usr/bin/qemu-system-x86_64"):
        if not shutil.which(tool):
            skip(tool + " is not installed")
    try:
        import novaguest  # noqa: F401
    except ImportError as e:
        skip("Debian's python3-nova and python3-libvirt are not installed (%s)" % e)


def host_path(path):
    """@path as libvirtd sees it, as this test sees it (spmtest.daemon_path)."""
    return spmtest.daemon_path(path)


class Env:
    """The run's files: hook, configuration, flavors, profiles, ledger, daemon.
    In the sid root they are under ROOT/tmp, and what the hook is told is
    the path seen from inside (spmtest.in_root)."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="spm-nova-", dir=host_path("/tmp") if SID else None)
        os.chmod(self.dir, 0o755)
        self.build = HOOK_BUILD
        self.source = os.environ["SPM_SOURCE_ROOT"]
        self.conf = os.path.join(self.dir, "virt-spm.conf")
        self.ledger_dir = os.path.join(self.dir, "ledger")
        self.flavors = os.path.join(self.dir, "flavors.d")
        self.profiles = os.path.join(self.dir, "profiles.d")
        os.makedirs(self.flavors)
        os.makedirs(self.profiles)
        self.hook_name = "virt-spm-test-nova-%d" % os.getpid()
        self.harness = os.path.join(self.source, "tests", "libvirt", "libvirtd-harness.sh")
        self.daemon = None
        self.old_path = None          # the sid daemon's PATH before the test
        # QEMU 11.1.3 in the root has sp-mem; QEMU 7.2 on the host has no SPM device
        self.write_conf(stand_in=None if SID else "pc-dimm")

    def write_conf(self, stand_in="pc-dimm"):
        text = "[host]\nspm_nodes = 0:2GiB\n[nova]\nwrapper = %s\nflavors_dir = %s\nprofiles_dir = %s\n" \
            % (WRAPPER_LINK, spmtest.in_root(self.flavors), spmtest.in_root(self.profiles))
        if stand_in:
            text += "[test]\nstand_in_driver = %s\n" % stand_in
        with open(self.conf + ".tmp", "w") as f:
            f.write(text)
        os.rename(self.conf + ".tmp", self.conf)   # the hook reads it at every call

    def put_wrapper(self):
        """Copy the wrapper where libvirtd's PATH looks first; a new file
        (new ctime) makes libvirt probe its capabilities again."""
        os.makedirs(host_path(EMULATOR_DIR), exist_ok=True)
        tmp = host_path(WRAPPER_LINK) + ".%d" % os.getpid()
        shutil.copy2(os.path.join(self.build, "wrapper", "virt-spm-qemu"), tmp)
        os.rename(tmp, host_path(WRAPPER_LINK))

    def set_real_qemu(self, qemu):
        real = os.path.join(REAL_DIR, "qemu-system-x86_64")
        if qemu:
            os.makedirs(REAL_DIR, exist_ok=True)
            os.symlink(qemu, real + ".tmp")
            os.rename(real + ".tmp", real)
        else:
            try:
                os.unlink(real)
            except FileNotFoundError:
                pass
        self.put_wrapper()

    def install(self):
        self.put_wrapper()
        # virt-spmd audits with a configuration of its own: without [host]
        # spm_nodes it leaves the ledger (reconciled from every running
        # domain on this shared host) alone
        daemon_conf = os.path.join(self.dir, "virt-spmd.conf")
        with open(daemon_conf, "w") as f:
            f.write("" if SID else "[test]\nstand_in_driver = pc-dimm\n")
        self.daemon = spmtest.Daemon(self.dir, daemon_conf)
        self.daemon.env["VIRT_SPM_LEDGER_DIR"] = self.ledger_dir
        if SID:
            # virt-spmd (the host build) reads the plans the root's hook stored
            self.daemon.env["VIRT_SPM_NOVA_PLAN_DIR"] = host_path(PLAN_DIR)
        self.hook = hook = os.path.join(self.dir, "hook")
        r = spmtest.in_root
        with open(hook, "w") as f:
            f.write("#!/bin/sh\n# virt-spm hook of test run %d (test-nova-libvirt); removed by the test\n"
                    "VIRT_SPM_HOOK_HELPER='%s' VIRT_SPM_HOOK_CONFIG='%s' VIRT_SPM_HOOK_CACHE_DIR='%s' "
                    "VIRT_SPM_LEDGER_DIR='%s' VIRT_SPM_CONTROL_SOCKET='%s' exec '%s' \"$@\"\n"
                    % (os.getpid(), r(os.path.join(self.build, "hook", "virt-spm-hook-helper")),
                       r(self.conf), r(os.path.join(self.dir, "cache")), r(self.ledger_dir),
                       r(self.daemon.sock), r(os.path.join(self.build, "hook", "virt-spm-qemu-hook"))))
        os.chmod(hook, 0o755)
        if SID:
            # the harness restarts the root's daemon with SPM_TEST_LIBVIRTD_START
            # (sid-libvirtd.sh ROOT up), which reads this from our environment
            self.old_path = libvirtd_path()
            os.environ["SPM_SID_LIBVIRTD_PATH"] = SID_LIBVIRTD_PATH
        p = run(self.harness, "install", self.hook_name, hook, check=False, timeout=180)
        if p.returncode == 77:
            skip(p.stderr.strip())
        assert p.returncode == 0, p.stderr
        self.daemon.start()

    def restart_libvirtd(self):
        """libvirtd again with the wrapper's directory first in its PATH
        (and our hook, which it reads at start)."""
        if SID:
            run(*os.environ["SPM_TEST_LIBVIRTD_START"].split(), timeout=180)
        else:
            p = run(self.harness, "install", self.hook_name, self.hook, check=False, timeout=180)
            assert p.returncode == 0, p.stderr

    def ensure_path(self):
        """libvirtd with the wrapper's directory first in its PATH: a test
        of another branch may have restarted it its own way."""
        if not libvirtd_path().startswith(EMULATOR_DIR + ":"):
            print("# libvirtd was restarted without %s in its PATH: restarting it" % EMULATOR_DIR)
            self.restart_libvirtd()

    def remove(self):
        spmtest.cleanup_domains(PREFIX)
        if self.daemon:
            self.daemon.kill()
        if SID and self.old_path is not None:
            # one restart for both: the hook gone and the PATH it had before
            # (sid-libvirtd.sh's default when it was not running)
            os.environ["SPM_SID_LIBVIRTD_PATH"] = self.old_path or "/usr/sbin:/usr/bin:/sbin:/bin"
        run(self.harness, "remove", self.hook_name, check=False, timeout=180)
        if SID:
            os.environ.pop("SPM_SID_LIBVIRTD_PATH", None)
        for f in (host_path(WRAPPER_LINK), os.path.join(REAL_DIR, "qemu-system-x86_64")):
            try:
                os.unlink(f)
            except FileNotFoundError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)

    def holdings(self):
        try:
            with open(os.path.join(self.ledger_dir, "ledger.json")) as f:
                return {h["uuid"]: h for h in json.load(f).get("holdings", [])}
        except FileNotFoundError:
            return {}


def libvirtd_path():
    try:
        pid = int(open(host_path("/run/libvirtd.pid")).read().strip())
        env = open("/proc/%d/environ" % pid, "rb").read().split(b"\0")
    except (OSError, ValueError):
        return ""
    for e in env:
        if e.startswith(b"PATH="):
            return e[5:].decode()
    return ""


def qemu_pid(name):
    return int(open(host_path("/run/libvirt/qemu/%s.pid" % name)).read().strip())


def qemu_argv(name):
    return [a.decode() for a in open("/proc/%d/cmdline" % qemu_pid(name), "rb").read().split(b"\0")[:-1]]


def logged_argv(name):
    """The QEMU command line libvirt logged for the last start of @name
    (one argument per line, continued with backslashes, after the
    environment it sets)."""
    lines = open(host_path("/var/log/libvirt/qemu/%s.log" % name)).read().splitlines()
    start = max(i for i, l in enumerate(lines) if "starting up libvirt" in l) + 1
    cmd = []
    for line in lines[start:]:
        cmd.append(line[:-2] if line.endswith(" \\") else line)
        if not line.endswith(" \\"):
            break
    words = shlex.split(" ".join(cmd))
    while words and "=" in words[0] and not words[0].startswith("/"):
        words.pop(0)
    return words


def memory_devices(name):
    p = virsh("qemu-monitor-command", name, '{"execute":"query-memory-devices"}')
    return json.loads(p.stdout)["return"]


def destroy(name):
    virsh("destroy", name, check=False)
    wait_for(name + " to stop", lambda: virsh("domstate", name, check=False).stdout.strip() == "shut off",
             60, 0.05)


class NovaInRoot:
    """novaguest.py run by the sid root's python3 (Nova 34), copied into the
    root: its domain_xml and create_and_launch, asked over a pipe
    (novaguest.py serve) so that Nova is imported once."""

    def __init__(self, env):
        self.dir = os.path.join(env.dir, "nova")
        os.makedirs(self.dir)
        shutil.copy(os.path.join(os.path.dirname(os.path.abspath(__file__)), "novaguest.py"), self.dir)
        self.seen = None      # what the first answer said of Nova
        self.proc = subprocess.Popen(
            ["chroot", spmtest.ROOT, "/usr/bin/python3", spmtest.in_root(os.path.join(self.dir, "novaguest.py")),
             "serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=open(os.path.join(self.dir, "log"), "w"),
            env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root", "LC_ALL": "C.UTF-8"}, text=True)

    def ask(self, request):
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()     # Nova's own call has libvirt's timeouts
        if not line:
            with open(os.path.join(self.dir, "log")) as f:
                raise AssertionError("novaguest.py serve in the root exited: " + f.read()[-2000:])
        return json.loads(line)

    def domain_xml(self, name, flavor, extra_specs=None, numa_cell=False):
        out = self.ask({"op": "xml", "name": name, "flavor": flavor, "specs": extra_specs, "numa": numa_cell})
        if self.seen is None:
            self.seen = out
        return out["uuid"], out["xml"]

    def launch(self, xml):
        return self.ask({"op": "launch", "xml": xml})["error"]

    def reconnect(self):
        self.ask({"op": "reconnect"})

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(60)


class NovaHere:
    """novaguest imported here (Debian 12's Nova 26)."""

    def domain_xml(self, name, flavor, extra_specs=None, numa_cell=False):
        import novaguest
        return novaguest.domain_xml(name, flavor, extra_specs, numa_cell=numa_cell)

    def launch(self, xml):
        import logging
        logging.getLogger("nova").setLevel(logging.CRITICAL)  # its own report of a refused start
        import novaguest
        import libvirt
        try:
            novaguest.create_and_launch(xml)
            return None
        except libvirt.libvirtError as e:
            return str(e)

    def reconnect(self):
        import novaguest
        novaguest.reconnect()

    def close(self):
        pass


NOVA = None     # NovaHere or NovaInRoot


def launch(xml, env):
    """Nova's define-then-start; None, or libvirt's error."""
    attempts = 5
    for attempt in range(attempts):
        env.ensure_path()
        err = NOVA.launch(xml)
        if err is None:
            return None
        # another test restarted the shared libvirtd under us (maybe
        # without the wrapper's directory in its PATH): once more
        lost_path = "is not the virt-spm wrapper" in err
        if attempt == attempts - 1 or not (lost_path or any(t in err for t in spmtest.TRANSIENT)):
            return err
        print("# libvirtd changed under the start (%s): once more" % err[:80])
        NOVA.reconnect()
        wait_for("libvirtd", spmtest.libvirt_alive_quiet, 60, 0.1)


def plan_differences(devs, plan):
    """How query-memory-devices' answer @devs differs from the stored
    @plan: one line per device that is not at its planned address, size and
    node, or is missing on either side ([] when they agree)."""
    planned = {d["id"]: d for d in plan["devices"]}
    seen = set()
    out = []
    for d in devs:
        data = d["data"]
        dev_id = data.get("id")
        seen.add(dev_id)
        p = planned.get(dev_id)
        addr = data.get("addr", data.get("memaddr"))
        if not p:
            out.append("device %s is not in the plan" % dev_id)
        elif (p["addr"], p["size"], p["node"]) != (addr, data["size"], data["node"]):
            out.append("device %s: planned addr 0x%x size %d node %d, QEMU has addr 0x%x size %d node %d"
                       % (dev_id, p["addr"], p["size"], p["node"], addr, data["size"], data["node"]))
    out += ["planned device %s is not in QEMU" % i for i in planned if i not in seen]
    return out


def moved_plan(plan, delta):
    """@plan with its first device @delta bytes higher: a wrong expectation."""
    wrong = json.loads(json.dumps(plan))
    wrong["devices"][0]["addr"] += delta
    return wrong


def check_wrong_plan_audited(env, name, uuid, plan):
    """A stored plan that no longer says where the device is: virt-spmd's
    audit is a mismatch naming it; the true plan put back, match again."""
    path = os.path.join(host_path(PLAN_DIR), uuid + ".json")
    dev_id = plan["devices"][0]["id"]
    with open(path) as f:
        true_text = f.read()
    with open(path + ".tmp", "w") as f:
        json.dump(moved_plan(plan, 1 << 30), f)
    os.rename(path + ".tmp", path)
    try:
        p = env.daemon.audit(name)
        check(p.returncode == 1 and "mismatch" in p.stdout and dev_id in p.stdout,
              "%s: with the plan moved by 1 GiB, virt-spmd's audit is a mismatch naming %s (%s)"
              % (name, dev_id, p.stdout.strip().replace("\n", " | ")[:300]))
    finally:
        with open(path + ".tmp", "w") as f:
            f.write(true_text)
        os.rename(path + ".tmp", path)
    p = env.daemon.audit(name)
    check(p.returncode == 0 and "match" in p.stdout, "%s: the true plan back, the audit is a match again (%s)"
          % (name, p.stdout.strip()[:200]))


def start_case(env, name, flavor, extra_specs, expect_devices, stand_in, numa_cell=False, wrong_plan=False):
    uuid, xml = NOVA.domain_xml(name, flavor, extra_specs, numa_cell=numa_cell)
    check("<emulator>" not in xml and "maxMemory" not in xml and "qemu:commandline" not in xml
          and 'model="spm"' not in xml and "virt-spm.org" not in xml, "%s: Nova's XML has no emulator, maxMemory, "
          "qemu:commandline or SPM element" % name)
    err = launch(xml, env)
    if not check(err is None, "%s: Nova's Guest.create + launch started the guest (%s)" % (name, err)):
        return
    argv = qemu_argv(name)
    devs = memory_devices(name)
    kinds = [d["type"] for d in devs]
    want = "dimm" if stand_in else ("sp-mem" if SID else "spm-memory")
    check(kinds == [want] * len(expect_devices), "%s: query-memory-devices shows %d %s devices: %s"
          % (name, len(expect_devices), want, kinds))
    with open(os.path.join(host_path(PLAN_DIR), uuid + ".json")) as f:
        plan = json.load(f)
    diffs = plan_differences(devs, plan)
    check(not diffs and len(devs) == len(expect_devices),
          "%s: every device at its planned address, size and node: %s" % (name, diffs or [
              "%s 0x%x node %d" % (d["data"]["id"], d["data"].get("addr", d["data"].get("memaddr")),
                                   d["data"]["node"]) for d in devs]))
    wrong = plan_differences(devs, moved_plan(plan, 1 << 30))
    check(len(wrong) == 1 and plan["devices"][0]["id"] in wrong[0],
          "%s: a plan with one device 1 GiB higher does not match (%s)" % (name, wrong))
    check(sorted(d["data"]["size"] for d in devs) == sorted(expect_devices),
          "%s: device sizes %s" % (name, [d["data"]["size"] for d in devs]))
    check("-uuid" in argv and argv[argv.index("-uuid") + 1] == uuid and
          any(a.startswith("size=") and "maxmem=" in a for a in argv),
          "%s: QEMU got maxmem/slots from the wrapper" % name)
    driver = "pc-dimm" if stand_in else want
    check(sum(1 for a in argv if a.startswith(driver + ",")) == len(expect_devices),
          "%s: QEMU's command line has %d -device %s" % (name, len(expect_devices), driver))
    check(argv != logged_argv(name), "%s: the wrapper's edit shows against libvirt's log "
          "(the byte-for-byte comparison can fail)" % name)
    try:
        v = wait_for("verdict of " + name, lambda: (env.daemon.domain(name) or {}).get("verdict") and
                     env.daemon.domain(name), 60, 0.05)
    except AssertionError:
        v = {}
    check(v.get("verdict") == "match", "%s: virt-spmd's verdict is match (%s)" % (name, v))
    if wrong_plan:
        check_wrong_plan_audited(env, name, uuid, plan)
    h = env.holdings().get(uuid)
    check(h is not None and sum(r["bytes"] for r in h["devices"]) == sum(expect_devices),
          "%s: the ledger holds its HBM (%s)" % (name, h))
    destroy(name)
    wait_for("plan of %s removed" % name,
             lambda: not os.path.exists(os.path.join(host_path(PLAN_DIR), uuid + ".plan")), 30)
    check(uuid not in env.holdings(), "%s: stopping released its HBM" % name)
    virsh("undefine", name)


def refused_case(env, name, flavor, extra_specs, spec):
    uuid, xml = NOVA.domain_xml(name, flavor, extra_specs)
    before = env.holdings()
    err = launch(xml, env)
    check(err is not None and spec in err and "virt-spm" in err,
          "%s: start refused naming %s: %s" % (name, spec, err))
    st = virsh("domstate", name, check=False).stdout.strip()
    check(st == "shut off", "%s: no QEMU left (%s)" % (name, st))
    check(env.holdings() == before and not os.path.exists(os.path.join(host_path(PLAN_DIR), uuid + ".plan")),
          "%s: nothing reserved, no plan stored" % name)
    virsh("undefine", name, check=False)


def untouched_case(env, name, flavor="m1.small", extra_specs=None):
    uuid, xml = NOVA.domain_xml(name, flavor, extra_specs)
    err = launch(xml, env)
    if not check(err is None, "%s: a flavor without spm: specs starts (%s)" % (name, err)):
        return
    argv = qemu_argv(name)
    logged = logged_argv(name)
    check(argv == logged, "%s: QEMU's argv is byte for byte what libvirt wrote (%d arguments)" % (name, len(argv)))
    check(not any("pc-dimm" in a or "spm-memory" in a or "sp-mem" in a or "maxmem" in a for a in argv),
          "%s: no SPM argument" % name)
    check(not os.path.exists(os.path.join(host_path(PLAN_DIR), uuid + ".plan")), "%s: no plan stored" % name)
    destroy(name)
    virsh("undefine", name)


def check_nova_writes_specs():
    """--sid: the XML is Nova 34's, <nova:extraSpecs> written by its own
    LibvirtConfigGuestMetaNovaFlavorExtraSpecs (novaguest has no imitation
    for a Nova that has the class), present and empty for no specs."""
    _, xml = NOVA.domain_xml(PREFIX + "probe", "m1.small")
    seen = NOVA.seen
    check(seen["nova"].split(".")[0] == "34" and seen["nova_extra_specs"],
          "the root's Nova is 34 with its own LibvirtConfigGuestMetaNovaFlavorExtraSpecs (%s)" % seen["nova"])
    check("<nova:extraSpecs/>" in xml and 'id="spmtest-m1.small"' in xml,
          "Nova 34 writes an empty <nova:extraSpecs/> and the flavor's id= for a flavor without specs")


def sid_cases(env, want):
    """Nova 34 on libvirt 12.8 and QEMU 11.1.3: the real sp-mem device."""
    check_nova_writes_specs()
    if want("later"):
        start_case(env, PREFIX + "later", "spmtest.later",
                   {"hw:cpu_policy": "shared", "spm:devices": "1", "spm:size": "1GiB",
                    "spm:0.host_nodes": "0"}, [1024 * MiB], False, wrong_plan=True)
    if want("two"):
        start_case(env, PREFIX + "two", "spmtest.two", {"spm:devices": "2", "spm:size": "512MiB"},
                   [512 * MiB] * 2, False)
    if want("numa"):
        # hw:numa_nodes=1: libvirt writes the -numa cell itself; SPM nodes follow it
        start_case(env, PREFIX + "numa", "spmtest.two", {"spm:devices": "2", "spm:size": "512MiB"},
                   [512 * MiB] * 2, False, numa_cell=True)
    if want("profile"):
        start_case(env, PREFIX + "profile", "spmtest.prof", {"spm:profile": "hbm1"}, [1024 * MiB], False)
    refusals(env, want)
    if want("plain"):
        untouched_case(env, PREFIX + "plain", "m1.small", None)
    if want("other"):
        # other specs only: not an SPM guest
        untouched_case(env, PREFIX + "other", "m1.pinned", {"hw:cpu_policy": "shared"})
    if want("flavorsd"):
        # Nova 32+ XML: its <nova:extraSpecs> decides, not a flavors.d file of its name
        untouched_case(env, PREFIX + "flavorsd", "spmtest.hbm2", None)


def refusals(env, want):
    if want("unknown"):
        refused_case(env, PREFIX + "unknown", "spmtest.bad", {"spm:colour": "red"}, "spm:colour")
    if want("badsize"):
        refused_case(env, PREFIX + "badsize", "spmtest.bad", {"spm:size": "12XB"}, "spm:size")
    if want("toomany"):
        refused_case(env, PREFIX + "toomany", "spmtest.bad",
                     {"spm:devices": "3", "spm:size": "1GiB"}, "spm:devices=3")
    if want("noprofile"):
        refused_case(env, PREFIX + "noprofile", "spmtest.bad", {"spm:profile": "nope"}, "spm:profile")


def host_cases(env, want):
    """Nova 26 on libvirt 9.0 and QEMU 7.2: pc-dimm stands in."""
    if want("n26"):
        start_case(env, PREFIX + "n26", "spmtest.hbm2", None, [512 * MiB] * 2, True)
    if want("later"):
        start_case(env, PREFIX + "later", "spmtest.later",
                   {"hw:cpu_policy": "shared", "spm:devices": "1", "spm:size": "1GiB",
                    "spm:0.host_nodes": "0"}, [1024 * MiB], True)
    if want("numa"):
        # hw:numa_nodes=1: libvirt writes the -numa cell itself; SPM nodes follow it
        start_case(env, PREFIX + "numa", "spmtest.hbm2", None, [512 * MiB] * 2, True, numa_cell=True)
    if want("profile"):
        start_case(env, PREFIX + "profile", "spmtest.prof", {"spm:profile": "hbm1"}, [1024 * MiB], True)
    refusals(env, want)
    if want("plain"):
        untouched_case(env, PREFIX + "plain")

    if not want("spm"):
        pass
    elif os.access(SPM_QEMU, os.X_OK):
        # the spm-memory QEMU behind the wrapper (DIR/../real/NAME), for
        # the probes too; a new wrapper file makes libvirt probe again
        env.write_conf(stand_in=None)
        env.set_real_qemu(SPM_QEMU)
        try:
            start_case(env, PREFIX + "spm", "spmtest.later",
                       {"spm:devices": "2", "spm:size": "512MiB"}, [512 * MiB] * 2, False)
        finally:
            env.set_real_qemu(None)
    else:
        print("# the spm-memory QEMU is not built (%s): pc-dimm stood in only" % SPM_QEMU)


def main():
    global NOVA
    need()
    spmtest.ensure_libvirtd()
    # one run restarting libvirtd at a time (the root's daemon has a lock of its own)
    lock = spmtest.take_run_lock()
    t0 = time.monotonic()
    env = Env()
    NOVA = NovaInRoot(env) if SID else NovaHere()
    try:
        env.install()
        print("# hook installed, libvirtd restarted, virt-spmd up in %.1f s" % (time.monotonic() - t0), flush=True)
        check(libvirtd_path().startswith(EMULATOR_DIR + ":"),
              "libvirtd's PATH starts with the wrapper's directory (%s)" % libvirtd_path())

        # libvirt probes (and caches) QEMU's capabilities through the wrapper:
        # they must be the real QEMU's
        caps = [virsh("domcapabilities", "--emulatorbin", b, "--virttype", "qemu").stdout
                .replace(b, "EMULATOR") for b in (WRAPPER_LINK, "/usr/bin/qemu-system-x86_64")]
        check(caps[0] == caps[1] and "<machine>" in caps[0],
              "libvirt's capabilities of QEMU through the wrapper are the real QEMU's")

        with open(os.path.join(env.flavors, "spmtest.hbm2.conf"), "w") as f:
            f.write("# Nova 26: flavor name -> this file\n[spm]\ndevices = 2\nsize = 512MiB\n")
        with open(os.path.join(env.profiles, "hbm1.conf"), "w") as f:
            f.write("[spm]\nsize = 1GiB\n0.host_nodes = 0\n")

        only = os.environ.get("SPM_NOVA_TEST_ONLY")    # while debugging: one case

        def want(case):
            return not only or only == case

        (sid_cases if SID else host_cases)(env, want)
        print("# the cases in %.1f s" % (time.monotonic() - t0), flush=True)
    finally:
        NOVA.close()
        env.remove()
        if SID and env.old_path is not None:
            check(libvirtd_path() == env.old_path, "the root's libvirtd runs with its PATH of before again (%s)"
                  % libvirtd_path())
        os.close(lock)
    finish()


if __name__ == "__main__":
    main()
