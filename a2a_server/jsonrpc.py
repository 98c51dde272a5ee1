"""The JSON-RPC 2.0 envelope: parse, check, route by version, dispatch through `jsonrpcserver`,
map errors.

This is the only module that knows JSON-RPC codes. The envelope is checked here, before
`jsonrpcserver` sees it, so that every error can echo the request id when it could be read
(jsonrpcserver's own envelope errors always answer id null). A2A has no notifications: a
request without an id is answered too, with id null. Exceptions never reach the client as
text: an `A2AError` gives its code and safe message, anything else a fixed -32603.

Two protocol versions share the endpoint, routed by method name (`message/send` is 0.3,
`SendMessage` 1.0) and checked against the `A2A-Version` the client declared (spec 1.0
§3.6: none or empty means 0.3, the patch is ignored, a version we do not serve is -32009).
Errors of the 1.0 path carry a `google.rpc.ErrorInfo` in `data`; 0.3 errors stay as they
were. Our extension methods answer either version's client in that client's error form.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jsonrpcserver import Error, Result, Success
from jsonrpcserver.async_dispatcher import call, dispatch_request
from jsonrpcserver.dispatcher import create_request
from oslash.either import Left  # type: ignore[import-untyped]
from pydantic import ValidationError

from a2a_server import logs
from a2a_server.errors import (
    A2AError,
    ExtensionSupportRequired,
    InternalError,
    InvalidParams,
    InvalidRequest,
    MethodNotFound,
    ParseError,
    VersionNotSupported,
)
from a2a_server.handler import CallContext, PrimedStream, RequestHandler
from a2a_server.jsoncodec import loads
from a2a_server.methods import EXTENSION, MethodSpec
from a2a_server.model import Frame
from a2a_server.protocol import v1_0

__all__ = ["SERVED_VERSIONS", "Dispatcher", "Reply", "error_response", "requested_version"]

log = logging.getLogger("a2a_server")

RequestId = str | int | None
SERVED_VERSIONS = ("0.3", "1.0")


@dataclass(frozen=True, slots=True)
class Reply:
    """A dispatched call: a JSON-RPC response body, or a stream of frames for `id` (with
    the codec that makes each frame's JSON)."""

    id: RequestId
    body: dict[str, Any] | None = None
    stream: PrimedStream | None = None
    frame: Callable[[Frame], Any] | None = None
    version: str = "0.3"  # the protocol version the reply speaks
    streaming: bool = False  # the body answers a streaming method (see `app._wants_sse`)
    too_many_streams: bool = False  # a stream refused: the caller has its limit open (HTTP 429)
    method: str | None = None  # the method called, if it is one we serve (for metrics, logs)


def requested_version(header: str | None) -> str | None:
    """`A2A-Version` as major.minor ("0.3" for none or empty; patch ignored), or None when
    it is not a version at all."""
    text = (header or "").strip()
    if not text:
        return "0.3"
    parts = text.split(".")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        return None
    return f"{int(parts[0])}.{int(parts[1])}"


def error_response(err: A2AError, request_id: RequestId, version: str = "0.3") -> dict[str, Any]:
    if version == "1.0":
        error = v1_0.error_json(err)
    else:
        error = {"code": err.code, "message": err.message}
        if err.data is not None:
            error["data"] = err.data
    return {"jsonrpc": "2.0", "id": request_id, "error": error}


class Dispatcher:
    def __init__(
        self,
        handler: RequestHandler,
        table: Mapping[str, MethodSpec],
        *,
        required_extensions: frozenset[str] = frozenset(),
    ) -> None:
        self._handler = handler
        self._lenient = handler.settings.lenient_messages
        self._methods = {name: self._bind(name, spec) for name, spec in table.items()}
        self._table = dict(table)
        self._required = required_extensions

    async def dispatch(self, body: bytes, ctx: CallContext) -> Reply:
        declared = requested_version(ctx.version)
        errors_in = "1.0" if declared == "1.0" else "0.3"
        try:
            request = _envelope(body)
        except _EnvelopeError as exc:
            return Reply(exc.request_id, error_response(exc.error, exc.request_id, errors_in), version=errors_in)
        request_id = request.get("id")
        method = request["method"]
        spec = self._table.get(method)
        known = method if spec is not None else None
        log_ctx = logs.current.get()
        if log_ctx is not None:
            log_ctx.method = known or "unknown"
        version = errors_in if spec is None or spec.version == EXTENSION else spec.version
        refused = self._refused(spec, method, declared, ctx)
        if refused is not None:  # in 1.0's form if the client declared 1.0 or called 1.0
            form = "1.0" if errors_in == "1.0" or version == "1.0" else "0.3"
            return Reply(
                request_id, error_response(refused, request_id, form), version=form,
                streaming=spec is not None and spec.streaming, method=known,
            )
        if spec is not None and spec.streaming and not ctx.take_stream_slot():
            return Reply(request_id, version=version, too_many_streams=True, method=known)
        try:
            # the envelope is checked and parsed already: straight to jsonrpcserver's call of
            # the method (the call, its result checked, errors mapped); its dispatch (lookup,
            # binding the params to the method's signature) only for a method we do not
            # serve, for its -32601: ours take any params, which they parse themselves
            if spec is None:
                _, response = await dispatch_request(self._methods, ctx, create_request(request))
            else:
                response = await call(create_request(request), ctx, self._methods[method])
        except Exception:
            failed = InternalError.logged(logs.failure(log, "dispatch of %s failed", method))
            return Reply(request_id, error_response(failed, request_id, version), version=version, method=known)
        if isinstance(response, Left):
            return Reply(
                request_id,
                error_response(self._library_error(response._error, method), request_id, version),
                version=version,
                streaming=spec is not None and spec.streaming,
                method=known,
            )
        result = response._value.result
        if isinstance(result, _Streamed):
            return Reply(request_id, stream=result.stream, frame=result.frame, version=version, method=known)
        return Reply(
            request_id, {"jsonrpc": "2.0", "id": request_id, "result": result}, version=version, method=known
        )

    def _refused(
        self, spec: MethodSpec | None, method: str, declared: str | None, ctx: CallContext
    ) -> A2AError | None:
        """An error for a call this client may not make as it declared itself, else None."""
        if declared is None or declared.split(".")[0] not in ("0", "1") or (
            declared.startswith("1.") and declared != "1.0"
        ):
            shown = (ctx.version or "").strip()
            return VersionNotSupported(
                f"A2A-Version {shown} is not served here; this endpoint speaks "
                f"{' and '.join(SERVED_VERSIONS)}."
            )
        if spec is None or spec.version == EXTENSION:
            return None  # unknown methods: -32601 from the dispatch
        if spec.version == "1.0" and declared != "1.0":
            return VersionNotSupported(
                f"{method} is a protocol 1.0 method: send the header A2A-Version: 1.0 "
                f"(without it a request speaks 0.3)."
            )
        if spec.version == "0.3" and declared == "1.0":
            return MethodNotFound(f"{method} is a protocol 0.3 method; 1.0 has its own names")
        if spec.version == "1.0" and self._required - ctx.extensions:
            missing = ", ".join(sorted(self._required - ctx.extensions))
            return ExtensionSupportRequired(
                f"This agent requires the extension(s) {missing}: declare them in A2A-Extensions."
            )
        return None

    @staticmethod
    def _library_error(err: Any, method: str) -> A2AError:
        """A Left from jsonrpcserver. Ours carry the A2AError itself (see `_error`); its own
        may carry exception text in `data`, which never goes out."""
        if isinstance(err.data, A2AError):
            return err.data
        if err.code == -32601:
            return MethodNotFound(f"Method not found: {method}")
        if err.code == -32602:
            return InvalidParams(err.message)
        return InternalError()

    def _bind(self, spec_name: str, spec: MethodSpec) -> Any:
        handler = self._handler
        lenient = self._lenient
        # turns give the loop up sooner while a call is served (a stream's is not: its
        # frames are what they run for)
        share = None if spec.streaming else handler.replica.share

        async def method(ctx: CallContext, /, **params: Any) -> Result:
            used = spec
            if spec.dialect is not None and spec.dialect[0](params, ctx.version):
                used = spec.dialect[1]
            try:
                request = used.parse(params, lenient) if used.parse is not None else None
                if share is None:
                    result = await used.call(handler, request, ctx)
                else:
                    with share.serving():
                        result = await used.call(handler, request, ctx)
                if isinstance(result, PrimedStream):
                    assert used.frame is not None
                    return Success(_Streamed(result, used.frame))
                return Success(used.encode(result))
            except ValidationError as exc:
                message, field = describe_validation_error(exc)
                return _error(InvalidParams(message, field=field))
            except A2AError as exc:
                return _error(exc)
            except Exception:
                return _error(InternalError.logged(logs.failure(log, "method %s failed", spec_name)))

        return method


@dataclass(frozen=True, slots=True)
class _Streamed:
    """A method's stream, with the codec of its frames."""

    stream: PrimedStream
    frame: Callable[[Frame], Any]


def _error(exc: A2AError) -> Result:
    return Error(exc.code, exc.message, exc)


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


def describe_validation_error(exc: ValidationError) -> tuple[str, str]:
    """One line naming the first invalid field, with no echo of the input; and that field."""
    first = exc.errors(include_url=False, include_input=False)[0]
    loc = ".".join(_field_path(first["loc"])) or "params"
    kind = first["type"]
    if kind == "missing":
        return f"Invalid params: {loc} is required", loc
    if kind == "union_tag_invalid":
        tag = first.get("ctx", {}).get("tag", "")
        return f"Invalid params: {loc}.kind {tag!r} is not a known part kind (text, file, data)", f"{loc}.kind"
    if kind == "union_tag_not_found":
        return f"Invalid params: {loc}.kind is required (text, file, data)", f"{loc}.kind"
    message = first["msg"].removeprefix("Value error, ")
    return f"Invalid params: {loc}: {message}", loc


def _field_path(loc: tuple[int | str, ...]) -> list[str]:
    """The field path as a client wrote it: pydantic puts the union tag of a part in `loc`
    (`parts.0.text.text`); the client's field is `parts.0.text`."""
    out: list[str] = []
    for i, item in enumerate(loc):
        if i >= 2 and isinstance(loc[i - 1], int) and loc[i - 2] == "parts" and item in PART_KINDS:
            continue
        if item in ("function-after", "function-before"):  # validator wrappers, not fields
            continue
        out.append(str(item))
    return out


PART_KINDS = frozenset({"text", "file", "data"})
