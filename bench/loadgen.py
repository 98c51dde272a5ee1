"""A lean HTTP/1.1 load generator on raw asyncio streams (keep-alive, pre-built requests).

Used where wrk cannot measure (time to first frame, many slow streams, latency of one
request kind while another load runs) and as the fallback when wrk is not installed. It
reads responses by Content-Length or chunked encoding and counts SSE frames as they arrive.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["Conn", "Stats", "percentile", "run_load"]


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Stats:
    requests: int = 0
    errors: int = 0
    frames: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds, whole response
    first_frames: list[float] = field(default_factory=list)  # seconds to the first SSE frame
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


class Conn:
    """One keep-alive connection."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port, limit=1 << 20)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass

    async def request(self, raw: bytes) -> tuple[int, float | None, int]:
        """Send a pre-built request; returns (status, seconds to the first SSE frame, frames)."""
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        start = time.perf_counter()
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        lower = head.lower()
        first: float | None = None
        frames = 0
        if b"transfer-encoding: chunked" in lower:
            while True:
                size_line = await self.reader.readuntil(b"\r\n")
                size = int(size_line.split(b";")[0], 16)
                if size == 0:
                    await self.reader.readexactly(2)
                    break
                chunk = await self.reader.readexactly(size + 2)
                count = chunk.count(b"data:")
                if count and first is None:
                    first = time.perf_counter() - start
                frames += count
        else:
            marker = lower.index(b"content-length:") + 15
            length = int(lower[marker:lower.index(b"\r\n", marker)])
            await self.reader.readexactly(length)
        if b"connection: close" in lower:
            await self.close()
            self.writer = None
        return status, first, frames


def http_post(host: str, port: int, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    return (
        f"POST / HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n{extra}"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def run_load(
    host: str, port: int, make_body: Callable[[int], bytes], *, connections: int,
    seconds: float | None = None, requests_per_conn: int | None = None,
    total: int | None = None, headers: dict[str, str] | None = None,
) -> Stats:
    """`connections` clients, each sending requests back to back for `seconds` (or
    `requests_per_conn` requests each, or until `total` requests were sent by all; a failed
    request counts against `total`, so a broken server cannot keep it going)."""
    stats = Stats()
    deadline = time.perf_counter() + (seconds or 1e9)
    counter = iter(range(1 << 62))
    budget = total if total is not None else 1 << 62

    async def client() -> None:
        nonlocal budget
        conn = Conn(host, port)
        sent = 0
        try:
            while time.perf_counter() < deadline and (requests_per_conn is None or sent < requests_per_conn):
                if budget <= 0:
                    break
                budget -= 1
                raw = http_post(host, port, make_body(next(counter)), headers)
                start = time.perf_counter()
                try:
                    status, first, frames = await conn.request(raw)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    stats.errors += 1
                    await conn.close()
                    conn = Conn(host, port)
                    continue
                stats.latencies.append(time.perf_counter() - start)
                if first is not None:
                    stats.first_frames.append(first)
                stats.frames += frames
                stats.requests += 1
                if status != 200:
                    stats.errors += 1
                sent += 1
        finally:
            await conn.close()

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    stats.seconds = time.perf_counter() - began
    return stats
