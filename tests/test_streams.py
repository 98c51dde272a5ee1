"""Streams over real HTTP: the demo agent's every prompt, deferred tickets, keep-alives,
disconnects, cancel, resubscribe, follow-ups, ordering and concurrency."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from a2a_server.runner.conformance import ConformanceRunner
from a2a_server.runner.demo import DemoRunner
from tests.client import (
    answer_text,
    assert_stream_rules,
    chunks_text,
    rpc,
    send,
    stream,
    user_message,
)
from tests.conftest import wait_for

pytestmark = pytest.mark.anyio


def data_events(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        p["data"]
        for f in frames
        if f["kind"] == "status-update" and "message" in f["status"]
        for p in f["status"]["message"]["parts"]
        if p["kind"] == "data"
    ]


@pytest.mark.parametrize(
    ("prompt", "state", "answer"),
    [
        ("hello there", "completed", "You said: hello there"),
        ("calc 12*(3+4)", "completed", "12*(3+4) = 84"),
        ("calc 1/0", "completed", "I could not compute '1/0': division by zero."),
        ("broken tool", "completed", "The broken tool failed, as it always does; no harm done."),
        ("ask me", "input-required", ""),
        ("fail", "failed", "Trying... "),
    ],
)
async def test_demo_prompts_stream(live_server, prompt: str, state: str, answer: str) -> None:
    server = live_server()
    async with server.client() as client:
        sse = await stream(client, "message/stream", {"message": user_message(prompt)})
        frames = sse.frames
        assert_stream_rules(frames)
        assert frames[-1]["status"]["state"] == state
        assert chunks_text(frames) == answer
        seqs = [e.seq for e in sse.events]
        assert seqs == list(range(1, len(seqs) + 1))
        task = (await rpc(client, "tasks/get", {"id": frames[0]["id"]}))["result"]
        assert task["status"]["state"] == state
        assert answer_text(task) == answer


async def test_tool_events_are_working_updates_with_data_parts(live_server) -> None:
    server = live_server()
    async with server.client() as client:
        frames = (await stream(client, "message/stream", {"message": user_message("broken tool")})).frames
        events = data_events(frames)
        assert {"type": "tool_started", "toolName": "broken", "toolCallId": "call-broken"} in events
        assert any(e["type"] == "tool_completed" and e["success"] is False for e in events)
        frames = (await stream(client, "message/stream", {"message": user_message("time")})).frames
        assert any(e["type"] == "tool_completed" and e["success"] is True for e in data_events(frames))
        assert chunks_text(frames).startswith("It is ")


async def test_deferred_build_keeps_stream_open_until_it_settles(live_server) -> None:
    server = live_server(runner=DemoRunner(token_delay=0.001, build_seconds=0.5), keepalive_seconds=0.1)
    async with server.client() as client:
        sse = await stream(client, "message/stream", {"message": user_message("build website")})
        frames = sse.frames
        assert_stream_rules(frames)
        assert frames[-1]["status"]["state"] == "completed"
        assert sse.comments >= 2, "keep-alive comments while parked"
        kinds = [e["type"] for e in data_events(frames)]
        assert kinds.index("tool_deferred") < kinds.index("tool_background_resolved")
        deferred = next(f for f in frames if f.get("metadata", {}).get("a2aServer", {}).get("tickets", [{}])[0].get("state") == "pending")
        ticket_id = deferred["metadata"]["a2aServer"]["tickets"][0]["ticketId"]
        result = next(f for f in frames if f["kind"] == "artifact-update" and f["artifact"]["artifactId"] == f"ticket-{ticket_id}")
        assert result["lastChunk"] is True
        assert result["artifact"]["parts"][0]["data"]["status"] == "success"
        text = chunks_text(frames)
        assert text.startswith("Started building website (ticket ") and text.endswith("Build of website finished: success. ")
        task = (await rpc(client, "tasks/get", {"id": frames[0]["id"]}))["result"]
        assert task["status"]["state"] == "completed"
        assert "metadata" not in task or "pendingTickets" not in task["metadata"].get("a2aServer", {})


async def test_blocking_send_returns_working_task_listing_pending_tickets(live_server) -> None:
    server = live_server(runner=DemoRunner(token_delay=0.001, build_seconds=0.3))
    async with server.client() as client:
        task = await send(client, "build docs")
        assert task["status"]["state"] == "working"
        (pending,) = task["metadata"]["a2aServer"]["pendingTickets"]
        assert pending["toolName"] == "build" and pending["state"] == "pending"

        async def done() -> Any:
            t = (await rpc(client, "tasks/get", {"id": task["id"]}))["result"]
            return t if t["status"]["state"] == "completed" else None

        final = await wait_for(done)
        assert "Build of docs finished: success." in answer_text(final)
        assert any(a["artifactId"] == f"ticket-{pending['ticketId']}" for a in final["artifacts"])


async def test_non_blocking_send_returns_at_once(live_server) -> None:
    server = live_server(runner=DemoRunner(token_delay=0.05))
    async with server.client() as client:
        task = await send(client, "one two three four five six", blocking=False)
        assert task["status"]["state"] == "submitted"
        assert task["history"][0]["taskId"] == task["id"]

        async def done() -> Any:
            t = (await rpc(client, "tasks/get", {"id": task["id"]}))["result"]
            return t if t["status"]["state"] == "completed" else None

        assert answer_text(await wait_for(done)) == "You said: one two three four five six"


async def test_disconnect_does_not_cancel(live_server) -> None:
    server = live_server(runner=DemoRunner(token_delay=0.03))
    async with server.client() as client:
        words = " ".join(f"w{i}" for i in range(30))
        sse = await stream(client, "message/stream", {"message": user_message(words)}, stop_after=3)
        task_id = sse.frames[0]["id"]

        async def done() -> Any:
            t = (await rpc(client, "tasks/get", {"id": task_id}))["result"]
            return t if t["status"]["state"] == "completed" else None

        assert answer_text(await wait_for(done)) == f"You said: {words}"


async def test_cancel_a_running_stream(live_server) -> None:
    server = live_server(runner=DemoRunner(token_delay=0.05))
    async with server.client() as client, server.client() as other:
        words = " ".join(f"w{i}" for i in range(200))
        first: asyncio.Future[str] = asyncio.get_running_loop().create_future()

        def seen(event: Any) -> None:
            if not first.done():
                first.set_result(event.result["id"])

        reader = asyncio.create_task(
            stream(client, "message/stream", {"message": user_message(words)}, on_event=seen)
        )
        task_id = await asyncio.wait_for(first, 10)
        await asyncio.sleep(0.2)
        canceled = (await rpc(other, "tasks/cancel", {"id": task_id}))["result"]
        assert canceled["status"]["state"] == "canceled"
        frames = (await reader).frames
        assert_stream_rules(frames)
        assert frames[-1]["status"]["state"] == "canceled"
        assert 0 < len(chunks_text(frames)) < len(words)
        again = await rpc(other, "tasks/cancel", {"id": task_id})
        assert again["error"]["code"] == -32002


async def test_cancel_parked_task_and_blocking_send_sees_canceled(live_server) -> None:
    server = live_server(runner=ConformanceRunner())
    async with server.client() as client:
        task = await send(client, "hold this")
        assert task["status"]["state"] == "working"
        assert task["metadata"]["a2aServer"]["pendingTickets"]
        canceled = (await rpc(client, "tasks/cancel", {"id": task["id"]}))["result"]
        assert canceled["status"]["state"] == "canceled"
        assert "pendingTickets" not in canceled.get("metadata", {}).get("a2aServer", {})
        follow = await rpc(client, "message/send", {"message": user_message("more", taskId=task["id"])})
        assert follow["error"]["code"] == -32004


async def test_resubscribe_gets_task_then_live_frames(live_server) -> None:
    server = live_server(runner=DemoRunner(token_delay=0.03))
    async with server.client() as client:
        words = " ".join(f"w{i}" for i in range(20))
        task = await send(client, words, blocking=False)
        await asyncio.sleep(0.15)
        sse = await stream(client, "tasks/resubscribe", {"id": task["id"]}, request_id=99)
        frames = sse.frames
        assert frames[0]["kind"] == "task" and frames[0]["id"] == task["id"]
        assert frames[-1]["status"]["state"] == "completed" and frames[-1]["final"] is True
        assert sum(1 for f in frames if f.get("final")) == 1
        seqs = [e.seq for e in sse.events]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        # the snapshot's answer so far + the live chunks = the whole answer, nothing twice
        before = answer_text(frames[0])
        live = chunks_text(frames[1:])
        assert before + live == f"You said: {words}"


async def test_resubscribe_to_interrupted_task_follows_its_next_turn(live_server) -> None:
    """A task waiting on input-required can be subscribed to: the subscriber gets the Task,
    then, once the client answers, that turn's frames, and the stream closes at its end."""
    server = live_server()
    async with server.client() as client:
        task = await send(client, "ask me")
        seen: list[dict] = []
        reader = asyncio.create_task(stream(
            client, "tasks/resubscribe", {"id": task["id"]}, on_event=lambda e: seen.append(e.result)
        ))
        await wait_for(lambda: _async_true(seen))
        assert [f["kind"] for f in seen] == ["task"] and seen[0]["status"]["state"] == "input-required"
        await send(client, "Ada", message={"taskId": task["id"]})
        sse = await asyncio.wait_for(reader, 10)
        assert sse.frames[-1]["status"]["state"] == "completed" and sse.frames[-1]["final"] is True
        assert chunks_text(sse.frames) == "Nice to meet you, Ada!"


async def _async_true(value: object) -> bool:
    return bool(value)


async def test_input_required_then_follow_up_stream(live_server) -> None:
    server = live_server()
    async with server.client() as client:
        first = (await stream(client, "message/stream", {"message": user_message("ask me")})).frames
        assert first[-1]["status"]["state"] == "input-required"
        assert first[-1]["status"]["message"]["parts"][0]["text"] == "Happy to. What should I call you?"
        task_id, context_id = first[0]["id"], first[0]["contextId"]
        second = (await stream(client, "message/stream", {"message": user_message("Ada", taskId=task_id)})).frames
        assert_stream_rules(second)
        assert second[0]["id"] == task_id and second[0]["contextId"] == context_id
        assert [m["role"] for m in second[0]["history"]][-1] == "user"
        assert chunks_text(second) == "Nice to meet you, Ada!"
        assert second[-1]["status"]["state"] == "completed"
        task = (await rpc(client, "tasks/get", {"id": task_id}))["result"]
        texts = [p.get("text") for m in task["history"] for p in m["parts"]]
        assert texts == ["ask me", "Happy to. What should I call you?", "Ada"]
        short = (await rpc(client, "tasks/get", {"id": task_id, "historyLength": 1}))["result"]
        assert [p["text"] for m in short["history"] for p in m["parts"]] == ["Ada"]
        none = (await rpc(client, "tasks/get", {"id": task_id, "historyLength": 0}))["result"]
        assert none["history"] == []


async def test_context_memory_across_tasks(live_server) -> None:
    server = live_server()
    async with server.client() as client:
        first = await send(client, "my name is Ada")
        ctx = first["contextId"]
        second = await send(client, "what is my name", message={"contextId": ctx})
        assert second["contextId"] == ctx and second["id"] != first["id"]
        assert answer_text(second) == "Your name is Ada."
        stranger = await send(client, "what is my name")
        assert answer_text(stranger) == "You have not told me your name in this conversation."


async def test_turns_of_one_task_run_one_at_a_time_in_order(live_server) -> None:
    server = live_server(runner=ConformanceRunner())
    async with server.client() as client:
        task = await send(client, "start")
        results = await asyncio.gather(
            *(send(client, f"n{i}", message={"taskId": task["id"]}) for i in range(8))
        )
        assert all(r["status"]["state"] == "working" for r in results)
        final = (await rpc(client, "tasks/get", {"id": task["id"]}))["result"]
        asked = [m["parts"][0]["text"] for m in final["history"] if m["role"] == "user"][1:]
        answered = [answer_text({"artifacts": [a]}) for a in final["artifacts"] if a.get("name") == "answer"][1:]
        assert sorted(asked) == [f"n{i}" for i in range(8)]
        assert answered == [f"ack: {t}" for t in asked], "answers interleaved or out of order"
        await rpc(client, "tasks/cancel", {"id": task["id"]})


async def test_many_concurrent_streams(live_server) -> None:
    server = live_server(runner=DemoRunner(token_delay=0.002))
    async with server.client() as client:
        prompts = [f"stream number {i} " + "x " * 20 for i in range(40)]
        results = await asyncio.gather(
            *(stream(client, "message/stream", {"message": user_message(p)}, request_id=i) for i, p in enumerate(prompts))
        )
        for prompt, sse in zip(prompts, results, strict=True):
            assert_stream_rules(sse.frames)
            assert chunks_text(sse.frames) == f"You said: {prompt.strip()}"
