"""Regression tests from the review of the core: queued turns of a task that ended first,
input that cannot be encoded or parsed, stale reads with a slow store, misbehaving runners."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from a2a_server import Settings, create_app
from a2a_server.handler import CallContext
from a2a_server.calls import SendMessage, TaskRef
from a2a_server.model import ArtifactUpdate, Frame, Message, Role, StatusUpdate, TaskState, TextPart
from a2a_server.runner.base import Turn
from a2a_server.runner.conformance import ConformanceRunner
from a2a_server.runner.demo import DemoRunner, safe_eval
from a2a_server.runner.events import (
    Completed,
    RunnerEvent,
    TextDelta,
    ToolBackgroundResolved,
    ToolDeferred,
)
from a2a_server.protocol import v0_3
from a2a_server.store.base import Appended, Change, Lease, Loaded
from a2a_server.store.memory import MemoryStore
from tests.client import assert_stream_rules, rpc, send, stream, user_message
from tests.conftest import in_process
from tests.redis_server import redis_url

pytestmark = pytest.mark.anyio


def params(text: str, task_id: str | None = None, blocking: bool = True) -> SendMessage:
    message = Message(Role.USER, (TextPart(text),), uuid.uuid4().hex, task_id)
    return SendMessage(message, blocking=blocking)


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
async def test_messages_queued_behind_the_turn_that_ends_the_task_get_an_error(kind: str) -> None:
    # on Redis each store call waits for the network: three messages claiming one lease at
    # once once started one actor each, all running turns of the same task
    settings = {"store": redis_url()} if kind == "redis" else {}
    async with in_process(runner=DemoRunner(token_delay=0.01), **settings) as client:
        asked = await send(client, "ask me")
        replies = await asyncio.wait_for(asyncio.gather(
            rpc(client, "message/send", {"message": user_message("Ada", taskId=asked["id"])}, request_id=1),
            rpc(client, "message/send", {"message": user_message("Bob", taskId=asked["id"])}, request_id=2),
            stream(client, "message/stream", {"message": user_message("Cy", taskId=asked["id"])}, request_id=3),
        ), 10)
        bodies = [replies[0], replies[1], replies[2].events[-1].body if replies[2].events else {}]
        done = [b for b in bodies if "result" in b and b["result"].get("kind") in ("task", "status-update")]
        errors = [b["error"]["code"] for b in bodies if "error" in b]
        assert len(done) == 1 and errors == [-32004, -32004], bodies


async def test_cancel_rejects_queued_messages() -> None:
    async with in_process(runner=DemoRunner(token_delay=0.02)) as client:
        task = await send(client, " ".join(["w"] * 100), blocking=False)
        queued = [
            asyncio.create_task(rpc(client, "message/send", {"message": user_message(f"q{i}", taskId=task["id"])}, request_id=i))
            for i in range(3)
        ]
        queued.append(asyncio.create_task(stream(client, "message/stream", {"message": user_message("qs", taskId=task["id"])})))
        await asyncio.sleep(0.1)
        assert (await rpc(client, "tasks/cancel", {"id": task["id"]}))["result"]["status"]["state"] == "canceled"
        results = await asyncio.wait_for(asyncio.gather(*queued), 10)
        codes = [r["error"]["code"] for r in results[:3]] + [results[3].events[0].body["error"]["code"]]
        assert codes == [-32004] * 4


async def test_lone_surrogates_and_deep_nesting() -> None:
    async with in_process() as client:
        body = (b'{"jsonrpc":"2.0","id":1,"method":"message/send","params":{"message":{"role":"user",'
                b'"messageId":"m1","parts":[{"kind":"text","text":"hi \\ud800"}]}}}')
        response = await client.post("/", content=body)
        assert response.status_code == 200
        task = response.json()["result"]
        assert task["status"]["state"] == "completed"
        assert (await rpc(client, "tasks/get", {"id": task["id"]}))["result"]["artifacts"][0]["parts"][0]["text"] == "You said: hi \ud800"
        raw = await client.post("/", content=body.replace(b"message/send", b"message/stream"))
        frames = [json.loads(b[b.index("data: ") + 6:])["result"] for b in raw.text.split("\n\n") if "data: " in b]
        assert_stream_rules(frames)

        deep = b'{"jsonrpc":"2.0","id":1,"method":"tasks/get","params":' + b"[" * 100_000 + b"]" * 100_000 + b"}"
        response = await client.post("/", content=deep)
        assert response.status_code == 200 and response.json()["error"]["code"] == -32700
        response = await client.post("/", content=deep, headers={"A2A-Version": "2.0"})
        assert response.status_code == 200 and response.json()["error"]["code"] == -32700


async def test_last_event_id_past_the_log_is_refused() -> None:
    async with in_process() as client:
        task = await send(client, "hello")
        log = await stream(client, "tasks/resubscribe", {"id": task["id"]}, headers={"Last-Event-ID": "0"})
        past = await stream(client, "tasks/resubscribe", {"id": task["id"]}, headers={"Last-Event-ID": str(len(log.events) + 5)})
        assert past.events[0].body["error"]["code"] == -32602


def test_calculator_refuses_huge_results_fast() -> None:
    for expression in ("(((10**100)**100)**100)**100", "(9**99)**99", "2**100*2**100" + "*2**4000"):
        with pytest.raises(ValueError, match="too large"):
            safe_eval(expression)
    assert safe_eval("2**100") == 2**100
    assert safe_eval("-(3+4)*2/4") == -3.5
    for bad in ("__import__('os')", "1 if 1 else 2", "True + 1", "[1]"):
        with pytest.raises(ValueError):
            safe_eval(bad)


class NonTextDelta:
    name = "bad"
    description = "yields a number as text"
    skills = ()

    async def run(self, turn: Turn) -> AsyncIterator[RunnerEvent]:
        yield TextDelta("fine ")
        yield TextDelta(42)  # type: ignore[arg-type]
        yield Completed()


class NonJsonOutput:
    name = "bad-output"
    description = "settles a ticket with an object that is not JSON"
    skills = ()

    async def run(self, turn: Turn) -> AsyncIterator[RunnerEvent]:
        if turn.is_resume:
            yield TextDelta(f"{turn.settled[0].state}: {turn.settled[0].error}")
        else:
            async def work() -> AsyncIterator[ToolBackgroundResolved]:
                yield ToolBackgroundResolved("job", f"{turn.task_id}-k", object())

            yield ToolDeferred("job", "c1", f"{turn.task_id}-k", work=work)
        yield Completed()


async def test_misbehaving_runners_end_their_tasks_cleanly() -> None:
    async with in_process(runner=NonTextDelta()) as client:
        sse = await stream(client, "message/stream", {"message": user_message("go")})
        assert_stream_rules(sse.frames)
        assert sse.frames[-1]["status"]["state"] == "failed"
    async with in_process(runner=NonJsonOutput()) as client:
        sse = await stream(client, "message/stream", {"message": user_message("go")})
        assert_stream_rules(sse.frames)
        assert sse.frames[-1]["status"]["state"] == "completed"
        text = "".join(p["text"] for f in sse.frames if f["kind"] == "artifact-update" for p in f["artifact"]["parts"] if p["kind"] == "text")
        assert text == "failed: the tool's output is not JSON"


class SlowStore(MemoryStore):
    """A store whose calls really suspend, as a networked one's would."""

    async def append(self, lease: Lease, change: Change) -> Appended:
        await asyncio.sleep(0.002)
        return await super().append(lease, change)

    def append_now(self, lease: Lease, frames: tuple[Frame, ...]) -> int | None:
        return None  # every write suspends: none is taken at once


    async def load(self, task_id: str) -> Loaded | None:
        loaded = await super().load(task_id)
        await asyncio.sleep(0.03)  # read now, answered after a round trip
        return loaded


class PushConfigsRefused(MemoryStore):
    """A store that fails to keep push configs (its disk full, say)."""

    async def put_push_config(self, task_id: str, config: Any) -> None:
        raise OSError("no space left on device")


async def test_a_new_task_whose_push_config_fails_leaves_no_doorbell_behind() -> None:
    """Its actor, made with its doorbell listening, never runs: the bell is closed."""
    store = PushConfigsRefused()
    app = create_app(Settings(coalesce_ms=0, push_allow_hosts="127.0.0.1"), DemoRunner(token_delay=0), store)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            for _ in range(3):
                reply = await rpc(client, "message/send", {
                    "message": user_message("hello"),
                    "configuration": {"pushNotificationConfig": {"url": "http://127.0.0.1:9/hook"}},
                })
                assert reply["error"]["code"] == -32603 and "no space" not in json.dumps(reply)
            assert store._bells.watched() == set()  # every doorbell made was closed
            assert (await send(client, "hello"))["status"]["state"] == "completed"  # and it serves on


async def test_cancel_never_splits_a_write_with_a_slow_store() -> None:
    store = SlowStore()
    app = create_app(Settings(coalesce_ms=0), DemoRunner(token_delay=0.001), store)
    full = "You said: " + " ".join(["word"] * 40)
    async with app.router.lifespan_context(app):
        handler = app.state.handler
        for trial in range(30):
            task = await handler.send_message(params(" ".join(["word"] * 40), blocking=False), CallContext())
            await asyncio.sleep(0.01 + trial * 0.002)
            try:
                await handler.cancel_task(TaskRef(task.id), CallContext())
            except Exception:
                continue
            frames = [f for _, f in await store.read(task.id)]
            assert_stream_rules([v0_3.frame_json(f) for f in frames])
            text = "".join(
                p.text for f in frames if isinstance(f, ArtifactUpdate) for p in f.artifact.parts  # type: ignore[union-attr]
            )
            assert full.startswith(text)


class Gated:
    name = "gated"
    description = "waits for a gate on its first turn"
    skills = ()

    def __init__(self) -> None:
        self.gate = asyncio.Event()

    async def run(self, turn: Turn) -> AsyncIterator[RunnerEvent]:
        if turn.new_task:
            await self.gate.wait()
        yield TextDelta("done")
        yield Completed()


async def test_a_stale_read_cannot_revive_an_ended_task() -> None:
    store, runner = SlowStore(), Gated()
    app = create_app(Settings(), runner, store)
    async with app.router.lifespan_context(app):
        handler, ctx = app.state.handler, CallContext()
        task = await handler.send_message(params("hi", blocking=False), ctx)
        await asyncio.sleep(0.01)
        follow = asyncio.create_task(handler.send_message(params("again", task.id), ctx))
        await asyncio.sleep(0.01)  # the follow-up has read a snapshot: working ...
        runner.gate.set()          # ... and the task completes before the answer arrives
        with pytest.raises(Exception) as failure:
            await asyncio.wait_for(follow, 5)
        assert getattr(failure.value, "code", None) == -32004
        frames = [f for _, f in await store.read(task.id)]
        last = frames[-1]
        assert isinstance(last, StatusUpdate) and last.final and last.status.state is TaskState.COMPLETED


async def test_validation_names_the_field_as_the_client_wrote_it() -> None:
    async with in_process() as client:
        reply = await rpc(client, "message/send", {"message": {"role": "user", "messageId": "m", "parts": [{"kind": "text"}]}})
        assert reply["error"]["message"] == "Invalid params: message.parts.0.text is required"
        reply = await rpc(client, "message/send", {"message": {"role": "user", "messageId": "m", "parts": [{"kind": "file", "file": {}}]}})
        assert reply["error"]["message"].startswith("Invalid params: message.parts.0.file: a file must have exactly one")


async def test_parked_conformance_task_streams_end_when_canceled() -> None:
    async with in_process(runner=ConformanceRunner(), keepalive_seconds=0.05) as client:
        task = await send(client, "hold")
        reader = asyncio.create_task(stream(client, "tasks/resubscribe", {"id": task["id"]}))
        await asyncio.sleep(0.2)
        await rpc(client, "tasks/cancel", {"id": task["id"]})
        sse = await asyncio.wait_for(reader, 5)
        assert sse.comments >= 1 and sse.frames[-1]["status"]["state"] == "canceled"
        assert json.dumps(sse.frames)  # everything it sent was JSON
