"""The HTTP edge: the Starlette app, its routes and its lifespan.

POST /             JSON-RPC, both protocol versions (also at the path of `--public-url`):
                   `endpoint.Endpoint`, a plain ASGI app in front of the routing
GET  /             the chat page (a browser's GET on the JSON-RPC paths; `web/`)
GET  /.well-known/agent-card.json  and the legacy /.well-known/agent.json
GET  /healthz      the process is up (also /health)
GET  /readyz       the store answers (503 when it does not)
GET  /metrics      Prometheus text (`metrics.py`)

With `endpoint.py` the only modules that import Starlette. Everything is built here, in
`create_app`: nothing is global to the process.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import logging
import time
from collections.abc import AsyncIterator
from email.utils import formatdate
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from a2a_server.auth import Authenticator
from a2a_server.endpoint import Endpoint, send_body
from a2a_server.extensions import TICKETS_EXTENSION, TICKETS_EXTENSION_URI
from a2a_server.handler import RequestHandler
from a2a_server.janitor import Janitor
from a2a_server.jsoncodec import dumps_bytes
from a2a_server.jsonrpc import Dispatcher
from a2a_server.logs import configure as configure_logs
from a2a_server.methods import METHODS
from a2a_server.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from a2a_server.metrics import Metrics, timed_store
from a2a_server.protocol import card_json
from a2a_server.push import PushSender
from a2a_server.push_guard import Resolver, system_resolver
from a2a_server.replica import Replica
from a2a_server.runner.base import Runner
from a2a_server.settings import Settings
from a2a_server.store.base import TaskStore, open_store
from a2a_server.supervisor import Supervisor
from a2a_server.web import ASSET_PREFIX, Page, wants_page
from agent_card import CARD_PATHS, AgentCard, build_card
from agent_card.extended import extended_card, read_extension

__all__ = ["app_from_environment", "create_app", "public_card"]

log = logging.getLogger("a2a_server")

GC_THRESHOLDS = (25_000, 20, 50)
"""The cyclic collector's thresholds in a served process (Python's are 700, 10, 10). A
request makes and frees a few hundred objects, nearly none of them in cycles (refcounting
frees them), but at 700 live allocations a young collection runs mid-request, every tenth
a middle one, and the full ones walk every live task of the memory store: measured under
W1 (`message/send`, 16 connections), a fifth of the server's CPU went to collections
that found almost nothing (about 2,000 objects in 30,000 requests), and a full one paused
the loop for 95 ms. With these, a young collection runs when 25,000 objects are alive
that were not before, which a request's own never are."""

_CARD_MAX_AGE = 300  # seconds a client may cache the card
_READY_TIMEOUT = 2.0  # seconds the store has to answer a readiness probe


def create_app(
    settings: Settings | None = None,
    runner: Runner | None = None,
    store: TaskStore | None = None,
    *,
    resolve: Resolver = system_resolver,
    own_process: bool = False,
) -> Starlette:
    """An A2A server app for `runner` (default: `settings.agent`) on `store` (default:
    `settings.store`, opened here and closed when the app stops). `resolve` looks up webhook
    host names for the SSRF guard (tests give their own). `own_process`: the app is all the
    process serves (`a2a-server serve`), so it may tune the process's garbage collector."""
    settings = settings or Settings()
    if runner is None:
        from a2a_server.runner.loader import load_runner

        runner = load_runner(settings.agent, settings)
    supervisor = Supervisor()
    metrics = Metrics()
    owns_store = store is None
    store = timed_store(store or open_store(settings.store), metrics)
    push = PushSender(store, settings, supervisor, resolve, metrics)
    replica = Replica(settings, runner, store, supervisor, on_push=push.poke, metrics=metrics)
    handler = RequestHandler(settings, replica)
    handler.resolve = resolve
    required = _required_extensions(settings)
    dispatcher = Dispatcher(handler, METHODS, required_extensions=required)
    janitor = Janitor(settings, replica)
    known_extensions = frozenset({TICKETS_EXTENSION_URI}) | required
    authenticator = Authenticator(settings)
    rpc = Endpoint(settings, dispatcher, authenticator, metrics, known_extensions)
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

    async def agent_card(request: Request) -> Response:
        if request.headers.get("if-none-match") == card_headers["ETag"]:
            return Response(status_code=304, headers=card_headers)
        return Response(card_body, media_type="application/json", headers=card_headers)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def ready(request: Request) -> Response:
        try:
            async with asyncio.timeout(_READY_TIMEOUT):
                await store.load("readyz-probe")  # an indexed read: the store answers
        except Exception as exc:  # noqa: BLE001 - whatever the store raises, it is not ready
            log.warning("readiness: the store did not answer (%s)", type(exc).__name__)
            return JSONResponse({"status": "unavailable", "store": "not answering"}, status_code=503)
        return JSONResponse({"status": "ready"})

    async def scrape(request: Request) -> Response:
        return Response(await metrics.scrape(store), media_type=METRICS_CONTENT_TYPE)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            async with supervisor:
                supervisor.spawn(janitor.run(), "janitor")
                supervisor.spawn(replica.keep_leases(), "leases")
                supervisor.spawn(push.run(), "push")
                if own_process:
                    # what start-up made lives as long as the process: out of the collector's
                    # sight, so a full collection walks only what requests made since (shorter
                    # pauses in the tail of latency)
                    gc.collect()
                    gc.freeze()
                    gc.set_threshold(*GC_THRESHOLDS)
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
    routes: list[BaseRoute] = [Route(path, agent_card, methods=["GET"]) for path in CARD_PATHS]
    routes += [Route(path, health, methods=["GET"]) for path in ("/healthz", "/health")]
    routes.append(Route("/readyz", ready, methods=["GET"]))
    routes.append(Route("/metrics", scrape, methods=["GET"]))
    page = Page()  # the chat page (a2a_server/web): GET on the JSON-RPC paths, assets under /ui/
    routes.append(Mount(ASSET_PREFIX.rstrip("/"), app=page.assets))
    app = _A2AApp(rpc, frozenset(rpc_paths), page.index, routes=routes, lifespan=lifespan)
    app.state.handler = handler
    app.state.card = card_doc
    app.state.metrics = metrics
    return app


def app_from_environment() -> Starlette:
    """The app of one of `--workers N` processes: the settings from `A2A_SERVER_*`."""
    settings = Settings.from_env()
    configure_logs(settings.log_level, settings.log_format)  # a process started afresh
    return create_app(settings, own_process=True)


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
                await send_body(send, 405, b"Method Not Allowed", "text/plain", {"Allow": "POST"})
            return
        await super().__call__(scope, receive, send)
