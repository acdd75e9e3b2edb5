#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""virt-spm nova provider-config against Nova's own loader.

Debian's python3-nova (Nova 26.2.2) provides
nova.compute.provider_config.get_provider_configs, the function nova-compute
runs on [compute] provider_config_location at start.  The file virt-spm
writes must load and say what the inventory says; hand-broken copies must be
rejected by the same loader, so this test can fail.  Skips (77) without
python3-nova.  Run with /usr/bin/python3: the python3 first on PATH may be
another installation without Debian's packages.
"""
import os
import shutil
import subprocess
import sys
import tempfile

BUILD = os.environ["SPM_BUILD_ROOT"]
VIRT_SPM = os.path.join(BUILD, "cli", "virt-spm")
GiB = 1 << 30

try:
    from nova.compute import provider_config
    from nova import exception as nova_exc
except ImportError as e:
    print("# SKIP python3-nova is not installed (%s)" % e)
    sys.exit(77)


sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "common"))
from fakesysfs import fake_sysfs as common_fake_sysfs  # noqa: E402


def fake_sysfs(root):
    """Nodes 0-1 with CPUs and 16 GiB, 2-3 memory-only with 64 GiB."""
    common_fake_sysfs(root, [16, 16, 64, 64], '0-1')


def run(*args, env):
    return subprocess.run([VIRT_SPM] + list(args), capture_output=True, text=True, env=env)


def load(path):
    d = tempfile.mkdtemp(prefix="spm-nova-pc-")
    try:
        shutil.copy(path, os.path.join(d, "virt-spm.yaml"))
        return provider_config.get_provider_configs(d)
    finally:
        shutil.rmtree(d)


def main():
    work = tempfile.mkdtemp(prefix="spm-nova-provider-")
    try:
        sysfs = os.path.join(work, "sys")
        fake_sysfs(sysfs)
        conf = os.path.join(work, "virt-spm.conf")
        with open(conf, "w") as f:
            f.write("[host]\nspm_nodes = 2, 3:48GiB\n[nova]\nhbm_reserved = 1536MiB\n")
        env = dict(os.environ, VIRT_SPM_SYSFS_ROOT=sysfs, VIRT_SPM_LEDGER_DIR=os.path.join(work, "run"))
        out = os.path.join(work, "out", "virt-spm.yaml")
        os.makedirs(os.path.dirname(out))

        p = run("--config", conf, "nova", "provider-config", "--output", out, env=env)
        assert p.returncode == 0, p.stderr
        # MEMORY_MB: both nodes are memory-only: all of their RAM (64 + 64 GiB)
        assert "add 131072 to reserved_host_memory_mb" in p.stdout, p.stdout
        assert os.listdir(os.path.dirname(out)) == ["virt-spm.yaml"], "a temporary file was left behind"

        configs = load(out)
        assert list(configs) == ["$COMPUTE_NODE"], configs
        prov = configs["$COMPUTE_NODE"]
        inv = prov["inventories"]["additional"][0]["CUSTOM_SPM_HBM_GIB"]
        assert inv == {"total": 64 + 48, "reserved": 2, "min_unit": 1, "max_unit": 64 + 48,
                       "step_size": 1, "allocation_ratio": 1.0}, inv
        assert prov["traits"]["additional"] == ["CUSTOM_SPM_MEMORY"], prov
        print("ok 1 - Nova's get_provider_configs accepts the file: %s" % inv)

        # standard output gives the same file; --reserved wins over the configuration
        p = run("--config", conf, "nova", "provider-config", "--reserved", "5", env=env)
        assert p.returncode == 0 and "reserved: 5\n" in p.stdout, p
        assert "reserved_host_memory_mb" in p.stderr, p.stderr

        # hand-broken copies: Nova's loader must refuse each
        text = open(out).read()
        broken = {
            "total not an integer": text.replace("total: 112", "total: 112GiB"),
            "lower-case resource class": text.replace("CUSTOM_SPM_HBM_GIB", "custom_spm_hbm_gib"),
            "not a custom trait": text.replace("- CUSTOM_SPM_MEMORY", "- SPM_MEMORY"),
            "unknown inventory field": text.replace("step_size: 1", "step: 1"),
            "no schema version": text.replace("schema_version: '1.0'", "version: '1.0'"),
        }
        n = 2
        for why, bad in broken.items():
            assert bad != text, why
            path = os.path.join(work, "broken.yaml")
            with open(path, "w") as f:
                f.write(bad)
            try:
                load(path)
            except nova_exc.ProviderConfigException as e:
                print("ok %d - Nova rejects a file with %s: %s" % (n, why, str(e).splitlines()[0][:160]))
            else:
                raise AssertionError("Nova accepted a file with " + why)
            n += 1

        # bad inventories: a clear error, no file
        for spm_nodes, msg in (("", "lists no HBM node"),
                               ("2:512MiB", "no node of [host] spm_nodes has 1 GiB"),
                               ("2:4GiB,2:4GiB", "listed twice")):
            with open(conf, "w") as f:
                f.write("[host]\nspm_nodes = %s\n" % spm_nodes if spm_nodes else "[host]\n")
            bad_out = os.path.join(work, "bad.yaml")
            p = run("--config", conf, "nova", "provider-config", "--output", bad_out, env=env)
            assert p.returncode == 1 and msg in p.stderr, (spm_nodes, p.stderr)
            assert p.stderr.count("\n") == 1, p.stderr
            assert not os.path.exists(bad_out), spm_nodes
            print("ok %d - spm_nodes '%s': %s" % (n, spm_nodes, p.stderr.strip()))
            n += 1
        print("1..%d" % (n - 1))
    finally:
        shutil.rmtree(work)


main()
