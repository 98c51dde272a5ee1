"""Server-Sent Events framing for `message/stream` and `tasks/resubscribe`.

Each event is one JSON-RPC response carrying the request's id, with the frame's sequence
number in the event's `id:` field (so a client can resume with `Last-Event-ID`). Idle
streams get keep-alive comments. An error after the first frame is sent as one error event,
and then the stream ends (design §6). An error before it goes out as one such event too when
the client accepts only `text/event-stream` (see `app._wants_sse`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, Callable, Sequence
from functools import partial
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


def _batch(request_id: RequestId, frame_json: FrameJSON, batch: Sequence[tuple[int, Frame]]) -> bytes:
    """The events of frames committed at once, in one write; their text chunks from one
    stencil (`stencil.Stencil`), cut for this batch and let go with it: what `encode_frame`
    gives, without an open stream holding it."""
    data = Stencil(partial(_response, request_id, frame_json))
    return b"".join(b"id: %d\ndata: %s\n\n" % (seq, data(frame)) for seq, frame in batch)


def _response(request_id: RequestId, frame_json: FrameJSON, frame: Frame) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "result": frame_json(frame)}


async def event_stream(
    stream: PrimedStream, request_id: RequestId, frame_json: FrameJSON, version: str = "0.3"
) -> AsyncGenerator[bytes, None]:
    # the stream's opening frames (a new task's Task, with its history) are let go once sent:
    # an open stream holds none of what it sent (nor does any layer below, while it waits)
    first, head = stream.first, stream.head
    stream.first, stream.head = None, ()
    try:  # closed however it ends, the first write's failure (a client gone) included
        if first is not None:
            yield encode_frame(first[0], request_id, frame_json(first[1]))
        else:
            yield KEEPALIVE  # commit the response now: the first frame may be a while
        first = None
        try:
            if head:  # committed with the first: one write
                yield _batch(request_id, frame_json, head)
            head = ()
            async for batch in stream.rest:
                if batch is None:
                    yield KEEPALIVE
                elif len(batch) == 1:
                    yield encode_frame(batch[0][0], request_id, frame_json(batch[0][1]))
                else:
                    yield _batch(request_id, frame_json, batch)
        except Exception:
            failed = InternalError.logged(logs.failure(log, "stream failed after its first frame"))
            yield encode_error(error_response(failed, request_id, version))
    finally:
        await stream.aclose()
