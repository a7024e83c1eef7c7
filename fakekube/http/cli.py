"""``fakekube serve``: a cluster served on loopback until interrupted.

    fakekube serve [--nodes N] [--port P] [--kubeconfig PATH] [--seed S] [--no-auth]

Prints the ``export KUBECONFIG=...`` line to paste into a shell, then serves (the run loop
in the background, virtual time jumping over deadlines and following the wall clock
otherwise) until Ctrl-C or SIGTERM. :func:`add_parser` plugs the subcommand into the main
``fakekube`` command; :func:`main` runs it on its own.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from typing import Any, Sequence

__all__ = ["add_parser", "run", "main"]


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``serve`` to the ``fakekube`` command's subparsers."""
    p = subparsers.add_parser("serve", help="serve a cluster's REST API on loopback until "
                                            "interrupted")
    _arguments(p)
    p.set_defaults(func=run)
    return p


def _arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--nodes", type=int, default=3, help="number of nodes (default 3)")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: free)")
    p.add_argument("--kubeconfig", default=None,
                   help="where to write the kubeconfig (default: ./fakekube.kubeconfig)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-auth", action="store_true",
                   help="plain HTTP without a token (default: HTTPS with a bearer token)")


def run(args: argparse.Namespace, *, ready: threading.Event | None = None,
        stop: threading.Event | None = None, out: Any = None) -> int:
    from ..cluster import Cluster

    out = out or sys.stdout
    path = os.path.abspath(args.kubeconfig or "fakekube.kubeconfig")
    cluster = Cluster(nodes=args.nodes, seed=args.seed)
    stop = stop or threading.Event()
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, lambda *_: stop.set())
    try:
        with cluster.serve(auth=not args.no_auth, port=args.port, kubeconfig=path) as ep:
            print(f"fakekube: serving {args.nodes} node(s) at {ep.url} (seed {args.seed})",
                  file=out)
            print(f"export KUBECONFIG={ep.kubeconfig}", file=out, flush=True)
            if ready is not None:
                ready.set()
            stop.wait()
            print("fakekube: stopped", file=out, flush=True)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="fakekube serve", description=__doc__.splitlines()[0])
    _arguments(p)
    return run(p.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
