"""Deferred tool tickets: settled from outside through the extension methods, idempotency,
expiry, the per-task limit, and the extension's declaration."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from a2a_server.runner.base import Turn
from a2a_server.runner.conformance import ConformanceRunner
from a2a_server.runner.events import Completed, RunnerEvent, TextDelta, ToolDeferred
from a2a_server.extensions import TICKETS_EXTENSION_URI
from tests.client import (
    answer_text,
    assert_stream_rules,
    chunks_text,
    rpc,
    send,
    stream,
    user_message,
)
from tests.conftest import in_process, wait_for
from tests.schema import validate

pytestmark = pytest.mark.anyio


async def ticket_of(client: Any, task: dict[str, Any]) -> str:
    return task["metadata"]["a2aServer"]["pendingTickets"][0]["ticketId"]  # type: ignore[no-any-return]


async def until_state(client: Any, task_id: str, state: str) -> dict[str, Any]:
    async def check() -> Any:
        t = (await rpc(client, "tasks/get", {"id": task_id}))["result"]
        return t if t["status"]["state"] == state else None

    return await wait_for(check)  # type: ignore[no-any-return]


async def test_settle_from_outside_resumes_and_streams(live_server) -> None:
    server = live_server(runner=ConformanceRunner())
    async with server.client() as client:
        task = await send(client, "deploy")
        ticket_id = await ticket_of(client, task)
        listed = (await rpc(client, "a2aserver.tickets/list", {"taskId": task["id"]}))["result"]
        assert [t["ticketId"] for t in listed] == [ticket_id]
        assert listed[0]["state"] == "pending" and listed[0]["toolName"] == "hold"
        assert listed[0]["deadline"] > listed[0]["createdAt"]
        assert (await rpc(client, "a2aserver.tickets/list", {"taskId": task["id"], "state": "resolved"}))["result"] == []

        reader = asyncio.create_task(stream(client, "tasks/resubscribe", {"id": task["id"]}))
        await asyncio.sleep(0.2)
        output = {"url": "https://example.com/build/1", "ok": True}
        resolved = (await rpc(client, "a2aserver.tickets/resolve", {"ticketId": ticket_id, "output": output}))["result"]
        assert resolved["state"] == "resolved" and resolved["output"] == output
        frames = (await asyncio.wait_for(reader, 10)).frames
        assert frames[0]["kind"] == "task"
        assert frames[-1]["status"]["state"] == "completed" and frames[-1]["final"] is True
        result = next(f for f in frames if f["kind"] == "artifact-update" and f["artifact"]["artifactId"] == f"ticket-{ticket_id}")
        assert result["artifact"]["parts"] == [{"kind": "data", "data": output}]
        assert f"Ticket {ticket_id} settled: resolved." in chunks_text(frames)

        again = await rpc(client, "a2aserver.tickets/resolve", {"ticketId": ticket_id, "output": output})
        assert again["result"] == resolved  # idempotent
        other = await rpc(client, "a2aserver.tickets/resolve", {"ticketId": ticket_id, "output": {"ok": False}})
        assert other["error"]["code"] == -32051
        failed = await rpc(client, "a2aserver.tickets/fail", {"ticketId": ticket_id, "error": "nope"})
        assert failed["error"]["code"] == -32051
        got = (await rpc(client, "a2aserver.tickets/get", {"ticketId": ticket_id}))["result"]
        assert got == resolved


async def test_fail_from_outside_and_bad_ticket_params() -> None:
    async with in_process(runner=ConformanceRunner()) as client:
        task = await send(client, "deploy")
        ticket_id = await ticket_of(client, task)
        failed = (await rpc(client, "a2aserver.tickets/fail", {"ticketId": ticket_id, "error": "CI job 42 failed"}))["result"]
        assert failed["state"] == "failed" and failed["error"] == "CI job 42 failed"
        assert (await rpc(client, "a2aserver.tickets/fail", {"ticketId": ticket_id, "error": "CI job 42 failed"}))["result"] == failed
        done = await until_state(client, task["id"], "completed")
        assert f"Ticket {ticket_id} settled: failed." in answer_text(done)
        for method, params, code in [
            ("a2aserver.tickets/get", {"ticketId": "nope"}, -32050),
            ("a2aserver.tickets/resolve", {"ticketId": "nope", "output": 1}, -32050),
            ("a2aserver.tickets/fail", {"ticketId": "nope", "error": "x"}, -32050),
            ("a2aserver.tickets/list", {"taskId": "nope"}, -32001),
            ("a2aserver.tickets/list", {"taskId": task["id"], "state": "weird"}, -32602),
            ("a2aserver.tickets/resolve", {"ticketId": ticket_id}, -32602),
            ("a2aserver.tickets/fail", {"ticketId": ticket_id, "error": ""}, -32602),
            ("a2aserver.tickets/get", {}, -32602),
        ]:
            reply = await rpc(client, method, params)
            assert reply["error"]["code"] == code, (method, params, reply)


async def test_resolving_with_null_output_is_a_result() -> None:
    async with in_process(runner=ConformanceRunner()) as client:
        task = await send(client, "deploy")
        ticket_id = await ticket_of(client, task)
        resolved = (await rpc(client, "a2aserver.tickets/resolve", {"ticketId": ticket_id, "output": None}))["result"]
        assert resolved["state"] == "resolved" and resolved["output"] is None
        await until_state(client, task["id"], "completed")


class Deferring:
    """Defers `n` tickets with no background work and a short deadline, then completes."""

    name = "deferring"
    description = "defers tickets"
    skills = ()

    def __init__(self, n: int, deadline: float | None = None) -> None:
        self.n = n
        self.deadline = deadline
        self.resumed: list[Any] = []

    async def run(self, turn: Turn) -> AsyncIterator[RunnerEvent]:
        if turn.is_resume:
            self.resumed.append(turn.settled)
            yield TextDelta(" | ".join(f"{s.ticket_id}:{s.state}" for s in turn.settled))
        else:
            for i in range(self.n):
                yield ToolDeferred("job", f"call-{i}", f"{turn.task_id}-k{i}", deadline_seconds=self.deadline)
            yield TextDelta("waiting")
        yield Completed()


async def test_expired_tickets_reach_the_runner_as_failures() -> None:
    runner = Deferring(2, deadline=0.2)
    async with in_process(runner=runner, sweep_seconds=0.05) as client:
        sse = await stream(client, "message/stream", {"message": user_message("go")})
        frames = sse.frames
        assert_stream_rules(frames)
        assert frames[-1]["status"]["state"] == "completed"
        task_id = frames[0]["id"]
        failures = [
            p["data"] for f in frames if f["kind"] == "status-update" and "message" in f["status"]
            for p in f["status"]["message"]["parts"] if p["data"].get("type") == "tool_background_failed"
        ]
        assert sorted(d["state"] for d in failures) == ["expired", "expired"]
        assert chunks_text(frames).endswith(f"{task_id}-k0:expired | {task_id}-k1:expired")
        (settled,) = runner.resumed
        assert all(s.state == "expired" and "deadline" in (s.error or "") for s in settled)


async def test_pending_ticket_limit_fails_the_extra_call_cleanly() -> None:
    async with in_process(runner=Deferring(3), max_pending_tickets=2) as client:
        task = await send(client, "go")
        assert task["status"]["state"] == "working"
        pending = task["metadata"]["a2aServer"]["pendingTickets"]
        assert [t["ticketId"] for t in pending] == [f"{task['id']}-k0", f"{task['id']}-k1"]
        tickets = (await rpc(client, "a2aserver.tickets/list", {"taskId": task["id"]}))["result"]
        extra = next(t for t in tickets if t["ticketId"].endswith("-k2"))
        assert extra["state"] == "failed" and "too many pending" in extra["error"]
        for t in pending:
            await rpc(client, "a2aserver.tickets/resolve", {"ticketId": t["ticketId"], "output": "ok"})
        done = await until_state(client, task["id"], "completed")
        assert answer_text(done).endswith(f"{task['id']}-k0:resolved | {task['id']}-k1:resolved | {task['id']}-k2:failed")


async def test_extension_is_declared_and_echoed() -> None:
    async with in_process(runner=ConformanceRunner()) as client:
        card = (await client.get("/.well-known/agent-card.json")).json()
        validate("AgentCard", card)
        (ext,) = card["capabilities"]["extensions"]
        assert ext["uri"] == TICKETS_EXTENSION_URI and ext["required"] is False
        assert "a2aserver.tickets/resolve" in ext["description"]
        body = {"jsonrpc": "2.0", "id": 1, "method": "tasks/get", "params": {"id": "x"}}
        echoed = await client.post("/", json=body, headers={"X-A2A-Extensions": f"{TICKETS_EXTENSION_URI}, urn:other"})
        assert echoed.headers["x-a2a-extensions"] == TICKETS_EXTENSION_URI
        plain = await client.post("/", json=body)
        assert "x-a2a-extensions" not in plain.headers


async def test_cancel_fails_pending_tickets_and_settling_then_conflicts() -> None:
    async with in_process(runner=ConformanceRunner()) as client:
        task = await send(client, "deploy")
        ticket_id = await ticket_of(client, task)
        await rpc(client, "tasks/cancel", {"id": task["id"]})
        got = (await rpc(client, "a2aserver.tickets/get", {"ticketId": ticket_id}))["result"]
        assert got["state"] == "failed" and "canceled" in got["error"]
        late = await rpc(client, "a2aserver.tickets/resolve", {"ticketId": ticket_id, "output": 1})
        assert late["error"]["code"] == -32051


async def test_retention_purges_ended_tasks() -> None:
    async with in_process(retention_seconds=0.1, sweep_seconds=0.05) as client:
        task = await send(client, "hello")

        async def gone() -> bool:
            return (await rpc(client, "tasks/get", {"id": task["id"]})).get("error", {}).get("code") == -32001

        await wait_for(gone)
        assert (await rpc(client, "tasks/resubscribe", {"id": task["id"]}))["error"]["code"] == -32001
