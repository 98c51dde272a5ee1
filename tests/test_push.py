"""Push notifications against a real webhook receiver on 127.0.0.1: config methods, headers,
order and retries, a dead webhook, restarts, the SSRF guard and signing."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from a2a_server import Settings, create_app
from a2a_server.model import PushConfig
from a2a_server.push import auth_header, sign
from a2a_server.runner.conformance import ConformanceRunner
from a2a_server.runner.demo import DemoRunner
from tests.client import assert_stream_rules, rpc, send, stream, user_message
from tests.conftest import LiveServer, free_port, in_process, wait_for
from tests.procs import ServerProcess
from tests.receiver import Receiver
from tests.schema import validate, validate_result

pytestmark = pytest.mark.anyio


FAST = {"push_allow_hosts": "127.0.0.1", "push_backoff_seconds": 0.05}


def states(received: list[Any]) -> list[str]:
    return [r.task["status"]["state"] for r in received]


async def test_config_methods(receiver: tuple[Receiver, str]) -> None:
    _, url = receiver
    async with in_process(runner=ConformanceRunner(), **FAST) as client:
        task = await send(client, "hold")
        tid = task["id"]
        a = (await rpc(client, "tasks/pushNotificationConfig/set", {"taskId": tid, "pushNotificationConfig": {"url": f"{url}/a", "token": "tok"}}))["result"]
        validate("TaskPushNotificationConfig", a)
        assert a["taskId"] == tid and a["pushNotificationConfig"]["id"] == "default"
        b = (await rpc(client, "tasks/pushNotificationConfig/set", {"taskId": tid, "pushNotificationConfig": {"id": "mine", "url": f"{url}/b"}}))["result"]
        assert b["pushNotificationConfig"]["id"] == "mine"
        listed = (await rpc(client, "tasks/pushNotificationConfig/list", {"id": tid}))["result"]
        assert [c["pushNotificationConfig"]["id"] for c in listed] == [a["pushNotificationConfig"]["id"], "mine"]
        for c in listed:
            validate("TaskPushNotificationConfig", c)
        got = (await rpc(client, "tasks/pushNotificationConfig/get", {"id": tid, "pushNotificationConfigId": "mine"}))["result"]
        assert got == b
        first = (await rpc(client, "tasks/pushNotificationConfig/get", {"id": tid}))["result"]
        assert first == a  # without an id: the first config
        again = (await rpc(client, "tasks/pushNotificationConfig/set", {"taskId": tid, "pushNotificationConfig": {"url": f"{url}/a2"}}))["result"]
        assert again["pushNotificationConfig"] == {"id": "default", "url": f"{url}/a2"}  # replaced
        assert (await rpc(client, "tasks/pushNotificationConfig/get", {"id": tid, "pushNotificationConfigId": "default"}))["result"] == again
        replaced = (await rpc(client, "tasks/pushNotificationConfig/set", {"taskId": tid, "pushNotificationConfig": {"id": "mine", "url": f"{url}/c"}}))["result"]
        assert (await rpc(client, "tasks/pushNotificationConfig/get", {"id": tid, "pushNotificationConfigId": "mine"}))["result"] == replaced
        for _ in range(2):  # deleting is idempotent: gone is gone
            deleted = await rpc(client, "tasks/pushNotificationConfig/delete", {"id": tid, "pushNotificationConfigId": "mine"})
            assert deleted["result"] is None
        reply = await rpc(client, "tasks/pushNotificationConfig/get", {"id": tid, "pushNotificationConfigId": "mine"})
        assert reply["error"]["code"] == -32052 and "not found" in reply["error"]["message"]
        empty = await send(client, "another")
        assert (await rpc(client, "tasks/pushNotificationConfig/list", {"id": empty["id"]}))["result"] == []
        await rpc(client, "tasks/cancel", {"id": tid})


@pytest.mark.parametrize(
    "url",
    ["http://10.0.0.1/hook", "http://169.254.169.254/latest/meta-data", "http://localhost:8080/hook",
     "file:///etc/passwd", "http://127.0.0.1:9/hook", "http://[::1]/hook", "http://192.168.1.5/x",
     "http://[fd00:ec2::254]/", "gopher://example.com/"],
)
async def test_ssrf_guard_refuses_at_set_time(url: str) -> None:
    async with in_process(runner=ConformanceRunner()) as client:  # no allowlist
        task = await send(client, "hold")
        reply = await rpc(client, "tasks/pushNotificationConfig/set", {"taskId": task["id"], "pushNotificationConfig": {"url": url}})
        assert reply["error"]["code"] == -32602, reply
        assert "url" in reply["error"]["message"]
        inline = await rpc(client, "message/send", {"message": user_message("x"), "configuration": {"pushNotificationConfig": {"url": url}}})
        assert inline["error"]["code"] == -32602
        assert (await rpc(client, "tasks/pushNotificationConfig/list", {"id": task["id"]}))["result"] == []
        unresolvable = await rpc(client, "tasks/pushNotificationConfig/set", {"taskId": task["id"], "pushNotificationConfig": {"url": "https://hooks.invalid/x"}})
        assert "result" in unresolvable, "a name that does not resolve yet is checked at delivery"
        await rpc(client, "tasks/cancel", {"id": task["id"]})


async def test_delivery_with_token_auth_and_signature(receiver: tuple[Receiver, str]) -> None:
    r, url = receiver
    async with in_process(push_signing_secret="s3cret", **FAST) as client:
        config = {"url": f"{url}/hook", "token": "tok-1", "authentication": {"schemes": ["Bearer"], "credentials": "jwt-abc"}}
        task = await send(client, "calc 2+2", pushNotificationConfig=config)
        await wait_for(lambda: _count(r, "/hook", 2))
        got = r.at("/hook")
        assert states(got) == ["working", "completed"]
        for item in got:
            validate_result(item.task)
            assert item.task["id"] == task["id"]
            assert item.headers["x-a2a-notification-token"] == "tok-1"
            assert item.headers["authorization"] == "Bearer jwt-abc"
            assert item.headers["content-type"] == "application/json"
            t, v1 = (kv.split("=", 1)[1] for kv in item.headers["x-a2a-signature"].split(","))
            expected = hmac.new(b"s3cret", f"{t}.".encode() + item.body, hashlib.sha256).hexdigest()
            assert hmac.compare_digest(v1, expected)
        assert got[-1].task["artifacts"][0]["parts"][0]["text"] == "2+2 = 4"


async def _count(r: Receiver, path: str, n: int) -> bool:
    return len(r.at(path)) >= n


def test_auth_header_and_sign() -> None:
    def config(schemes: tuple[str, ...] = (), credentials: str | None = None) -> PushConfig:
        return PushConfig("c", "https://example.com/hook", schemes=schemes, credentials=credentials)

    assert auth_header(config()) is None
    assert auth_header(config(("Bearer",))) is None
    assert auth_header(config(("Bearer",), "t")) == "Bearer t"
    assert auth_header(config(("Basic",), "u:p")) == "Basic " + base64.b64encode(b"u:p").decode()
    assert auth_header(config(("Basic",), "dTpw")) == "Basic dTpw"
    assert sign("k", b"{}", 100) == "t=100,v1=" + hmac.new(b"k", b"100.{}", hashlib.sha256).hexdigest()


async def test_failing_receiver_gets_everything_in_order_once_back(receiver: tuple[Receiver, str]) -> None:
    r, url = receiver
    r.fail_first["/flaky"] = 4
    async with in_process(runner=DemoRunner(token_delay=0.001, build_seconds=0.2), **FAST) as client:
        task = await send(client, "build site", pushNotificationConfig={"url": f"{url}/flaky"}, blocking=False)
        await wait_for(lambda: _count(r, "/flaky", 3))
        got = r.at("/flaky")
        assert states(got) == ["working", "working", "completed"]
        settled = got[1].task
        assert "pendingTickets" not in settled.get("metadata", {}).get("a2aServer", {})
        assert any(a["artifactId"].startswith("ticket-") for a in settled["artifacts"])
        assert r.attempts["/flaky"] >= 7
        assert all(g.task["id"] == task["id"] for g in got)


async def test_dead_webhook_delays_neither_streams_nor_other_tasks(receiver: tuple[Receiver, str]) -> None:
    r, url = receiver
    r.hang.add("/dead")
    async with in_process(push_timeout_seconds=30, **FAST) as client:
        for _ in range(3):
            await send(client, "hello", pushNotificationConfig={"url": f"{url}/dead"})
        sse = await asyncio.wait_for(stream(client, "message/stream", {"message": user_message("still fast")}), 5)
        assert_stream_rules(sse.frames)
        await send(client, "calc 1+1", pushNotificationConfig={"url": f"{url}/alive"})
        await asyncio.wait_for(wait_for(lambda: _count(r, "/alive", 2)), 5)
        assert states(r.at("/alive")) == ["working", "completed"]


async def test_input_required_notifies_and_deleted_config_stops(receiver: tuple[Receiver, str]) -> None:
    r, url = receiver
    async with in_process(**FAST) as client:
        task = await send(client, "ask me", pushNotificationConfig={"id": "c1", "url": f"{url}/ask"})
        await wait_for(lambda: _count(r, "/ask", 2))
        assert states(r.at("/ask")) == ["working", "input-required"]
        await rpc(client, "tasks/pushNotificationConfig/delete", {"id": task["id"], "pushNotificationConfigId": "c1"})
        done = await send(client, "Ada", message={"taskId": task["id"]})
        assert done["status"]["state"] == "completed"
        await asyncio.sleep(0.3)
        assert states(r.at("/ask")) == ["working", "input-required"]


async def test_restart_between_state_change_and_delivery_still_delivers(tmp_path: Path) -> None:
    db = tmp_path / "tasks.db"
    hook_port = free_port()
    server = ServerProcess(db, "--push-allow-hosts", "127.0.0.1", "--push-backoff-seconds", "0.1").start()
    try:
        async with server.client() as client:
            task = await send(client, "calc 3*3", pushNotificationConfig={"url": f"http://127.0.0.1:{hook_port}/late"})
            assert task["status"]["state"] == "completed"  # nobody listens on hook_port yet
        server.kill()
    finally:
        server.stop()
    r = Receiver()
    live = LiveServer(r.app, hook_port)
    live.start()
    again = ServerProcess(db, "--push-allow-hosts", "127.0.0.1", "--push-backoff-seconds", "0.1", port=server.port).start()
    try:
        await wait_for(lambda: _count(r, "/late", 2), timeout=20)
        assert states(r.at("/late")) == ["working", "completed"]
        assert r.at("/late")[-1].task["id"] == task["id"]
    finally:
        again.stop()
        live.stop()


async def test_dns_checked_again_at_delivery(receiver: tuple[Receiver, str], caplog: pytest.LogCaptureFixture) -> None:
    """A name that did not resolve at set time passes then, and is judged at each delivery:
    once it resolves to a loopback address (not allowlisted), nothing is sent to it."""
    r, url = receiver
    port = url.rsplit(":", 1)[1]
    lookups: list[str] = []

    async def flaky_dns(host: str) -> list[str]:
        lookups.append(host)
        if len(lookups) == 1:
            raise OSError("temporary failure in name resolution")
        return ["127.0.0.1"]  # rebinding to this machine

    caplog.set_level("INFO", logger="a2a_server")
    settings = Settings(store="memory", push_backoff_seconds=0.02, push_backoff_max_seconds=0.05)
    app = create_app(settings, DemoRunner(token_delay=0.001), resolve=flaky_dns)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            task = await send(client, "hello", pushNotificationConfig={"url": f"http://hooks.example:{port}/sneaky"})
            assert task["status"]["state"] == "completed"
            await wait_for(lambda: _lookups_done(lookups, 1 + 3))
            await asyncio.sleep(0.1)
    assert r.at("/sneaky") == [] and r.attempts.get("/sneaky") is None
    assert set(lookups) == {"hooks.example"}
    assert "not allowed (loopback address 127.0.0.1)" in caplog.text  # refused, not unreachable


async def _lookups_done(lookups: list[str], n: int) -> bool:
    return len(lookups) >= n


async def test_trailing_dot_localhost_is_localhost() -> None:
    async with in_process(runner=ConformanceRunner()) as client:
        task = await send(client, "hold")
        reply = await rpc(client, "tasks/pushNotificationConfig/set", {"taskId": task["id"], "pushNotificationConfig": {"url": "http://localhost.:9/x"}})
        assert reply["error"]["code"] == -32602
        await rpc(client, "tasks/cancel", {"id": task["id"]})


async def test_demo_build_with_push_and_no_stream(receiver: tuple[Receiver, str]) -> None:
    r, url = receiver
    async with in_process(runner=DemoRunner(token_delay=0.001, build_seconds=0.3), **FAST) as client:
        task = await send(client, "build docs", pushNotificationConfig={"url": f"{url}/build", "token": "t"}, blocking=False)
        await wait_for(lambda: _count(r, "/build", 3))
        got = r.at("/build")
        assert states(got) == ["working", "working", "completed"]
        settlement = got[1].task
        (artifact,) = [a for a in settlement["artifacts"] if a["artifactId"].startswith("ticket-")]
        assert artifact["parts"][0]["data"]["status"] == "success"
        final = got[2].task
        assert final["id"] == task["id"] and final["status"]["state"] == "completed"
        assert "Build of docs finished: success." in "".join(
            p["text"] for a in final["artifacts"] if a.get("name") == "answer" for p in a["parts"]
        )


async def test_a_configs_next_notification_goes_out_as_soon_as_the_one_before(live_server, receiver: tuple[Receiver, str]) -> None:
    """Regression: on SQLite, a delivery pass that ran between a POST's end and its sender
    forgetting it claimed the config's next notification and skipped it, so it waited out
    the claim (push timeout + 5 s) before it went."""
    r, url = receiver
    server = live_server(push_allow_hosts="127.0.0.1")
    async with server.client() as client:
        await rpc(client, "message/send", {"message": user_message("hello"),
                                           "configuration": {"pushNotificationConfig": {"url": f"{url}/next"}}})

        async def both() -> bool:
            return states([x for x in r.received if x.path == "/next"]) == ["working", "completed"]

        await wait_for(both, timeout=3)


# -- regressions found in review of push.py and push_guard.py ---------------------------------


async def test_a_header_unsafe_token_is_refused_when_set(receiver) -> None:
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


async def test_delivery_connects_only_to_the_address_the_guard_checked(receiver) -> None:
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
