"""Two server instances (as two processes would) on one SQLite file."""
from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from a2a_server import Settings, create_app
from a2a_server.runner.base import Turn
from a2a_server.runner.events import Completed, RunnerEvent, TextDelta, ToolDeferred
from a2a_server.store.base import Change
from a2a_server.store.sqlite import SQLiteStore
from tests.client import rpc, send

pytestmark = pytest.mark.anyio


class SlowAfterDefer:
    name = "slow"
    description = "slow"
    skills = ()

    def __init__(self) -> None:
        self.running: set[str] = set()
        self.overlaps: list[tuple[str, str]] = []
        self.resumes = 0

    async def run(self, turn: Turn) -> AsyncIterator[RunnerEvent]:
        kind = "resume" if turn.is_resume else "first"
        if self.running:
            self.overlaps.append((sorted(self.running)[0], kind))
        self.running.add(kind)
        try:
            if turn.is_resume:
                self.resumes += 1
                yield TextDelta("resumed")
            else:
                yield ToolDeferred("approve", "call-1", "ticket-1")
                for i in range(20):  # the turn goes on for 2 s after deferring
                    await asyncio.sleep(0.1)
                    yield TextDelta(f"t{i} ")
            yield Completed()
        finally:
            self.running.discard(kind)


@asynccontextmanager
async def app_client(runner: Any, db: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(Settings(store=f"sqlite:///{db}"), runner)
    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
            yield c


async def test_two_processes_never_run_turns_of_one_task_at_once() -> None:
    runner = SlowAfterDefer()  # shared only to observe; each app drives it independently
    with tempfile.TemporaryDirectory() as d:
        db = f"{d}/t.db"
        async with app_client(runner, db) as a, app_client(runner, db) as b:
            task = await send(a, "go", blocking=False)
            await asyncio.sleep(0.3)  # A's turn has deferred ticket-1 and goes on streaming
            reply = await rpc(b, "a2aserver.tickets/resolve", {"ticketId": "ticket-1", "output": "ok"})
            assert "result" in reply, reply
            await asyncio.sleep(3)
            final = (await rpc(a, "tasks/get", {"id": task["id"]}))["result"]
        reader = SQLiteStore(db)
        log = await reader.read(task["id"])
        await reader.close()
    kinds = [(type(f).__name__, getattr(getattr(f, "status", None), "state", None), getattr(f, "final", None)) for _, f in log]
    print("overlapping turns:", runner.overlaps, "| resume turns:", runner.resumes)
    print("final state:", final["status"]["state"], "| artifacts:", [a["parts"][0].get("text", "")[:60] for a in final.get("artifacts", [])])
    print("last frames:", kinds[-4:])
    assert runner.overlaps == [], "process B ran a resume turn while A's turn of the same task was still running"


async def test_a_surviving_process_fails_the_turn_of_a_dead_one() -> None:
    """Process A dies (SIGKILL) mid-turn; process B keeps serving the same file. B must take
    A's turn over (A is a process of this machine that is gone) and end it, not leave the
    task `working` for good."""
    import socket

    from a2a_server.mapping import agent_message, new_task
    from a2a_server.model import Status, StatusUpdate, TaskState, TextPart, new_id
    from a2a_server.runner.demo import DemoRunner

    with tempfile.TemporaryDirectory() as d:
        db = f"{d}/t.db"
        app = create_app(Settings(store=f"sqlite:///{db}", sweep_seconds=0.1), DemoRunner())
        async with app.router.lifespan_context(app):  # process B, already running
            store = SQLiteStore(db)  # process A's writes, then A is SIGKILLed
            tid, cid = new_id(), new_id()
            dead = f"{socket.gethostname()}:999999:1:x"  # a pid that is gone
            lease = await store.create(
                new_task(tid, cid, agent_message([TextPart("hi")], tid, cid)),
                principal="", owner=dead, ttl=3600,  # its lease would last an hour
            )
            await store.append(lease, Change(frames=(StatusUpdate(tid, cid, Status(TaskState.WORKING)),), turn=True))
            await store.close()
            await asyncio.sleep(1.0)  # ten sweeps of B's janitor
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
                state = (await rpc(c, "tasks/get", {"id": tid}))["result"]["status"]["state"]
    print("state after B's sweeps:", state)
    assert state == "failed", "the dead process's turn is left working until some process restarts"
