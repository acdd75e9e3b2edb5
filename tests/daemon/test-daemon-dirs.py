#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""virt-spmd's own directories: root binds, unlinks and writes there by
name, so they must be its own and closed to others.

Without libvirt (a dead URI): an existing control socket directory and
state directory that others could write in are given 0755 and 0700; one
of another user's (nobody) is refused, and virt-spmd does not start.
"""
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import spmtest as t  # noqa: E402

DEAD_URI = "qemu+unix:///system?socket=/nonexistent/virt-spm-test/libvirt-sock"


def start(work, run, state, name):
    log = open(os.path.join(work, name + ".log"), "w")
    conf = os.path.join(work, "virt-spm.conf")
    open(conf, "w").write("[daemon]\n")
    sock = os.path.join(run, "c.sock")
    env = dict(os.environ, VIRT_SPM_CONTROL_SOCKET=sock)
    env.pop("NOTIFY_SOCKET", None)
    p = subprocess.Popen([t.VIRT_SPMD, "--config", conf, "--connect", DEAD_URI,
                          "--state-dir", state, "--socket", sock, "--allow-uid", str(os.getuid())],
                         stdout=log, stderr=log, env=env)
    return p, sock, os.path.join(work, name + ".log")


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def main():
    work = tempfile.mkdtemp(prefix="spm-daemon-dirs-")
    os.chmod(work, 0o755)
    try:
        run, state = os.path.join(work, "run"), os.path.join(work, "state")
        os.mkdir(run)
        os.mkdir(state)
        os.chmod(run, 0o777)
        os.chmod(state, 0o777)
        p, sock, log = start(work, run, state, "open")
        try:
            t.wait_for("the control socket", lambda: os.path.exists(sock) or p.poll() is not None, 20)
            assert p.poll() is None, "virt-spmd exited: " + open(log).read()[-2000:]
            assert mode(run) == 0o755, "control socket directory left %o" % mode(run)
            assert mode(state) == 0o700, "state directory left %o" % mode(state)
            print("ok 1 - directories others could write in are given 0755 and 0700")
        finally:
            p.terminate()
            p.wait(10)
        if os.geteuid() != 0:
            print("ok 2 # SKIP a directory of another user's needs root")
        else:
            nobody = pwd.getpwnam("nobody")
            if os.path.lexists(os.path.join(run, "c.sock")):
                os.unlink(os.path.join(run, "c.sock"))
            os.chown(run, nobody.pw_uid, nobody.pw_gid)
            p, sock, log = start(work, run, state, "nobody")
            try:
                rc = p.wait(20)
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
            text = open(log).read()
            assert rc != 0 and "is owned by uid %d" % nobody.pw_uid in text and \
                not os.path.exists(sock), "virt-spmd used a directory of nobody's (exit %s): %s" % (rc, text[-2000:])
            print("ok 2 - a control socket directory of nobody's is refused: " +
                  [line for line in text.splitlines() if "owned by" in line][0][-160:])
        print("1..2")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
