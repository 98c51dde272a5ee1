"""Before and after in instructions: what a request costs the server, counted by callgrind,
for two checkouts. Wall time and CPU time move with the machine (on a shared 2-core VM,
`bench.compare` rounds of one checkout spread by a third); an instruction count does not.

    python -m bench.instructions BEFORE_DIR AFTER_DIR [--store sqlite|memory]
        [--text hello | --text "stream 100"] [--requests 300] [--concurrency 16]

Each checkout runs `bench/inprocess.py` (the server over bare ASGI, in one process) under
`valgrind --tool=callgrind` twice, with `--requests` and with a quarter of them; the
difference of the two counts, over the difference of requests, is the cost of one request
with start-up, imports and shutdown taken out. A checkout against itself reads 0.999-1.001x. What it does not see: time spent waiting (system calls, the disk, cache misses
count as one instruction each), and uvicorn's HTTP parsing (no socket here). Needs
valgrind (`apt-get install valgrind`); the four runs go two at a time, about a minute each.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

__all__ = ["main", "per_unit"]

_DRIVER = Path(__file__).with_name("inprocess.py")
_COLLECTED = re.compile(r"Collected : (\d+)")
_FRAMES = re.compile(r"frames (\d+)")


def _count(tree: Path, requests: int, args: argparse.Namespace) -> tuple[int, int]:
    """The instructions of one driver run from `tree`, and the frames it was answered with."""
    command = [
        "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
        str(_DRIVER), "--requests", str(requests), "--concurrency", str(args.concurrency),
        "--store", args.store, "--text", args.text,
    ]
    env = {**os.environ, "PYTHONPATH": str(tree), "PYTHONHASHSEED": "0"}
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=False)
    found = _COLLECTED.search(done.stderr)
    frames = _FRAMES.search(done.stdout)
    if done.returncode != 0 or found is None or frames is None:
        tail = (done.stdout + done.stderr)[-1500:]
        raise SystemExit(f"the driver failed in {tree} (exit {done.returncode}):\n{tail}")
    return int(found.group(1)), int(frames.group(1))


def per_unit(small: tuple[int, int], large: tuple[int, int], units_small: int, units_large: int) -> float:
    """Instructions per request (or frame), start-up and shutdown taken out."""
    return (large[0] - small[0]) / (units_large - units_small)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--store", choices=("sqlite", "memory"), default="sqlite")
    parser.add_argument("--text", default="hello", help='"hello" (a send) or "stream N" (a stream)')
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("valgrind is not installed here (Debian: apt-get install valgrind)", file=sys.stderr)
        return 2
    small = max(1, args.requests // 4)
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    jobs = [(name, n) for name in trees for n in (small, args.requests)]
    with ThreadPoolExecutor(max_workers=2) as pool:
        counts = dict(zip(jobs, pool.map(lambda job: _count(trees[job[0]], job[1], args), jobs), strict=True))
    stream = args.text.startswith("stream")
    print(f"store {args.store}; {args.text!r}, {args.concurrency} at once")
    cost = {}
    for name, tree in trees.items():
        few, many = counts[name, small], counts[name, args.requests]
        cost[name] = per_unit(few, many, small, args.requests)
        line = f"  {name:<7} {cost[name]:>12,.0f} instructions per request"
        if stream:
            line += f", {per_unit(few, many, few[1], many[1]):>9,.0f} per frame"
        print(f"{line}   ({tree})")
    print(f"  after/before {cost['after'] / cost['before']:.3f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
