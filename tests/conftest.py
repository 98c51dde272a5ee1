"""Fixtures: an app in-process (httpx.ASGITransport, lifespan entered) and a real uvicorn
server on 127.0.0.1 for streams, disconnects and concurrency."""

from __future__ import annotations

import asyncio
import socket
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from a2a_server import Settings, create_app
from a2a_server.runner.demo import DemoRunner
from tests.receiver import Receiver


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def fast_demo() -> DemoRunner:
    return DemoRunner(token_delay=0.001, build_seconds=0.2)


@asynccontextmanager
async def in_process(
    runner: Any = None, **settings: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to a fresh app in this process (lifespan entered), on a
    SQLite store in a temporary folder unless `store=` says otherwise."""
    with tempfile.TemporaryDirectory() as folder:
        settings.setdefault("store", f"sqlite:///{folder}/tasks.db")
        async with _app_client(runner, settings) as client:
            yield client


@asynccontextmanager
async def _app_client(runner: Any, settings: dict[str, Any]) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(**settings), runner or fast_demo())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            client.app = app  # type: ignore[attr-defined]
            yield client


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with in_process() as c:
        yield c


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """A real uvicorn server on 127.0.0.1, in a thread of its own."""

    def __init__(self, app: Any, port: int) -> None:
        self.app = app
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def client(self, **kw: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=kw.pop("timeout", 30), **kw)


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Start servers with `live_server(runner=..., **settings)`; all stop at teardown.
    Each gets a SQLite store in the test's temporary folder unless `store=` says otherwise."""
    started: list[LiveServer] = []

    def start(runner: Any = None, **settings: Any) -> LiveServer:
        port = free_port()
        settings.setdefault("port", port)
        settings.setdefault("store", f"sqlite:///{tmp_path}/tasks-{port}.db")
        app = create_app(Settings(**settings), runner or fast_demo())
        server = LiveServer(app, port)
        server.start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    """A webhook receiver on a real port: (its record, its URL)."""
    r = Receiver()
    live = LiveServer(r.app, free_port())
    live.start()
    yield r, live.url
    live.stop()


async def wait_for(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll an async predicate until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)
