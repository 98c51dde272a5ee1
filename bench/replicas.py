"""The cross-replica delay: a stream on replica A, the same task followed on replica B
(`tasks/resubscribe`), and how much later each frame reaches B than A, per store that
replicas share (the SQLite file, polled; Redis, a blocking read)."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from typing import Any

import httpx

from bench import frames
from bench.servers import HOST

__all__ = ["cross_replica_delay"]


async def _frames_at(client: httpx.AsyncClient, url: str, body: dict[str, Any], seen: dict[int, float],
                     task: asyncio.Future[str] | None = None) -> None:
    """Read an SSE stream, noting when each event id arrived (and the task id, first)."""
    async with client.stream("POST", url, json=body, headers={"Accept": "text/event-stream"}) as response:
        seq = None
        async for line in response.aiter_lines():
            if line.startswith("id: "):
                seq = int(line[4:])
            elif line.startswith("data: ") and seq is not None:
                seen[seq] = time.perf_counter()
                if task is not None and not task.done():
                    task.set_result(json.loads(line[6:])["result"]["id"])
                seq = None


async def _once(a_port: int, b_port: int, count: int, pause_ms: int) -> list[float]:
    stream = json.loads(frames.request("message/stream", f"stream {count} {pause_ms}"))
    on_a: dict[int, float] = {}
    on_b: dict[int, float] = {}
    async with httpx.AsyncClient(timeout=60) as client:
        task: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        a = asyncio.create_task(_frames_at(client, f"http://{HOST}:{a_port}/", stream, on_a, task))
        task_id = await task
        follow = {"jsonrpc": "2.0", "id": 2, "method": "tasks/resubscribe", "params": {"id": task_id}}
        b = asyncio.create_task(_frames_at(client, f"http://{HOST}:{b_port}/", follow, on_b))
        await asyncio.gather(a, b)
    # the frames B got live (after its own first one, the Task it starts with)
    live = sorted(s for s in on_b if s in on_a)[1:]
    return [1000 * (on_b[s] - on_a[s]) for s in live]


def cross_replica_delay(a_port: int, b_port: int, streams: int = 3, count: int = 40, pause_ms: int = 10) -> dict[str, Any]:
    """The median of B's delay behind A over the live frames of `streams` streams, in ms."""
    delays: list[float] = []
    for _ in range(streams):
        delays += asyncio.run(_once(a_port, b_port, count, pause_ms))
    return {"median_ms": round(statistics.median(delays), 2) if delays else float("nan"),
            "p90_ms": round(sorted(delays)[int(0.9 * (len(delays) - 1))], 2) if delays else float("nan"),
            "frames": len(delays)}
