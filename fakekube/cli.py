"""The ``fakekube`` command.

    fakekube demo [--seed S] [--html PATH | --no-html]
                                             a replica outlives its node, told step by step
    fakekube status [--nodes N] [--seed S]   build a cluster, settle it, print its state
    fakekube serve [--nodes N] [--port P] [--kubeconfig PATH] [--seed S]
                                             serve a cluster for kubectl until interrupted
"""

from __future__ import annotations

import argparse
import sys
from typing import Sequence


def _status(args: argparse.Namespace) -> int:
    from .cluster import Cluster

    cluster = Cluster(nodes=args.nodes, seed=args.seed)
    used = cluster.settle()
    print(f"fakekube cluster (seed {args.seed}), settled after {used:g} virtual seconds")
    for kind in ("Namespace", "Node", "StorageClass", "Pod"):
        items = cluster.list(kind)["items"]
        names = ", ".join(i["metadata"]["name"] for i in items) or "-"
        print(f"  {kind + 's':<15} {len(items):>3}  {names}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fakekube", description=__doc__.splitlines()[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command")
    p = sub.add_parser("status", help="build a cluster, settle it and print its state")
    p.add_argument("--nodes", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_status)
    from .http.cli import add_parser as add_serve

    add_serve(sub)
    from .demo import add_parser as add_demo

    add_demo(sub)
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        args = parser.parse_args(["status", *(argv or [])])
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
