"""The JSON-RPC endpoint as a plain ASGI app: `POST /` (the hot path, in front of Starlette's
routing, with no middleware layers).

One request, in order: who is calling (`auth`: HTTP 401/403 before anything is read), the
caller's rate (429 with Retry-After), the body (413 above `max_body_bytes`, without reading
it whole), a JSON media type (-32005), then the dispatch (`jsonrpc.Dispatcher`); its reply
goes out as a JSON-RPC body, or as SSE for a stream (which holds one of the caller's stream
slots until it closes). Refusals before the dispatch are JSON too (`protocol.refusal_json`).

Every request is counted (`metrics`), gets a request id (the client's `X-Request-ID` when
it is a sane one, echoed back), and one access line when it ends (`logs.access`); the
log context it sets is on every line logged meanwhile. The client's `A2A-Version` comes from
the header or the `A2A-Version` query parameter (1.0 §3.6); its extensions from
`A2A-Extensions` or `X-A2A-Extensions`.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncGenerator
from typing import Any
from urllib.parse import parse_qs

from starlette.types import Receive, Scope, Send

from a2a_server import logs
from a2a_server.auth import Authenticator, AuthFailed
from a2a_server.errors import ContentTypeNotSupported
from a2a_server.handler import CallContext
from a2a_server.jsoncodec import dumps_bytes, loads
from a2a_server.jsonrpc import Dispatcher, Reply, error_response, requested_version
from a2a_server.limits import RateLimiter, StreamClaim, StreamSlots
from a2a_server.metrics import Metrics
from a2a_server.model import random_hex
from a2a_server.protocol import refusal_json
from a2a_server.settings import Settings
from a2a_server.sse import encode_error, event_stream

__all__ = ["Endpoint", "send_body"]

_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
_AUTH_REFUSALS = {
    401: "Missing or invalid credentials.",
    403: "The credentials do not grant access to this agent.",
}
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")


class _TooLarge(Exception):
    pass


class Endpoint:
    def __init__(
        self,
        settings: Settings,
        dispatcher: Dispatcher,
        authenticator: Authenticator,
        metrics: Metrics,
        known_extensions: frozenset[str],
    ) -> None:
        self._settings = settings
        self._dispatcher = dispatcher
        self._auth = authenticator
        self._metrics = metrics
        self._known = known_extensions
        rate = settings.limit("rate_limit")
        self._limiter = RateLimiter(rate) if rate else None
        streams = settings.limit("max_streams")
        self._slots = StreamSlots(int(streams)) if streams else None
        self._principals = authenticator.enabled  # log principals only when there are any

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        offered = next((v.decode("latin-1") for k, v in scope["headers"] if k.lower() == b"x-request-id"), "")
        ctx = logs.LogContext(request_id=offered if _REQUEST_ID.fullmatch(offered) else random_hex(8))
        token = logs.current.set(ctx)
        code, status = "500", 500
        try:
            code, status = await self._serve(scope, receive, send, ctx)
        finally:
            method = ctx.method or "-"
            self._metrics.requests.labels(method, ctx.version or "-", code).inc()
            self._metrics.request_seconds.labels(method).observe(time.monotonic() - ctx.started)
            logs.access(code, status)
            logs.current.reset(token)

    async def _serve(
        self, scope: Scope, receive: Receive, send: Send, ctx: logs.LogContext
    ) -> tuple[str, int]:
        """Answer the request; how it ended: (the code for metrics and the log, HTTP status)."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        mine = {"X-Request-ID": ctx.request_id or ""}
        declared = _version(headers, scope)
        ctx.version = requested_version(declared)
        try:
            caller = await self._auth.check(headers)
        except AuthFailed as failed:  # never says which part was wrong
            message = _AUTH_REFUSALS[failed.status]
            return await _refuse(send, failed.status, message, {**mine, "WWW-Authenticate": failed.challenge})
        if self._principals:
            ctx.principal = caller.principal
        if self._limiter is not None and (wait := self._limiter.admit(caller.principal)) is not None:
            message = "Too many requests: retry after Retry-After seconds."
            return await _refuse(send, 429, message, {**mine, "Retry-After": str(wait)})
        try:
            body = await _read_body(headers, receive, self._settings.max_body_bytes)
        except _TooLarge:
            return await _refuse(send, 413, f"The request body is larger than {self._settings.max_body_bytes} bytes.", mine)
        if not _json_body(headers.get("content-type"), body):
            refused = ContentTypeNotSupported("The request body must be JSON (application/json).")
            errors_in = "1.0" if ctx.version == "1.0" else "0.3"
            await send_body(send, 200, dumps_bytes(error_response(refused, _peek_id(body), errors_in)), headers=mine)
            return str(refused.code), 200
        requested = _extensions(headers)
        claim = StreamClaim(self._slots, caller.principal)
        call = CallContext(
            extensions=requested, last_event_id=headers.get("last-event-id"), version=declared,
            principal=caller.principal, take_stream_slot=claim.take,
        )
        accept = headers.get("accept")
        del headers  # nor these, nor the body and the call below, while a stream it opens is open
        try:
            reply = await self._dispatcher.dispatch(body, call)
            del body, call
            ctx.version = reply.version
            return await self._answer(scope, receive, send, accept, reply, requested, mine)
        finally:
            claim.release()  # the stream, if it was one, has ended

    async def _answer(
        self, scope: Scope, receive: Receive, send: Send, accept: str | None, reply: Reply,
        requested: frozenset[str], extra: dict[str, str],
    ) -> tuple[str, int]:
        if reply.too_many_streams:
            limit = self._settings.limit("max_streams")
            return await _refuse(send, 429, f"Too many open streams (the limit is {limit:g} per caller).", extra)
        activated = requested & self._known
        if activated:  # echo what we activated (extensions guide), in both header spellings
            extra = {**extra, "A2A-Extensions": ", ".join(sorted(activated))}
            extra["X-A2A-Extensions"] = extra["A2A-Extensions"]
        if reply.stream is not None:
            assert reply.frame is not None
            chunks = event_stream(reply.stream, reply.id, reply.frame, reply.version)
            await self._stream(receive, send, chunks, {**_SSE_HEADERS, **extra}, reply.method or "-", reply.version)
            return "ok", 200
        assert reply.body is not None
        code = str(reply.body["error"]["code"]) if "error" in reply.body else "ok"
        if reply.streaming and reply.version == "0.3" and _wants_sse(accept):
            await send_body(send, 200, encode_error(reply.body), "text/event-stream", {**_SSE_HEADERS, **extra})
        else:
            await send_body(send, 200, dumps_bytes(reply.body), "application/json", extra)
        return code, 200

    async def _stream(
        self, receive: Receive, send: Send, chunks: AsyncGenerator[bytes, None], headers: dict[str, str],
        method: str, version: str,
    ) -> None:
        """A stream's chunks as an SSE response, counted (open streams, frames, the time to
        the first frame), until they end or the client goes away: then it is closed, however
        it waits (Starlette's StreamingResponse does this with an anyio task group and two
        tasks per stream; here one task listens for the disconnect and cancels this one)."""
        metrics = self._metrics
        ctx = logs.current.get()
        started = ctx.started if ctx is not None else time.monotonic()
        first = True
        frames = metrics.frames.labels(version)
        streaming = asyncio.current_task()
        assert streaming is not None
        done = gone = False

        async def listen() -> None:
            nonlocal gone
            while (await receive())["type"] != "http.disconnect":
                pass
            if not done:
                gone = True
                streaming.cancel()

        raw = [(b"content-type", b"text/event-stream; charset=utf-8"),
               *((k.lower().encode(), v.encode()) for k, v in headers.items())]
        metrics.open_streams.inc()
        listener = asyncio.get_running_loop().create_task(listen())
        try:
            await send({"type": "http.response.start", "status": 200, "headers": raw})
            del raw, headers  # sent: not held for the stream's life
            async for chunk in chunks:
                # frames (keep-alives are comments, errors bare data; data is one line of JSON)
                count = chunk.startswith(b"id: ") + chunk.count(b"\n\nid: ")
                if count:
                    if first:
                        metrics.first_frame_seconds.labels(method).observe(time.monotonic() - started)
                        first = False
                    frames.inc(count)
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            done = True
        except asyncio.CancelledError:
            if not gone:
                raise  # cancelled from above: not ours to swallow
            streaming.uncancel()  # the client went away: the stream just ends
        except OSError:
            pass  # the connection broke under a write: the client is gone
        finally:
            done = True
            listener.cancel()
            metrics.open_streams.dec()
            await chunks.aclose()


async def _read_body(headers: dict[str, str], receive: Receive, limit: int) -> bytes:
    """The request body, refused (without reading it whole) once it is over `limit`."""
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client went away
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def send_body(
    send: Send,
    status: int,
    body: bytes,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> None:
    """One whole response."""
    raw = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
        *((k.lower().encode(), v.encode()) for k, v in (headers or {}).items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def _refuse(send: Send, status: int, message: str, headers: dict[str, str]) -> tuple[str, int]:
    """Refuse a request at the HTTP level (see `protocol.refusal_json`)."""
    await send_body(send, status, dumps_bytes(refusal_json(status, message)), "application/json", headers)
    return str(status), status


def _wants_sse(accept: str | None) -> bool:
    """Whether an error of a streaming method must go out as an SSE event.

    Errors found before a stream's first frame are plain JSON-RPC responses (design §6), but
    a client that accepts only `text/event-stream` (the 0.3 SDK's httpx-sse client, the
    a2a-tck) cannot read JSON: it gets the error as the one event of a stream, which is the
    shape spec §7.2 gives streaming responses (`SendStreamingMessageResponse`).
    """
    if not accept:
        return False
    types = {part.split(";")[0].strip().lower() for part in accept.split(",")}
    return "text/event-stream" in types and not types & {"application/json", "application/*", "*/*"}


def _extensions(headers: dict[str, str]) -> frozenset[str]:
    raw = ",".join(v for k in ("a2a-extensions", "x-a2a-extensions") if (v := headers.get(k)))
    return frozenset(uri.strip() for uri in raw.split(",") if uri.strip())


def _version(headers: dict[str, str], scope: Scope) -> str | None:
    """The `A2A-Version` the client declared: the header, else the query parameter."""
    if "a2a-version" in headers:
        return headers["a2a-version"]
    query = scope.get("query_string", b"")
    if b"A2A-Version" in query:
        values = parse_qs(query.decode("latin-1")).get("A2A-Version")
        return values[0] if values else ""
    return None


def _json_body(content_type: str | None, body: bytes) -> bool:
    """Whether to read the body as JSON-RPC: a JSON media type, or none (some clients send
    none), or a body that parses anyway (curl -d sends form encoding); what is neither is
    -32005, as 1.0 §9 asks."""
    if content_type is None:
        return True
    media = content_type.split(";")[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        return True
    try:
        loads(body)
    except (ValueError, RecursionError):
        return False
    return True


def _peek_id(body: bytes) -> Any:
    try:
        request = loads(body)
    except (ValueError, RecursionError):
        return None
    request_id = request.get("id") if isinstance(request, dict) else None
    return request_id if isinstance(request_id, str | int) and not isinstance(request_id, bool) else None
