"""Deliberately broken A2A endpoints: our real app behind an ASGI wrapper that injects one
fault into what it answers (a wrong code, a missing final, a frame without its id, chunks that
do not add up, an ErrorInfo with the wrong reason, ...), or into what it is asked (a page
token dropped, push credentials lost), or answers in its place (a version refused). The
conformance suite's own tests run each check against its faults."""

from __future__ import annotations

import asyncio
import copy
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Body = Any


@dataclass(frozen=True)
class Fault:
    name: str
    card: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    card_status: int | None = None  # for the modern card path only
    reply: Callable[[str | None, Any, Body], Body] | None = None  # (method, request, body) -> body
    event: Callable[[str | None, Any, int, Body], list[Body]] | None = None  # -> replacement events
    content_type: str | None = None  # of event streams
    hold_open: float = 0.0  # keep an event stream open this long after it ends
    request: Callable[[Any], Any] | None = None  # rewrites the JSON-RPC request the app sees
    answer: Callable[[dict[str, str], Any], Body | None] | None = None  # (headers, request) -> answer in the app's place
    json_content_type: str | None = None  # of JSON answers


class FaultHolder:
    fault: Fault | None = None


class Faulty:
    """ASGI middleware: the wrapped app, with `holder.fault` applied to its answers."""

    def __init__(self, app: Any, holder: FaultHolder) -> None:
        self.app = app
        self.holder = holder

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        fault = self.holder.fault
        if scope["type"] != "http" or fault is None:
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        raw = b"".join(chunks)
        try:
            request = json.loads(raw) if raw else None
        except ValueError:
            request = None
        method = request.get("method") if isinstance(request, dict) else None
        if fault.answer is not None:
            headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
            canned = fault.answer(headers, request)
            if canned is not None:
                await _send_json(send, 200, canned)
                return
        if fault.request is not None and isinstance(request, dict):
            request = fault.request(copy.deepcopy(request))
            raw = json.dumps(request).encode()
            scope = {**scope, "headers": [(k, v) for k, v in scope["headers"] if k.lower() != b"content-length"]
                     + [(b"content-length", str(len(raw)).encode())]}
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": raw, "more_body": False}

        if scope["method"] == "GET" and scope["path"] == "/.well-known/agent-card.json" and fault.card_status:
            await _send_json(send, fault.card_status, {"error": "gone"})
            return
        start: dict[str, Any] = {}
        body = bytearray()
        buffer = ""
        index = 0

        async def relay(message: dict[str, Any]) -> None:
            nonlocal buffer, index
            if message["type"] == "http.response.start":
                start.update(message)
                if _content_type(message).startswith("text/event-stream"):
                    headers = [(k, v) for k, v in message["headers"] if k.lower() != b"content-type"]
                    headers.append((b"content-type", (fault.content_type or "text/event-stream").encode()))
                    await send({**message, "headers": headers})
                return
            if _content_type(start).startswith("text/event-stream"):
                buffer += message.get("body", b"").decode()
                out = []
                while "\n\n" in buffer:
                    block, buffer = buffer.split("\n\n", 1)
                    out.append(_transform_block(fault, method, request, block, index))
                    if block.strip() and not block.startswith(":"):
                        index += 1
                if not message.get("more_body") and fault.hold_open:
                    await send({"type": "http.response.body", "body": "".join(out).encode(), "more_body": True})
                    await asyncio.sleep(fault.hold_open)
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                    return
                await send({"type": "http.response.body", "body": "".join(out).encode(),
                            "more_body": message.get("more_body", False)})
                return
            body.extend(message.get("body", b""))
            if message.get("more_body"):
                return
            data = bytes(body)
            try:
                parsed = json.loads(data)
            except ValueError:
                parsed = None
            if parsed is not None:
                if scope["path"].startswith("/.well-known/") and fault.card:
                    parsed = fault.card(parsed)
                elif fault.reply:
                    parsed = fault.reply(method, request, parsed)
                data = json.dumps(parsed).encode()
            await _send_raw(send, start, data, fault.json_content_type)

        await self.app(scope, replay, relay)


def _content_type(start: dict[str, Any]) -> str:
    for key, value in start.get("headers", []):
        if key.lower() == b"content-type":
            return value.decode()  # type: ignore[no-any-return]
    return ""


def _transform_block(fault: Fault, method: str | None, request: Any, block: str, index: int) -> str:
    if not fault.event or not block.strip() or block.startswith(":"):
        return block + "\n\n"
    lines = block.split("\n")
    data = "\n".join(line[6:] for line in lines if line.startswith("data: "))
    head = [line for line in lines if not line.startswith("data: ")]
    try:
        body = json.loads(data)
    except ValueError:
        return block + "\n\n"
    return "".join(
        "\n".join([*head, "data: " + (new if isinstance(new, str) else json.dumps(new))]) + "\n\n"
        for new in fault.event(method, request, index, body)
    )


async def _send_raw(send: Any, start: dict[str, Any], data: bytes, content_type: str | None = None) -> None:
    dropped = {b"content-length", b"content-type"} if content_type else {b"content-length"}
    headers = [(k, v) for k, v in start.get("headers", []) if k.lower() not in dropped]
    headers.append((b"content-length", str(len(data)).encode()))
    if content_type:
        headers.append((b"content-type", content_type.encode()))
    await send({"type": "http.response.start", "status": start.get("status", 200), "headers": headers})
    await send({"type": "http.response.body", "body": data})


async def _send_json(send: Any, status: int, body: Any) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})
