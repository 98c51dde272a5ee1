"""Both task stores behave alike; SQLite writes are atomic and cost the same per event at
any task size."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from a2a_server.mapping import TurnMapper, agent_message
from a2a_server.mapping import new_task as _new_task
from a2a_server.model import Frame, Message, Role, Status, StatusUpdate, Task, TaskState, TextPart
from a2a_server.store.base import TaskStore, TicketRaced, open_store
from a2a_server.store.memory import MemoryStore
from a2a_server.store.sqlite import SQLiteStore
from a2a_server.tickets import Ticket

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["memory", "sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[TaskStore]:
    s: TaskStore = MemoryStore() if request.param == "memory" else SQLiteStore(str(tmp_path / "t.db"))
    yield s
    await s.close()


def new_task(task_id: str = "t1") -> Task:
    return _new_task(task_id, "c1", Message(Role.USER, (TextPart("hi"),), "m", task_id, "c1"))


def status(state: TaskState, final: bool = False) -> StatusUpdate:
    return StatusUpdate("t1", "c1", Status(state), final=final)


def turn_frames(task_id: str, pieces: list[str]) -> list[Frame]:
    m = TurnMapper(task_id, "c1")
    frames = [m.working()]
    for p in pieces:
        m.add_text(p)
        frames += m.flush()
    return frames + m.finish() + [m.end(TaskState.COMPLETED)]


async def test_log_and_fold(store: TaskStore) -> None:
    assert await store.create(new_task()) == 1
    frames = turn_frames("t1", ["a", "b", "c"])
    assert await store.append("t1", frames[:2]) == 3
    mid, seq = await store.snapshot("t1")  # type: ignore[misc]
    assert seq == 3 and mid.status.state is TaskState.WORKING
    assert await store.append("t1", frames[2:]) == 1 + len(frames)
    task = await store.get_task("t1")
    assert task is not None and task.status.state is TaskState.COMPLETED
    assert task.artifacts[0].parts == (TextPart("abc"),)
    log = await store.read_log("t1")
    assert [s for s, _ in log] == list(range(1, 2 + len(frames)))
    assert [f for _, f in await store.read_log("t1", after=3)] == frames[2:]
    task.status = Status(TaskState.FAILED)  # what a store returns is the caller's
    task.history.clear()
    again = await store.get_task("t1")
    assert again is not None and again.status.state is TaskState.COMPLETED and again.history
    assert await store.get_task("nope") is None and await store.snapshot("nope") is None
    assert await store.open_tasks() == []


async def test_tickets_memory_running_purge(store: TaskStore) -> None:
    await store.create(new_task())
    now = time.time()
    early = Ticket("k1", "t1", "c1", "build", "call-1", deadline=now - 1, created_at=now)
    late = Ticket("k2", "t1", "c1", "build", "call-2", deadline=now + 100, created_at=now + 0.001)
    await store.append("t1", [], [early, late])
    assert [t.id for t in await store.list_tickets("t1")] == ["k1", "k2"]  # oldest first
    assert [t.id for t in await store.due_tickets(now)] == ["k1"]
    done = late.settle("resolved", output={"n": [1, 2]})
    await store.append("t1", [], [done])
    assert await store.get_ticket("k2") == done
    assert await store.get_ticket("nope") is None

    said = [agent_message([TextPart(str(i))], "t1", "c1") for i in range(6)]
    await store.add_memory("c1", said[:5], limit=3)
    await store.add_memory("c1", said[5:], limit=3)
    assert await store.get_memory("c1") == said[3:]

    assert await store.claim_turn("t1", "host:1:1")
    assert await store.claim_turn("t1", "host:1:1")  # again, by the same process
    assert not await store.claim_turn("t1", "host:2:2")
    assert await store.running() == [("t1", "host:1:1")]
    await store.release_turn("t1", "host:2:2")  # not its claim: nothing happens
    assert await store.running() == [("t1", "host:1:1")]
    await store.release_turn("t1", "host:1:1")
    assert await store.running() == []

    raced = Ticket("k3", "t1", "c1", "x", "y", created_at=now + 0.002)
    await store.append("t1", [], [raced])
    await store.append("t1", [], [raced.settle("resolved", output=1)])
    with pytest.raises(TicketRaced):  # settling a ticket that is no longer pending
        await store.append("t1", [status(TaskState.WORKING)], [raced.settle("failed", error="e")])
    assert (await store.get_ticket("k3")).state == "resolved"  # type: ignore[union-attr]

    assert await store.open_tasks() == ["t1"]
    await store.append("t1", [status(TaskState.CANCELED, final=True)])
    assert await store.purge(time.time() - 60) == 0
    assert await store.purge(time.time() + 1) == 1
    assert await store.get_task("t1") is None and await store.get_ticket("k1") is None
    assert await store.read_log("t1") == []


async def test_sqlite_write_is_all_or_nothing(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "t.db"))
    await store.create(new_task())
    good = status(TaskState.WORKING)
    bad = StatusUpdate("t1", "c1", Status(TaskState.WORKING), metadata={"oops": object()})
    with pytest.raises(TypeError):
        await store.append("t1", [good, bad], [Ticket("k1", "t1", "c1", "x", "y")])
    assert [s for s, _ in await store.read_log("t1")] == [1]
    assert await store.get_ticket("k1") is None
    assert (await store.get_task("t1")).status.state is TaskState.SUBMITTED  # type: ignore[union-attr]
    assert await store.append("t1", [good]) == 2  # and the store still works
    await store.close()


async def test_sqlite_survives_reopen_and_is_shared(tmp_path: Path) -> None:
    path = str(tmp_path / "t.db")
    a, b = SQLiteStore(path), SQLiteStore(path)  # two processes' worth of connections
    await a.create(new_task())
    await a.append("t1", turn_frames("t1", ["x", "y"]))
    assert (await b.get_task("t1")) == (await a.get_task("t1"))
    await a.close()
    await b.close()
    c = SQLiteStore(path)
    assert (await c.get_task("t1")).status.state is TaskState.COMPLETED  # type: ignore[union-attr]
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    await c.close()


def test_open_store_urls(tmp_path: Path) -> None:
    assert isinstance(open_store("memory"), MemoryStore)
    s = open_store(f"sqlite:///{tmp_path}/abs.db")  # sqlite:////abs/path: absolute
    assert isinstance(s, SQLiteStore) and s.path == f"{tmp_path}/abs.db"
    os.chdir(tmp_path)
    rel = open_store("sqlite:///rel.db")
    assert isinstance(rel, SQLiteStore) and (tmp_path / "rel.db").exists()
    for bad in ("postgres://x", "sqlite://", "sqlite:///"):
        with pytest.raises(ValueError):
            open_store(bad)


async def test_append_cost_does_not_grow_with_the_task(tmp_path: Path) -> None:
    """Store cost per event at 10 and at 10,000 events: bytes written to the WAL and rows
    changed by one more append (each size in a fresh file, so only the task's size differs).
    Checkpoints are off while measuring, so the WAL only grows."""

    async def cost_per_event(size: int, extra: int = 50) -> tuple[float, float]:
        store = SQLiteStore(str(tmp_path / f"cost-{size}.db"))
        db = store._db
        db.execute("PRAGMA wal_autocheckpoint = 0")
        wal = Path(store.path + "-wal")
        await store.create(new_task())
        m = TurnMapper("t1", "c1")

        async def one_event() -> None:
            m.add_text("tok ")
            await store.append("t1", m.flush() or [status(TaskState.WORKING)])

        for _ in range(size - 1):
            await one_event()
        before_bytes, before_rows = wal.stat().st_size, db.total_changes
        for _ in range(extra):
            await one_event()
        cost = (wal.stat().st_size - before_bytes) / extra, (db.total_changes - before_rows) / extra
        await store.close()
        return cost

    small_bytes, small_rows = await cost_per_event(10)
    large_bytes, large_rows = await cost_per_event(10_000)
    print(f"\nstore cost per event: at 10 events {small_bytes:.0f} B, {small_rows:.1f} rows; "
          f"at 10,000 events {large_bytes:.0f} B, {large_rows:.1f} rows")
    assert large_rows == small_rows == 1  # the event's own row, nothing else
    assert large_bytes <= 1.25 * small_bytes


async def test_no_frames_after_a_task_ended(store: TaskStore) -> None:
    from a2a_server.store.base import TaskEnded

    await store.create(new_task())
    await store.append("t1", turn_frames("t1", ["x"]))
    with pytest.raises(TaskEnded):
        await store.append("t1", [status(TaskState.WORKING)])
    late = Ticket("k9", "t1", "c1", "x", "y")
    await store.append("t1", [], [late])  # tickets alone may still be written
    assert (await store.get_ticket("k9")) == late
    assert (await store.get_task("t1")).status.state is TaskState.COMPLETED  # type: ignore[union-attr]
