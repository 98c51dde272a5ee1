"""Durable tasks: resume streams with Last-Event-ID, across SIGKILL and restart, with no frame
lost or repeated; tickets that outlive the process; many streams into one SQLite file."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from a2a_server.runner.demo import DemoRunner
from tests.client import (
    assert_stream_rules,
    chunks_text,
    rpc,
    send,
    stream,
    user_message,
)
from tests.conftest import wait_for
from tests.procs import ServerProcess

pytestmark = pytest.mark.anyio


@pytest.fixture
def servers() -> Iterator[list[ServerProcess]]:
    started: list[ServerProcess] = []
    yield started
    for s in started:
        s.stop()


async def full_log(client: Any, task_id: str) -> list[tuple[int | None, dict[str, Any]]]:
    """Every frame of a task, from the start (Last-Event-ID: 0), once it has ended."""
    sse = await stream(client, "tasks/resubscribe", {"id": task_id}, headers={"Last-Event-ID": "0"})
    return [(e.seq, e.result) for e in sse.events]


async def test_resume_a_dropped_stream_with_last_event_id(live_server) -> None:
    server = live_server(runner=DemoRunner(token_delay=0.02))
    async with server.client() as client:
        words = " ".join(f"w{i}" for i in range(40))
        first = await stream(client, "message/stream", {"message": user_message(words)}, stop_after=5)
        task_id = first.frames[0]["id"]
        last_seen = first.events[-1].seq
        rest = await stream(client, "tasks/resubscribe", {"id": task_id}, headers={"Last-Event-ID": str(last_seen)})
        seqs = [e.seq for e in first.events] + [e.seq for e in rest.events]
        assert seqs == list(range(1, len(seqs) + 1)), "every frame exactly once, in order"
        frames = first.frames + rest.frames
        assert_stream_rules(frames)
        assert chunks_text(frames) == f"You said: {words}"
        assert [(e.seq, e.result) for e in first.events + rest.events] == await full_log(client, task_id)


async def test_last_event_id_on_ended_task_replays_then_closes(live_server) -> None:
    server = live_server()
    async with server.client() as client:
        task = await send(client, "calc 1+1")
        log = await full_log(client, task["id"])
        assert log[0][1]["kind"] == "task" and log[-1][1]["final"] is True
        tail = await stream(client, "tasks/resubscribe", {"id": task["id"]}, headers={"Last-Event-ID": str(log[-3][0])})
        assert [(e.seq, e.result) for e in tail.events] == log[-2:]
        nothing = await stream(client, "tasks/resubscribe", {"id": task["id"]}, headers={"Last-Event-ID": str(log[-1][0])})
        assert nothing.events == [] and nothing.comments == 1
        bad = await stream(client, "tasks/resubscribe", {"id": task["id"]}, headers={"Last-Event-ID": "x"})
        assert bad.events[0].body["error"]["code"] == -32602
        unknown = await stream(client, "tasks/resubscribe", {"id": "nope"}, headers={"Last-Event-ID": "3"})
        assert unknown.events[0].body["error"]["code"] == -32001
        no_header = await rpc(client, "tasks/resubscribe", {"id": task["id"]})
        assert no_header["error"]["code"] == -32004  # without the header, as before


async def test_sigkill_mid_stream_then_restart(tmp_path: Path, servers: list[ServerProcess]) -> None:
    db = tmp_path / "tasks.db"
    server = ServerProcess(db).start()
    servers.append(server)
    words = " ".join(f"w{i}" for i in range(300))  # the demo streams a word every 20 ms
    async with server.client() as client:
        before = await stream(client, "message/stream", {"message": user_message(words)}, stop_after=8)
    task_id = before.frames[0]["id"]
    await asyncio.sleep(0.3)  # frames the client never read are written meanwhile
    server.kill()

    again = ServerProcess(db, port=server.port).start()
    servers.append(again)
    async with again.client() as client:
        rest = await stream(client, "tasks/resubscribe", {"id": task_id}, headers={"Last-Event-ID": str(before.events[-1].seq)})
        events = before.events + rest.events
        seqs = [e.seq for e in events]
        assert seqs == list(range(1, len(seqs) + 1)), "no frame lost or repeated across the crash"
        frames = [e.result for e in events]
        assert_stream_rules(frames)
        assert len(chunks_text(frames)) > len(chunks_text(before.frames)), "written before the kill, delivered after"
        last = frames[-1]
        assert last["status"]["state"] == "failed"
        assert "the turn was lost" in last["status"]["message"]["parts"][0]["text"]
        assert [(e.seq, e.result) for e in events] == await full_log(client, task_id)
        task = (await rpc(client, "tasks/get", {"id": task_id}))["result"]
        assert task["status"]["state"] == "failed"
        assert (await send(client, "hello"))["status"]["state"] == "completed"  # still serving


async def test_sigkill_with_a_pending_ticket_then_settle_after_restart(tmp_path: Path, servers: list[ServerProcess]) -> None:
    db = tmp_path / "tasks.db"
    server = ServerProcess(db, "--agent", "conformance").start()
    servers.append(server)
    async with server.client() as client:
        task = await send(client, "hold on")
        assert task["status"]["state"] == "working"
        (pending,) = task["metadata"]["a2aServer"]["pendingTickets"]
        seen = await stream(client, "tasks/resubscribe", {"id": task["id"]}, headers={"Last-Event-ID": "0"}, stop_after=3)
    server.kill()

    again = ServerProcess(db, "--agent", "conformance", port=server.port).start()
    servers.append(again)
    async with again.client() as client:
        parked = (await rpc(client, "tasks/get", {"id": task["id"]}))["result"]
        assert parked["status"]["state"] == "working", "a parked task is not failed by a restart"
        tickets = await rpc(client, "a2aserver.tickets/list", {"taskId": task["id"], "state": "pending"})
        assert [t["ticketId"] for t in tickets["result"]] == [pending["ticketId"]]
        reader = asyncio.create_task(stream(
            client, "tasks/resubscribe", {"id": task["id"]}, headers={"Last-Event-ID": str(seen.events[-1].seq)}
        ))
        await asyncio.sleep(0.2)
        settled = await rpc(client, "a2aserver.tickets/resolve", {"ticketId": pending["ticketId"], "output": {"ok": True}})
        assert settled["result"]["state"] == "resolved"
        rest = await asyncio.wait_for(reader, 20)
        events = seen.events + rest.events
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        frames = [e.result for e in events]
        assert_stream_rules(frames)
        assert frames[-1]["status"]["state"] == "completed"
        assert f"Ticket {pending['ticketId']} settled: resolved." in chunks_text(frames)


async def test_sigkill_right_after_the_ticket_frame_keeps_the_ticket(
    tmp_path: Path, servers: list[ServerProcess]
) -> None:
    """The bug of issue 12: stream `build website`, kill the server once the ticket frame
    and the first words after it arrived (before the turn's last words). The client was told a ticket exists, so it
    must stay pending: the task parks `working` (its open answer closed as interrupted), the
    build system's later result is taken, and the task finishes, its resume turn told the
    earlier one was cut."""
    db = tmp_path / "tasks.db"
    server = ServerProcess(db).start()  # the demo: a word every 20 ms, the build 3 s
    servers.append(server)
    deferred: list[str] = []

    def saw(event: Any) -> bool:
        result = event.body.get("result", {})
        for part in (result.get("status", {}).get("message") or {}).get("parts", []):
            if part.get("kind") == "data" and part["data"].get("type") == "tool_deferred":
                deferred.append(part["data"]["ticketId"])
        return bool(deferred) and result.get("kind") == "artifact-update"

    async with server.client() as client:
        before = await stream(client, "message/stream", {"message": user_message("build website")},
                              stop_when=saw)
    server.kill()
    assert deferred, [e.result for e in before.events]
    task_id = before.frames[0]["id"]

    again = ServerProcess(db, port=server.port).start()
    servers.append(again)
    async with again.client() as client:
        async def parked() -> Any:
            t = (await rpc(client, "tasks/get", {"id": task_id}))["result"]
            return t if (t.get("metadata") or {}).get("a2aServer", {}).get("turnCut") else None

        task = await wait_for(parked)
        assert task["status"]["state"] == "working", "the turn's ticket was announced: no failure"
        assert "cut short" in task["status"]["message"]["parts"][0]["text"]
        pending = await rpc(client, "a2aserver.tickets/list", {"taskId": task_id, "state": "pending"})
        assert [t["ticketId"] for t in pending["result"]] == deferred
        result = {"target": "website", "status": "success"}
        settled = await rpc(client, "a2aserver.tickets/resolve", {"ticketId": deferred[0], "output": result})
        assert settled["result"]["state"] == "resolved"  # taken, not -32051

        async def done() -> Any:
            t = (await rpc(client, "tasks/get", {"id": task_id}))["result"]
            return t if t["status"]["state"] == "completed" else None

        final = await wait_for(done)
        log = await full_log(client, task_id)
        frames = [f for _, f in log]
        assert_stream_rules(frames)
        assert [s for s, _ in log] == list(range(1, len(log) + 1))
        interrupted = [f for f in frames if f["kind"] == "artifact-update"
                       and (f["artifact"].get("metadata") or {}).get("a2aServer", {}).get("interrupted")]
        assert len(interrupted) == 1 and interrupted[0]["lastChunk"] is True
        answer = chunks_text(frames)
        assert answer.startswith("Started") and "cut short" in answer  # what was said stays and answer.endswith("Build of website finished: success. ")
        assert "turnCut" not in (final.get("metadata") or {}).get("a2aServer", {})


async def test_restart_between_settlement_and_resume_turn_resumes(tmp_path: Path, servers: list[ServerProcess]) -> None:
    """The demo build's background work dies with the process; settled from outside after the
    restart, the task still finishes."""
    db = tmp_path / "tasks.db"
    server = ServerProcess(db).start()
    servers.append(server)
    async with server.client() as client:
        task = await send(client, "build docs")
        ticket_id = task["metadata"]["a2aServer"]["pendingTickets"][0]["ticketId"]
    server.kill()
    again = ServerProcess(db, port=server.port).start()
    servers.append(again)
    async with again.client() as client:
        await rpc(client, "a2aserver.tickets/resolve", {"ticketId": ticket_id, "output": {"target": "docs", "status": "success"}})

        async def done() -> Any:
            t = (await rpc(client, "tasks/get", {"id": task["id"]}))["result"]
            return t if t["status"]["state"] == "completed" else None

        final = await wait_for(done)
        assert "Build of docs finished: success." in "".join(
            p["text"] for a in final["artifacts"] if a.get("name") == "answer" for p in a["parts"]
        )


async def test_two_processes_share_one_file(tmp_path: Path, servers: list[ServerProcess]) -> None:
    db = tmp_path / "tasks.db"
    a = ServerProcess(db).start()
    b = ServerProcess(db, "--keepalive-seconds", "0.2").start()
    servers.extend([a, b])
    async with a.client() as ca, b.client() as cb:
        task = await send(ca, "calc 2*21")
        seen = (await rpc(cb, "tasks/get", {"id": task["id"]}))["result"]
        assert seen == task
        other = await send(cb, "calc 1+1")
        assert (await rpc(ca, "tasks/get", {"id": other["id"]}))["result"]["status"]["state"] == "completed"
        # a stream on b follows a task that a runs (through the shared log)
        slow = await send(ca, " ".join(["w"] * 60), blocking=False)
        follow = await stream(cb, "tasks/resubscribe", {"id": slow["id"]}, headers={"Last-Event-ID": "0"})
        assert follow.frames[-1]["status"]["state"] == "completed"
        assert [(e.seq, e.result) for e in follow.events] == await full_log(ca, slow["id"])
    b.stop()
    again = ServerProcess(db).start()  # b's restart must not fail a's tasks
    servers.append(again)
    async with a.client() as ca:
        assert (await send(ca, "hello"))["status"]["state"] == "completed"


async def test_fifty_concurrent_streams_into_one_file_lose_nothing(live_server) -> None:
    server = live_server(runner=DemoRunner(token_delay=0.002), coalesce_ms=0)
    async with server.client() as client:
        prompts = [f"task {i} " + "word " * 30 for i in range(50)]
        results = await asyncio.gather(
            *(stream(client, "message/stream", {"message": user_message(p)}, request_id=i) for i, p in enumerate(prompts))
        )
        for prompt, sse in zip(prompts, results, strict=True):
            assert_stream_rules(sse.frames)
            assert chunks_text(sse.frames) == f"You said: {prompt.strip()}"
            assert [(e.seq, e.result) for e in sse.events] == await full_log(client, sse.frames[0]["id"])
