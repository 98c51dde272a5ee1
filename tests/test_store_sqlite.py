"""What only the SQLite store must show (the rest is the contract every store meets,
tests/test_store_contract.py): writes are all or nothing, the file survives reopening and
is shared, one more event costs the same at any task size, and a file of another schema
version is refused rather than misread."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from a2a_server.mapping import TurnMapper, fold
from a2a_server.mapping import new_task as _new_task
from a2a_server.model import Frame, Message, Role, Status, StatusUpdate, Task, TaskState, TextPart
from a2a_server.store.base import Change, Lease, open_store
from a2a_server.store.memory import MemoryStore
from a2a_server.store.sqlite import SQLiteStore, StoreVersionError
from a2a_server.tickets import Ticket

pytestmark = pytest.mark.anyio


def new_task(task_id: str = "t1") -> Task:
    return _new_task(task_id, "c1", Message(Role.USER, (TextPart("hi"),), "m", task_id, "c1"))


def status(state: TaskState) -> StatusUpdate:
    return StatusUpdate("t1", "c1", Status(state))


async def created(store: SQLiteStore) -> Lease:
    return await store.create(new_task(), principal="", owner="me", ttl=60)


def turn_frames(pieces: list[str]) -> list[Frame]:
    m = TurnMapper("t1", "c1")
    frames = [m.working()]
    for p in pieces:
        m.add_text(p)
        frames += m.flush()
    return frames + m.finish() + [m.end(TaskState.COMPLETED)]


async def test_a_write_is_all_or_nothing(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "t.db"))
    lease = await created(store)
    good = status(TaskState.WORKING)
    bad = StatusUpdate("t1", "c1", Status(TaskState.WORKING), metadata={"oops": object()})
    with pytest.raises(TypeError):
        await store.append(lease, Change(frames=(good, bad), tickets=(Ticket("k1", "t1", "c1", "x", "y"),)))
    assert [s for s, _ in await store.read("t1")] == [1]
    assert await store.ticket("k1") is None
    assert (await store.load("t1")).task.status.state is TaskState.SUBMITTED  # type: ignore[union-attr]
    assert (await store.append(lease, Change(frames=(good,)))).seq == 2  # and the store still works
    await store.close()


async def test_the_file_survives_reopening_and_is_shared(tmp_path: Path) -> None:
    path = str(tmp_path / "t.db")
    a, b = SQLiteStore(path), SQLiteStore(path)  # two processes' worth of connections
    lease = await created(a)
    frames = turn_frames(["x", "y"])
    await a.append(lease, Change(frames=tuple(frames), task=fold(new_task(), frames)))
    assert (await b.load("t1")).task == (await a.load("t1")).task  # type: ignore[union-attr]
    await a.close()
    await b.close()
    c = SQLiteStore(path)
    assert (await c.load("t1")).task.status.state is TaskState.COMPLETED  # type: ignore[union-attr]
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    await c.close()


async def test_a_file_of_another_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE tasks (id TEXT PRIMARY KEY)")  # what an older server left
    old.commit()
    old.close()
    with pytest.raises(StoreVersionError, match="another a2a-server version"):
        SQLiteStore(str(path))


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
        wal = Path(store.path + "-wal")
        lease = await created(store)
        m = TurnMapper("t1", "c1")

        async def one_event() -> None:
            m.add_text("tok ")
            await store.append(lease, Change(frames=tuple(m.flush() or [status(TaskState.WORKING)])))

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
    assert large_rows == small_rows  # the event's own rows, nothing that grows with the task
    assert large_bytes <= 1.25 * small_bytes
