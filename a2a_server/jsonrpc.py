"""The JSON-RPC 2.0 envelope: parse, check, dispatch through `jsonrpcserver`, map errors.

This is the only module that knows JSON-RPC codes. The envelope is checked here, before
`jsonrpcserver` sees it, so that every error can echo the request id when it could be read
(jsonrpcserver's own envelope errors always answer id null). A2A has no notifications: a
request without an id is answered too, with id null. Exceptions never reach the client as
text: an `A2AError` gives its code and safe message, anything else a fixed -32603.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jsonrpcserver import Error, Result, Success
from jsonrpcserver.async_dispatcher import dispatch_request
from jsonrpcserver.dispatcher import create_request
from oslash.either import Left  # type: ignore[import-untyped]
from pydantic import ValidationError

from a2a_server.errors import (
    A2AError,
    InternalError,
    InvalidParams,
    InvalidRequest,
    MethodNotFound,
    ParseError,
)
from a2a_server.handler import CallContext, PrimedStream, RequestHandler
from a2a_server.jsoncodec import loads
from a2a_server.methods import MethodSpec
from a2a_server.model import Frame

__all__ = ["Dispatcher", "Reply", "error_response"]

log = logging.getLogger("a2a_server")

RequestId = str | int | None



@dataclass(frozen=True, slots=True)
class Reply:
    """A dispatched call: a JSON-RPC response body, or a stream of frames for `id` (with
    the codec that makes each frame's JSON)."""

    id: RequestId
    body: dict[str, Any] | None = None
    stream: PrimedStream | None = None
    frame: Callable[[Frame], Any] | None = None
    streaming: bool = False  # the body answers a streaming method (see `app._wants_sse`)


def error_response(err: A2AError, request_id: RequestId) -> dict[str, Any]:
    error: dict[str, Any] = {"code": err.code, "message": err.message}
    if err.data is not None:
        error["data"] = err.data
    return {"jsonrpc": "2.0", "id": request_id, "error": error}


class Dispatcher:
    def __init__(self, handler: RequestHandler, table: Mapping[str, MethodSpec]) -> None:
        self._handler = handler
        self._lenient = handler.settings.lenient_messages
        self._methods = {name: self._bind(spec) for name, spec in table.items()}
        self._table = dict(table)

    async def dispatch(self, body: bytes, ctx: CallContext) -> Reply:
        try:
            request = _envelope(body)
        except _EnvelopeError as exc:
            return Reply(exc.request_id, error_response(exc.error, exc.request_id))
        request_id = request.get("id")
        try:
            # the envelope is checked and parsed already: straight to jsonrpcserver's dispatch
            # of one request (method lookup, argument binding, the call, the error mapping)
            _, response = await dispatch_request(self._methods, ctx, create_request(request))
        except Exception:
            log.exception("dispatch failed")
            return Reply(request_id, error_response(InternalError(), request_id))
        spec = self._table.get(request["method"])
        if isinstance(response, Left):
            return Reply(
                request_id,
                self._library_error(response._error, request),
                streaming=spec is not None and spec.streaming,
            )
        result = response._value.result
        if isinstance(result, PrimedStream):
            assert spec is not None
            return Reply(request_id, stream=result, frame=spec.frame)
        return Reply(request_id, {"jsonrpc": "2.0", "id": request_id, "result": result})

    @staticmethod
    def _library_error(err: Any, request: dict[str, Any]) -> dict[str, Any]:
        """A Left from jsonrpcserver. Ours carry a safe code and message (see `_error`); its
        own may carry exception text in `data`, which never goes out."""
        request_id = request["id"]
        if err.code == -32601:
            return error_response(MethodNotFound(f"Method not found: {request['method']}"), request_id)
        if err.code in (-32000, -32603):
            return error_response(InternalError(), request_id)
        return {"jsonrpc": "2.0", "id": request_id, "error": {"code": err.code, "message": err.message}}

    def _bind(self, spec: MethodSpec) -> Any:
        handler = self._handler
        lenient = self._lenient
        parse, call, encode = spec.parse, spec.call, spec.encode

        async def method(ctx: CallContext, /, **params: Any) -> Result:
            try:
                request = parse(params, lenient) if parse is not None else None
                result = await call(handler, request, ctx)
                return Success(result if isinstance(result, PrimedStream) else encode(result))
            except ValidationError as exc:
                return _error(InvalidParams(describe_validation_error(exc)))
            except A2AError as exc:
                return _error(exc)
            except Exception:
                log.exception("method failed")
                return _error(InternalError())

        return method


def _error(exc: A2AError) -> Result:
    return Error(exc.code, exc.message)


class _EnvelopeError(Exception):
    def __init__(self, error: A2AError, request_id: RequestId = None) -> None:
        self.error = error
        self.request_id = request_id


def _envelope(body: bytes) -> dict[str, Any]:
    """Parse and check a request envelope (JSON-RPC 2.0 §4, A2A §6.11)."""
    try:
        request = loads(body)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise _EnvelopeError(ParseError()) from None
    if isinstance(request, list):
        raise _EnvelopeError(InvalidRequest("Batch requests are not supported"))
    if not isinstance(request, dict):
        raise _EnvelopeError(InvalidRequest("The request must be a JSON object"))
    request_id = request.get("id")
    if request_id is not None and (
        isinstance(request_id, bool) or not isinstance(request_id, str | int)
    ):
        raise _EnvelopeError(InvalidRequest("The request id must be a string or an integer"))
    if request.get("jsonrpc") != "2.0":
        raise _EnvelopeError(InvalidRequest('"jsonrpc" must be exactly "2.0"'), request_id)
    method = request.get("method")
    if not isinstance(method, str) or not method:
        raise _EnvelopeError(InvalidRequest('"method" must be a non-empty string'), request_id)
    params = request.get("params")
    if params is None:
        params = {}
    elif not isinstance(params, dict):
        raise _EnvelopeError(InvalidParams('"params" must be an object'), request_id)
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}


def describe_validation_error(exc: ValidationError) -> str:
    """One line naming the first invalid field, with no echo of the input."""
    first = exc.errors(include_url=False, include_input=False)[0]
    loc = ".".join(_field_path(first["loc"])) or "params"
    kind = first["type"]
    if kind == "missing":
        return f"Invalid params: {loc} is required"
    if kind == "union_tag_invalid":
        tag = first.get("ctx", {}).get("tag", "")
        return f"Invalid params: {loc}.kind {tag!r} is not a known part kind (text, file, data)"
    if kind == "union_tag_not_found":
        return f"Invalid params: {loc}.kind is required (text, file, data)"
    message = first["msg"].removeprefix("Value error, ")
    return f"Invalid params: {loc}: {message}"


def _field_path(loc: tuple[int | str, ...]) -> list[str]:
    """The field path as a client wrote it: pydantic puts the union tag of a part in `loc`
    (`parts.0.text.text`); the client's field is `parts.0.text`."""
    out: list[str] = []
    for i, item in enumerate(loc):
        if i >= 2 and isinstance(loc[i - 1], int) and loc[i - 2] == "parts" and item in PART_KINDS:
            continue
        out.append(str(item))
    return out


PART_KINDS = frozenset({"text", "file", "data"})
