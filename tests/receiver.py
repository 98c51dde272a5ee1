"""A webhook receiver for push tests: a small ASGI app that records what it is sent.

Per path it can fail the first N requests (HTTP 503), or hang (never answer); for all paths
it can answer slowly (`delay` seconds), or refuse everything (503) until a moment
(`refuse_until`, in `time.monotonic()`)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def task(self) -> dict[str, Any]:
        return json.loads(self.body)  # type: ignore[no-any-return]


@dataclass
class Receiver:
    received: list[Received] = field(default_factory=list)
    fail_first: dict[str, int] = field(default_factory=dict)
    hang: set[str] = field(default_factory=set)
    attempts: dict[str, int] = field(default_factory=dict)
    delay: float = 0.0
    refuse_until: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.app = Starlette(routes=[Route("/{path:path}", self._hook, methods=["POST"])])

    async def _hook(self, request: Request) -> Response:
        path = "/" + request.path_params["path"]
        body = await request.body()
        with self.lock:
            self.attempts[path] = self.attempts.get(path, 0) + 1
            failing = self.fail_first.get(path, 0) >= self.attempts[path]
        if path in self.hang:
            await asyncio.sleep(3600)
        if self.delay:
            await asyncio.sleep(self.delay)
        if failing or time.monotonic() < self.refuse_until:
            return Response(status_code=503)
        with self.lock:
            self.received.append(Received(path, dict(request.headers), body))
        return Response(status_code=204)

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]
