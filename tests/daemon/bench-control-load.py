#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""virt-spmd control socket under load: SPM_BENCH_REQUESTS (default 10000)
requests from SPM_BENCH_CLIENTS (default 50) concurrent clients, one
connection per request as virt-spm and the hook do: 85% status, 5% forced
audits and 5% hook events for one running SPM guest, 5% malformed lines.
Prints throughput, latency percentiles, failures, and the daemon's
anonymous memory (smaps_rollup: its own heap and stacks, not libvirt's
shared libraries) after a warm-up round, after the measured round and
after a second one of the same size: a daemon that leaks grows between
the last two.

Needs root and libvirtd (prints why and exits 0 otherwise).
"""
import json
import os
import random
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spmtest as t  # noqa: E402


def round_of(sock_path, requests, clients, name, dom_uuid):
    lines = []
    for i in range(requests):
        r = random.random()
        if r < 0.85:
            lines.append(b'{"command":"status"}\n')
        elif r < 0.90 and name:
            lines.append(json.dumps({"command": "audit", "domain": name}).encode() + b"\n")
        elif r < 0.95 and name:
            lines.append(json.dumps({"command": "event", "event": "started", "domain": name,
                                     "uuid": dom_uuid}).encode() + b"\n")
        else:
            lines.append(b'{"command": "status", \x01 not json\n')
    lat, fails = [], []
    lock = threading.Lock()
    it = iter(lines)

    def worker():
        while True:
            with lock:
                line = next(it, None)
            if line is None:
                return
            t0 = time.monotonic()
            try:
                reply = t.control_line(sock_path, line)
                ok = reply.endswith(b"\n") and (b'"ok":true' in reply or
                                                (b"not json" in line and b'"ok":false' in reply))
                if not ok:
                    fails.append(reply[:200])
            except OSError as e:
                fails.append(str(e).encode())
            lat.append((time.monotonic() - t0) * 1000)

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return time.monotonic() - t0, sorted(lat), fails


def main():
    try:
        t.ensure_libvirtd()
    except SystemExit:
        print("control-socket load benchmark: skipped (needs root and libvirtd)")
        return 0
    requests = int(os.environ.get("SPM_BENCH_REQUESTS", "10000"))
    clients = int(os.environ.get("SPM_BENCH_CLIENTS", "50"))
    work = tempfile.mkdtemp(prefix="spmd-load-")
    config = os.path.join(work, "virt-spm.conf")
    open(config, "w").write("[daemon]\n")
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "spm-guest.xml")
    name = "spml-" + uuid.uuid4().hex[:8]
    daemon = t.Daemon(work, config)
    try:
        path = os.path.join(work, name + ".xml")
        open(path, "w").write(t.convert(src, name, config))
        t.virsh("define", path)
        t.start_domain(name)
        dom_uuid = t.virsh("domuuid", name).stdout.strip()
        daemon.start()
        t.wait_for("connected", lambda: daemon.status()["connected"], 30)
        daemon.wait_verdict(name)
        start_kib = daemon.anonymous_kib()
        round_of(daemon.sock, 1000, clients, name, dom_uuid)          # warm-up
        warm_kib = daemon.anonymous_kib()
        secs, lat, fails = round_of(daemon.sock, requests, clients, name, dom_uuid)
        after_kib = daemon.anonymous_kib()
        round_of(daemon.sock, requests, clients, name, dom_uuid)
        again_kib = daemon.anonymous_kib()
        pct = lambda p: lat[min(len(lat) - 1, int(len(lat) * p))]  # noqa: E731
        print("control socket: %d requests from %d concurrent clients in %.2f s (%.0f requests/s); "
              "latency median %.2f ms, p99 %.2f ms, max %.2f ms; %d failed%s"
              % (requests, clients, secs, requests / secs, statistics.median(lat), pct(0.99), lat[-1],
                 len(fails), (": " + repr(fails[:3])) if fails else ""))
        print("daemon anonymous memory: %d KiB at start, %d KiB after 1000 warm-up requests, "
              "%d KiB after %d more, %d KiB after %d more (growth over the last round: %+d KiB)"
              % (start_kib, warm_kib, after_kib, requests, again_kib, requests, again_kib - after_kib))
        print("daemon alive: %s; domain verdict: %s" % (daemon.proc.poll() is None, daemon.domain(name)["verdict"]))
        return 0
    finally:
        daemon.kill(signal.SIGTERM)
        t.cleanup_domains(name)


if __name__ == "__main__":
    sys.exit(main())
