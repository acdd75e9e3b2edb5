#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""virt-spmd benchmark: idle RSS, STARTED event -> verdict latency, and two
bursts of domains started together (none may be missed), each torn down
before the next, with the daemon's anonymous memory before, with the guests
and after each round.

Needs root and libvirtd (prints why and exits 0 otherwise).  Environment:
SPM_BENCH_DOMAINS (default 200), SPM_BENCH_PARALLEL (default 8 concurrent
starts), SPM_BENCH_LATENCY_RUNS (default 10).
"""
import concurrent.futures
import os
import signal
import statistics
import sys
import tempfile
import time
import uuid

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spmtest as t  # noqa: E402


def rss_kib(pid):
    for line in open("/proc/%d/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


def memory_line(pid):
    """RSS counts the shared libraries (libvirt, gnutls, libcrypto, ICU) in full;
    PSS shares them out; Anonymous is the daemon's own heap and stacks."""
    f = t.smaps_rollup(pid)
    return "RSS %d KiB (goal < 10240 KiB), PSS %d KiB, anonymous %d KiB, file-backed %d KiB" % (
        f.get("Rss", -1), f.get("Pss", -1), f.get("Anonymous", -1), f.get("Rss", 0) - f.get("Anonymous", 0))


def main():
    try:
        t.ensure_libvirtd()
    except SystemExit:
        print("virt-spmd benchmark: skipped (needs root and libvirtd)")
        return 0
    n = int(os.environ.get("SPM_BENCH_DOMAINS", "200"))
    par = int(os.environ.get("SPM_BENCH_PARALLEL", "8"))
    runs = int(os.environ.get("SPM_BENCH_LATENCY_RUNS", "10"))
    work = tempfile.mkdtemp(prefix="spmd-bench-")
    config = os.path.join(work, "virt-spm.conf")
    open(config, "w").write("[daemon]\nmax_parallel_audits = 8\n")
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "spm-guest.xml")
    tag = uuid.uuid4().hex[:6]
    daemon = t.Daemon(work, config)
    defined = []

    def define(name):
        path = os.path.join(work, name + ".xml")
        open(path, "w").write(t.convert(src, name, config))
        t.virsh("define", path)
        defined.append(name)

    def burst(rnd, names, anon):
        with concurrent.futures.ThreadPoolExecutor(par) as ex:
            list(ex.map(define, names))
        started = []
        failed = []

        def start(nm):
            r = t.virsh("start", nm, check=False)
            (started if r.returncode == 0 else failed).append(nm)
            return r.returncode

        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(par) as ex:
            list(ex.map(start, names))
        t_started = time.monotonic() - t0

        def all_audited():
            st = {d["domain"]: d for d in daemon.status()["domains"]}
            return all(nm in st and st[nm]["verdict"] in ("match", "mismatch") for nm in started)
        t.wait_for("every started domain audited", all_audited, 600, 0.2)
        t_all = time.monotonic() - t0
        st = {d["domain"]: d for d in daemon.status()["domains"]}
        verdicts = [st[nm]["verdict"] for nm in started]
        lats = sorted(st[nm]["latency_us"] / 1000.0 for nm in started)
        anon["with%d" % rnd] = daemon.anonymous_kib()
        print("burst %d: %d of %d domains started (%d failed to start: memory/CPU of this host) "
              "in %.1f s with %d concurrent starts; all %d audited after %.1f s; missed %d; "
              "%d match; per-domain event->verdict median %.1f ms, p95 %.1f ms; daemon RSS %d KiB"
              % (rnd, len(started), n, len(failed), t_started, par, len(started), t_all,
                 sum(1 for nm in started if nm not in st), verdicts.count("match"),
                 statistics.median(lats) if lats else 0, lats[int(len(lats) * 0.95) - 1] if lats else 0,
                 rss_kib(daemon.proc.pid)))

        with concurrent.futures.ThreadPoolExecutor(par) as ex:
            list(ex.map(lambda nm: (t.virsh("destroy", nm, check=False),
                                    t.virsh("undefine", nm, check=False)), names))
        for nm in names:
            defined.remove(nm)
        gone = set(names)
        t.wait_for("the daemon forgets the undefined domains",
                   lambda: not any(d["domain"] in gone for d in daemon.status()["domains"]), 120, 0.2)
        anon["after%d" % rnd] = daemon.anonymous_kib()

    try:
        daemon.start()
        t.wait_for("connected", lambda: daemon.status()["connected"], 30)
        time.sleep(1.0)   # benchmark: let start-up settle before measuring idle memory
        print("idle: " + memory_line(daemon.proc.pid))

        try:
            define("spmb-lat-" + tag)
        except SystemExit:
            print("latency and burst: skipped (virt-spm convert not available in this tree)")
            return 0
        lat = []
        name = "spmb-lat-" + tag
        for i in range(runs):
            t.start_domain(name)
            d = daemon.wait_verdict(name, i + 1, 60)
            lat.append(d["latency_us"] / 1000.0)
            t.virsh("destroy", name)
            t.wait_for("stopped", lambda: daemon.domain(name)["active"] is False, 30)
        print("STARTED event -> verdict: median %.1f ms, max %.1f ms over %d starts (goal < 50 ms); verdict %s"
              % (statistics.median(lat), max(lat), runs, d["verdict"]))

        # Two bursts, each torn down (destroyed and undefined) before the next:
        # what the daemon keeps for 200 guests must go with them, so its
        # anonymous memory after the second round is no higher than after
        # the first.  (glibc keeps freed heap pages, so "after" is compared
        # with "after", not with "before".)
        anon = {"before": daemon.anonymous_kib()}
        for rnd in (1, 2):
            burst(rnd, ["spmb-%s-%d-%03d" % (tag, rnd, i) for i in range(n)], anon)
        print("daemon anonymous memory: %d KiB before; round 1: %d KiB with %d guests, %d KiB "
              "after they were undefined; round 2: %d KiB with, %d KiB after; growth from round 1 "
              "to round 2: %+d KiB" % (anon["before"], anon["with1"], n, anon["after1"],
                                       anon["with2"], anon["after2"], anon["after2"] - anon["after1"]))
        return 0
    finally:
        daemon.kill(signal.SIGTERM)
        with concurrent.futures.ThreadPoolExecutor(par) as ex:
            list(ex.map(lambda nm: (t.virsh("destroy", nm, check=False), t.virsh("undefine", nm, check=False)), defined))
        t.cleanup_domains("spmb-" + tag)
        t.cleanup_domains("spmb-lat-" + tag)


if __name__ == "__main__":
    sys.exit(main())
