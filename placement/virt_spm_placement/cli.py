# SPDX-License-Identifier: LGPL-2.1-or-later
"""virt-spm nova placement-sync [--placement-url URL --token TOKEN] [--host NAME]

Run by `virt-spm nova placement-sync`, which passes --virt-spm (its own
binary, for `virt-spm host --json`) and --config.  Exit status as the rest
of virt-spm: 0 success, 1 failure (one line on stderr), 2 usage.
"""
import argparse
import json
import logging
import os
import socket
import subprocess
import sys

from .client import Placement, PlacementError
from .sync import SyncError, sync

PROG = "nova placement-sync"
NOVA_CONF = ["/etc/nova/nova.conf"]


class Usage(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise Usage(message)


def _parser():
    p = _Parser(prog="virt-spm nova placement-sync", description=(
        "Register this host's HBM nodes (virt-spm host --json) in Placement as child "
        "resource providers of the compute node's provider, and reconcile them."))
    p.add_argument("--placement-url", metavar="URL",
                   help="Placement's endpoint, for a Placement without Keystone (with --token)")
    p.add_argument("--token", metavar="TOKEN", help="the X-Auth-Token to send (with --placement-url)")
    p.add_argument("--host", metavar="NAME",
                   help="the compute node's resource provider name (default: this host's name)")
    p.add_argument("--nova-conf", metavar="FILE", action="append",
                   help="nova.conf to read [placement] from (default: /etc/nova/nova.conf)")
    p.add_argument("--virt-spm", metavar="PATH", default="virt-spm", help=argparse.SUPPRESS)
    p.add_argument("--config", metavar="FILE", help=argparse.SUPPRESS)
    return p


def _host_json(virt_spm, config):
    argv = [virt_spm] + (["--config", config] if config else []) + ["host", "--json"]
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    except OSError as e:
        raise SyncError("cannot run '%s': %s" % (virt_spm, e.strerror))
    if p.returncode != 0:
        lines = p.stderr.strip().splitlines()
        msg = lines[-1] if lines else "exit status %d" % p.returncode
        raise SyncError("virt-spm host --json: %s" % msg.removeprefix("error: "))
    return json.loads(p.stdout)


def main(argv=None):
    # keystoneauth warns through logging; errors reach the user as one line
    logging.getLogger().addHandler(logging.NullHandler())
    try:
        args = _parser().parse_args(argv)
        if bool(args.placement_url) != bool(args.token):
            raise Usage("--placement-url and --token go together")
        if args.placement_url and args.nova_conf:
            raise Usage("--nova-conf and --placement-url exclude each other")
    except Usage as e:
        print("error: %s: %s" % (PROG, e), file=sys.stderr)
        return 2
    try:
        host = _host_json(args.virt_spm, args.config)
        if args.placement_url:
            pl = Placement.from_token(args.placement_url, args.token)
        else:
            paths = args.nova_conf or NOVA_CONF
            for path in paths:
                if not os.path.exists(path):
                    raise SyncError("%s does not exist (give --nova-conf FILE, or --placement-url "
                                    "and --token)" % path)
            pl = Placement.from_nova_conf(paths)
        report = sync(pl, host, args.host or socket.gethostname())
    except (SyncError, PlacementError) as e:
        print("error: %s: %s" % (PROG, e), file=sys.stderr)
        return 1
    for line in report.lines:
        print(line)
    if not report.lines:
        print("%s: Placement already matches host nodes %s" %
              (args.host or socket.gethostname(),
               ", ".join(str(n["id"]) for n in host.get("nodes", [])) or "(none)"))
    return 0
