#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The tree's own rules, checked on the source tree (TAP):
- only common/spm-env.c reads the environment (every knob in spm-env.h);
- every knob of spm-env.c is listed in docs/testing.md;
- every directory with a meson.build is named in docs/architecture.md;
- an SPDX-License-Identifier line heads every C, Python and shell source;
- nothing cites an outside spec file the repository does not have: the facts are in docs/."""
import os
import re
import subprocess
import sys

SRC = os.environ.get("SPM_SOURCE_ROOT") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
PRODUCT = ("common", "xmlschema", "qemu-cmdline", "host", "daemon", "cli", "hook", "wrapper")
n = 0
failed = 0


def check(ok, what):
    global n, failed
    n += 1
    print("%s %d - %s" % ("ok" if ok else "not ok", n, what))
    failed += not ok


def tracked(*patterns):
    out = subprocess.run(["git", "-C", SRC, "ls-files", *patterns], capture_output=True, text=True)
    if out.returncode != 0:     # a tarball, not a checkout: walk the tree
        found = []
        for top in PRODUCT + ("docs", "tests", "scripts", "conf", "nova", "placement", "debian"):
            for d, _, files in os.walk(os.path.join(SRC, top)):
                found += [os.path.relpath(os.path.join(d, f), SRC) for f in files]
        return found
    return out.stdout.split()


files = tracked()
sources = [f for f in files if f.split("/")[0] in PRODUCT and f.endswith((".c", ".h"))]
readers = [f for f in sources if f not in ("common/spm-env.c", "common/spm-env.h") and
           re.search(r"\b(g_|secure_)?getenv\s*\(", open(os.path.join(SRC, f)).read())]
check(sources and not readers, "only common/spm-env.c reads the environment: %s" % (readers or "yes"))

names = re.findall(r'\] = "([A-Z_]+)"', open(os.path.join(SRC, "common", "spm-env.c")).read())
testing = open(os.path.join(SRC, "docs", "testing.md")).read()
missing = [k for k in names if k.startswith("VIRT_SPM_") and "`%s`" % k not in testing]
check(names and not missing, "docs/testing.md lists every VIRT_SPM_ knob: %s" % (missing or "yes"))

arch = open(os.path.join(SRC, "docs", "architecture.md")).read()
dirs = sorted({os.path.dirname(f) for f in files if os.path.basename(f) == "meson.build"
               and os.path.dirname(f) and not os.path.dirname(f).startswith("tests/")})
unnamed = [d for d in dirs if d + "/" not in arch]
check(dirs and not unnamed, "docs/architecture.md names every folder with a meson.build: %s"
      % (unnamed or "yes"))

skip = ("tests/fixtures/", "tests/data/", "tests/corpus/", "tests/fuzz/corpus/", "debian/")
sources = [f for f in files if not f.startswith(skip) and
           (f.endswith((".c", ".h", ".py", ".sh")) or f == ".ci/run" or
            (f.startswith("scripts/") and not f.endswith(".txt")))]
unlicensed = [f for f in sources
              if "SPDX-License-Identifier:" not in open(os.path.join(SRC, f), errors="replace").read(400)]
check(sources and not unlicensed, "an SPDX line heads every source file: %s" % (unlicensed or "yes"))

spec = "SPEC" + ".md"       # not written out, or this file would cite it
citing = [f for f in files if not f.startswith("tests/fixtures/") and os.path.isfile(os.path.join(SRC, f))
          and spec in open(os.path.join(SRC, f), errors="replace").read()]
check(not citing, "no file cites %s: %s" % (spec, citing or "yes"))

print("1..%d" % n)
sys.exit(1 if failed else 0)
