"""Server-Sent Events framing for `message/stream` and `tasks/resubscribe`.

Each event is one JSON-RPC response carrying the request's id, with the frame's sequence
number in the event's `id:` field (so a client can resume with `Last-Event-ID`). Idle
streams get keep-alive comments. An error after the first frame is sent as one error event,
and then the stream ends (design §6). An error before it goes out as one such event too when
the client accepts only `text/event-stream` (see `app._wants_sse`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable
from typing import Any

from a2a_server import logs
from a2a_server.errors import InternalError
from a2a_server.handler import PrimedStream
from a2a_server.jsoncodec import dumps_bytes
from a2a_server.jsonrpc import RequestId, error_response
from a2a_server.model import Frame
from a2a_server.stencil import Stencil

__all__ = ["KEEPALIVE", "encode_error", "encode_frame", "event_stream"]

log = logging.getLogger("a2a_server")

KEEPALIVE = b": keep-alive\n\n"


FrameJSON = Callable[[Frame], Any]
"""A codec's JSON of one frame (the `result` of an event)."""


def encode_frame(seq: int, request_id: RequestId, result: Any) -> bytes:
    body = dumps_bytes({"jsonrpc": "2.0", "id": request_id, "result": result})
    return b"id: %d\ndata: %s\n\n" % (seq, body)


def encode_error(body: dict[str, Any]) -> bytes:
    """One SSE event holding a JSON-RPC error response."""
    return b"data: %s\n\n" % dumps_bytes(body)


async def event_stream(
    stream: PrimedStream, request_id: RequestId, frame_json: FrameJSON, version: str = "0.3"
) -> AsyncGenerator[bytes, None]:
    # the stream's text chunks from one stencil (`stencil.Stencil`): the bytes `encode_frame` gives
    data = Stencil(lambda frame: {"jsonrpc": "2.0", "id": request_id, "result": frame_json(frame)})

    def event(seq: int, frame: Frame) -> bytes:
        return b"id: %d\ndata: %s\n\n" % (seq, data(frame))

    try:  # closed however it ends, the first write's failure (a client gone) included
        if stream.first is not None:
            yield event(*stream.first)
        else:
            yield KEEPALIVE  # commit the response now: the first frame may be a while
        try:
            if stream.head:  # committed with the first: one write
                yield b"".join(event(seq, frame) for seq, frame in stream.head)
            async for batch in stream.rest:
                if batch is None:
                    yield KEEPALIVE
                elif len(batch) == 1:
                    yield event(*batch[0])
                else:  # one write for what was committed at once
                    yield b"".join(event(seq, frame) for seq, frame in batch)
        except Exception:
            failed = InternalError.logged(logs.failure(log, "stream failed after its first frame"))
            yield encode_error(error_response(failed, request_id, version))
    finally:
        await stream.aclose()
