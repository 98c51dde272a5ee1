"""Reviewer repros for push.py / push_guard.py."""
from __future__ import annotations

import asyncio
import time

import pytest

from a2a_server.runner.demo import DemoRunner
from tests.client import rpc, send, user_message
from tests.conftest import in_process

pytestmark = pytest.mark.anyio


async def test_a_header_unsafe_token_is_refused_when_set(receiver) -> None:  # noqa: F811
    """A token or credentials that cannot be sent as a header are refused when the config is
    set, rather than breaking every delivery later."""
    rec, url = receiver
    async with in_process(runner=DemoRunner(token_delay=0.001), push_allow_hosts="127.0.0.1") as client:
        for config in ({"url": f"{url}/hook", "token": "t\u00f6ken"},
                       {"url": f"{url}/hook", "token": "a\r\nX-Evil: 1"},
                       {"url": f"{url}/hook", "authentication": {"schemes": ["Bearer"], "credentials": "\u00e9"}},
                       {"url": "http://127.0.0.1:99999/hook"}):
            reply = await rpc(client, "message/send", {"message": user_message("hello"), "configuration": {"pushNotificationConfig": config}})
            assert reply["error"]["code"] == -32602, reply


async def test_delivery_connects_only_to_the_address_the_guard_checked(receiver) -> None:  # noqa: F811
    """DNS rebinding: the guard resolves the name once (the attacker's DNS answers a public
    address, TTL 0), then httpx resolves it again on its own and connects to what *that*
    answer says. Here the guard's lookup sees 93.184.216.34 while the host's own resolver
    (/etc/hosts: `vm` -> 127.0.0.1) sends the POST to loopback; no allowlist is set."""
    import httpx

    from a2a_server import Settings, create_app

    rec, url = receiver
    port = url.rsplit(":", 1)[1]

    async def rebinding_dns(host: str) -> list[str]:
        return ["93.184.216.34"]  # what the guard is told

    settings = Settings(store="memory", push_backoff_seconds=0.02, push_backoff_max_seconds=0.05)
    app = create_app(settings, DemoRunner(token_delay=0.001), resolve=rebinding_dns)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            task = await send(client, "hello", pushNotificationConfig={"url": f"http://vm:{port}/internal"})
            assert task["status"]["state"] == "completed"
            await asyncio.sleep(1.0)
    got = rec.at("/internal")
    print("loopback receiver got", len(got), "POSTs")
    assert got == [], "a webhook reached 127.0.0.1 although the guard only approved 93.184.216.34"


async def test_slow_webhooks_do_not_starve_other_deliveries() -> None:
    """64 webhooks that answer slowly but steadily (a byte every 0.2 s: never a read timeout)
    stay in flight past their claim's lease; from then on they fill due_deliveries' LIMIT 64
    on every pass and a healthy webhook of another task is never sent anything."""
    import asyncio as aio

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response, StreamingResponse
    from starlette.routing import Route

    from tests.conftest import LiveServer, free_port

    fast_hits: list[float] = []

    async def slow(request: Request) -> Response:
        await request.body()

        async def trickle():
            for _ in range(300):
                yield b"."
                await aio.sleep(0.2)
        return StreamingResponse(trickle())

    async def fast(request: Request) -> Response:
        await request.body()
        fast_hits.append(time.time())
        return Response(status_code=204)

    live = LiveServer(Starlette(routes=[Route("/slow/{i}", slow, methods=["POST"]), Route("/fast", fast, methods=["POST"])]), free_port())
    live.start()
    try:
        async with in_process(runner=DemoRunner(token_delay=0.0), push_allow_hosts="127.0.0.1",
                              push_timeout_seconds=0.5) as client:  # lease = 0.5 + 5 s
            for i in range(64):
                await send(client, "hi", pushNotificationConfig={"url": f"{live.url}/slow/{i}"})
            await aio.sleep(6.5)  # the slow POSTs outlive their lease
            await send(client, "hi", pushNotificationConfig={"url": f"{live.url}/fast"})
            await aio.sleep(4)
    finally:
        live.stop()
    print("healthy webhook hits within 4 s:", len(fast_hits))
    assert fast_hits, "a healthy webhook got nothing while 64 slow ones were in flight"
