#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""`meson install` from source keeps an operator's virt-spm.conf.

Installs this build tree twice into a DESTDIR: the first time the
commented default arrives; then the operator edits it (and the default
in the tree is not what is there); the second install must leave the
edited file as it is.  A dangling symbolic link in its place (an operator
keeping the file elsewhere) is kept too.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

BUILD = os.environ["SPM_BUILD_ROOT"]
SOURCE = os.environ["SPM_SOURCE_ROOT"]

failures = []
count = 0


def check(cond, what):
    global count
    count += 1
    print(("ok %d - " if cond else "not ok %d - ") % count + what)
    if not cond:
        failures.append(what)


def install(destdir):
    return subprocess.run(["meson", "install", "-C", BUILD, "--no-rebuild", "--quiet",
                           "--destdir", destdir], capture_output=True, text=True)


def conf_path(destdir):
    intro = subprocess.run(["meson", "introspect", "--buildoptions", BUILD],
                           capture_output=True, text=True, check=True)
    opts = {o["name"]: o["value"] for o in json.loads(intro.stdout)}
    etc = os.path.join(opts["prefix"], opts["sysconfdir"])
    return destdir + os.path.join(etc, "virt-spm", "virt-spm.conf")


def main():
    if not shutil.which("meson"):
        print("1..0 # SKIP meson is not in PATH")
        sys.exit(77)
    d = tempfile.mkdtemp(prefix="spm-install-conf-")
    try:
        conf = conf_path(d)
        p = install(d)
        default = open(os.path.join(SOURCE, "conf", "virt-spm.conf")).read()
        check(p.returncode == 0 and os.path.isfile(conf) and open(conf).read() == default,
              "the first install brings the default %s (%s)" % (conf, p.stderr.strip()[-200:]))
        check(os.path.exists(conf) and os.stat(conf).st_mode & 0o7777 == 0o644, "mode 0644")

        edited = "# the operator's\n[host]\nspm_nodes = 2:16GiB\n"
        with open(conf, "w") as f:
            f.write(edited)
        p = install(d)
        check(p.returncode == 0 and open(conf).read() == edited,
              "a second install keeps the operator's file (%s)" % p.stderr.strip()[-200:])

        os.unlink(conf)
        os.symlink("/nonexistent/virt-spm.conf", conf)
        p = install(d)
        check(p.returncode == 0 and os.path.islink(conf),
              "a symbolic link in its place is kept (%s)" % p.stderr.strip()[-200:])
    finally:
        shutil.rmtree(d, ignore_errors=True)
    print("1..%d" % count)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
