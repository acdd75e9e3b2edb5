#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The host HBM ledger with a real libvirtd, real QEMU 7.2 (pc-dimm standing
in for the SPM device), the real hook and virt-spmd.  With --sid the same
under the sid root's libvirt 12.8 and QEMU 11.1.3 with the real sp-mem
device (docs/testing.md, "The ledger and Nova tiers on libvirt 12.8").

This host has one NUMA node: the configuration hands out 1280 MiB of node 0
([host] spm_nodes = 0:1280MiB) and each guest binds a 512 MiB device to it,
so two guests fit and a third does not.

 1. two start; the third is refused before QEMU runs, with the hook's one
    line shown by virsh, and no QEMU is left; stopping one frees its share
    and the third starts.
 2. 20 concurrent `virsh start` of guests contending for node 0, 20 times:
    never more than fit (exactly two each round), the ledger equals the
    running guests, and everything is freed after the destroys.
 3. virt-spmd SIGKILLed; the ledger loses a holding, gains a leaked one,
    then is corrupted: each time the restarted daemon rebuilds it equal to
    the running guests.  libvirtd restarted while a guest's QEMU is killed:
    the ledger again equals the running guests.
 4. Bad input: an unknown node, a device above the capacity, a malformed
    spm_nodes, a corrupt or unreadable ledger: a clear refusal, no start.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "daemon"))
import spmtest as t  # noqa: E402

HARNESS = os.path.join(t.SOURCE, "tests", "libvirt", "libvirtd-harness.sh")
SID = "--sid" in sys.argv[1:]
# the hook libvirtd runs (in the sid root: the build inside the root)
HOOK_BUILD = t.BUILD
# the device standing in for the SPM device: QEMU 7.2 has none, 11.1 has sp-mem
STAND_IN = None if SID else "pc-dimm"
GOOD_CONF = "[host]\nspm_nodes = 0:1280MiB\n"
# rounds of the race: --rounds=N, else $SPM_LEDGER_RACE_ROUNDS, else 20
ROUNDS = int(next((a.split("=", 1)[1] for a in sys.argv[1:] if a.startswith("--rounds=")),
                  os.environ.get("SPM_LEDGER_RACE_ROUNDS", "20")))
RACERS = 20

n_ok = 0


def ok(what):
    global n_ok
    n_ok += 1
    print("ok %d - %s" % (n_ok, what), flush=True)


class Env:
    def __init__(self):
        # in the sid root: where the root's libvirtd and hook see it too
        self.work = tempfile.mkdtemp(prefix="spm-ledger-lv-", dir=t.ROOT + "/tmp" if t.ROOT else None)
        os.chmod(self.work, 0o755)
        self.tag = "spmledger-%d-%s-" % (os.getpid(), uuid.uuid4().hex[:4])
        self.conf = os.path.join(self.work, "virt-spm.conf")
        self.ledger_dir = os.path.join(self.work, "run")
        self.cache = os.path.join(self.work, "cache")
        self.hook_name = "virt-spm-test-ledger-%d" % os.getpid()
        self.write_conf(GOOD_CONF)
        os.environ["VIRT_SPM_LEDGER_DIR"] = self.ledger_dir
        self.daemon = t.Daemon(self.work, self.conf)
        with open(os.path.join(self.work, "hook"), "w") as f:
            f.write("#!/bin/sh\n# virt-spm hook of test-ledger-libvirt %d; removed by the test\n"
                    "VIRT_SPM_HOOK_HELPER='%s' VIRT_SPM_HOOK_CACHE_DIR='%s' VIRT_SPM_HOOK_CONFIG='%s' "
                    "VIRT_SPM_CONTROL_SOCKET='%s' VIRT_SPM_LEDGER_DIR='%s' exec '%s' \"$@\"\n"
                    % (os.getpid(), t.in_root(hook_helper()), t.in_root(self.cache), t.in_root(self.conf),
                       t.in_root(self.daemon.sock), t.in_root(self.ledger_dir), t.in_root(hook_front())))

    def write_conf(self, text):
        with open(self.conf, "w") as f:
            f.write(text + "[daemon]\nreconnect_min_ms = 100\nreconnect_max_ms = 1000\n")

    def define(self, what, size_mib=512, nodemask="0"):
        name = self.tag + what
        src = open(os.path.join(HERE, "data", "hbm-guest.xml")).read()
        src = src.replace("<size unit='MiB'>512</size>", "<size unit='MiB'>%d</size>" % size_mib)
        src = src.replace("<nodemask>0</nodemask>", "<nodemask>%s</nodemask>" % nodemask)
        path = os.path.join(self.work, name + ".user.xml")
        with open(path, "w") as f:
            f.write(src)
        xml = t.convert(path, name, self.conf, STAND_IN)
        out = os.path.join(self.work, name + ".xml")
        with open(out, "w") as f:
            f.write(xml)
        t.virsh("define", out)
        return name

    def host(self):
        p = t.run(t.VIRT_SPM, "--config", self.conf, "host", "--json")
        return json.loads(p.stdout)

    def held(self):
        return sorted(h["domain"] for h in self.host()["holdings"])

    def running(self):
        p = t.virsh("list", "--name")
        return sorted(n for n in p.stdout.split() if n.startswith(self.tag))


class Started:
    def __init__(self, returncode, stderr):
        self.returncode, self.stderr = returncode, stderr


def hook_front():
    return os.path.join(HOOK_BUILD, "hook", "virt-spm-qemu-hook")


def hook_helper():
    return os.path.join(HOOK_BUILD, "hook", "virt-spm-hook-helper")


def stand_in_option():
    return ["--stand-in-driver", STAND_IN] if STAND_IN else []


def start(name, timeout=120):
    """virsh start, riding out libvirtd restarts by other test programs:
    after a broken connection the domain's state says whether it started."""
    deadline = time.monotonic() + timeout
    while True:
        r = subprocess.run(["virsh", "-q", "-c", t.URI, "start", name], capture_output=True, text=True)
        if r.returncode == 0 or not any(x in r.stderr for x in t.TRANSIENT) or time.monotonic() > deadline:
            return r
        t.wait_for("libvirtd", t.libvirt_alive_quiet, 60, 0.1)
        if "running" in t.virsh("domstate", name).stdout:
            return Started(0, r.stderr)


def destroy(name):
    """virsh destroy that a libvirtd restart in the middle cannot fail."""
    t.virsh("destroy", name, check=False)
    t.wait_for("%s to stop" % name, lambda: "running" not in t.virsh("domstate", name).stdout, 60)


def qemu_of(name):
    p = subprocess.run(["pgrep", "-f", "guest=%s," % name], capture_output=True, text=True)
    return [int(x) for x in p.stdout.split()]


REFUSAL = re.compile(r"virt-spm: refusing to start domain '([^']+)': device 'ua-hbm0' asks 512 MiB of "
                     r"host node 0 but (\d+ MiB|nothing) is free there \(capacity 1280 MiB; held by [^\n]+\)")


def assert_refused(env, name, r):
    assert r.returncode != 0, "%s started but must not fit" % name
    m = REFUSAL.search(r.stderr)
    assert m and m.group(1) == name, r.stderr
    # the hook printed one line: libvirt shows it after "unexpected exit status 1: "
    assert r.stderr.strip().count("virt-spm:") == 1, r.stderr
    assert "running" not in t.virsh("domstate", name).stdout
    assert not qemu_of(name), "a QEMU of %s is left" % name


def case_fit_refuse_free(env):
    a, b, c = env.define("a"), env.define("b"), env.define("c")
    for n in (a, b):
        r = start(n)
        assert r.returncode == 0, r.stderr
    assert env.held() == sorted([a, b]), env.host()
    device = "-device\0pc-dimm," if STAND_IN else "-device\0sp-mem,"
    for n in (a, b):
        cmdline = open("/proc/%d/cmdline" % qemu_of(n)[0]).read()
        assert device in cmdline, "%s: QEMU has no %s: %s" % (n, device.replace("\0", " "), cmdline)
    r = start(c)
    assert_refused(env, c, r)
    line = REFUSAL.search(r.stderr).group(0)
    assert "held by %s/ua-hbm0 512 MiB, %s/ua-hbm0 512 MiB" % (a, b) in line, line
    ok("two guests fit, the third is refused before QEMU runs: " + line)
    host = env.host()
    node = host["nodes"][0]
    assert node["capacity"] == 1280 << 20 and node["reserved"] == 1024 << 20 and node["free"] == 256 << 20, node
    assert sorted(h["domain"] for h in node["holders"]) == sorted([a, b]), node
    table = t.run(t.VIRT_SPM, "--config", env.conf, "host").stdout
    assert re.search(r"^0\s+1280 MiB\s+1 GiB\s+256 MiB\s+%s/ua-hbm0 512 MiB" % re.escape(min(a, b)), table, re.M), table
    ok("virt-spm host shows capacity, reserved, free and holders")

    destroy(a)
    t.wait_for("the ledger to free %s" % a, lambda: env.held() == [b], 30)
    r = start(c)
    assert r.returncode == 0, r.stderr
    assert env.held() == sorted([b, c])
    ok("stopping one frees its share: the third starts")
    for n in (b, c):
        destroy(n)
    t.wait_for("an empty ledger", lambda: env.held() == [], 30)
    # a guest without the device's node: refused by the ledger, QEMU never runs
    d = env.define("d", nodemask="0")
    return [a, b, c, d]


def case_define(env):
    """virt-spm define: an SPM device without <nodemask> gets a free node, kept in the definition."""
    src = open(os.path.join(HERE, "data", "hbm-guest.xml")).read()
    src = re.sub(r"\s*<source>\s*<nodemask>0</nodemask>\s*</source>", "", src)
    assert "<nodemask>" not in src
    names = []
    for what, size in (("auto", 512), ("toobig", 1024)):
        name = env.tag + what
        path = os.path.join(env.work, name + ".auto.xml")
        with open(path, "w") as f:
            f.write(src.replace("<name>spm-ledger-test</name>", "<name>%s</name>" % name)
                       .replace("<size unit='MiB'>512</size>", "<size unit='MiB'>%d</size>" % size))
        names.append(name)
        yield name, path


def case_auto_nodes(env):
    auto, toobig = list(case_define(env))
    a, b = env.define("holder1"), env.define("holder2", size_mib=256)
    for n in (a, b):
        r = start(n)
        assert r.returncode == 0, r.stderr
    # 512 MiB free on node 0
    p = t.run(t.VIRT_SPM, "-c", t.URI, "--config", env.conf, "define", *stand_in_option(),
              auto[1], check=False)
    assert p.returncode == 0, p.stderr
    assert "note: SPM memory 'ua-hbm0': host nodes 0 chosen from [host] spm_nodes" in p.stderr, p.stderr
    dump = t.run(t.VIRT_SPM, "-c", t.URI, "dumpxml", auto[0]).stdout
    assert re.search(r"<source>\s*<nodemask>0</nodemask>\s*</source>", dump), dump
    ok("virt-spm define chose host node 0 for a device without <nodemask> and kept it")
    p = t.run(t.VIRT_SPM, "-c", t.URI, "--config", env.conf, "define", *stand_in_option(),
              toobig[1], check=False)
    assert p.returncode == 1 and "SPM device 0 (1 GiB): no host node or set of nodes" in p.stderr, p.stderr
    assert "largest free: 512 MiB on host node 0" in p.stderr, p.stderr
    assert t.virsh("domstate", toobig[0], check=False).returncode != 0, "defined anyway"
    ok("virt-spm define refuses a device that fits no free node: " + p.stderr.strip())
    r = start(auto[0])
    assert r.returncode == 0, r.stderr
    assert env.held() == sorted([a, b, auto[0]])
    for n in (a, b, auto[0]):
        destroy(n)
    t.wait_for("an empty ledger", lambda: env.held() == [], 30)


def case_race(env):
    names = [env.define("race%02d" % i) for i in range(RACERS)]
    started_total = 0
    for rnd in range(ROUNDS):
        results = {}
        barrier = threading.Barrier(RACERS)

        def go(n):
            barrier.wait()
            results[n] = start(n)
        threads = [threading.Thread(target=go, args=(n,)) for n in names]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        admitted = sorted(n for n, r in results.items() if r.returncode == 0)
        for n, r in results.items():
            if r.returncode != 0:
                assert REFUSAL.search(r.stderr), "round %d: %s failed otherwise: %s" % (rnd, n, r.stderr)
        running = env.running()
        assert len(admitted) == 2, "round %d admitted %d: %s" % (rnd, len(admitted), admitted)
        assert running == admitted, (running, admitted)
        host = env.host()
        assert host["consistent"] and sorted(h["domain"] for h in host["holdings"]) == admitted, host
        started_total += len(admitted)
        for n in admitted:
            destroy(n)
        t.wait_for("round %d freed" % rnd, lambda: env.held() == [], 30)
        stray = [n for n in names if qemu_of(n)]
        assert not stray, "QEMU left for %s" % stray
    ok("%d rounds of %d concurrent starts on one node: exactly 2 admitted each time (%d starts)"
       % (ROUNDS, RACERS, started_total))
    return names


def ledger_path(env):
    return os.path.join(env.ledger_dir, "ledger.json")


def edit_ledger(env, fn):
    with open(ledger_path(env)) as f:
        data = json.load(f)
    fn(data)
    with open(ledger_path(env), "w") as f:
        json.dump(data, f)


def case_daemon(env):
    a, b = env.define("ka"), env.define("kb")
    env.daemon.start()
    t.wait_for("virt-spmd connected", lambda: env.daemon.status()["connected"], 30)
    for n in (a, b):
        r = start(n)
        assert r.returncode == 0, r.stderr
    t.wait_for("ledger of %s, %s" % (a, b), lambda: env.held() == sorted([a, b]), 30)
    st = env.daemon.status()
    assert sorted(h["domain"] for h in st["ledger"]["holdings"]) == sorted([a, b]), st["ledger"]
    assert st["ledger"]["nodes"][0]["free"] == 256 << 20, st["ledger"]
    p = t.run(t.VIRT_SPM, "status", env=env.daemon.env)
    assert "HBM node 0: 256 MiB free of 1280 MiB, 2 holders" in p.stdout, p.stdout
    ok("virt-spm status --json reports the ledger")

    # SIGKILL; meanwhile /run loses b's holding and keeps one of a guest that crashed long ago
    env.daemon.kill(signal.SIGKILL)

    def lose_and_leak(data):
        data["holdings"] = [h for h in data["holdings"] if h["domain"] != b]
        data["holdings"].append({"uuid": str(uuid.uuid4()), "domain": env.tag + "crashed",
                                 "reserved_at": 1, "devices": [{"device": "ua-hbm0", "nodeset": "0",
                                                                "bytes": 256 << 20}]})
    edit_ledger(env, lose_and_leak)
    assert env.held() == sorted([a, env.tag + "crashed"])
    env.daemon.start()
    t.wait_for("the rebuilt ledger", lambda: env.held() == sorted([a, b]), 30)
    ok("after SIGKILL, the restarted daemon rebuilds the ledger from the running guests")

    # a corrupt ledger refuses starts (never a guess) until the daemon rebuilds it
    env.daemon.kill(signal.SIGKILL)
    with open(ledger_path(env), "w") as f:
        f.write("{\"version\": 1, \"holdings\": [")
    c = env.define("kc", size_mib=128)
    r = start(c)
    assert r.returncode != 0 and "is corrupt" in r.stderr and not qemu_of(c), r.stderr
    p = t.run(t.VIRT_SPM, "--config", env.conf, "host", check=False)
    assert p.returncode == 1 and "is corrupt" in p.stderr and p.stderr.count("\n") == 1, p.stderr
    env.daemon.start()
    t.wait_for("the rebuilt ledger", lambda: t.run(t.VIRT_SPM, "--config", env.conf, "host", "--json",
                                                   check=False).returncode == 0 and env.held() == sorted([a, b]), 30)
    assert os.path.exists(ledger_path(env) + ".corrupt")
    ok("a corrupt ledger refuses starts; the daemon moves it aside and rebuilds it")

    # libvirtd restarts while a's QEMU is killed: nobody runs a's hooks in time
    t.restart_libvirtd_killing(qemu_of(a))
    seen = {}

    def equal():
        seen["held"], seen["running"] = env.held(), env.running()
        return seen["held"] == seen["running"] == [b]
    try:
        t.wait_for("ledger equal to the running guests", equal, 60)
        t.wait_for("virt-spmd reconnected", lambda: env.daemon.status()["connections"] >= 2, 60)
        t.wait_for("ledger after the reconnect", equal, 30)
    except AssertionError as e:
        raise AssertionError("%s: %s; daemon log:\n%s" % (e, seen, env.daemon.log_text()[-3000:]))
    ok("libvirtd restarted with a guest's QEMU killed: the ledger equals the running guests")
    destroy(b)
    env.daemon.kill(signal.SIGTERM)
    return [a, b, c]


def case_bad_input(env):
    names = []
    big = env.define("big", size_mib=2048)
    r = start(big)
    assert r.returncode != 0 and "asks 2 GiB of host node 0, more than its capacity of 1280 MiB" in r.stderr, r.stderr
    assert not qemu_of(big)
    ok("a device above the capacity is refused")
    names.append(big)

    # node 1 does not exist here, so QEMU would fail anyway: the hook refuses it first
    env.write_conf("[host]\nspm_nodes = 0:1280MiB\n")
    other = env.define("other")
    env.write_conf("[host]\nspm_nodes = 1:1GiB\n")
    r = start(other)
    assert r.returncode != 0 and "host node 0 is not in [host] spm_nodes (1)" in r.stderr, r.stderr
    ok("a device bound to a node outside the inventory is refused")
    names.append(other)

    for bad, msg in (("0:12XB", "[host] spm_nodes: size of host node 0"),
                     ("0:1GiB,0:1GiB", "host node 0 is listed twice"),
                     ("zero", "'zero' is not NODE or NODE:SIZE")):
        env.write_conf("[host]\nspm_nodes = %s\n" % bad)
        r = start(other)
        assert r.returncode != 0 and msg in r.stderr and not qemu_of(other), (bad, r.stderr)
    ok("a malformed spm_nodes refuses the start with its reason")
    env.write_conf(GOOD_CONF)

    os.makedirs(env.ledger_dir, exist_ok=True)
    if os.path.exists(ledger_path(env)):
        os.unlink(ledger_path(env))
    os.mkdir(ledger_path(env))  # unreadable as a file
    r = start(other)
    assert r.returncode != 0 and "HBM ledger" in r.stderr and not qemu_of(other), r.stderr
    os.rmdir(ledger_path(env))
    ok("an unreadable ledger refuses the start: " + r.stderr.strip().splitlines()[-1][-120:])
    r = start(other)
    assert r.returncode == 0, r.stderr
    destroy(other)
    return names


def main():
    global HOOK_BUILD
    if SID:
        t.use_sid_root()
    t.ensure_libvirtd()
    if SID:
        HOOK_BUILD = t.build_in_sid_root()
    for f in (hook_front(), hook_helper()):
        if not os.access(f, os.X_OK):
            t.skip("not built: " + f)
    lock = t.take_run_lock()
    env = Env()
    installed = False
    try:
        p = t.run(HARNESS, "install", env.hook_name, os.path.join(env.work, "hook"), check=False)
        if p.returncode == 77:
            t.skip(p.stderr.strip())
        assert p.returncode == 0, p.stderr
        installed = True
        case_fit_refuse_free(env)
        case_bad_input(env)
        case_auto_nodes(env)
        case_race(env)
        case_daemon(env)
        print("1..%d" % n_ok)
    finally:
        env.daemon.kill(signal.SIGKILL)
        t.cleanup_domains(env.tag)
        if installed:
            t.run(HARNESS, "remove", env.hook_name, check=False)
        shutil.rmtree(env.work, ignore_errors=True)
        os.close(lock)



sys.exit(t.tap_main(main))
