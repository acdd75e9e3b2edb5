#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""virt-spmd's audit queue with a real libvirtd: a domain that libvirt
forgets while its audit waits in the queue is answered and forgotten at
once, not after the audit ahead of it.

One worker (max_parallel_audits = 1), held by the audit of a guest whose
QEMU is stopped (SIGSTOP: its monitor never answers); a second guest's
audit waits in the queue with a client waiting for it; that guest is
undefined and destroyed.  The client hears "not running" within seconds,
while the first audit still hangs (audit_timeout_ms is 60 s); the second
guest's record and state file are gone.  Before the audit state machine
the queued audit ran only after the hung one timed out.
"""
import os
import signal
import subprocess
import sys
import time
import uuid

sys.dont_write_bytecode = True  # nothing written into the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spmtest as t  # noqa: E402

# The hung audit's deadline: far beyond the answer this test waits for.
TIMEOUT_MS = 60000


def main():
    t.cleanup_on_sigterm()
    t.ensure_libvirtd()
    work, config = t.workspace("spmd-queue-", "max_parallel_audits = 1\naudit_timeout_ms = %d\n" % TIMEOUT_MS)
    tag = uuid.uuid4().hex[:8]
    hung, queued = "spmd-qhung-" + tag, "spmd-qgone-" + tag
    daemon = t.Daemon(work, config)
    qpid = None
    audits = []
    try:
        for name in (hung, queued):
            path = os.path.join(work, name + ".xml")
            open(path, "w").write(t.convert(t.GUEST_XML, name, config))
            t.virsh("define", path)
        daemon.start()
        t.wait_for("connected", lambda: daemon.status()["connected"], 30)
        for name in (hung, queued):
            t.start_domain(name)
            assert daemon.wait_verdict(name)["verdict"] == "match"
        u = t.virsh("domuuid", queued).stdout.strip()
        assert os.path.exists(os.path.join(daemon.state, u + ".json"))

        conns = daemon.status()["connections"]
        # the only worker hangs on a QEMU that does not answer
        qpid = int(open("/run/libvirt/qemu/%s.pid" % hung).read().strip())
        os.kill(qpid, signal.SIGSTOP)
        audits.append(subprocess.Popen([t.VIRT_SPM, "audit", hung], env=daemon.env, text=True,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        t.wait_for("the hung audit", lambda: daemon.domain(hung)["auditing"], 30, 0.05)
        # the second guest's audit waits in the queue, a client with it
        waiter = subprocess.Popen([t.VIRT_SPM, "audit", queued], env=daemon.env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        audits.append(waiter)
        t.wait_for("the queued audit", lambda: daemon.domain(queued)["auditing"], 30, 0.05)

        # libvirt forgets it: undefined while it runs (now transient), then stopped
        t.virsh("undefine", queued)
        t.virsh("destroy", queued)
        gone_at = time.monotonic()
        out, err = waiter.communicate(timeout=30)
        waited = time.monotonic() - gone_at
        print("# the queued audit's client answered %.2f s after the destroy" % waited)
        assert waiter.returncode == 1 and "is not running" in err, (waiter.returncode, out, err)
        assert waited < 10, waited
        # ... while the audit ahead of it still hangs
        assert daemon.domain(hung)["auditing"], daemon.domain(hung)
        t.wait_for("forgotten", lambda: daemon.domain(queued) is None, 10, 0.05)
        assert not os.path.exists(os.path.join(daemon.state, u + ".json"))

        # QEMU answers again: the hung audit ends with its verdict
        os.kill(qpid, signal.SIGCONT)
        qpid = None
        out, err = audits[0].communicate(timeout=TIMEOUT_MS / 1000 + 30)
        if daemon.status()["connections"] == conns:
            assert audits[0].returncode == 0 and "match" in out, (audits[0].returncode, out, err)
        else:
            # a libvirtd restarted by another test fails the audit in flight
            print("# libvirtd restarted by someone else meanwhile: the hung audit's verdict not asserted")
        assert not daemon.domain(hung)["auditing"]
        daemon.stop()
        print("ok - a domain forgotten while queued is answered and forgotten at once")
        return 0
    finally:
        if qpid:
            os.kill(qpid, signal.SIGCONT)
        for p in audits:
            if p.poll() is None:
                p.kill()
                p.wait()
        t.finish(daemon, "spmd-qhung-" + tag, "spmd-qgone-" + tag)


if __name__ == "__main__":
    sys.exit(main())
