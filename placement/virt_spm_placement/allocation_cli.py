# SPDX-License-Identifier: LGPL-2.1-or-later
"""virt-spm-placement-allocation {CONSUMER | --view} [--host NAME] [--nova-conf FILE]
[--placement-url URL --token TOKEN] [--timeout SECONDS]

Run by the qemu hook at a Nova guest's start: prints, as one JSON object,
what CONSUMER's allocation takes of this compute node's HBM nodes
(allocation.host_allocation).  With --view instead (`virt-spm host
--placement`): the inventory and usage of each of the node's HBM children
(view.host_view).  Exit status 0 (answered), 1 (Placement could not
answer: one line on stderr), 2 (usage).
"""
import json
import logging
import os
import socket
import sys
import uuid

from . import client
from .allocation import host_allocation
from .cli import Usage, _Parser
from .client import Placement, PlacementError
from .sync import SyncError
from .view import host_view

PROG = "placement allocation"


def _parser():
    p = _Parser(prog="virt-spm-placement-allocation", description=(
        "Print what a consumer's Placement allocation takes of this compute node's HBM nodes."))
    p.add_argument("consumer", metavar="CONSUMER", nargs="?", help="the instance UUID")
    p.add_argument("--view", action="store_true",
                   help="print Placement's inventory and usage of each HBM node instead")
    p.add_argument("--host", metavar="NAME",
                   help="the compute node's resource provider name (default: this host's name)")
    p.add_argument("--nova-conf", metavar="FILE", action="append",
                   help="nova.conf to read [placement] from (default: /etc/nova/nova.conf)")
    p.add_argument("--placement-url", metavar="URL")
    p.add_argument("--token", metavar="TOKEN")
    p.add_argument("--timeout", metavar="SECONDS", type=float, default=client.TIMEOUT,
                   help="for each request to Placement (default: %d)" % client.TIMEOUT)
    return p


def main(argv=None):
    logging.getLogger().addHandler(logging.NullHandler())
    try:
        args = _parser().parse_args(argv)
        if bool(args.view) == bool(args.consumer):
            raise Usage("give a CONSUMER or --view")
        try:
            if args.consumer:
                uuid.UUID(args.consumer)
        except ValueError:
            raise Usage("'%s' is not a UUID" % args.consumer)
        if bool(args.placement_url) != bool(args.token):
            raise Usage("--placement-url and --token go together")
        if args.timeout <= 0:
            raise Usage("--timeout must be positive")
    except Usage as e:
        print("error: %s: %s" % (PROG, e), file=sys.stderr)
        return 2
    try:
        if args.placement_url:
            pl = Placement.from_token(args.placement_url, args.token, args.timeout)
        else:
            paths = args.nova_conf or ["/etc/nova/nova.conf"]
            for path in paths:
                if not os.path.exists(path):
                    raise SyncError("%s does not exist" % path)
            pl = Placement.from_nova_conf(paths, args.timeout)
        host = args.host or socket.gethostname()
        answer = host_view(pl, host) if args.view else host_allocation(pl, host, args.consumer)
    except (SyncError, PlacementError) as e:
        print("error: %s: %s" % (PROG, e), file=sys.stderr)
        return 1
    print(json.dumps(answer, sort_keys=True))
    return 0
