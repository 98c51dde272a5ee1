"""`python -m bench`: ours, the official SDK and the floor, side by side.

Starts each server as its own process under the same uvicorn settings (one worker, access
log off, 127.0.0.1, uvloop and httptools), drives them alternately (A B C A B C ...) and
prints medians and the ratios ours/sdk and ours/floor. Load comes from `wrk` when it is
installed (it steals little CPU), else from bench/loadgen.py; time to first frame, the
thousand slow streams (W3) and latency under load (W5) always use loadgen.

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
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import frames
from bench.loadgen import Conn, http_post, percentile, run_load

HOST = "127.0.0.1"


@dataclass
class Server:
    name: str
    command: list[str]
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.port = _free_port()
        cmd = [c.replace("{port}", str(self.port)) for c in self.command]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection((HOST, self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not start: {' '.join(cmd)}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def rss_kib(self) -> int:
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def servers(folder: str) -> dict[str, Server]:
    py = sys.executable
    ours = [py, "-m", "a2a_server", "serve", "--agent", "bench", "--port", "{port}", "--log-level", "warning"]
    return {
        "ours": Server("ours", [*ours, "--coalesce-ms", "0", "--store", f"sqlite:///{folder}/ours.db"]),
        "ours-coalesce": Server("ours-coalesce", [*ours, "--store", f"sqlite:///{folder}/coalesce.db"]),
        "ours-memory": Server("ours-memory", [*ours, "--coalesce-ms", "0", "--store", "memory"]),
        "sdk": Server("sdk", [py, "-m", "bench.sdk_server", "--port", "{port}"]),
        "floor": Server("floor", [py, "-m", "bench.floor", "--port", "{port}"]),
    }


# -- load ----------------------------------------------------------------------------------------

@dataclass
class Sample:
    rate: float  # requests (or streams) per second
    p50_ms: float
    p99_ms: float
    errors: int = 0


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
             f"http://{HOST}:{port}/"], capture_output=True, text=True, timeout=seconds + 60,
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


async def _latency_under_load(port: int, requests: int, load_seconds: float, connections: int, stream: int) -> dict[str, float]:
    """W5: non-blocking message/send latency while message/stream load runs."""
    body = frames.request("message/stream", f"stream {stream}")
    background = asyncio.create_task(run_load(HOST, port, lambda i: body, connections=connections, seconds=load_seconds))
    await asyncio.sleep(min(0.5, load_seconds / 4))
    conn = Conn(HOST, port)
    lat: list[float] = []
    try:
        for i in range(requests):
            start = time.perf_counter()
            await conn.request(http_post(HOST, port, frames.request("message/send", "hello", i, blocking=False)))
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
    stream_count: int = 100
    ttff_requests: int = 200
    w3_streams: int = 1000
    w3_stream: str = "stream 20 250"
    w5_requests: int = 200


QUICK = Plan(rounds=1, seconds=1.0, w1_connections=(1, 4), w2_connections=(1, 2), stream_count=10,
             ttff_requests=10, w3_streams=20, w3_stream="stream 5 20", w5_requests=10)


@dataclass
class Results:
    plan: Plan
    loadgen: str
    figures: dict[str, Any] = field(default_factory=dict)


class _Steps:
    """Counts the run's measurements for the progress display (a2a_server/client/progress.py:
    a bar on a terminal, a line per measurement elsewhere, on stderr)."""

    def __init__(self, bar: Any) -> None:
        self.bar = bar
        self.done = 0

    def __call__(self, label: str) -> None:
        self.bar.update(self.done, label)
        self.done += 1


def _total_steps(plan: Plan) -> int:
    w1 = len(plan.w1_connections) * plan.rounds * 5
    w2 = len(plan.w2_connections) * plan.rounds * 6
    return w1 + w2 + 3 + 3 + 2  # + first frame, W3 and W5 per server


def _alternate(names: list[str], rounds: int, measure: Callable[[str], Sample],
               step: Callable[[str], None] = lambda label: None, label: str = "") -> dict[str, Sample]:
    """A B C A B C ...: medians per server."""
    samples: dict[str, list[Sample]] = {n: [] for n in names}
    for _ in range(rounds):
        for name in names:
            step(f"{label}: {name}")
            samples[name].append(measure(name))
    return {
        n: Sample(statistics.median(s.rate for s in ss), statistics.median(s.p50_ms for s in ss),
                  statistics.median(s.p99_ms for s in ss), sum(s.errors for s in ss))
        for n, ss in samples.items()
    }


def run(plan: Plan, use_wrk: bool) -> Results:
    from a2a_server.client.progress import Progress

    with Progress(_total_steps(plan), "bench") as bar:
        return _run(plan, use_wrk, _Steps(bar))


def _run(plan: Plan, use_wrk: bool, step: _Steps) -> Results:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 65536)), hard))
    results = Results(plan, "wrk" if use_wrk else "loadgen")
    with tempfile.TemporaryDirectory() as folder:
        pool = servers(folder)
        for s in pool.values():
            s.start()
        try:
            ports = {n: s.port for n, s in pool.items()}
            ports["ours-1.0"] = ports["ours"]  # the same server, spoken to in protocol 1.0
            main = ["ours", "sdk", "floor"]

            def workload(method: str, text: str) -> Callable[[str, int], Sample]:
                old, new = frames.request(method, text), frames.request_v1(method, text)

                def measure(name: str, c: int) -> Sample:
                    if name == "ours-1.0":
                        return load(ports[name], new, c, plan.seconds, use_wrk, frames.V1_HEADERS)
                    return load(ports[name], old, c, plan.seconds, use_wrk)

                return measure

            send = workload("message/send", "hello")
            for c in plan.w1_connections:
                w1 = _alternate([*main, "ours-memory", "ours-1.0"], plan.rounds, lambda n: send(n, c),
                                step, f"W1 send c={c}")
                results.figures[f"W1 send c={c}"] = {n: vars(v) for n, v in w1.items()}
            stream = workload("message/stream", f"stream {plan.stream_count}")
            per_stream = plan.stream_count + 3
            for c in plan.w2_connections:
                w2 = _alternate([*main, "ours-memory", "ours-coalesce", "ours-1.0"], plan.rounds,
                                lambda n: stream(n, c), step, f"W2 stream c={c}")
                results.figures[f"W2 stream c={c}"] = {
                    n: {**vars(v), "frames_per_s": v.rate * per_stream, "tokens_per_s": v.rate * plan.stream_count}
                    for n, v in w2.items()
                }
            first: dict[str, float] = {}
            for n in main:
                step(f"W2 first frame: {n}")
                first[n] = asyncio.run(_first_frame_ms(ports[n], plan.stream_count, plan.ttff_requests))
            results.figures["W2 first frame ms"] = first
            body = frames.request("message/stream", plan.w3_stream)
            many: dict[str, Any] = {}
            for n in main:
                step(f"W3 {plan.w3_streams} streams: {n}")
                many[n] = asyncio.run(_many_streams(pool[n], plan.w3_streams, body))
            results.figures["W3 many streams"] = many
            under: dict[str, Any] = {}
            for n in ("ours", "sdk"):
                step(f"W5 send under load: {n}")
                under[n] = asyncio.run(_latency_under_load(ports[n], plan.w5_requests, plan.seconds * 2, 16,
                                                          plan.stream_count))
            results.figures["W5 non-blocking send under W2 c=16"] = under
        finally:
            for s in pool.values():
                s.stop()
    return results


def report(results: Results) -> str:
    f = results.figures
    lines = [f"load generator: {results.loadgen}; rounds {results.plan.rounds} x {results.plan.seconds:g}s; medians"]

    def ratio(a: float, b: float) -> str:
        return f"{a / b:.2f}x" if b else "-"

    for key, row in f.items():
        lines.append(f"\n{key}")
        if key.startswith("W1") or key.startswith("W2 stream"):
            for name, v in row.items():
                extra = f"  frames/s {v['frames_per_s']:>9.0f}" if "frames_per_s" in v else ""
                lines.append(f"  {name:<14} {v['rate']:>9.1f}/s  p50 {v['p50_ms']:>7.2f} ms  p99 {v['p99_ms']:>7.2f} ms{extra}  errors {v['errors']}")
            lines.append(f"  ours/sdk {ratio(row['ours']['rate'], row['sdk']['rate'])}   ours/floor {ratio(row['ours']['rate'], row['floor']['rate'])}"
                         f"   sqlite/memory {ratio(row['ours']['rate'], row['ours-memory']['rate'])}"
                         f"   1.0/0.3 {ratio(row['ours-1.0']['rate'], row['ours']['rate'])}")
        else:
            for name, v in row.items():
                lines.append(f"  {name:<14} {v}")
    return "\n".join(lines)


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
        Path(args.json).write_text(json.dumps({"loadgen": results.loadgen, "plan": vars(plan), "figures": results.figures}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
