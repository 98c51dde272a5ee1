"""Before and after: two checkouts of this project served side by side, W1 and W2 driven
alternately, the server's CPU per request and per frame read from /proc.

    python -m bench.compare BEFORE_DIR AFTER_DIR [--store sqlite|memory] [--rounds 4] [--seconds 3]

(`git worktree add /tmp/before COMMIT` makes BEFORE_DIR.) Each server runs from its own
folder, so it imports that checkout's `a2a_server`; both use this interpreter. The machine's
noise moves throughput more than it moves CPU per request, so that is the figure compared:
medians of the rounds, with their range, and the after/before ratio of the medians.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

from bench import frames
from bench.__main__ import load
from bench.servers import Server, start_all

__all__ = ["main"]

_WORKLOADS = (  # name, request, connections, frames per request
    ("W1 send, 16 conns: us per request", frames.request("message/send", "hello"), 16, 1),
    ("W2 stream 100, 1 conn: us per frame", frames.request("message/stream", "stream 100"), 1, 103),
)


def _server(name: str, folder: Path, store: str, scratch: str) -> Server:
    url = f"sqlite:///{scratch}/{name}.db" if store == "sqlite" else store
    command = [sys.executable, "-m", "a2a_server", "serve", "--agent", "bench", "--port", "{port}",
               "--log-level", "warning", "--coalesce-ms", "0", "--store", url]
    return Server(name, command, cwd=str(folder))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--store", default="sqlite", help="sqlite (a file each) or memory")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        pool = {name: _server(name, folder.resolve(), args.store, scratch)
                for name, folder in (("before", args.before), ("after", args.after))}
        start_all(pool)
        try:
            cpu: dict[tuple[str, str], list[float]] = {}
            for r in range(args.rounds):
                for name in ("before", "after") if r % 2 == 0 else ("after", "before"):
                    server = pool[name]
                    for label, body, connections, per in _WORKLOADS:
                        load(server.port, body, connections, 1.0, True)  # warm up
                        ticks = server.cpu_ticks()
                        sample = load(server.port, body, connections, args.seconds, True)
                        used = (server.cpu_ticks() - ticks) / os.sysconf("SC_CLK_TCK")
                        cpu.setdefault((label, name), []).append(1e6 * used / (sample.rate * args.seconds * per))
        finally:
            for s in pool.values():
                s.stop()
    print(f"store {args.store}; {args.rounds} rounds x {args.seconds:g}s; medians (min-max)")
    for label, *_ in _WORKLOADS:
        medians = {}
        for name in ("before", "after"):
            values = cpu[(label, name)]
            medians[name] = statistics.median(values)
            print(f"  {label:<38} {name:<7} {medians[name]:8.1f} ({min(values):.1f}-{max(values):.1f})")
        print(f"  {'':<38} after/before {medians['after'] / medians['before']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
