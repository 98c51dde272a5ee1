"""Limits per principal (issue 13 §6): requests per second (HTTP 429 with Retry-After), open
streams (429), tasks not yet ended (-32053); their defaults with and without a scheme."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from a2a_server import Settings
from a2a_server.limits import BURST_SECONDS, RateLimiter, StreamClaim, StreamSlots
from tests.client import rpc, user_message
from tests.conftest import wait_for
from tests.jwts import new_key, write_api_keys

pytestmark = pytest.mark.anyio


def test_token_bucket() -> None:
    now = [0.0]
    limiter = RateLimiter(2.0, clock=lambda: now[0])
    burst = int(2.0 * BURST_SECONDS)
    assert [limiter.admit("a") for _ in range(burst + 1)] == [None] * burst + [1]
    assert limiter.admit("b") is None, "buckets are per principal"
    now[0] += 0.5  # one token back
    assert limiter.admit("a") is None and limiter.admit("a") == 1
    now[0] += 100  # idle: the bucket is full again, never fuller
    assert [limiter.admit("a") for _ in range(burst + 1)] == [None] * burst + [1]
    slow = RateLimiter(0.1, clock=lambda: now[0])
    assert slow.admit("a") is None and slow.admit("a") == 10  # seconds until a token


def test_stream_claims_are_given_back_once() -> None:
    slots = StreamSlots(1)
    first, second = StreamClaim(slots, "a"), StreamClaim(slots, "a")
    assert first.take() and not second.take()
    first.release()
    first.release()  # twice: still one slot
    assert slots.open_streams("a") == 0 and second.take()
    StreamClaim(None, "a").release()  # no limit: nothing to give back


def test_defaults_apply_only_with_a_scheme(tmp_path: Path) -> None:
    keys = str(write_api_keys(tmp_path / "keys.txt", {"alice": new_key()}))
    open_server, locked = Settings(), Settings(api_keys=keys)
    assert [open_server.limit(n) for n in ("rate_limit", "max_streams", "max_pending_tasks")] == [None] * 3
    assert [locked.limit(n) for n in ("rate_limit", "max_streams", "max_pending_tasks")] == [50.0, 32, 1000]
    assert Settings(api_keys=keys, rate_limit=0).limit("rate_limit") is None  # 0: off
    assert Settings(max_streams=3).limit("max_streams") == 3  # set without a scheme: for everyone


async def test_rate_limit_answers_429_with_retry_after_per_principal(live_server, tmp_path: Path) -> None:
    keys = {"alice": new_key(), "bob": new_key()}
    server = live_server(api_keys=str(write_api_keys(tmp_path / "keys.txt", keys)), rate_limit=0.5)
    body = {"jsonrpc": "2.0", "id": 1, "method": "tasks/get", "params": {"id": "x"}}
    async with server.client() as client:  # 0.5/s: a burst of two
        alice = [await client.post("/", json=body, headers={"X-API-Key": keys["alice"]}) for _ in range(4)]
        bob = await client.post("/", json=body, headers={"X-API-Key": keys["bob"]})
        card = await client.get("/.well-known/agent-card.json")
    assert [r.status_code for r in alice] == [200, 200, 429, 429]
    refused = alice[2]
    assert refused.headers["retry-after"] == "2"
    assert refused.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert bob.status_code == 200 and card.status_code == 200


async def test_rate_limit_without_a_scheme_counts_everyone_as_one(live_server) -> None:
    server = live_server(rate_limit=0.25)  # a burst of one
    body = {"jsonrpc": "2.0", "id": 1, "method": "tasks/get", "params": {"id": "x"}}
    async with server.client() as one, server.client() as two:
        assert (await one.post("/", json=body)).status_code == 200
        assert (await two.post("/", json=body)).status_code == 429


@pytest.mark.parametrize("keepalive", [0.1, 60.0], ids=["keepalive-write-fails", "no-write-meanwhile"])
async def test_open_streams_are_limited_and_given_back_when_a_client_leaves(live_server, keepalive) -> None:
    # with a keep-alive a minute away, no write finds the client gone: the disconnect does
    server = live_server(max_streams=1, keepalive_seconds=keepalive)
    params = {"message": user_message("connect calendar")}
    payload = {"jsonrpc": "2.0", "id": 1, "method": "message/stream", "params": params}
    async with server.client() as first:
        async with first.stream("POST", "/", json=payload) as held:
            assert held.status_code == 200
            async for line in held.aiter_lines():
                if "auth-required" in line:
                    break  # the stream stays open, waiting for consent
            async with server.client() as second:
                again = {**payload, "params": {"message": user_message("hello")}}
                refused = await second.post("/", json=again)
                assert refused.status_code == 429 and "open streams" in refused.json()["error"]["message"]
                assert "retry-after" not in refused.headers
                unary = await rpc(second, "message/send", {"message": user_message("hello")})
                assert unary["result"]["status"]["state"] == "completed"  # only streams count
    async with server.client() as third:  # the first client left: its slot is free again

        async def opens() -> bool:
            again = {**payload, "params": {"message": user_message("hello")}}
            response = await third.post("/", json=again)
            return response.status_code == 200

        assert await wait_for(opens, timeout=5)


async def test_tasks_not_yet_ended_are_limited(live_server) -> None:
    server = live_server(max_pending_tasks=2)
    async with server.client() as client:
        waiting = [(await rpc(client, "message/send", {"message": user_message("connect calendar")}))["result"]
                   for _ in range(2)]
        refused = await rpc(client, "message/send", {"message": user_message("hello")})
        assert refused["error"]["code"] == -32053
        assert "2 tasks not yet ended" in refused["error"]["message"]
        v1 = await rpc(client, "SendMessage", {"message": {"role": "ROLE_USER", "messageId": "m1",
                                                           "parts": [{"text": "hello"}]}}, version="1.0")
        assert v1["error"]["code"] == -32053
        assert v1["error"]["data"][0]["reason"] == "TOO_MANY_PENDING_TASKS"
        # a message to a task that goes on is no new task: still served
        follow = await rpc(client, "message/send", {"message": user_message("approve", taskId=waiting[0]["id"])})
        assert follow["result"]["status"]["state"] == "completed"
        assert (await rpc(client, "message/send", {"message": user_message("hello")}))["result"]["status"]["state"] == "completed"


async def test_a_refused_request_writes_nothing(live_server, tmp_path: Path) -> None:
    keys = {"alice": new_key()}
    server = live_server(api_keys=str(write_api_keys(tmp_path / "keys.txt", keys)), rate_limit=0.25)
    alice = {"X-API-Key": keys["alice"]}
    async with server.client() as client:
        for headers in ({}, {"X-API-Key": "wrong"}, alice, alice):  # 401, 401, ok, 429
            await client.post("/", json={"jsonrpc": "2.0", "id": 1, "method": "message/send",
                                         "params": {"message": user_message("hello")}}, headers=headers)
    with sqlite3.connect(tmp_path / f"tasks-{server.port}.db") as db:  # the store itself
        assert db.execute("SELECT COUNT(*) FROM tasks").fetchone()[0] == 1
