"""W6: what a server keeps per finished task. A fresh server is driven with `message/send hello`
(16 connections, back to back, a fixed number of requests) and its RSS read at rest at each
checkpoint; the slope between the first and the last checkpoint is what a finished task costs
the process for good (a store on disk should keep it near zero).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench import frames
from bench.loadgen import run_load
from bench.servers import HOST, Server

__all__ = ["rss_after_tasks"]

_MIB = 1024


def rss_after_tasks(server: Server, checkpoints: tuple[int, ...], connections: int = 16) -> dict[str, Any]:
    """Start `server`, drive it to each checkpoint (a count of finished tasks), stop it."""
    body = frames.request("message/send", "hello")
    server.start()
    try:
        start_mib = server.rss_kib() / _MIB
        at: dict[str, float] = {}
        done = errors = 0
        began = time.perf_counter()
        for target in checkpoints:
            stats = asyncio.run(run_load(HOST, server.port, lambda i: body, connections=connections,
                                         total=target - done))
            done, errors = target, errors + stats.errors
            at[str(target)] = round(server.rss_kib() / _MIB, 1)
        seconds = time.perf_counter() - began
    finally:
        server.stop()
    first, last = checkpoints[0], checkpoints[-1]
    slope = (at[str(last)] - at[str(first)]) / ((last - first) / 1000)
    return {"start_mib": round(start_mib, 1), "mib_at": at, "mib_per_1k": round(slope, 3),
            "errors": errors, "rate": round(done / seconds, 1)}
