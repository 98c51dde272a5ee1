"""What only the SQLite store must show (the rest is the contract every store meets,
tests/test_store_contract.py): writes are all or nothing, the file survives reopening and
is shared, one more event costs the same at any task size, and a file of another schema
version is refused rather than misread."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from a2a_server import Settings, create_app
from a2a_server.mapping import TurnMapper, fold
from a2a_server.mapping import new_task as _new_task
from a2a_server.model import Frame, Message, Role, Status, StatusUpdate, Task, TaskState, TextPart
from a2a_server.runner.base import Turn
from a2a_server.runner.events import Completed, RunnerEvent, TextDelta, ToolDeferred
from a2a_server.store.base import Change, Lease, open_store
from a2a_server.store.memory import MemoryStore
import a2a_server.store.sqlite as sqlite_store
from a2a_server.store.sqlite import SQLiteStore, StoreVersionError
from a2a_server.tickets import Ticket
from tests.client import rpc, send

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


class FailingCommits:
    """The store's connection, whose COMMITs fail when told to (a full disk, say)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.fail: set[int] = set()  # which COMMITs from now on fail, counting from 1
        self.commits = 0

    def execute(self, sql: str, *args: Any) -> Any:
        if sql == "COMMIT":
            self.commits += 1
            if self.commits in self.fail:
                raise sqlite3.OperationalError("database or disk is full")
        return self.db.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)


def chunk(text: str, task_id: str = "t1") -> Frame:
    m = TurnMapper(task_id, "c1")
    m.add_text(text)
    m.add_text("")
    return m.finish()[0]


async def test_a_failed_commit_is_told_to_the_writes_it_held_and_to_no_other(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "t.db"))
    conn = FailingCommits(store._db)
    store._db = conn  # type: ignore[assignment]
    a = await store.create(new_task("a"), principal="", owner="me", ttl=60)
    b = await store.create(new_task("b"), principal="", owner="me", ttl=60)

    # unwaited chunks of a: their batch fails; a's next append is told, once, then goes on
    conn.fail, conn.commits = {1}, 0
    await store.append(a, Change(frames=(chunk("x", "a"),), wait=False))
    await store.append(a, Change(frames=(chunk("y", "a"),), wait=False))  # the fast path
    await asyncio.sleep(0.01)
    with pytest.raises(sqlite3.OperationalError):
        await store.append(a, Change(frames=(chunk("z", "a"),), wait=False))
    done = await store.append(a, Change(frames=(chunk("z", "a"),)))
    assert [s for s, _ in await store.read("a")] == [1, 2] and done.seq == 2

    # an unwaited chunk and a waited write of a in one batch that fails: the waited writer
    # is told, and a's next append is not told again
    conn.fail, conn.commits = {1}, 0
    await store.append(a, Change(frames=(chunk("p", "a"),), wait=False))
    with pytest.raises(sqlite3.OperationalError):
        await store.append(a, Change(frames=(chunk("q", "a"),)))
    assert (await store.append(a, Change(frames=(chunk("q", "a"),)))).seq == 3

    # a waited write whose batch commits returns, even when the batch after it fails; the
    # write in that batch is told, and no stale failure waits for a's next append
    conn.fail, conn.commits = {2}, 0

    async def b_writes_into_the_next_batch() -> None:
        for _ in range(2):
            await asyncio.sleep(0)  # after a's batch committed, while a's writer waits on
        await store.append(b, Change(frames=(status(TaskState.WORKING),)))

    other = asyncio.create_task(b_writes_into_the_next_batch())
    first = await store.append(a, Change(frames=(chunk("w", "a"),)))
    assert first.seq == 4
    with pytest.raises(sqlite3.OperationalError):
        await other
    assert (await store.append(a, Change(frames=(chunk("v", "a"),), wait=False))).seq == 5
    await asyncio.sleep(0.01)
    assert [s for s, _ in await store.read("a")] == [1, 2, 3, 4, 5]
    assert [s for s, _ in await store.read("b")] == [1]
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
    path = tmp_path / "newer.db"
    newer = sqlite3.connect(path)
    newer.execute("CREATE TABLE tasks (id TEXT PRIMARY KEY)")  # what a later version might leave
    newer.execute("PRAGMA user_version = 99")
    newer.commit()
    newer.close()
    with pytest.raises(StoreVersionError, match="another a2a-server version"):
        SQLiteStore(str(path))


# The tables of a2a-server 0.1.0, which kept protocol 0.3 JSON (as it was released).
SCHEMA_0 = """
CREATE TABLE tasks (id TEXT PRIMARY KEY, context_id TEXT NOT NULL, state TEXT NOT NULL,
    running_owner TEXT, created_at REAL NOT NULL, ended_at REAL);
CREATE INDEX tasks_context ON tasks (context_id);
CREATE TABLE events (task_id TEXT NOT NULL, seq INTEGER NOT NULL, frame BLOB NOT NULL,
    PRIMARY KEY (task_id, seq)) WITHOUT ROWID;
CREATE TABLE snapshots (task_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, task BLOB NOT NULL);
CREATE TABLE tickets (id TEXT PRIMARY KEY, task_id TEXT NOT NULL, context_id TEXT NOT NULL,
    tool_name TEXT NOT NULL, tool_call_id TEXT NOT NULL, state TEXT NOT NULL, resume_hint TEXT,
    created_at REAL NOT NULL, deadline REAL, output BLOB, error TEXT,
    delivered INTEGER NOT NULL DEFAULT 0);
CREATE TABLE memory (id INTEGER PRIMARY KEY AUTOINCREMENT, context_id TEXT NOT NULL,
    message BLOB NOT NULL);
CREATE TABLE push_configs (task_id TEXT NOT NULL, id TEXT NOT NULL, config BLOB NOT NULL,
    created_at REAL NOT NULL, PRIMARY KEY (task_id, id));
CREATE TABLE push_outbox (id INTEGER PRIMARY KEY AUTOINCREMENT, task_id TEXT NOT NULL,
    config_id TEXT NOT NULL, body BLOB NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    due_at REAL NOT NULL DEFAULT 0);
"""


async def test_a_file_of_0_1_0_is_brought_up_to_date(tmp_path: Path) -> None:
    """Upgrading loses nothing: every row of a 0.1.0 file (0.3 JSON inside) is read back with
    the 0.3 codec; a turn it recorded as running becomes a cut turn to take over."""
    from a2a_server.jsoncodec import dumps_bytes
    from a2a_server.protocol import v0_3
    from a2a_server.store.sqlite_migrate import CUT_OWNER

    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.executescript(SCHEMA_0)
    done = turn_frames(["hel", "lo"])
    frames = [new_task(), *done]
    wire = [dumps_bytes(v0_3.frame_json(f)) for f in frames]
    old.execute("INSERT INTO tasks VALUES ('t1', 'c1', 'completed', NULL, 1.0, 2.0)")
    old.executemany("INSERT INTO events VALUES ('t1', ?, ?)", list(enumerate(wire, start=1)))
    old.execute("INSERT INTO snapshots VALUES ('t1', 1, ?)", (wire[0],))
    cut = new_task("t2")
    old.execute("INSERT INTO tasks VALUES ('t2', 'c1', 'working', 'host:1:1', 3.0, NULL)")
    old.executemany("INSERT INTO events VALUES ('t2', ?, ?)", [
        (1, dumps_bytes(v0_3.frame_json(cut))),
        (2, dumps_bytes(v0_3.frame_json(StatusUpdate("t2", "c1", Status(TaskState.WORKING))))),
    ])
    old.execute("INSERT INTO snapshots VALUES ('t2', 1, ?)", (dumps_bytes(v0_3.frame_json(cut)),))
    said = Message(Role.USER, (TextPart("my name is Ada"),), "m1", "t1", "c1")
    old.execute("INSERT INTO memory (context_id, message) VALUES ('c1', ?)", (dumps_bytes(v0_3.message_json(said)),))
    old.execute("INSERT INTO tickets VALUES ('k1', 't2', 'c1', 'build', 'call-1', 'pending', NULL, 3.0, 9e9, NULL, NULL, 0)")
    old.execute("INSERT INTO push_configs VALUES ('t2', 'default', ?, 3.0)",
                (dumps_bytes({"id": "default", "url": "https://example.com/h", "token": "t"}),))
    old.execute("INSERT INTO push_outbox (task_id, config_id, body) VALUES ('t2', 'default', ?)",
                (dumps_bytes(v0_3.task_json(cut)),))
    old.commit()
    old.close()

    store = SQLiteStore(str(path))
    first = await store.load("t1")
    assert first is not None and first.task == fold(None, frames) and first.principal == ""
    assert [f for _, f in await store.read("t1")] == frames
    assert await store.memory("", "c1") == [said]
    second = await store.load("t2")
    assert second is not None and second.turn_running and second.lease_owner == CUT_OWNER
    assert await store.leases(float("inf")) == [("t2", CUT_OWNER)]  # expired: the first sweep's
    assert [t.id for t in await store.tickets("t2")] == ["k1"]
    (config,) = await store.push_configs("t2")
    assert (config.url, config.token, config.protocol) == ("https://example.com/h", "t", "0.3")
    (delivery,) = await store.take_deliveries(now=10**10, hold=1, limit=5)
    assert delivery.config_id == "default"
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 2
    await store.close()


def test_open_store_urls(tmp_path: Path) -> None:
    assert isinstance(open_store("memory"), MemoryStore)
    s = open_store(f"sqlite:///{tmp_path}/abs.db")  # sqlite:////abs/path: absolute
    assert isinstance(s, SQLiteStore) and s.path == f"{tmp_path}/abs.db"
    os.chdir(tmp_path)
    rel = open_store("sqlite:///rel.db")
    assert isinstance(rel, SQLiteStore) and (tmp_path / "rel.db").exists()
    for bad in ("postgres://x", "sqlite://", "sqlite:///", "sqlite:///x.db?synchronous=off", "sqlite:///x.db?mode=ro"):
        with pytest.raises(ValueError):
            open_store(bad)
    # the file's durability: NORMAL (1) survives a killed process, FULL (2) a power loss too
    levels = {}
    for url in ("sqlite:///n.db", "sqlite:///f.db?synchronous=full"):
        store = open_store(url)
        assert isinstance(store, SQLiteStore)
        levels[url] = store._db.execute("PRAGMA synchronous").fetchone()[0]
    assert levels == {"sqlite:///n.db": 1, "sqlite:///f.db?synchronous=full": 2}


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


async def test_the_wal_starts_over_under_steady_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A passive checkpoint never finds a WAL that is written to all the time fully copied,
    so it never starts over: it grew by gigabytes in minutes of load. Past a size, the
    checkpoint truncates it."""
    monkeypatch.setattr(sqlite_store, "_WAL_RESET_BYTES", 256 * 1024)
    path = tmp_path / "t.db"
    store = SQLiteStore(str(path))
    stop = asyncio.Event()

    async def write() -> None:  # a new task every turn of the loop, as under load
        n = 0
        while not stop.is_set():
            n += 1
            lease = await store.create(new_task(f"t{n}"), principal="", owner="me", ttl=60)
            await store.append(lease, Change(frames=(StatusUpdate(f"t{n}", "c1", Status(TaskState.WORKING)),)))

    def wal() -> int:
        return (tmp_path / "t.db-wal").stat().st_size

    writer = asyncio.create_task(write())
    before, after = [], []
    while len(after) < 10:
        await asyncio.sleep(0.02)
        if wal() > 256 * 1024:  # written to enough to matter
            before.append(wal())
            await store.checkpoint()
            after.append(wal())
    stop.set()
    await writer
    await store.close()
    assert max(after) < min(before), (before, after)  # it started over, every time


# -- two server instances (as two processes would) on one SQLite file -----------------------


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


async def test_a_short_answer_rests_without_a_snapshot_and_reads_the_same(tmp_path: Path) -> None:
    """At rest, the Task is kept as a snapshot only once the log has grown by enough frames
    (`_SNAPSHOT_AT_REST`): a `hello` (four frames) is folded from its log when read, a
    twenty-chunk answer from its snapshot. Either way a read answers what the send did."""
    path = str(tmp_path / "t.db")
    app = create_app(Settings(agent="bench", coalesce_ms=0), store=SQLiteStore(path))
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        short, long = await send(client, "hello"), await send(client, "stream 20")
        for sent in (short, long):
            assert sent["status"]["state"] == "completed"
            got = await rpc(client, "tasks/get", {"id": sent["id"]})
            assert got["result"] == sent
    db = sqlite3.connect(path)
    kept = dict(db.execute("SELECT task_id, seq FROM snapshots").fetchall())
    frames = dict(db.execute("SELECT task_id, MAX(seq) FROM events GROUP BY task_id").fetchall())
    db.close()
    assert short["id"] not in kept and frames[short["id"]] == 4
    assert kept[long["id"]] == frames[long["id"]] == 23  # the Task, working, 20 chunks, completed
