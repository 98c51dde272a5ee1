"""The server in one process, driven over bare ASGI: no socket, no HTTP parser, no client
library, so what it runs is the server's own work (the endpoint, the dispatcher, the
handler, the actor, the store) and little else. `bench.instructions` runs it under
callgrind to count the instructions a request costs.

    PYTHONPATH=TREE python bench/inprocess.py --requests 300 [--concurrency 16]
        [--store sqlite|memory] [--text hello | --text "stream 100"] [--warm 50]

It imports `a2a_server` from TREE (run by path, it imports nothing of `bench`), so two
checkouts are measured by the same driver. Its timers (the store's poll of other
processes, the janitor's sweep, lease renewals) are set far apart: they tick with the wall
clock, and under callgrind a run lasts fifty times longer. Each answer is checked (a send
completed, a stream ended with `final`); it prints what it drove.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import tempfile
from typing import Any

import orjson

from a2a_server.app import create_app
from a2a_server.settings import Settings
from a2a_server.store.memory import MemoryStore
from a2a_server.store.sqlite import SQLiteStore

_FAR = 3600.0  # seconds: timers that must not tick during a run


def _scope(body: bytes) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"}, "http_version": "1.1",
        "method": "POST", "scheme": "http", "path": "/", "raw_path": b"/", "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80),
        "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode())],
    }


async def call(app: Any, body: bytes, stream: bool) -> int:
    """One request; the frames it was answered with (1 for a send)."""
    delivered = False
    answered = asyncio.Event()
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        await answered.wait()  # the client stays until the whole answer is in
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start" and message["status"] != 200:
            raise SystemExit(f"HTTP {message['status']}")
        if message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                answered.set()

    await app(_scope(body), receive, send)
    out = b"".join(chunks)
    if stream:
        frames = [line for line in out.split(b"\n") if line.startswith(b"data:")]
        if not frames or b'"final":true' not in frames[-1]:
            raise SystemExit(f"the stream did not end: {out[-300:]!r}")
        return len(frames)
    if b'"completed"' not in out:
        raise SystemExit(f"the send did not complete: {out[:300]!r}")
    return 1


def _body(text: str, i: int) -> bytes:
    method = "message/stream" if text.startswith("stream") else "message/send"
    message = {"kind": "message", "role": "user", "messageId": f"m-{i}",
               "parts": [{"kind": "text", "text": text}]}
    return orjson.dumps({"jsonrpc": "2.0", "id": i, "method": method, "params": {"message": message}})


async def drive(requests: int, concurrency: int, store_kind: str, text: str, warm: int) -> int:
    stream = text.startswith("stream")
    with tempfile.TemporaryDirectory() as folder:
        store = SQLiteStore(f"{folder}/tasks.db", poll_seconds=_FAR) if store_kind == "sqlite" else MemoryStore()
        # turn_slice_ms 0: the loop's sharing between turns goes by the wall clock, which under
        # callgrind runs fifty times slower and would cut every turn into many slices (a
        # checkout from before the setting has no such sharing)
        unshared = {"turn_slice_ms": 0} if "turn_slice_ms" in {f.name for f in dataclasses.fields(Settings)} else {}
        settings = Settings(agent="bench", coalesce_ms=0, sweep_seconds=_FAR, lease_seconds=_FAR, **unshared)
        # own_process: the collector tuned as in a served process (`a2a-server serve`)
        app = create_app(settings, store=store, own_process=True)
        async with app.router.lifespan_context(app):
            for i in range(warm):  # lazy imports, caches, the first of each statement
                await call(app, _body(text, -1 - i), stream)
            slots = asyncio.Semaphore(concurrency)
            frames = 0

            async def one(i: int) -> None:
                nonlocal frames
                async with slots:
                    answered = await call(app, _body(text, i), stream)
                frames += answered  # after the await: `frames += await ...` would lose counts

            await asyncio.gather(*(one(i) for i in range(requests)))
    return frames


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--store", choices=("sqlite", "memory"), default="sqlite")
    parser.add_argument("--text", default="hello")
    parser.add_argument("--warm", type=int, default=50)
    args = parser.parse_args(argv)
    frames = asyncio.run(drive(args.requests, args.concurrency, args.store, args.text, args.warm))
    print(f"requests {args.requests} frames {frames}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
