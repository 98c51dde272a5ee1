"""The SQLite task store: the default of `a2a-server serve`, surviving restarts, shared by
the processes of one machine (`--workers N`, or several servers on one file).

Layout (one file, WAL mode):

    tasks      one small row per task: state, status time, owner, its lease, its turn flag
    events     the event log, clustered by (task_id, seq): an append adds rows at the end
    snapshots  the Task as the runtime folded it, written when it rests (never per frame)
    inbox      commands waiting for the task's lease holder
    tickets    deferred tool tickets
    memory     conversation memory per principal and context
    push_configs, push_outbox   webhooks, and the notifications waiting to reach them
    feed       which task changed, for the other processes on the file to wake their watchers

Every write is all or nothing (a SAVEPOINT), and the writes made in one event-loop iteration
share one transaction (group commit: one COMMIT for many, which is what lets SQLite keep up
with concurrent streams); a writer returns only once its write is committed, so a crash
loses nothing anyone was told about, and leaves the old state or the new one, never half.
Appending an event writes its own row (and the task's small row when its status changes);
nothing whose size grows with the task is rewritten on the frame path.

Watchers in this process get its frames straight from the write (`hub.Hub`); frames other
processes write reach them through the `feed`: a poller notices that another connection
committed (`PRAGMA data_version`, every `poll_seconds`) and reads the new feed rows.

Calls run on the event loop thread: with WAL and `synchronous=NORMAL` a commit needs no
fsync, which is cheaper than a thread hop per call; checkpoints, which do fsync, run in a
worker thread (`checkpoint`). What that promises: a commit survives the process being
killed (SIGKILL, a crash: it is in the OS's page cache), and the file is never corrupt; a
power loss or a kernel crash may take the commits since the last checkpoint's fsync (the
file is then as it was before them, consistent). `sqlite:///PATH?synchronous=full` fsyncs
the WAL at every commit (one fsync per group commit), so those survive too.

A turn's text frames are not waited for by the runner (`Change.wait`): they join the open
batch, and reach watchers, in this process and others, only once it is committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import time
import uuid
from collections.abc import AsyncGenerator, Sequence
from typing import Any

from a2a_server.calls import ListTasks, TaskPage
from a2a_server.jsoncodec import dumps_bytes, loads
from a2a_server.mapping import fold
from a2a_server.model import (
    TERMINAL_STATES,
    Frame,
    Message,
    PushConfig,
    StatusUpdate,
    Task,
    TaskState,
)
from a2a_server.store.base import (
    Appended,
    Change,
    Command,
    Delivery,
    Lease,
    LeaseLost,
    Loaded,
    MemoryAdd,
    OutboxStats,
    Queued,
    StoreCounts,
    TaskEnded,
    TicketRaced,
)
from a2a_server.store.codec import (
    dump_command,
    dump_config,
    dump_frame,
    dump_message,
    dump_task,
    load_command,
    load_config,
    load_frame,
    load_message,
    load_task,
)
from a2a_server.store.hub import Bell, Hub
from a2a_server.store.paging import page_token, read_page_token
from a2a_server.store.sqlite_migrate import is_schema_0, migrate_from_0
from a2a_server.tickets import Ticket

__all__ = ["SCHEMA_VERSION", "SQLiteStore", "StoreVersionError"]


class StoreVersionError(ValueError):
    """The file was written by a version of the server with another schema."""


SCHEMA_VERSION = 2  # PRAGMA user_version of the files this store writes

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    id TEXT PRIMARY KEY,
    context_id TEXT NOT NULL,
    principal TEXT NOT NULL,
    state TEXT NOT NULL,
    status_at TEXT NOT NULL,
    created_at REAL NOT NULL,
    ended_at REAL,
    lease_owner TEXT,
    lease_token INTEGER NOT NULL DEFAULT 0,
    lease_until REAL NOT NULL DEFAULT 0,
    turn_running INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS tasks_ended ON tasks (ended_at) WHERE ended_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS tasks_listing ON tasks (principal, status_at, id);
CREATE INDEX IF NOT EXISTS tasks_context ON tasks (principal, context_id, status_at, id);
CREATE INDEX IF NOT EXISTS tasks_leases ON tasks (lease_until) WHERE lease_owner IS NOT NULL;
CREATE TABLE IF NOT EXISTS events (
    task_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    frame BLOB NOT NULL,
    PRIMARY KEY (task_id, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS snapshots (
    task_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    task BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL,
    command BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS inbox_task ON inbox (task_id, id);
CREATE TABLE IF NOT EXISTS tickets (
    id TEXT PRIMARY KEY,
    task_id TEXT NOT NULL,
    context_id TEXT NOT NULL,
    tool_name TEXT NOT NULL,
    tool_call_id TEXT NOT NULL,
    state TEXT NOT NULL,
    resume_hint TEXT,
    created_at REAL NOT NULL,
    deadline REAL,
    output BLOB,
    error TEXT,
    delivered INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS tickets_task ON tickets (task_id, created_at);
CREATE INDEX IF NOT EXISTS tickets_due ON tickets (deadline) WHERE state = 'pending';
CREATE TABLE IF NOT EXISTS memory (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    principal TEXT NOT NULL,
    context_id TEXT NOT NULL,
    message BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS memory_context ON memory (principal, context_id, id);
CREATE TABLE IF NOT EXISTS push_configs (
    task_id TEXT NOT NULL,
    id TEXT NOT NULL,
    config BLOB NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (task_id, id)
);
CREATE TABLE IF NOT EXISTS push_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL,
    config_id TEXT NOT NULL,
    body BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    due_at REAL NOT NULL DEFAULT 0,
    claimed_until REAL NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS push_outbox_config ON push_outbox (task_id, config_id, id);
CREATE TABLE IF NOT EXISTS feed (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL,
    inbox INTEGER NOT NULL,
    writer TEXT NOT NULL,
    at REAL NOT NULL
);
"""

_INSERT_EVENTS = "INSERT INTO events (task_id, seq, frame) VALUES (?, ?, ?)"
_FENCE = (  # an append's check of its lease, and what else it may need of the task
    "SELECT state, lease_owner, lease_token, (SELECT MAX(seq) FROM events WHERE task_id = ?1), "
    "EXISTS (SELECT 1 FROM push_configs WHERE task_id = ?1), "
    "EXISTS (SELECT 1 FROM inbox WHERE task_id = ?1) FROM tasks WHERE id = ?1"
)
_INSERT_TASK = (  # the columns `create` sets, then those of `_apply`'s row, in its order
    "INSERT INTO tasks (id, context_id, principal, created_at, lease_until, lease_token, state, "
    "status_at, ended_at, turn_running, lease_owner) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)"
)

_TICKET_COLUMNS = (
    "id, task_id, context_id, tool_name, tool_call_id, state, resume_hint, created_at, "
    "deadline, output, error, delivered"
)
_FEED_KEEP_SECONDS = 60.0  # a process that falls further behind than this re-reads all
_WAL_RESET_BYTES = 8 * 1024 * 1024  # a WAL larger than this is copied back whole and started over


class SQLiteStore:
    def __init__(
        self, path: str, *, busy_timeout_ms: int = 10_000, poll_seconds: float = 0.01,
        synchronous: str = "normal",
    ) -> None:
        self.path = path
        self._id = uuid.uuid4().hex  # this instance, as a writer of the feed
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        self._db.execute("PRAGMA journal_mode = WAL")
        if synchronous not in ("normal", "full"):
            raise ValueError(f"synchronous must be normal or full, not {synchronous!r}")
        self._db.execute(f"PRAGMA synchronous = {synchronous.upper()}")
        # checkpoints (the one step that fsyncs) run off the event loop: see `checkpoint`
        self._db.execute("PRAGMA wal_autocheckpoint = 0")
        self._checkpointer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        # reads go through a connection of their own: they see what is committed, never the
        # open batch, so they need not wait for it (under a steady stream of writes a batch
        # is open at almost every moment, and a read waiting for none would starve)
        self._reader = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._checkpointer.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._prepare()
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        self._db.execute("PRAGMA busy_timeout = 0")  # from now on waits are `_write`'s
        self._batch: _Batch | None = None
        self._shown: list[tuple[str, list[tuple[int, Frame]]]] = []  # the batch's unwaited frames
        # the tasks with appends in the batch nobody waits for (and the lease token that
        # wrote them); if it fails, the next append of that lease raises what failed
        self._unwaited: dict[str, int] = {}
        self._lost: dict[str, tuple[int, BaseException]] = {}
        # what the open batch already checked or wrote, for the appends that follow in it
        # (nobody else writes while it is open; cleared when it ends): a task's row as its
        # last append left it, (owner, token, state, seq); the tasks whose log it wrote (a
        # feed row each, written as it commits)
        self._held: dict[str, tuple[str, int, TaskState, int]] = {}
        self._fed: set[str] = set()
        self._rows: list[tuple[str, int, bytes]] = []  # the batch's chunks, not yet inserted
        self._hub = Hub()
        self._poll_seconds = poll_seconds
        self._poller: asyncio.Task[None] | None = None
        self._checkpointing: asyncio.Future[Any] | None = None
        self._feed_seen = self._db.execute("SELECT COALESCE(MAX(id), 0) FROM feed").fetchone()[0]

    def _prepare(self) -> None:
        """Create the schema in a new file, bring an older file up to it, refuse a file of
        another (newer) schema version."""
        db = self._db
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        if tables and version == 0 and is_schema_0(db):
            migrate_from_0(db, _SCHEMA)  # a file of a2a-server 0.1.0
        elif tables and version != SCHEMA_VERSION:
            raise StoreVersionError(
                f"{self.path} holds tasks in the format of another a2a-server version (schema "
                f"{version}, this one reads {SCHEMA_VERSION}); point --store at a new file"
            )
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # -- transactions -------------------------------------------------------------------------

    def _write(self) -> _OneWrite:
        """One write, all or nothing, inside the current batch (see `_durable`):
        `async with self._write() as db`."""
        return _OneWrite(self)

    async def _begin(self) -> None:
        """Open the batch. Another connection's write lock is waited for here,
        asynchronously: a busy wait inside SQLite would stall the event loop (and, with two
        stores of one file in one process, the very commit it waits for)."""
        delay = 0.0005
        while self._batch is None:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                await asyncio.sleep(delay)
                delay = min(delay * 2, 0.05)
                continue
            self._batch = _Batch()
            asyncio.get_running_loop().call_soon(self._commit)

    def _commit(self) -> None:
        """Group commit: the writes of one event-loop iteration share one COMMIT. Their
        frames reach this process's watchers once it is done, never before."""
        if self._batch is None:
            return
        try:
            if self._rows:
                self._db.executemany(_INSERT_EVENTS, self._rows)
                self._rows = []
            if self._fed:  # one feed row per task whose log this batch wrote, in one call
                at = time.time()
                self._db.executemany(
                    "INSERT INTO feed (task_id, inbox, writer, at) VALUES (?, 0, ?, ?)",
                    [(task_id, self._id, at) for task_id in self._fed],
                )
            self._db.execute("COMMIT")
        except BaseException as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            self._batch_lost(exc)
            return
        batch, self._batch = self._batch, None
        shown, self._shown = self._shown, []
        self._unwaited.clear()
        self._held.clear()
        self._fed.clear()
        for task_id, frames in shown:
            self._hub.frames(task_id, frames)
        batch.end(None)

    def _batch_lost(self, exc: BaseException) -> None:
        """The open batch will never commit: its writers are told (`_durable`), the tasks
        whose appends nobody waited for are told at their next append, what the batch
        remembered is forgotten, and the next write begins a batch of its own."""
        batch, self._batch = self._batch, None
        self._shown = []
        self._rows = []
        for task_id, token in self._unwaited.items():
            self._lost[task_id] = (token, exc)
        self._unwaited.clear()
        self._held.clear()
        self._fed.clear()
        if batch is not None:
            batch.end(exc)

    def _insert_rows(self) -> None:
        """Insert the chunks the batch holds (`append_now`), all of them or, failing,
        none: the batch is then lost, as a failed COMMIT loses it."""
        rows, self._rows = self._rows, []
        try:
            self._db.executemany(_INSERT_EVENTS, rows)
        except BaseException as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            self._batch_lost(exc)
            raise

    async def _durable(self) -> None:
        """Wait until what this connection wrote is committed: writers call it before
        returning (nothing is reported done before it is on disk); raises the failure of
        their batch (the one open when it is called), never of another. (It used to wait
        for the next batch too, once, when writers that came meanwhile had opened one: a
        closed-loop load shares commits more so, 5 % less CPU per `message/send`, but every
        writer under load waited a commit longer: a non-blocking send's p99 under streams
        was 41-52 ms with that wait, 17-34 without.)"""
        mine = self._batch
        if mine is None:
            return
        await mine.wait()
        if mine.failure is not None:
            raise mine.failure

    def _ring_feed(self, db: sqlite3.Connection, task_id: str) -> None:
        """A feed row saying a command was queued for the task (the rows saying its log
        grew are written as the batch commits: one per task, see `_commit`)."""
        db.execute(
            "INSERT INTO feed (task_id, inbox, writer, at) VALUES (?, 1, ?, ?)",
            (task_id, self._id, time.time()),
        )

    # -- the log and its lease ----------------------------------------------------------------

    async def create(
        self, task: Task, *, principal: str, owner: str, ttl: float, then: Change | None = None
    ) -> Lease:
        body = dump_task(task)
        lease = Lease(task.id, owner, 1)
        row: dict[str, Any] = {
            "state": task.status.state.value, "status_at": task.status.timestamp, "ended_at": None,
            "turn_running": 0, "lease_owner": owner,
        }
        async with self._write() as db:
            db.execute("INSERT INTO events (task_id, seq, frame) VALUES (?, 1, ?)", (task.id, body))
            if then is not None:
                row.update(self._apply(db, lease, then, task.status.state, 1)[2])
            # the row once, as `then` leaves it (not written, then updated: four indexes each)
            now = time.time()
            db.execute(_INSERT_TASK, (task.id, task.context_id, principal, now, now + ttl, *row.values()))
        # no feed row: nobody in another process watches a task before it is made (its id is
        # told once this returns, committed), and a watcher reads the log before it waits
        await self._durable()
        return lease

    async def append(self, lease: Lease, change: Change) -> Appended:
        frames = change.frames
        lost = self._lost.pop(lease.task_id, None)
        if lost is not None and lost[0] == lease.token:
            raise lost[1]  # an earlier append of this lease, unwaited, was never committed
        if not change.wait and change.frames_only:
            now = self.append_now(lease, frames)
            if now is not None:
                return Appended(now)
        async with self._write() as db:
            held = self._held.get(lease.task_id)
            known: tuple[bool, bool] | None = None
            if held is not None and held[0] == lease.owner and held[1] == lease.token:
                before, seq = held[2], held[3]  # checked by an earlier append of this batch
            else:
                # the lease's check, and in the same read what `_apply` would ask next: has
                # the task webhooks, do commands wait (nothing writes between the two)
                row = db.execute(_FENCE, (lease.task_id,)).fetchone()
                if row is None or row[1] != lease.owner or row[2] != lease.token:
                    raise LeaseLost(lease.task_id)
                before, seq, known = TaskState(row[0]), row[3], (bool(row[4]), bool(row[5]))
            if frames and before in TERMINAL_STATES:
                raise TaskEnded(lease.task_id, before)
            first = seq + 1
            done, state, row = self._apply(db, lease, change, before, seq, known)
            if row:
                sets = ", ".join(f"{column} = ?" for column in row)
                db.execute(f"UPDATE tasks SET {sets} WHERE id = ?", (*row.values(), lease.task_id))
        if done.released:
            self._held.pop(lease.task_id, None)
        else:
            self._held[lease.task_id] = (lease.owner, lease.token, state, done.seq)
        if frames:
            self._fed.add(lease.task_id)
        shown = list(enumerate(frames, start=first))
        if not change.wait:  # its frames go out with the commit
            self._unwaited[lease.task_id] = lease.token
            if shown:
                self._shown.append((lease.task_id, shown))
            return done
        mine = self._batch
        try:
            await self._durable()
        except asyncio.CancelledError:  # the writer is stopped, its write goes on: so do its frames
            if shown and mine is not None:
                if not mine.ended:
                    self._shown.append((lease.task_id, shown))  # out with the commit
                elif mine.failure is None:
                    self._hub.frames(lease.task_id, shown)
            raise
        except Exception:
            self._lost.pop(lease.task_id, None)  # this writer is told: nobody else need be
            raise
        if shown:  # after the wait: the writer goes on (ends the task, lets the lease go)
            self._hub.frames(lease.task_id, shown)  # before a watcher sees what it wrote
        return done

    def _apply(
        self, db: sqlite3.Connection, lease: Lease, change: Change, before: TaskState, seq: int,
        known: tuple[bool, bool] | None = None,
    ) -> tuple[Appended, TaskState, dict[str, Any]]:
        """The writes of a change but the task's row (its lease checked; the log's last
        frame is `seq`, the task's state `before`; `known`, when the lease's check read them:
        whether the task has push configs, whether commands wait in its inbox): what the
        append returns, the task's state after it, and the columns of its row the change
        sets."""
        state, status_at = before, None
        rows = []
        for frame in change.frames:
            seq += 1
            rows.append((lease.task_id, seq, dump_frame(frame)))
            if type(frame) is StatusUpdate or type(frame) is Task:
                state, status_at = frame.status.state, frame.status.timestamp  # type: ignore[union-attr]
        if rows:
            db.executemany(_INSERT_EVENTS, rows)
        if change.task is not None and change.keep:
            db.execute(
                "INSERT INTO snapshots (task_id, seq, task) VALUES (?, ?, ?) ON CONFLICT "
                "(task_id) DO UPDATE SET seq = excluded.seq, task = excluded.task",
                (lease.task_id, seq, dump_task(change.task)),
            )
        for ticket in change.tickets:
            self._save_ticket(db, ticket)
        if change.memory is not None:
            self._add_memory(db, change.memory)
        queued = 0
        if change.notify and change.task is not None and (known is None or known[0]):
            queued = self._queue_notifications(db, lease.task_id, change.task)
        if change.consumed:
            db.executemany("DELETE FROM inbox WHERE id = ?", [(i,) for i in change.consumed])
            known = None  # the inbox, read before these went, is to be read again
        if not change.release:
            released = False
        elif known is not None:
            released = not known[1]
        else:
            released = not db.execute(
                "SELECT 1 FROM inbox WHERE task_id = ? LIMIT 1", (lease.task_id,)
            ).fetchone()
        # what the task's row becomes (the caller writes it, once): its status (most frames,
        # text chunks, leave it alone), the turn's mark, the lease let go
        row: dict[str, Any] = {}
        if status_at is not None:
            row["state"], row["status_at"] = state.value, status_at
            row["ended_at"] = time.time() if state in TERMINAL_STATES else None
        if change.turn is not None:
            row["turn_running"] = int(change.turn)
        if released:
            row["lease_owner"] = None
        return Appended(seq, bool(released), queued), state, row

    def append_now(self, lease: Lease, frames: tuple[Frame, ...]) -> int | None:
        """The append a streamed answer makes most, into a batch that already checked the
        lease: frames that leave the task's row alone, kept for the batch's one insert of its
        chunks (no statement of their own, no savepoint, no read), shown with its commit."""
        task_id = lease.task_id
        held = self._held.get(task_id)
        if len(frames) == 1:  # most often one chunk: looked at as it is, not by a generator
            kind = type(frames[0])
            moves_row = kind is StatusUpdate or kind is Task
        else:
            moves_row = not frames or any(type(f) is StatusUpdate or type(f) is Task for f in frames)
        if (
            moves_row or self._batch is None or held is None
            or held[0] != lease.owner or held[1] != lease.token
            or held[2] in TERMINAL_STATES or task_id in self._lost
        ):
            return None
        first = held[3] + 1
        # inserted with the batch's other chunks in one call, before its next other write
        # or its COMMIT (`_insert_rows`); most often one chunk (no comprehension for it)
        if len(frames) == 1:
            shown = [(first, frames[0])]
            self._rows.append((task_id, first, dump_frame(frames[0])))
        else:
            shown = list(enumerate(frames, start=first))
            self._rows += [(task_id, seq, dump_frame(frame)) for seq, frame in shown]
        seq = first + len(frames) - 1
        self._held[task_id] = (held[0], held[1], held[2], seq)
        self._fed.add(task_id)
        self._unwaited[task_id] = lease.token
        last = self._shown[-1] if self._shown else None
        if last is not None and last[0] == task_id:  # the answer goes on: one batch for its watchers
            last[1].extend(shown)
        else:
            self._shown.append((task_id, shown))
        return seq

    async def submit(
        self, task_id: str, command: Command, *, owner: str, ttl: float
    ) -> tuple[int, Lease | None]:
        async with self._write() as db:
            command_id = db.execute(
                "INSERT INTO inbox (task_id, command) VALUES (?, ?)", (task_id, dump_command(command))
            ).lastrowid
            self._ring_feed(db, task_id)
            lease = self._claim(db, task_id, owner, ttl)
        await self._durable()
        self._hub.ring(task_id)
        assert command_id is not None
        return command_id, lease

    async def claim(
        self, task_id: str, *, owner: str, ttl: float, dead: str | None = None
    ) -> Lease | None:
        async with self._write() as db:
            lease = self._claim(db, task_id, owner, ttl, dead)
        await self._durable()
        return lease

    def _claim(
        self, db: sqlite3.Connection, task_id: str, owner: str, ttl: float, dead: str | None = None
    ) -> Lease | None:
        now = time.time()
        self._held.pop(task_id, None)
        row = db.execute(
            "UPDATE tasks SET lease_token = lease_token + (lease_owner IS NOT ?), "
            "lease_owner = ?, lease_until = ? WHERE id = ? AND ended_at IS NULL AND "
            "(lease_owner IS NULL OR lease_owner = ? OR lease_owner = ? OR lease_until <= ?) "
            "RETURNING lease_token",
            (owner, owner, now + ttl, task_id, owner, dead, now),
        ).fetchone()
        return None if row is None else Lease(task_id, owner, row[0])

    async def renew(self, leases: Sequence[Lease], ttl: float) -> list[Lease]:
        if not leases:
            return []
        until = time.time() + ttl
        lost = []
        async with self._write() as db:
            for lease in leases:
                kept = db.execute(
                    "UPDATE tasks SET lease_until = ? WHERE id = ? AND lease_owner = ? AND lease_token = ?",
                    (until, lease.task_id, lease.owner, lease.token),
                ).rowcount
                if not kept:
                    lost.append(lease)
        await self._durable()
        return lost

    async def inbox(self, task_id: str, after: int = 0) -> list[Queued]:
        rows = self._reader.execute(
            "SELECT id, command FROM inbox WHERE task_id = ? AND id > ? ORDER BY id", (task_id, after)
        ).fetchall()
        return [Queued(r[0], load_command(r[1])) for r in rows]

    async def leases(self, expiring_by: float) -> list[tuple[str, str]]:
        rows = self._reader.execute(
            "SELECT id, lease_owner FROM tasks WHERE lease_owner IS NOT NULL AND lease_until <= ?",
            (expiring_by,),
        ).fetchall()
        return [(r[0], r[1]) for r in rows]

    # -- following a log ----------------------------------------------------------------------

    async def read(self, task_id: str, after: int = 0) -> list[tuple[int, Frame]]:
        rows = self._reader.execute(
            "SELECT seq, frame FROM events WHERE task_id = ? AND seq > ? ORDER BY seq",
            (task_id, after),
        ).fetchall()
        return [(seq, load_frame(frame)) for seq, frame in rows]

    def watch(
        self, task_id: str, after: int, idle: float | None = None
    ) -> AsyncGenerator[list[tuple[int, Frame]], None]:
        self._poll()
        return self._hub.follow(self.read, task_id, after, idle)

    async def doorbell(self, task_id: str) -> Bell:
        self._poll()
        return self._hub.bell(task_id)

    def _poll(self) -> None:
        if self._poller is None or self._poller.done():
            self._poller = asyncio.get_running_loop().create_task(self._poll_feed(), name="sqlite-feed")

    async def _poll_feed(self) -> None:
        """Wake this process's watchers for what other processes wrote."""
        reader = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            version = reader.execute("PRAGMA data_version").fetchone()[0]
            while True:
                await asyncio.sleep(self._poll_seconds)
                now = reader.execute("PRAGMA data_version").fetchone()[0]
                if now == version or not self._hub.watched():
                    version = now
                    continue
                version = now
                rows = reader.execute(
                    "SELECT id, task_id, inbox FROM feed WHERE id > ? AND writer != ? ORDER BY id",
                    (self._feed_seen, self._id),
                ).fetchall()
                last = reader.execute("SELECT COALESCE(MAX(id), 0) FROM feed").fetchone()[0]
                self._feed_seen = max(self._feed_seen, last)
                for _, task_id, inbox in rows:
                    if inbox:
                        self._hub.ring(task_id)
                    else:
                        self._hub.poke(task_id)
        finally:
            reader.close()

    # -- reads --------------------------------------------------------------------------------

    async def load(self, task_id: str) -> Loaded | None:
        db = self._reader
        db.execute("BEGIN")  # one read transaction: the row, the snapshot and its tail agree
        try:
            row = db.execute(
                "SELECT principal, turn_running, lease_owner FROM tasks WHERE id = ?", (task_id,)
            ).fetchone()
            if row is None:
                return None
            task, seq = self._fold(db, task_id)
        finally:
            db.execute("COMMIT")
        return Loaded(task, seq, row[0], bool(row[1]), row[2])

    @staticmethod
    def _fold(db: sqlite3.Connection, task_id: str) -> tuple[Task, int]:
        """The task from its snapshot and the frames after it; a task that never rested
        has no snapshot yet: from its first frame, the Task as it was made."""
        snapshot = db.execute("SELECT seq, task FROM snapshots WHERE task_id = ?", (task_id,)).fetchone()
        snap_seq, start = (snapshot[0], load_task(snapshot[1])) if snapshot is not None else (0, None)
        rows = db.execute(
            "SELECT seq, frame FROM events WHERE task_id = ? AND seq > ? ORDER BY seq",
            (task_id, snap_seq),
        ).fetchall()
        task = fold(start, (load_frame(frame) for _, frame in rows))
        return task, rows[-1][0] if rows else snap_seq

    async def counts(self) -> StoreCounts:
        db = self._reader
        tasks = dict(db.execute("SELECT state, COUNT(*) FROM tasks GROUP BY state").fetchall())
        pending = db.execute("SELECT COUNT(*) FROM tickets WHERE state = 'pending'").fetchone()[0]
        return StoreCounts(tasks, int(pending))

    async def open_tasks(self, principal: str) -> int:
        row = self._reader.execute(
            "SELECT COUNT(*) FROM tasks WHERE principal = ? AND ended_at IS NULL", (principal,)
        ).fetchone()
        return int(row[0])

    async def list_tasks(self, query: ListTasks, principal: str) -> TaskPage:
        """A page of `principal`'s tasks, newest status first, through the listing indexes."""
        where, args = ["principal = ?"], [principal]
        if query.context_id is not None:
            where.append("context_id = ?")
            args.append(query.context_id)
        if query.status is not None:
            where.append("state = ?")
            args.append(query.status.value)
        if query.status_timestamp_after is not None:
            where.append("status_at >= ?")
            args.append(query.status_timestamp_after)
        db = self._reader
        db.execute("BEGIN")  # one read transaction: the count, the page and its tasks agree
        try:
            total = db.execute(f"SELECT COUNT(*) FROM tasks WHERE {' AND '.join(where)}", args)
            total_size = total.fetchone()[0]
            if query.page_token:
                at, last_id = read_page_token(query.page_token)
                where.append("(status_at < ? OR (status_at = ? AND id < ?))")
                args += [at, at, last_id]
            rows = db.execute(
                f"SELECT id, status_at FROM tasks WHERE {' AND '.join(where)} "
                "ORDER BY status_at DESC, id DESC LIMIT ?",
                (*args, query.page_size + 1),
            ).fetchall()
            page = rows[: query.page_size]
            tasks = [self._fold(db, task_id)[0] for task_id, _ in page]
        finally:
            db.execute("COMMIT")
        token = page_token(page[-1][1], page[-1][0]) if len(rows) > query.page_size else ""
        return TaskPage(tasks, token, query.page_size, total_size)

    # -- tickets ------------------------------------------------------------------------------

    @staticmethod
    def _save_ticket(db: sqlite3.Connection, t: Ticket) -> None:
        output = None if t.output is None else dumps_bytes(t.output)
        if t.state != "pending" and not t.delivered:  # a settlement: of a pending ticket only
            settled = db.execute(
                "UPDATE tickets SET state = ?, output = ?, error = ? WHERE id = ? AND state = 'pending'",
                (t.state, output, t.error, t.id),
            ).rowcount
            if settled:
                return
            if db.execute("SELECT 1 FROM tickets WHERE id = ?", (t.id,)).fetchone():
                raise TicketRaced(t.id)
        db.execute(
            f"INSERT INTO tickets ({_TICKET_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET state = excluded.state, output = excluded.output, "
            "error = excluded.error, delivered = excluded.delivered, deadline = excluded.deadline",
            (t.id, t.task_id, t.context_id, t.tool_name, t.tool_call_id, t.state, t.resume_hint,
             t.created_at, t.deadline, output, t.error, int(t.delivered)),
        )

    @staticmethod
    def _ticket(row: tuple[Any, ...]) -> Ticket:
        return Ticket(
            id=row[0], task_id=row[1], context_id=row[2], tool_name=row[3], tool_call_id=row[4],
            state=row[5], resume_hint=row[6], created_at=row[7], deadline=row[8],
            output=None if row[9] is None else loads(row[9]), error=row[10], delivered=bool(row[11]),
        )

    async def ticket(self, ticket_id: str) -> Ticket | None:
        row = self._reader.execute(f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        return None if row is None else self._ticket(row)

    async def tickets(self, task_id: str) -> list[Ticket]:
        rows = self._reader.execute(
            f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE task_id = ? ORDER BY created_at, rowid",
            (task_id,),
        ).fetchall()
        return [self._ticket(r) for r in rows]

    async def due_tickets(self, now: float) -> list[Ticket]:
        rows = self._reader.execute(
            f"SELECT {_TICKET_COLUMNS} FROM tickets "
            "WHERE state = 'pending' AND deadline IS NOT NULL AND deadline <= ?",
            (now,),
        ).fetchall()
        return [self._ticket(r) for r in rows]

    # -- memory -------------------------------------------------------------------------------

    async def memory(self, principal: str, context_id: str) -> list[Message]:
        rows = self._reader.execute(
            "SELECT message FROM memory WHERE principal = ? AND context_id = ? ORDER BY id",
            (principal, context_id),
        ).fetchall()
        return [load_message(r[0]) for r in rows]

    async def remember(self, memory: MemoryAdd) -> None:
        async with self._write() as db:
            self._add_memory(db, memory)
        await self._durable()

    @staticmethod
    def _add_memory(db: sqlite3.Connection, m: MemoryAdd) -> None:
        db.executemany(
            "INSERT INTO memory (principal, context_id, message) VALUES (?, ?, ?)",
            [(m.principal, m.context_id, dump_message(x)) for x in m.messages],
        )
        if m.fresh and len(m.messages) <= m.limit:
            return  # nothing held before these: nothing to trim
        db.execute(
            "DELETE FROM memory WHERE principal = ? AND context_id = ? AND id <= (SELECT id FROM "
            "memory WHERE principal = ? AND context_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
            (m.principal, m.context_id, m.principal, m.context_id, m.limit),
        )

    # -- push notifications -------------------------------------------------------------------

    def _queue_notifications(self, db: sqlite3.Connection, task_id: str, task: Task) -> int:
        configs = [r[0] for r in db.execute("SELECT id FROM push_configs WHERE task_id = ?", (task_id,))]
        if configs:
            body, now = dump_task(task), time.time()
            db.executemany(
                "INSERT INTO push_outbox (task_id, config_id, body, created_at) VALUES (?, ?, ?, ?)",
                [(task_id, c, body, now) for c in configs],
            )
        return len(configs)

    async def put_push_config(self, task_id: str, config: PushConfig) -> None:
        async with self._write() as db:
            db.execute(
                "INSERT INTO push_configs (task_id, id, config, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (task_id, id) DO UPDATE SET config = excluded.config",
                (task_id, config.id, dump_config(config), time.time()),
            )
        await self._durable()

    async def push_configs(self, task_id: str) -> list[PushConfig]:
        rows = self._reader.execute(
            "SELECT config FROM push_configs WHERE task_id = ? ORDER BY created_at, rowid", (task_id,)
        ).fetchall()
        return [load_config(r[0]) for r in rows]

    async def delete_push_config(self, task_id: str, config_id: str) -> bool:
        async with self._write() as db:
            gone = db.execute(
                "DELETE FROM push_configs WHERE task_id = ? AND id = ?", (task_id, config_id)
            ).rowcount
            db.execute("DELETE FROM push_outbox WHERE task_id = ? AND config_id = ?", (task_id, config_id))
        await self._durable()
        return bool(gone)

    async def take_deliveries(self, now: float, hold: float, limit: int) -> list[Delivery]:
        # most drains find nothing due: a read, on the reader, costs no write transaction
        if not self._reader.execute(
            "SELECT 1 FROM push_outbox WHERE due_at <= ? AND claimed_until <= ? LIMIT 1", (now, now)
        ).fetchone():
            return []
        async with self._write() as db:  # a conditional update per head: one sender wins each
            rows = db.execute(
                "SELECT o.id, o.task_id, o.config_id, o.body, o.attempts, o.created_at FROM push_outbox o "
                "JOIN (SELECT MIN(id) AS id FROM push_outbox GROUP BY task_id, config_id) f "
                "ON o.id = f.id WHERE o.due_at <= ? AND o.claimed_until <= ? ORDER BY o.id LIMIT ?",
                (now, now, limit),
            ).fetchall()
            taken = []
            for r in rows:
                if db.execute(
                    "UPDATE push_outbox SET claimed_until = ? WHERE id = ? AND claimed_until <= ?",
                    (now + hold, r[0], now),
                ).rowcount:
                    taken.append(Delivery(r[0], r[1], r[2], bytes(r[3]), r[4], r[5]))
        await self._durable()
        return taken

    async def finish_delivery(self, delivery: Delivery, retry_at: float | None) -> None:
        async with self._write() as db:
            if retry_at is None:
                db.execute("DELETE FROM push_outbox WHERE id = ?", (delivery.id,))
            else:
                db.execute(
                    "UPDATE push_outbox SET attempts = attempts + 1, due_at = ?, claimed_until = 0 "
                    "WHERE id = ?",
                    (retry_at, delivery.id),
                )
        await self._durable()

    async def outbox_stats(self, now: float) -> OutboxStats:
        count, oldest = self._reader.execute("SELECT COUNT(*), MIN(created_at) FROM push_outbox").fetchone()
        return OutboxStats(count, max(0.0, now - oldest) if oldest is not None else 0.0)

    # -- upkeep -------------------------------------------------------------------------------

    async def purge(self, ended_before: float) -> int:
        async with self._write() as db:
            rows = db.execute(
                "SELECT id, principal, context_id FROM tasks WHERE ended_at IS NOT NULL AND ended_at < ?",
                (ended_before,),
            ).fetchall()
            ids = [(r[0],) for r in rows]
            self._held.clear()
            for table, column in (
                ("events", "task_id"), ("snapshots", "task_id"), ("tickets", "task_id"),
                ("inbox", "task_id"), ("push_configs", "task_id"), ("push_outbox", "task_id"),
                ("tasks", "id"),
            ):
                db.executemany(f"DELETE FROM {table} WHERE {column} = ?", ids)
            for _, principal, context_id in {(r[0], r[1], r[2]) for r in rows}:
                if not db.execute(  # a conversation goes with its last task
                    "SELECT 1 FROM tasks WHERE principal = ? AND context_id = ?", (principal, context_id)
                ).fetchone():
                    db.execute(
                        "DELETE FROM memory WHERE principal = ? AND context_id = ?", (principal, context_id)
                    )
            db.execute("DELETE FROM feed WHERE at < ?", (time.time() - _FEED_KEEP_SECONDS,))
        await self._durable()
        return len(ids)

    async def checkpoint(self) -> None:
        """Copy the WAL back into the database file, in a worker thread (SQLite releases the
        GIL), so the fsync it needs never stalls the event loop; the janitor calls it.

        A PASSIVE checkpoint never waits, but under steady writes it never catches up
        either: new frames land while it copies, the WAL is never found fully copied, so it
        is never started over and grows without end (gigabytes in minutes of load, and the
        index SQLite maps in memory with it). Past `_WAL_RESET_BYTES` the checkpoint is a
        TRUNCATE: writers wait (asynchronously, in `_write`) while it copies the rest, and
        the WAL starts again from nothing."""
        if self._checkpointing is not None and not self._checkpointing.done():
            return  # one at a time
        self._checkpointing = asyncio.get_running_loop().run_in_executor(None, self._checkpoint_now)
        await asyncio.shield(self._checkpointing)

    def _checkpoint_now(self) -> None:
        """(In a worker thread.) The passive pass copies what it can without blocking anyone;
        the TRUNCATE after it, when the WAL is large, has only what came meanwhile left to
        copy before the WAL starts over, so writers wait that much and no more."""
        self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)")
        try:
            size = os.path.getsize(self.path + "-wal")
        except OSError:
            return
        if size > _WAL_RESET_BYTES:
            self._checkpointer.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        if self._checkpointing is not None:  # its thread must be done with the connection
            with contextlib.suppress(Exception):
                await self._checkpointing
        self._checkpointer.close()
        self._reader.close()
        if self._batch is not None:
            self._commit()
        self._db.close()


class _Batch:
    """The open batch: its writers wait for its end (`wait`), each on a future of its own,
    which the end resolves: a writer's cancellation cancels its own wait only, and a writer
    is woken in one step (a future shared by all, with a waiter of each chained to it, took
    two, and callbacks added and removed per write)."""

    __slots__ = ("_waiters", "ended", "failure")

    def __init__(self) -> None:
        self.ended = False
        self.failure: BaseException | None = None  # why it never committed
        self._waiters: list[asyncio.Future[None]] = []

    def wait(self) -> asyncio.Future[None]:
        """A future done once the batch has ended (at once, if it has)."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self.ended:
            waiter.set_result(None)
        else:
            self._waiters.append(waiter)
        return waiter

    def end(self, failure: BaseException | None) -> None:
        self.ended, self.failure = True, failure
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():  # its writer was cancelled
                waiter.set_result(None)


class _OneWrite:
    """`SQLiteStore._write`: a savepoint in the open batch (opened first if there is none),
    released at the end of the block, rolled back to if the block raises. (A class, not
    `contextlib.asynccontextmanager`: no async generator, nor its wrapper, per write.)"""

    __slots__ = ("_store",)

    def __init__(self, store: SQLiteStore) -> None:
        self._store = store

    async def __aenter__(self) -> sqlite3.Connection:
        store = self._store
        if store._batch is None:
            await store._begin()
        if store._rows:  # what this write reads of the log includes the chunks before it
            store._insert_rows()
        store._db.execute("SAVEPOINT one_write")
        return store._db

    async def __aexit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        db = self._store._db
        if exc is None:
            db.execute("RELEASE one_write")
        elif db.in_transaction:
            db.execute("ROLLBACK TO one_write")
            db.execute("RELEASE one_write")
        else:  # SQLite rolled the whole batch back itself (a full disk, an I/O error)
            self._store._batch_lost(exc)
