#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Nova guests with SPM memory, end to end (docs/nova.md, docs/nova.md).

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
"""
import fcntl
import glob
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

EMULATOR_DIR = "/run/virt-spm-test/bin"          # SPM_TEST_EMULATOR_DIR
WRAPPER_LINK = os.path.join(EMULATOR_DIR, "qemu-system-x86_64")
REAL_DIR = "/run/virt-spm-test/real"             # the wrapper's DIR/../real
PLAN_DIR = "/run/virt-spm/nova"                  # what the wrapper reads under libvirt
RUN_LOCK = "/run/lock/virt-spm-libvirt-tests.lock"
SPM_QEMU = os.path.expanduser("~/.cache/spm-qemu/qemu-10.2.2/build/qemu-system-x86_64")
PREFIX = "spmtest-nova-%d-" % os.getpid()
MiB = 1 << 20



def need():
    if os.geteuid() != 0:
        skip("needs root (libvirtd, /etc/libvirt/hooks)")
    for tool in ("virsh", "libvirtd", "/usr/bin/qemu-system-x86_64"):
        if not shutil.which(tool):
            skip(tool + " is not installed")
    try:
        import novaguest  # noqa: F401
    except ImportError as e:
        skip("Debian's python3-nova and python3-libvirt are not installed (%s)" % e)


class Env:
    """The run's files: hook, configuration, flavors, profiles, ledger, daemon."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="spm-nova-")
        os.chmod(self.dir, 0o755)
        self.build = os.environ["SPM_BUILD_ROOT"]
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
        self.write_conf()

    def write_conf(self, stand_in="pc-dimm"):
        text = "[host]\nspm_nodes = 0:2GiB\n[nova]\nwrapper = %s\nflavors_dir = %s\nprofiles_dir = %s\n" \
            % (WRAPPER_LINK, self.flavors, self.profiles)
        if stand_in:
            text += "[test]\nstand_in_driver = %s\n" % stand_in
        with open(self.conf + ".tmp", "w") as f:
            f.write(text)
        os.rename(self.conf + ".tmp", self.conf)   # the hook reads it at every call

    def put_wrapper(self):
        """Copy the wrapper where libvirtd's PATH looks first; a new file
        (new ctime) makes libvirt probe its capabilities again."""
        os.makedirs(EMULATOR_DIR, exist_ok=True)
        tmp = WRAPPER_LINK + ".%d" % os.getpid()
        shutil.copy2(os.path.join(self.build, "wrapper", "virt-spm-qemu"), tmp)
        os.rename(tmp, WRAPPER_LINK)

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
            f.write("[test]\nstand_in_driver = pc-dimm\n")
        self.daemon = spmtest.Daemon(self.dir, daemon_conf)
        self.daemon.env["VIRT_SPM_LEDGER_DIR"] = self.ledger_dir
        self.hook = hook = os.path.join(self.dir, "hook")
        with open(hook, "w") as f:
            f.write("#!/bin/sh\n# virt-spm hook of test run %d (test-nova-libvirt); removed by the test\n"
                    "VIRT_SPM_HOOK_HELPER='%s' VIRT_SPM_HOOK_CONFIG='%s' VIRT_SPM_HOOK_CACHE_DIR='%s' "
                    "VIRT_SPM_LEDGER_DIR='%s' VIRT_SPM_CONTROL_SOCKET='%s' exec '%s' \"$@\"\n"
                    % (os.getpid(), os.path.join(self.build, "hook", "virt-spm-hook-helper"),
                       self.conf, os.path.join(self.dir, "cache"), self.ledger_dir,
                       self.daemon.sock, os.path.join(self.build, "hook", "virt-spm-qemu-hook")))
        os.chmod(hook, 0o755)
        p = run(self.harness, "install", self.hook_name, hook, check=False, timeout=180)
        if p.returncode == 77:
            skip(p.stderr.strip())
        assert p.returncode == 0, p.stderr
        self.daemon.start()

    def ensure_path(self):
        """libvirtd with the wrapper's directory first in its PATH: a test
        of another branch may have restarted it its own way."""
        if not libvirtd_path().startswith(EMULATOR_DIR + ":"):
            print("# libvirtd was restarted without %s in its PATH: restarting it" % EMULATOR_DIR)
            p = run(self.harness, "install", self.hook_name, self.hook, check=False, timeout=180)
            assert p.returncode == 0, p.stderr

    def remove(self):
        spmtest.cleanup_domains(PREFIX)
        if self.daemon:
            self.daemon.kill()
        run(self.harness, "remove", self.hook_name, check=False, timeout=180)
        for f in (WRAPPER_LINK, os.path.join(REAL_DIR, "qemu-system-x86_64")):
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
        pid = int(open("/run/libvirtd.pid").read().strip())
        env = open("/proc/%d/environ" % pid, "rb").read().split(b"\0")
    except (OSError, ValueError):
        return ""
    for e in env:
        if e.startswith(b"PATH="):
            return e[5:].decode()
    return ""


def qemu_pid(name):
    return int(open("/run/libvirt/qemu/%s.pid" % name).read().strip())


def qemu_argv(name):
    return [a.decode() for a in open("/proc/%d/cmdline" % qemu_pid(name), "rb").read().split(b"\0")[:-1]]


def logged_argv(name):
    """The QEMU command line libvirt logged for the last start of @name
    (one argument per line, continued with backslashes, after the
    environment it sets)."""
    lines = open("/var/log/libvirt/qemu/%s.log" % name).read().splitlines()
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


def launch(xml, env):
    """Nova's define-then-start; None, or libvirt's error."""
    import logging
    logging.getLogger("nova").setLevel(logging.CRITICAL)  # its own report of a refused start
    import novaguest
    import libvirt
    attempts = 5
    for attempt in range(attempts):
        env.ensure_path()
        try:
            novaguest.create_and_launch(xml)
            return None
        except libvirt.libvirtError as e:
            # another test restarted the shared libvirtd under us (maybe
            # without the wrapper's directory in its PATH): once more
            lost_path = "is not the virt-spm wrapper" in str(e)
            if attempt == attempts - 1 or not (lost_path or any(t in str(e) for t in spmtest.TRANSIENT)):
                return str(e)
            print("# libvirtd changed under the start (%s): once more" % str(e)[:80])
            novaguest.reconnect()
            wait_for("libvirtd", spmtest.libvirt_alive_quiet, 60, 0.1)


def start_case(env, name, flavor, extra_specs, expect_devices, stand_in, numa_cell=False):
    import novaguest
    uuid, xml = novaguest.domain_xml(name, flavor, extra_specs, numa_cell=numa_cell)
    check("<emulator>" not in xml and "maxMemory" not in xml and "qemu:commandline" not in xml
          and 'model="spm"' not in xml and "virt-spm.org" not in xml, "%s: Nova's XML has no emulator, maxMemory, "
          "qemu:commandline or SPM element" % name)
    err = launch(xml, env)
    if not check(err is None, "%s: Nova's Guest.create + launch started the guest (%s)" % (name, err)):
        return
    argv = qemu_argv(name)
    devs = memory_devices(name)
    kinds = [d["type"] for d in devs]
    want = "dimm" if stand_in else "spm-memory"
    check(kinds == [want] * len(expect_devices), "%s: query-memory-devices shows %d %s devices: %s"
          % (name, len(expect_devices), want, kinds))
    with open(os.path.join(PLAN_DIR, uuid + ".json")) as f:
        plan = json.load(f)
    planned = {d["id"]: d for d in plan["devices"]}
    for d in devs:
        data = d["data"]
        p = planned.get(data.get("id"), {})
        addr = data.get("addr", data.get("memaddr"))
        check(p and p["addr"] == addr and p["size"] == data["size"] and p["node"] == data["node"],
              "%s: device %s at the planned address 0x%x, node %s" % (name, data.get("id"), addr, data["node"]))
    check(sorted(d["data"]["size"] for d in devs) == sorted(expect_devices),
          "%s: device sizes %s" % (name, [d["data"]["size"] for d in devs]))
    check("-uuid" in argv and argv[argv.index("-uuid") + 1] == uuid and
          any(a.startswith("size=") and "maxmem=" in a for a in argv),
          "%s: QEMU got maxmem/slots from the wrapper" % name)
    try:
        v = wait_for("verdict of " + name, lambda: (env.daemon.domain(name) or {}).get("verdict") and
                     env.daemon.domain(name), 60, 0.05)
    except AssertionError:
        v = {}
    check(v.get("verdict") == "match", "%s: virt-spmd's verdict is match (%s)" % (name, v))
    h = env.holdings().get(uuid)
    check(h is not None and sum(r["bytes"] for r in h["devices"]) == sum(expect_devices),
          "%s: the ledger holds its HBM (%s)" % (name, h))
    destroy(name)
    wait_for("plan of %s removed" % name, lambda: not os.path.exists(os.path.join(PLAN_DIR, uuid + ".plan")), 30)
    check(uuid not in env.holdings(), "%s: stopping released its HBM" % name)
    virsh("undefine", name)


def refused_case(env, name, flavor, extra_specs, spec):
    import novaguest
    uuid, xml = novaguest.domain_xml(name, flavor, extra_specs)
    before = env.holdings()
    err = launch(xml, env)
    check(err is not None and spec in err and "virt-spm" in err,
          "%s: start refused naming %s: %s" % (name, spec, err))
    st = virsh("domstate", name, check=False).stdout.strip()
    check(st == "shut off", "%s: no QEMU left (%s)" % (name, st))
    check(env.holdings() == before and not os.path.exists(os.path.join(PLAN_DIR, uuid + ".plan")),
          "%s: nothing reserved, no plan stored" % name)
    virsh("undefine", name, check=False)


def untouched_case(env, name):
    import novaguest
    uuid, xml = novaguest.domain_xml(name, "m1.small")
    err = launch(xml, env)
    if not check(err is None, "%s: a flavor without spm: specs starts (%s)" % (name, err)):
        return
    argv = qemu_argv(name)
    check(argv == logged_argv(name), "%s: QEMU's argv is byte for byte what libvirt wrote" % name)
    check(not any("pc-dimm" in a or "spm-memory" in a or "maxmem" in a for a in argv),
          "%s: no SPM argument" % name)
    check(not os.path.exists(os.path.join(PLAN_DIR, uuid + ".plan")), "%s: no plan stored" % name)
    destroy(name)
    virsh("undefine", name)


def main():
    need()
    spmtest.ensure_libvirtd()
    lock = open(RUN_LOCK, "a")
    fcntl.flock(lock, fcntl.LOCK_EX)   # one run restarting libvirtd at a time
    env = Env()
    try:
        env.install()
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

        if want("unknown"):
            refused_case(env, PREFIX + "unknown", "spmtest.bad", {"spm:colour": "red"}, "spm:colour")
        if want("badsize"):
            refused_case(env, PREFIX + "badsize", "spmtest.bad", {"spm:size": "12XB"}, "spm:size")
        if want("toomany"):
            refused_case(env, PREFIX + "toomany", "spmtest.bad",
                         {"spm:devices": "3", "spm:size": "1GiB"}, "spm:devices=3")
        if want("noprofile"):
            refused_case(env, PREFIX + "noprofile", "spmtest.bad", {"spm:profile": "nope"}, "spm:profile")

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
    finally:
        env.remove()
        fcntl.flock(lock, fcntl.LOCK_UN)
    finish()


if __name__ == "__main__":
    main()
