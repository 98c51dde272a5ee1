"""A small OpenAI-compatible chat-completions server for tests: it streams real
`chat.completion.chunk` SSE from a script, and records what it was asked.

Each request takes the next reply from `script` (a reply may also be a function of the
request). Replies: `Text` (content deltas), `Calls` (tool-call deltas split across chunks),
`Status` (an HTTP error), each optionally slow and with usage.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route


@dataclass
class Text:
    pieces: list[str]
    usage: dict[str, int] | None = None
    delay: float = 0.0
    reasoning: list[str] = field(default_factory=list)  # `reasoning_content` deltas, sent first


@dataclass
class Calls:
    calls: list[tuple[str, str]]  # (tool name, JSON arguments)
    usage: dict[str, int] | None = None
    text: str | list[str] = ""  # content before the calls: one delta, or one per piece
    whole: bool = False  # each call in one chunk, as Ollama and llama.cpp send them


@dataclass
class Status:
    code: int
    headers: dict[str, str] = field(default_factory=dict)


Reply = Text | Calls | Status


def _chunk(n: int, delta: dict[str, Any] | None, finish: str | None = None, usage: dict[str, int] | None = None) -> bytes:
    body: dict[str, Any] = {
        "id": f"chatcmpl-{n}", "object": "chat.completion.chunk", "created": 0, "model": "fake",
        "choices": [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    if usage is not None:
        body["usage"] = usage
    return b"data: " + json.dumps(body).encode() + b"\n\n"


class FakeOpenAI:
    def __init__(self) -> None:
        self.script: deque[Reply | Callable[[dict[str, Any]], Reply]] = deque()
        self.requests: list[dict[str, Any]] = []
        self.disconnected = threading.Event()
        self.app = Starlette(routes=[Route("/v1/chat/completions", self._complete, methods=["POST"])])

    def add(self, *replies: Reply | Callable[[dict[str, Any]], Reply]) -> None:
        self.script.extend(replies)

    async def _complete(self, request: Request) -> Response:
        body = await request.json()
        self.requests.append(body)
        if not self.script:
            return JSONResponse({"error": {"message": "script exhausted"}}, status_code=500)
        reply = self.script.popleft()
        if callable(reply):
            reply = reply(body)
        if isinstance(reply, Status):
            return JSONResponse({"error": {"message": f"status {reply.code}", "type": "fake"}},
                                status_code=reply.code, headers=reply.headers)
        return StreamingResponse(self._stream(reply), media_type="text/event-stream")

    async def _stream(self, reply: Text | Calls) -> AsyncIterator[bytes]:
        n = len(self.requests)
        try:
            yield _chunk(n, {"role": "assistant", "content": ""})
            if isinstance(reply, Text):
                for thought in reply.reasoning:  # as vLLM and DeepSeek stream reasoning
                    yield _chunk(n, {"reasoning_content": thought})
                for piece in reply.pieces:
                    if reply.delay:
                        await asyncio.sleep(reply.delay)
                    yield _chunk(n, {"content": piece})
                yield _chunk(n, {}, "stop")
            else:
                for piece in [reply.text] if isinstance(reply.text, str) else reply.text:
                    if piece:
                        yield _chunk(n, {"content": piece})
                for i, (name, arguments) in enumerate(reply.calls):
                    head = {"index": i, "id": f"call_{n}_{i}", "type": "function",
                            "function": {"name": name, "arguments": arguments if reply.whole else ""}}
                    yield _chunk(n, {"tool_calls": [head]})
                    if reply.whole:
                        continue
                    third = max(1, len(arguments) // 3)
                    for start in range(0, len(arguments), third):  # arguments split across chunks
                        piece = arguments[start:start + third]
                        yield _chunk(n, {"tool_calls": [{"index": i, "function": {"arguments": piece}}]})
                yield _chunk(n, {}, "tool_calls")
            if reply.usage is not None:
                yield _chunk(n, None, usage=reply.usage)
            yield b"data: [DONE]\n\n"
        except (asyncio.CancelledError, GeneratorExit):
            self.disconnected.set()
            raise

    def messages(self, i: int = -1) -> list[dict[str, Any]]:
        return self.requests[i]["messages"]  # type: ignore[no-any-return]
