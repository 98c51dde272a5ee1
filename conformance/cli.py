"""`a2a-server conformance URL [--version 0.3|1.0] [--json FILE]` and `python -m conformance URL`."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Sequence

from conformance.model import Check
from conformance.report import as_json, as_table
from conformance.runner import run_suite

__all__ = ["add_arguments", "main", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", help="the endpoint (its host serves /.well-known/agent-card.json)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds per call (default 15)")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    parser.add_argument("--version", dest="versions", choices=("0.3", "1.0"), action="append",
                        help="check only this protocol version (repeatable; default: whatever the card declares)")
    parser.add_argument("--webhook-host", metavar="HOST",
                        help="listen on HOST for push deliveries (an address the agent can reach); "
                             "without it the delivery checks are skipped")


def run(args: argparse.Namespace) -> int:
    from a2a_server.client.progress import Progress  # a bar on a terminal, else plain lines

    bar: Progress | None = None

    def progress(i: int, n: int, check: Check) -> None:
        nonlocal bar
        if args.quiet:
            return
        if bar is None:
            bar = Progress(n, "conformance").__enter__()
        bar.update(i, f"{check.version} {check.id}")

    try:
        report = asyncio.run(run_suite(args.url, timeout=args.timeout, progress=progress,
                                       versions=args.versions, webhook_host=args.webhook_host))
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    print(as_table(report))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(as_json(report), f, indent=2)
    return 1 if report.must_failures else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m conformance", description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run(parser.parse_args(argv))
