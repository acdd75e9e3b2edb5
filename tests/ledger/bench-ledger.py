#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Benchmarks of the host HBM ledger (figures, not pass/fail):

 1. the hook's whole `prepare begin` for an SPM domain that reserves HBM
    (front end -> helper: parse, re-plan, cached emulator probe, ledger lock,
    reserve, atomic write); target < 5 ms.  Measured by bench-hook (fork,
    exec, XML through a pipe, wait), next to /bin/true.
 2. `virt-spm host` and `virt-spm host --json` with 200 running guests'
    reservations in the ledger; target < 10 ms.
"""
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

BUILD = os.environ["SPM_BUILD_ROOT"]
HERE = os.path.dirname(os.path.abspath(__file__))
VIRT_SPM = os.path.join(BUILD, "cli", "virt-spm")
HOOK = os.path.join(BUILD, "hook", "virt-spm-qemu-hook")
HELPER = os.path.join(BUILD, "hook", "virt-spm-hook-helper")
BENCH_HOOK = os.path.join(BUILD, "tests", "libvirt", "bench-hook")


def timed(argv, env, runs):
    for _ in range(5):
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True)
    t = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, check=True)
        t.append((time.perf_counter() - t0) * 1000)
    t.sort()
    return statistics.median(t), t[int((runs - 1) * 0.99)]


def main():
    work = tempfile.mkdtemp(prefix="spm-ledger-bench-")
    ledger_dir = None
    try:
        conf = os.path.join(work, "virt-spm.conf")
        with open(conf, "w") as f:
            f.write("[host]\nspm_nodes = 0:1280MiB\n")
        src = open(os.path.join(HERE, "data", "hbm-guest.xml")).read()
        src = src.replace("<name>spm-ledger-test</name>",
                          "<name>bench-guest</name>\n  <uuid>%s</uuid>" % uuid.uuid4())
        user = os.path.join(work, "user.xml")
        with open(user, "w") as f:
            f.write(src)
        p = subprocess.run([VIRT_SPM, "-q", "--config", conf, "convert", "--stand-in", "pc-dimm", user],
                           capture_output=True, text=True, check=True)
        xml = os.path.join(work, "prepare.xml")
        with open(xml, "w") as f:
            f.write(p.stdout)
        # the ledger lives on /run, a tmpfs: fsync there costs what it costs in production
        run_root = "/run" if os.access("/run", os.W_OK) else work
        ledger_dir = tempfile.mkdtemp(prefix="virt-spm-bench-", dir=run_root)
        env = dict(os.environ, VIRT_SPM_HOOK_HELPER=HELPER, VIRT_SPM_HOOK_CONFIG=conf,
                   VIRT_SPM_HOOK_CACHE_DIR=os.path.join(work, "cache"), VIRT_SPM_LEDGER_DIR=ledger_dir,
                   VIRT_SPM_CONTROL_SOCKET=os.path.join(work, "no-daemon.sock"))
        env.pop("VIRT_SPM_HOOK_LIBVIRT_VERSION", None)
        print("1. hook prepare begin of an SPM domain reserving 512 MiB of host node 0 (target < 5 ms)")
        sys.stdout.flush()
        subprocess.run([BENCH_HOOK, HOOK, xml, "100"], env=env, check=True)
        held = json.load(open(os.path.join(ledger_dir, "ledger.json")))["holdings"]
        assert len(held) == 1 and held[0]["domain"] == "bench-guest", held

        # 2. virt-spm host with 200 running guests' reservations
        cap = 200 * 4
        with open(conf, "w") as f:
            f.write("[host]\nspm_nodes = 2:%dGiB, 3:%dGiB, 4:%dGiB, 5:%dGiB\n" % (cap, cap, cap, cap))
        holdings = [{"uuid": str(uuid.uuid4()), "domain": "guest%03d" % i, "reserved_at": 1,
                     "devices": [{"device": "ua-hbm0", "nodeset": str(2 + i % 4), "bytes": 2 << 30},
                                 {"device": "ua-hbm1", "nodeset": "2-3" if i % 2 else "4-5",
                                  "bytes": 1 << 30}]}
                    for i in range(200)]
        with open(os.path.join(ledger_dir, "ledger.json"), "w") as f:
            json.dump({"version": 1, "holdings": holdings}, f)
        print("2. virt-spm host with 200 running guests (400 reservations on 4 nodes) (target < 10 ms)")
        for extra in ([], ["--json"]):
            med, p99 = timed([VIRT_SPM, "--config", conf, "host"] + extra, env, 100)
            print("   virt-spm host %-7s runs 100  median %.3f ms  p99 %.3f ms" % (" ".join(extra), med, p99))
        med, p99 = timed(["/bin/true"], env, 100)
        print("   /bin/true (floor)    runs 100  median %.3f ms  p99 %.3f ms" % (med, p99))
    finally:
        shutil.rmtree(work)
        if ledger_dir:
            shutil.rmtree(ledger_dir, ignore_errors=True)


main()
