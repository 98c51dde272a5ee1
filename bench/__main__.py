"""`python -m bench`: ours, the official SDK, fasta2a and the floor, side by side.

Starts each server as its own process under the same uvicorn settings (one worker, access
log off, 127.0.0.1, uvloop and httptools), drives them alternately (A B C A B C ...) and
prints medians with the range of the rounds, and the ratios ours/sdk, ours/fasta2a and
ours/floor. Load comes from `wrk` when it is installed (it steals little CPU), else from
bench/loadgen.py; time to first frame, the thousand slow streams (W3), latency under load
(W5) and the memory after many tasks (W6) always use loadgen.

    python -m bench                 # the full run (a few minutes)
    python -m bench --quick         # a tiny run, as the test suite does
    python -m bench --json out.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from bench import frames
from bench.growth import rss_after_tasks
from bench.loadgen import Conn, http_post, percentile, run_load
from bench.replicas import cross_replica_delay
from bench.report import report
from bench.servers import HOST, RedisServer, Server, ours_server, redis_missing, servers, start_all

T = TypeVar("T")


# -- load ----------------------------------------------------------------------------------------

@dataclass
class Sample:
    rate: float  # requests (or streams) per second
    p50_ms: float
    p99_ms: float
    errors: int = 0
    cpu_us: float = 0.0  # the server process's CPU (user + system) per request, microseconds


_WRK_SCRIPT = """wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
{headers}wrk.body = {body}
"""


def _wrk(port: int, body: bytes, connections: int, seconds: float, headers: dict[str, str]) -> Sample:
    extra = "".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}\n" for k, v in headers.items())
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(_WRK_SCRIPT.format(body=json.dumps(body.decode()), headers=extra))
        script = f.name
    try:
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency", "-s", script,
             f"http://{HOST}:{port}/"], check=False, capture_output=True, text=True, timeout=seconds + 60,
        ).stdout
    finally:
        os.unlink(script)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"(?:Non-2xx or 3xx responses|Socket errors:.*?timeout)\s*:?\s*(\d+)", out))
    return Sample(rate, _wrk_latency(out, "50%"), _wrk_latency(out, "99%"), errors)


def _wrk_latency(out: str, label: str) -> float:
    m = re.search(rf"{label}\s+([\d.]+)(us|ms|s)", out)
    if not m:
        return float("nan")
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


async def _loadgen(port: int, body: bytes, connections: int, seconds: float, headers: dict[str, str]) -> Sample:
    stats = await run_load(HOST, port, lambda i: body, connections=connections, seconds=seconds, headers=headers)
    lat = [x * 1000 for x in stats.latencies]
    return Sample(stats.rate, percentile(lat, 0.5), percentile(lat, 0.99), stats.errors)


def load(
    port: int, body: bytes, connections: int, seconds: float, use_wrk: bool,
    headers: dict[str, str] | None = None,
) -> Sample:
    if use_wrk:
        return _wrk(port, body, connections, seconds, headers or {})
    return asyncio.run(_loadgen(port, body, connections, seconds, headers or {}))


async def _first_frame_ms(port: int, count: int, requests: int) -> float:
    conn = Conn(HOST, port)
    times = []
    try:
        for i in range(requests):
            _, first, _ = await conn.request(http_post(HOST, port, frames.request("message/stream", f"stream {count}", i)))
            if first is not None:
                times.append(first * 1000)
    finally:
        await conn.close()
    return statistics.median(times) if times else float("nan")


async def _many_streams(server: Server, streams: int, body: bytes) -> dict[str, Any]:
    """W3: `streams` streams at once; errors and the server's RSS at its peak."""
    baseline = server.rss_kib()
    peak = baseline
    stop = asyncio.Event()

    async def watch() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, server.rss_kib())
            await asyncio.sleep(0.05)

    watcher = asyncio.create_task(watch())
    stats = await run_load(HOST, server.port, lambda i: body, connections=streams, requests_per_conn=1)
    stop.set()
    await watcher
    return {"errors": stats.errors, "completed": stats.requests, "rss_peak_kib": peak,
            "kib_per_stream": round((peak - baseline) / streams, 1)}


async def _latency_under_load(port: int, requests: int, load_seconds: float, connections: int, stream: int,
                              ask: bool = True, use_wrk: bool = False) -> dict[str, float]:
    """W5: non-blocking message/send latency while message/stream load runs (`ask`: say
    `blocking: false`; fasta2a's send never blocks, and it refuses a configuration without
    acceptedOutputModes with a 500). The load comes from wrk when it can (`use_wrk`), a
    process of its own: the asyncio load generator in this process would hold up the very
    loop that times the sends, reading its 16 streams."""
    config = {"blocking": False} if ask else {}
    body = frames.request("message/stream", f"stream {stream}")
    if use_wrk:
        background = asyncio.ensure_future(asyncio.to_thread(_wrk, port, body, connections, load_seconds, {}))
    else:
        background = asyncio.ensure_future(
            run_load(HOST, port, lambda i: body, connections=connections, seconds=load_seconds)
        )
    await asyncio.sleep(min(0.5, load_seconds / 4))
    conn = Conn(HOST, port)
    lat: list[float] = []
    try:
        for i in range(requests):
            start = time.perf_counter()
            await conn.request(http_post(HOST, port, frames.request("message/send", "hello", i, **config)))
            lat.append((time.perf_counter() - start) * 1000)
            await asyncio.sleep(0.01)
    finally:
        await conn.close()
    await background
    return {"p50_ms": percentile(lat, 0.5), "p99_ms": percentile(lat, 0.99)}


# -- the run -------------------------------------------------------------------------------------

@dataclass
class Plan:
    rounds: int = 3
    seconds: float = 4.0
    w1_connections: tuple[int, ...] = (1, 16, 64)
    w2_connections: tuple[int, ...] = (1, 16)
    nonblocking_w1: tuple[int, ...] = (16,)  # W1 rows that also measure ours with blocking false
    redis_w1: tuple[int, ...] = (16,)  # W1 and W2 rows that include ours-redis
    redis_w2: tuple[int, ...] = (1, 16)
    stream_count: int = 100
    ttff_requests: int = 200
    w3_streams: int = 1000
    w3_stream: str = "stream 20 250"
    w5_requests: int = 200
    w6_checkpoints: tuple[int, ...] = (10_000, 30_000, 100_000)
    replica_streams: int = 3  # streams on replica A followed from B (the cross-replica delay)
    replica_frames: int = 40


QUICK = Plan(rounds=1, seconds=1.0, w1_connections=(1, 4), w2_connections=(1, 2), nonblocking_w1=(4,),
             redis_w1=(4,), redis_w2=(1, 2), stream_count=10, ttff_requests=10, w3_streams=20,
             w3_stream="stream 5 20", w5_requests=10, w6_checkpoints=(200, 600, 2000),
             replica_streams=1, replica_frames=10)

MAIN = ["ours", "sdk", "fasta2a", "floor"]  # the anchors: first frame, W3 and W5 too
W1 = [*MAIN, "ours-memory", "ours-1.0"]
W2 = [*MAIN, "ours-memory", "ours-coalesce", "ours-1.0"]
W5 = ["ours", "sdk", "fasta2a"]
W6 = ["ours", "ours-memory"]
_PROCESS = {"ours-1.0": "ours", "ours-nb": "ours"}  # the same server, spoken to otherwise
# what a ratio compares: label -> (numerator, denominator), each a server's name in the row
RATIOS = {
    "ours/sdk": ("ours", "sdk"), "ours/fasta2a": ("ours", "fasta2a"), "ours/floor": ("ours", "floor"),
    "sqlite/memory": ("ours", "ours-memory"), "1.0/0.3": ("ours-1.0", "ours"),
    "redis/sqlite": ("ours-redis", "ours"), "ours-nb/fasta2a": ("ours-nb", "fasta2a"),
}
FASTA2A_NOTE = ("fasta2a answers message/send with the task `submitted` and completes it after the "
                "reply (it has no blocking send): its W1 rate is work accepted, not tasks finished; "
                "ours-nb (ours, configuration.blocking false) is the like-for-like figure")


@dataclass
class Results:
    plan: Plan
    loadgen: str
    figures: dict[str, Any] = field(default_factory=dict)
    ratios: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class _Steps:
    """Counts the run's measurements for the progress display (a2a_server/client/progress.py:
    a bar on a terminal, a line per measurement elsewhere, on stderr)."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar
        self.done = 0

    def __call__(self, label: str) -> None:
        self.bar.update(self.done, label)
        self.done += 1


def _w1_names(plan: Plan, c: int, redis: bool) -> list[str]:
    return [*W1, *(["ours-nb"] if c in plan.nonblocking_w1 else []),
            *(["ours-redis"] if redis and c in plan.redis_w1 else [])]


def _w2_names(plan: Plan, c: int, redis: bool) -> list[str]:
    return [*W2, *(["ours-redis"] if redis and c in plan.redis_w2 else [])]


def _total_steps(plan: Plan, redis: bool) -> int:
    w1 = sum(len(_w1_names(plan, c, redis)) for c in plan.w1_connections) * plan.rounds
    w2 = sum(len(_w2_names(plan, c, redis)) for c in plan.w2_connections) * plan.rounds
    first = len(MAIN) * plan.rounds
    return w1 + w2 + first + len(MAIN) + len(W5) + 2 + len(W6)


def _summary(samples: list[Sample]) -> dict[str, Any]:
    """The median of each figure over the rounds, the range of the rate, and every round."""
    rates = [s.rate for s in samples]
    cpu = [s.cpu_us for s in samples]
    return {
        "rate": statistics.median(rates), "rate_range": [min(rates), max(rates)],
        "cpu_us": statistics.median(cpu), "cpu_us_range": [min(cpu), max(cpu)],
        "p50_ms": statistics.median(s.p50_ms for s in samples),
        "p99_ms": statistics.median(s.p99_ms for s in samples),
        "errors": sum(s.errors for s in samples), "rounds": [vars(s) for s in samples],
    }


def _alternate(names: list[str], rounds: int, measure: Callable[[str], T],
               step: Callable[[str], None] = lambda label: None, label: str = "") -> dict[str, list[T]]:
    """A B C A B C ...: each server's samples, one per round."""
    samples: dict[str, list[T]] = {n: [] for n in names}
    for _ in range(rounds):
        for name in names:
            step(f"{label}: {name}")
            samples[name].append(measure(name))
    return samples


def _ratios(samples: dict[str, list[Sample]]) -> dict[str, Any]:
    """Each ratio of RATIOS both servers of a row have: of the medians, and the range of the
    rounds' ratios (round i of one against round i of the other, measured side by side)."""
    out: dict[str, Any] = {}
    for label, (a, b) in RATIOS.items():
        if a in samples and b in samples:
            per_round = [x.rate / y.rate for x, y in zip(samples[a], samples[b]) if y.rate]
            med_b = statistics.median(s.rate for s in samples[b])
            if per_round and med_b:
                out[label] = {"ratio": statistics.median(s.rate for s in samples[a]) / med_b,
                              "range": [min(per_round), max(per_round)]}
    return out


def _settle(server: Server, timeout: float = 30) -> None:
    """Wait until `server` is idle (work it accepted without answering, as a non-blocking send,
    would otherwise run during the next server's measurement)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        before = server.cpu_ticks()
        time.sleep(0.1)
        if server.cpu_ticks() - before <= 1:
            return


def run(plan: Plan, use_wrk: bool) -> Results:
    from a2a_server.client.progress import Progress

    missing = redis_missing()
    results = Results(plan, "wrk" if use_wrk else "loadgen")
    results.notes.append(FASTA2A_NOTE)
    if missing:
        results.notes.append(f"ours-redis skipped: {missing}")
    with Progress(_total_steps(plan, missing is None), "bench") as bar:
        _run(plan, use_wrk, missing is None, results, _Steps(bar))
    return results


def _run(plan: Plan, use_wrk: bool, redis: bool, results: Results, step: _Steps) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    with tempfile.TemporaryDirectory() as folder:
        with ExitStack() as stack:
            redis_url = stack.enter_context(RedisServer(folder)).url if redis else None
            pool = servers(folder, redis_url)
            for s in pool.values():
                stack.callback(s.stop)
            for name, why in start_all(pool, optional=("ours-redis",)).items():
                results.notes.append(f"{name} skipped: {why}")
            _side_by_side(plan, use_wrk, pool, results, step)
            results.figures["cross-replica delay"] = _cross_replica(plan, folder, pool, redis_url, step)
        # fresh servers on default settings, once the others are gone
        growth: dict[str, Any] = {}
        for name, store in zip(W6, (f"sqlite:///{folder}/w6.db", "memory")):
            step(f"W6 RSS after {plan.w6_checkpoints[-1]} tasks: {name}")
            growth[name] = rss_after_tasks(ours_server(name, store), plan.w6_checkpoints)
        results.figures["W6 RSS after finished tasks"] = growth


def _cross_replica(plan: Plan, folder: str, pool: dict[str, Server], redis_url: str | None,
                   step: _Steps) -> dict[str, Any]:
    """A second replica beside `ours` (on its SQLite file) and `ours-redis` (on its Redis):
    how much later B's stream of a task sees each frame than A's."""
    shared = {"ours": f"sqlite:///{folder}/ours.db", "ours-redis": redis_url}
    out: dict[str, Any] = {}
    for name, store in shared.items():
        step(f"cross-replica delay: {name}")
        if name not in pool or store is None:
            continue
        second = ours_server(f"{name}-b", store, "--coalesce-ms", "0")
        second.start()
        try:
            out[name] = cross_replica_delay(pool[name].port, second.port, plan.replica_streams, plan.replica_frames)
        finally:
            second.stop()
    return out


def _side_by_side(plan: Plan, use_wrk: bool, pool: dict[str, Server], results: Results, step: _Steps) -> None:
    ports = {n: s.port for n, s in pool.items()}
    ports["ours-1.0"] = ports["ours-nb"] = ports["ours"]  # the same server, spoken to otherwise
    redis = "ours-redis" in pool

    def workload(method: str, text: str) -> Callable[[int], Callable[[str], Sample]]:
        """The measurement of `method` `text` at c connections, by the server's name."""
        old, new = frames.request(method, text), frames.request_v1(method, text)
        nonblocking = frames.request(method, text, blocking=False)

        def at(c: int) -> Callable[[str], Sample]:
            def measure(name: str) -> Sample:
                server = pool[_PROCESS.get(name, name)]
                before = server.cpu_ticks()
                sample = measure_load(name)
                ran = (server.cpu_ticks() - before) / os.sysconf("SC_CLK_TCK")
                done = sample.rate * plan.seconds
                sample.cpu_us = 1e6 * ran / done if done else 0.0
                return sample

            def measure_load(name: str) -> Sample:
                if name == "ours-1.0":
                    return load(ports[name], new, c, plan.seconds, use_wrk, frames.V1_HEADERS)
                if name == "ours-nb":
                    sample = load(ports[name], nonblocking, c, plan.seconds, use_wrk)
                    _settle(pool["ours"])
                    return sample
                return load(ports[name], old, c, plan.seconds, use_wrk)

            return measure

        return at

    send = workload("message/send", "hello")
    for c in plan.w1_connections:
        key = f"W1 send c={c}"
        w1 = _alternate(_w1_names(plan, c, redis), plan.rounds, send(c), step, key)
        results.figures[key] = {n: _summary(ss) for n, ss in w1.items()}
        results.ratios[key] = _ratios(w1)
    stream = workload("message/stream", f"stream {plan.stream_count}")
    per_stream = plan.stream_count + 3
    for c in plan.w2_connections:
        key = f"W2 stream c={c}"
        w2 = _alternate(_w2_names(plan, c, redis), plan.rounds, stream(c), step, key)
        results.figures[key] = {n: _frames(_summary(ss), per_stream, plan.stream_count) for n, ss in w2.items()}
        results.ratios[key] = _ratios(w2)
    first = _alternate(MAIN, plan.rounds, lambda n: asyncio.run(
        _first_frame_ms(ports[n], plan.stream_count, plan.ttff_requests)), step, "W2 first frame")
    results.figures["W2 first frame ms"] = {
        n: {"ms": statistics.median(ms), "range": [min(ms), max(ms)], "rounds": ms} for n, ms in first.items()
    }
    body = frames.request("message/stream", plan.w3_stream)
    many: dict[str, Any] = {}
    for n in MAIN:
        step(f"W3 {plan.w3_streams} streams: {n}")
        many[n] = asyncio.run(_many_streams(pool[n], plan.w3_streams, body))
    results.figures["W3 many streams"] = many
    under: dict[str, Any] = {}
    for n in W5:
        step(f"W5 send under load: {n}")
        under[n] = asyncio.run(_latency_under_load(ports[n], plan.w5_requests, plan.seconds * 2, 16,
                                                  plan.stream_count, ask=n != "fasta2a", use_wrk=use_wrk))
    results.figures["W5 non-blocking send under W2 c=16"] = under


def _frames(summary: dict[str, Any], per_stream: int, tokens: int) -> dict[str, Any]:
    lo, hi = summary["rate_range"]
    cpu_lo, cpu_hi = summary["cpu_us_range"]
    return {**summary, "frames_per_s": summary["rate"] * per_stream,
            "frames_per_s_range": [lo * per_stream, hi * per_stream], "tokens_per_s": summary["rate"] * tokens,
            "cpu_us_per_frame": summary["cpu_us"] / per_stream,
            "cpu_us_per_frame_range": [cpu_lo / per_stream, cpu_hi / per_stream]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tiny run (the test suite's)")
    parser.add_argument("--rounds", type=int, help="rounds of A B C (default 3)")
    parser.add_argument("--seconds", type=float, help="seconds per measurement (default 4)")
    parser.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else Plan()
    if args.rounds:
        plan.rounds = args.rounds
    if args.seconds:
        plan.seconds = args.seconds
    use_wrk = args.loadgen == "wrk" or (args.loadgen == "auto" and shutil.which("wrk") is not None)
    results = run(plan, use_wrk)
    print(report(results))
    if args.json:
        Path(args.json).write_text(json.dumps({
            "loadgen": results.loadgen, "plan": vars(plan), "notes": results.notes,
            "figures": results.figures, "ratios": results.ratios,
        }, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
