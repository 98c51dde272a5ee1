"""The floor: a bare Starlette app answering the benchmark's bytes with no A2A work at all.

It replays fixed bytes (bench/frames.py): a fixed JSON-RPC reply to `message/send`, a fixed SSE
body of the same frames to `message/stream stream N [D]` (pausing D ms between chunks). What it
reaches is the physical limit of this workload in Python with this web stack.

    python -m bench.floor --port 9001
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
from collections.abc import AsyncIterator

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from bench import frames

SEND = frames.response(frames.send_result())


@functools.lru_cache(maxsize=64)
def _stream_body(count: int, request_id: str) -> tuple[bytes, ...]:
    rid: int | str = json.loads(request_id)
    return tuple(frames.sse(frames.stream_frames(count), rid))


async def rpc(request: Request) -> Response:
    body = json.loads(await request.body())
    text = body["params"]["message"]["parts"][0]["text"]
    rid = body.get("id", 1)
    if body["method"] == "message/stream":
        words = text.split()
        count = int(words[1])
        pause = int(words[2]) / 1000 if len(words) > 2 else 0.0
        events = _stream_body(count, json.dumps(rid))

        async def gen() -> AsyncIterator[bytes]:
            for event in events:
                yield event
                if pause:
                    await asyncio.sleep(pause)

        return StreamingResponse(gen(), media_type="text/event-stream")
    return Response(SEND, media_type="application/json")


app = Starlette(routes=[Route("/", rpc, methods=["POST"])])


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.floor")
    parser.add_argument("--port", type=int, default=9001)
    args = parser.parse_args()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
