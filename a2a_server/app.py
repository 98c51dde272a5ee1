"""The HTTP edge: the Starlette app, its routes and its lifespan.

POST /             JSON-RPC, both protocol versions (also at the path of `--public-url`)
GET  /.well-known/agent-card.json  and the legacy /.well-known/agent.json
GET  /health

The only module that imports Starlette. The JSON-RPC endpoint is served as a plain ASGI app
in front of Starlette's routing (it is the hot path); bodies over `max_body_bytes` get HTTP
413 without being read whole; everything else is answered with HTTP 200 and a JSON-RPC body
or SSE. The client's `A2A-Version` comes from the header or the `A2A-Version` query
parameter (1.0 §3.6); its extensions from `A2A-Extensions` or `X-A2A-Extensions`.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections.abc import AsyncIterator
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from a2a_server.auth import Authenticator, AuthFailed
from a2a_server.errors import ContentTypeNotSupported
from a2a_server.extensions import TICKETS_EXTENSION, TICKETS_EXTENSION_URI
from a2a_server.handler import CallContext, RequestHandler
from a2a_server.janitor import Janitor
from a2a_server.jsoncodec import dumps_bytes, loads
from a2a_server.jsonrpc import Dispatcher, Reply, error_response, requested_version
from a2a_server.limits import RateLimiter, StreamClaim, StreamSlots
from a2a_server.methods import METHODS
from a2a_server.protocol import card_json, refusal_json
from a2a_server.push import PushSender
from a2a_server.push_guard import Resolver, system_resolver
from a2a_server.replica import Replica
from a2a_server.runner.base import Runner
from a2a_server.settings import Settings
from a2a_server.sse import encode_error, event_stream
from a2a_server.store.base import TaskStore, open_store
from a2a_server.supervisor import Supervisor
from a2a_server.web import ASSET_PREFIX, Page, wants_page
from agent_card import CARD_PATHS, AgentCard, build_card
from agent_card.extended import extended_card, read_extension

__all__ = ["app_from_environment", "create_app", "public_card"]

log = logging.getLogger("a2a_server")

_SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
_CARD_MAX_AGE = 300  # seconds a client may cache the card
_AUTH_REFUSALS = {
    401: "Missing or invalid credentials.",
    403: "The credentials do not grant access to this agent.",
}


class _TooLarge(Exception):
    pass


def create_app(
    settings: Settings | None = None,
    runner: Runner | None = None,
    store: TaskStore | None = None,
    *,
    resolve: Resolver = system_resolver,
) -> Starlette:
    """An A2A server app for `runner` (default: `settings.agent`) on `store` (default:
    `settings.store`, opened here and closed when the app stops). `resolve` looks up webhook
    host names for the SSRF guard (tests give their own)."""
    settings = settings or Settings()
    if runner is None:
        from a2a_server.runner.loader import load_runner

        runner = load_runner(settings.agent, settings)
    supervisor = Supervisor()
    owns_store = store is None
    store = store or open_store(settings.store)
    push = PushSender(store, settings, supervisor, resolve)
    replica = Replica(settings, runner, store, supervisor, on_push=push.poke)
    handler = RequestHandler(settings, replica)
    handler.resolve = resolve
    required = _required_extensions(settings)
    dispatcher = Dispatcher(handler, METHODS, required_extensions=required)
    janitor = Janitor(settings, replica)
    known_extensions = frozenset({TICKETS_EXTENSION_URI}) | required
    authenticator = Authenticator(settings)
    rate = settings.limit("rate_limit")
    limiter = RateLimiter(rate) if rate else None
    streams = settings.limit("max_streams")
    slots = StreamSlots(int(streams)) if streams else None
    card = _card(settings, runner)
    if settings.extended_card:  # read and checked now: a bad file stops the start
        handler.extended_card = extended_card(card, read_extension(settings.extended_card))
    card_doc = card_json(card, settings.card_format)
    card_body = dumps_bytes(card_doc)
    card_headers = {
        "Cache-Control": f"public, max-age={_CARD_MAX_AGE}",
        "ETag": f'"{hashlib.sha256(card_body).hexdigest()[:32]}"',
        "Last-Modified": formatdate(time.time(), usegmt=True),
    }

    async def rpc(scope: Scope, receive: Receive, send: Send) -> None:
        """POST to the JSON-RPC endpoint, as a plain ASGI app (the hot path: no routing or
        middleware layers)."""
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        try:
            caller = await authenticator.check(headers)
        except AuthFailed as failed:  # never says which part was wrong
            await _refuse(send, failed.status, _AUTH_REFUSALS[failed.status], {"WWW-Authenticate": failed.challenge})
            return
        if limiter is not None and (wait := limiter.admit(caller.principal)) is not None:
            await _refuse(send, 429, "Too many requests: retry after Retry-After seconds.", {"Retry-After": str(wait)})
            return
        try:
            body = await _read_body(headers, receive, settings.max_body_bytes)
        except _TooLarge:
            await _refuse(send, 413, f"The request body is larger than {settings.max_body_bytes} bytes.")
            return
        version = _version(headers, scope)
        if not _json_body(headers.get("content-type"), body):
            refused = ContentTypeNotSupported("The request body must be JSON (application/json).")
            errors_in = "1.0" if requested_version(version) == "1.0" else "0.3"
            await _send(send, 200, dumps_bytes(error_response(refused, _peek_id(body), errors_in)))
            return
        requested = _extensions(headers)
        claim = StreamClaim(slots, caller.principal)
        ctx = CallContext(
            extensions=requested, last_event_id=headers.get("last-event-id"), version=version,
            principal=caller.principal, take_stream_slot=claim.take,
        )
        try:
            await _answer(scope, receive, send, headers, await dispatcher.dispatch(body, ctx), requested)
        finally:
            claim.release()  # the stream, if it was one, has ended

    async def _answer(
        scope: Scope, receive: Receive, send: Send, headers: dict[str, str], reply: Reply,
        requested: frozenset[str],
    ) -> None:
        if reply.too_many_streams:
            limit = settings.limit("max_streams")
            await _refuse(send, 429, f"Too many open streams (the limit is {limit:g} per caller).")
            return
        extra = {}
        activated = requested & known_extensions
        if activated:  # echo what we activated (extensions guide), in both header spellings
            extra["A2A-Extensions"] = extra["X-A2A-Extensions"] = ", ".join(sorted(activated))
        if reply.stream is not None:
            assert reply.frame is not None
            response = StreamingResponse(
                event_stream(reply.stream, reply.id, reply.frame),
                media_type="text/event-stream",
                headers={**_SSE_HEADERS, **extra},
            )
            await response(scope, receive, send)
        elif reply.streaming and reply.version == "0.3" and _wants_sse(headers.get("accept")):
            assert reply.body is not None
            sse = {**_SSE_HEADERS, **extra}
            await _send(send, 200, encode_error(reply.body), "text/event-stream", sse)
        else:
            await _send(send, 200, dumps_bytes(reply.body), "application/json", extra)

    async def agent_card(request: Request) -> Response:
        if request.headers.get("if-none-match") == card_headers["ETag"]:
            return Response(status_code=304, headers=card_headers)
        return Response(card_body, media_type="application/json", headers=card_headers)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            async with supervisor:
                supervisor.spawn(janitor.run(), "janitor")
                supervisor.spawn(replica.keep_leases(), "leases")
                supervisor.spawn(push.run(), "push")
                try:
                    yield
                finally:
                    await replica.stop()
        finally:
            close = getattr(runner, "aclose", None)  # optional: a runner's own resources
            if close is not None:
                await close()
            await authenticator.aclose()
            if owns_store:
                await handler.store.close()

    rpc_paths = {"/"}
    public_path = urlsplit(settings.public_url or "").path
    if public_path and public_path != "/":
        rpc_paths.add(public_path)
    routes = [Route(path, agent_card, methods=["GET"]) for path in CARD_PATHS]
    routes.append(Route("/health", health, methods=["GET"]))
    page = Page()  # the chat page (a2a_server/web): GET on the JSON-RPC paths, assets under /ui/
    routes.append(Mount(ASSET_PREFIX.rstrip("/"), app=page.assets))
    app = _A2AApp(rpc, frozenset(rpc_paths), page.index, routes=routes, lifespan=lifespan)
    app.state.handler = handler
    app.state.card = card_doc
    return app


def app_from_environment() -> Starlette:
    """The app of one of `--workers N` processes: the settings from `A2A_SERVER_*`."""
    return create_app(Settings.from_env())


def _required_extensions(settings: Settings) -> frozenset[str]:
    return frozenset(u.strip() for u in (settings.required_extensions or "").split(",") if u.strip())


def public_card(settings: Settings, runner: Runner) -> dict[str, Any]:
    """The agent card the app serves (as JSON), for these settings and this runner."""
    return card_json(_card(settings, runner), settings.card_format)


def _card(settings: Settings, runner: Runner) -> AgentCard:
    required = _required_extensions(settings)
    return build_card(
        settings,
        name=runner.name,
        description=runner.description,
        skills=runner.skills,
        extensions=[TICKETS_EXTENSION, *({"uri": u, "required": True} for u in sorted(required))],
    )


class _A2AApp(Starlette):
    """Starlette for the card, health and lifespan; requests to the JSON-RPC paths go
    straight to `rpc`, a browser's GET there gets the chat `page`, and other methods 405, as
    a route would answer."""

    def __init__(self, rpc: ASGIApp, rpc_paths: frozenset[str], page: ASGIApp, **kw: Any) -> None:
        super().__init__(**kw)
        self._rpc = rpc
        self._rpc_paths = rpc_paths
        self._page = page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] in self._rpc_paths:
            if scope["method"] == "POST":
                await self._rpc(scope, receive, send)
            elif wants_page(scope):
                await self._page(scope, receive, send)
            else:
                await _send(send, 405, b"Method Not Allowed", "text/plain", {"Allow": "POST"})
            return
        await super().__call__(scope, receive, send)


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


async def _send(
    send: Send,
    status: int,
    body: bytes,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> None:
    raw = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
        *((k.lower().encode(), v.encode()) for k, v in (headers or {}).items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


async def _refuse(send: Send, status: int, message: str, headers: dict[str, str] | None = None) -> None:
    """Refuse a request at the HTTP level (see `protocol.refusal_json`)."""
    await _send(send, status, dumps_bytes(refusal_json(status, message)), "application/json", headers)


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


def _peek_id(body: bytes) -> str | int | None:
    try:
        request = loads(body)
    except (ValueError, RecursionError):
        return None
    request_id = request.get("id") if isinstance(request, dict) else None
    return request_id if isinstance(request_id, str | int) and not isinstance(request_id, bool) else None

