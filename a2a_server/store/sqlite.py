"""The SQLite task store: the default of `a2a-server serve`, surviving restarts.

Layout (one file, WAL mode, so several server processes may open it at once):

    tasks      one small row per task: state, who runs its turn, when it ended
    events     the event log, clustered by (task_id, seq): an append adds rows at the end
    snapshots  the folded Task at some sequence number, refreshed only when the task rests
    tickets    deferred tool tickets
    memory     conversation memory per context
    push_configs, push_outbox   webhooks, and the notifications waiting to reach them

Every write is all or nothing (a SAVEPOINT), and the writes made in one event-loop iteration
share one transaction (group commit: one COMMIT for many, which is what makes SQLite keep
up with concurrent streams); a writer returns only once its write is committed, so a crash
loses nothing anyone was told about, and leaves the old state or the new one, never half. Appending an event writes its own row (and the task's small row
when the state changes); nothing whose size grows with the task is rewritten on the frame
path. A Task is
read as its snapshot plus the fold of the events after it (at most one turn's worth).

Calls run on the event loop thread: with WAL and `synchronous=NORMAL` a commit needs no
fsync, which is cheaper than a thread hop per call; checkpoints, which do fsync, run in a
worker thread (`checkpoint`). A
commit survives the process being killed; only a power loss may take the last ones.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from a2a_server.jsoncodec import dumps_bytes, loads
from a2a_server.mapping import fold
from a2a_server.model import FINAL_STATES, TERMINAL_STATES, Frame, Message, PushConfig, StatusUpdate, Task, TaskState
from a2a_server.calls import ListTasks, TaskPage
from a2a_server.store.base import Delivery, MemoryAdd, TaskEnded, TicketRaced, TurnClaimed
from a2a_server.store.paging import page_token, read_page_token
from a2a_server.store.codec import (
    dump_config,
    dump_frame,
    dump_message,
    dump_task,
    load_config,
    load_frame,
    load_message,
    load_task,
)
from a2a_server.tickets import Ticket

__all__ = ["SCHEMA_VERSION", "SQLiteStore", "StoreVersionError"]


class StoreVersionError(ValueError):
    """The file was written by a version of the server with another schema."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tasks (
    id TEXT PRIMARY KEY,
    context_id TEXT NOT NULL,
    state TEXT NOT NULL,
    status_at TEXT NOT NULL,
    owner TEXT NOT NULL DEFAULT '',
    running_owner TEXT,
    created_at REAL NOT NULL,
    ended_at REAL
);
CREATE INDEX IF NOT EXISTS tasks_ended ON tasks (ended_at) WHERE ended_at IS NOT NULL;
CREATE INDEX IF NOT EXISTS tasks_listing ON tasks (owner, status_at, id);
CREATE INDEX IF NOT EXISTS tasks_context ON tasks (owner, context_id, status_at, id);
CREATE INDEX IF NOT EXISTS tasks_running ON tasks (running_owner)
    WHERE running_owner IS NOT NULL;
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
    context_id TEXT NOT NULL,
    message BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS memory_context ON memory (context_id, id);
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
    due_at REAL NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS push_outbox_config ON push_outbox (task_id, config_id, id);
"""

SCHEMA_VERSION = 1  # PRAGMA user_version of the files this store writes

_dumps = dumps_bytes  # ticket outputs: UTF-8 BLOBs, one encoding, safe for any string
_SNAPSHOT_EVERY = 16_384  # frames: bounds the tail a read folds, even for a task that never rests


class SQLiteStore:
    def __init__(self, path: str, *, busy_timeout_ms: int = 10_000) -> None:
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        # checkpoints (the one step that fsyncs) run off the event loop: see `checkpoint`
        self._db.execute("PRAGMA wal_autocheckpoint = 0")
        self._checkpointer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._checkpointer.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._prepare()
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")
        self._batch: asyncio.Future[BaseException | None] | None = None

    def _prepare(self) -> None:
        """Create the schema in a new file; refuse a file of another schema version."""
        db = self._db
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
        if tables and version != SCHEMA_VERSION:
            raise StoreVersionError(
                f"{self.path} holds tasks in the format of another a2a-server version (schema "
                f"{version}, this one reads {SCHEMA_VERSION}); point --store at a new file"
            )
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                db.execute(statement)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write, all or nothing, inside the current batch (see `_durable`)."""
        db = self._db
        if self._batch is None:
            loop = asyncio.get_running_loop()
            db.execute("BEGIN IMMEDIATE")
            self._batch = loop.create_future()
            loop.call_soon(self._commit)
        db.execute("SAVEPOINT one_write")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK TO one_write")
            db.execute("RELEASE one_write")
            raise
        db.execute("RELEASE one_write")

    def _commit(self) -> None:
        """Group commit: the writes of one event-loop iteration share one COMMIT."""
        batch, self._batch = self._batch, None
        if batch is None:
            return
        try:
            self._db.execute("COMMIT")
        except BaseException as exc:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            batch.set_result(exc)
        else:
            batch.set_result(None)

    async def _durable(self) -> None:
        """Wait until what this connection wrote is committed: writers call it before
        returning (nothing is reported done before it is on disk), readers before reading
        (nothing uncommitted is ever shown)."""
        while self._batch is not None:
            failure = await asyncio.shield(self._batch)
            if failure is not None:
                raise failure

    # -- tasks and their logs ----------------------------------------------------------------

    async def create(self, task: Task) -> int:
        with self._write() as db:
            db.execute(
                "INSERT INTO tasks (id, context_id, state, status_at, created_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (task.id, task.context_id, task.status.state.value, task.status.timestamp, time.time()),
            )
            body = dump_task(task)
            db.execute("INSERT INTO events (task_id, seq, frame) VALUES (?, 1, ?)", (task.id, body))
            db.execute("INSERT INTO snapshots (task_id, seq, task) VALUES (?, 1, ?)", (task.id, body))
        await self._durable()
        return 1

    async def append(
        self,
        task_id: str,
        frames: Sequence[Frame],
        tickets: Sequence[Ticket] = (),
        *,
        notify: bool = False,
        claim: str | None = None,
        release: str | None = None,
        memory: MemoryAdd | None = None,
        wait: bool = True,
    ) -> int:
        with self._write() as db:
            if claim is not None and not self._claim(db, task_id, claim):
                raise TurnClaimed(task_id)
            row = db.execute(
                "SELECT state, (SELECT MAX(seq) FROM events WHERE task_id = ?) "
                "FROM tasks WHERE id = ?",
                (task_id, task_id),
            ).fetchone()
            if row is None:
                raise KeyError(task_id)
            before, seq = TaskState(row[0]), row[1]
            if frames and before in TERMINAL_STATES:
                raise TaskEnded(task_id, before)
            state = before
            status_at: str | None = None  # the newest status's timestamp, if one changed
            rest_at: tuple[int, bytes] | None = None  # a frame to snapshot at: the task rests
            rows = []
            for frame in frames:
                seq += 1
                body = dump_frame(frame)
                rows.append((task_id, seq, body))
                if type(frame) is Task:
                    state, status_at = frame.status.state, frame.status.timestamp
                    rest_at = (seq, body)
                elif type(frame) is StatusUpdate:
                    state, status_at = frame.status.state, frame.status.timestamp
                    if state in FINAL_STATES:
                        rest_at = (seq, b"")
            if rows:
                db.executemany("INSERT INTO events (task_id, seq, frame) VALUES (?, ?, ?)", rows)
                if rest_at is None and seq % _SNAPSHOT_EVERY == 0:  # a task that never rests
                    rest_at = (seq, b"")
                if status_at is not None:  # most frames (text chunks) leave the task row alone
                    ended = time.time() if state in TERMINAL_STATES else None
                    db.execute(
                        "UPDATE tasks SET state = ?, status_at = ?, ended_at = ? WHERE id = ?",
                        (state.value, status_at, ended, task_id),
                    )
                if rest_at is not None:
                    self._snapshot_at(db, task_id, *rest_at)
            for ticket in tickets:
                self._save_ticket(db, ticket)
            if notify:
                self._queue_notifications(db, task_id)
            if memory is not None:
                self._add_memory(db, memory)
            if release is not None:
                self._release(db, task_id, release)
        if wait:
            await self._durable()
        return seq

    def committed(self) -> asyncio.Future[BaseException | None]:
        if self._batch is not None:
            return self._batch
        done: asyncio.Future[BaseException | None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    def _queue_notifications(self, db: sqlite3.Connection, task_id: str) -> None:
        configs = [r[0] for r in db.execute("SELECT id FROM push_configs WHERE task_id = ?", (task_id,))]
        if configs:
            body = dump_task(self._fold(db, task_id)[0])
            db.executemany(
                "INSERT INTO push_outbox (task_id, config_id, body) VALUES (?, ?, ?)",
                [(task_id, c, body) for c in configs],
            )

    def _snapshot_at(self, db: sqlite3.Connection, task_id: str, seq: int, body: bytes) -> None:
        """Refresh the snapshot up to `seq` (a Task frame's body is its own snapshot)."""
        if not body:
            task, _ = self._fold(db, task_id, seq)
            body = dump_task(task)
        db.execute(
            "INSERT INTO snapshots (task_id, seq, task) VALUES (?, ?, ?) "
            "ON CONFLICT (task_id) DO UPDATE SET seq = excluded.seq, task = excluded.task",
            (task_id, seq, body),
        )

    def _fold(
        self, db: sqlite3.Connection, task_id: str, upto: int | None = None
    ) -> tuple[Task, int]:
        snap = db.execute("SELECT seq, task FROM snapshots WHERE task_id = ?", (task_id,)).fetchone()
        if snap is None:
            raise KeyError(task_id)
        seq, body = snap
        query = "SELECT seq, frame FROM events WHERE task_id = ? AND seq > ?"
        params: tuple[Any, ...] = (task_id, seq)
        if upto is not None:
            query += " AND seq <= ?"
            params += (upto,)
        rows = db.execute(query + " ORDER BY seq", params).fetchall()
        task = fold(load_task(body), (load_frame(frame) for _, frame in rows))
        return task, rows[-1][0] if rows else seq

    async def get_task(self, task_id: str) -> Task | None:
        snap = await self.snapshot(task_id)
        return None if snap is None else snap[0]

    async def snapshot(self, task_id: str) -> tuple[Task, int] | None:
        await self._durable()
        db = self._db
        db.execute("BEGIN")  # one read transaction: the snapshot and its tail agree
        try:
            return self._fold(db, task_id)
        except KeyError:
            return None
        finally:
            db.execute("COMMIT")

    async def list_tasks(self, query: ListTasks, owner: str = "") -> TaskPage:
        """A page of `owner`'s tasks, newest status first, through the listing indexes."""
        await self._durable()
        where, args = ["owner = ?"], [owner]
        if query.context_id is not None:
            where.append("context_id = ?")
            args.append(query.context_id)
        if query.status is not None:
            where.append("state = ?")
            args.append(query.status.value)
        if query.status_timestamp_after is not None:
            where.append("status_at >= ?")
            args.append(query.status_timestamp_after)
        db = self._db
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
        more = len(rows) > query.page_size
        token = page_token(page[-1][1], page[-1][0]) if more else ""
        return TaskPage(tasks, token, query.page_size, total_size)

    async def read_log(self, task_id: str, after: int = 0) -> list[tuple[int, Frame]]:
        await self._durable()
        rows = self._db.execute(
            "SELECT seq, frame FROM events WHERE task_id = ? AND seq > ? ORDER BY seq",
            (task_id, after),
        ).fetchall()
        return [(seq, load_frame(frame)) for seq, frame in rows]

    # -- tickets -------------------------------------------------------------------------------

    @staticmethod
    def _save_ticket(db: sqlite3.Connection, t: Ticket) -> None:
        if t.state != "pending" and not t.delivered:  # a settlement: of a pending ticket only
            settled = db.execute(
                "UPDATE tickets SET state = ?, output = ?, error = ? WHERE id = ? AND state = 'pending'",
                (t.state, None if t.output is None else _dumps(t.output), t.error, t.id),
            ).rowcount
            if settled:
                return
            if db.execute("SELECT 1 FROM tickets WHERE id = ?", (t.id,)).fetchone():
                raise TicketRaced(t.id)
        db.execute(
            "INSERT INTO tickets (id, task_id, context_id, tool_name, tool_call_id, state, "
            "resume_hint, created_at, deadline, output, error, delivered) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
            "state = excluded.state, output = excluded.output, error = excluded.error, "
            "delivered = excluded.delivered, deadline = excluded.deadline",
            (
                t.id, t.task_id, t.context_id, t.tool_name, t.tool_call_id, t.state,
                t.resume_hint, t.created_at, t.deadline,
                None if t.output is None else _dumps(t.output), t.error, int(t.delivered),
            ),
        )

    @staticmethod
    def _ticket(row: tuple[Any, ...]) -> Ticket:
        return Ticket(
            id=row[0], task_id=row[1], context_id=row[2], tool_name=row[3], tool_call_id=row[4],
            state=row[5], resume_hint=row[6], created_at=row[7], deadline=row[8],
            output=None if row[9] is None else loads(row[9]), error=row[10],
            delivered=bool(row[11]),
        )

    _TICKET_COLUMNS = (
        "id, task_id, context_id, tool_name, tool_call_id, state, resume_hint, created_at, "
        "deadline, output, error, delivered"
    )

    async def get_ticket(self, ticket_id: str) -> Ticket | None:
        await self._durable()
        row = self._db.execute(
            f"SELECT {self._TICKET_COLUMNS} FROM tickets WHERE id = ?", (ticket_id,)
        ).fetchone()
        return None if row is None else self._ticket(row)

    async def list_tickets(self, task_id: str) -> list[Ticket]:
        await self._durable()
        rows = self._db.execute(
            f"SELECT {self._TICKET_COLUMNS} FROM tickets WHERE task_id = ? "
            "ORDER BY created_at, rowid",
            (task_id,),
        ).fetchall()
        return [self._ticket(r) for r in rows]

    async def due_tickets(self, now: float) -> list[Ticket]:
        await self._durable()
        rows = self._db.execute(
            f"SELECT {self._TICKET_COLUMNS} FROM tickets "
            "WHERE state = 'pending' AND deadline IS NOT NULL AND deadline <= ?",
            (now,),
        ).fetchall()
        return [self._ticket(r) for r in rows]

    # -- memory, running turns, retention ----------------------------------------------------

    async def get_memory(self, context_id: str) -> list[Message]:
        await self._durable()
        rows = self._db.execute(
            "SELECT message FROM memory WHERE context_id = ? ORDER BY id", (context_id,)
        ).fetchall()
        return [load_message(r[0]) for r in rows]

    async def add_memory(self, context_id: str, messages: Sequence[Message], limit: int) -> None:
        with self._write() as db:
            self._add_memory(db, MemoryAdd(context_id, messages, limit))
        await self._durable()

    @staticmethod
    def _add_memory(db: sqlite3.Connection, memory: MemoryAdd) -> None:
        db.executemany(
            "INSERT INTO memory (context_id, message) VALUES (?, ?)",
            [(memory.context_id, dump_message(m)) for m in memory.messages],
        )
        db.execute(
            "DELETE FROM memory WHERE context_id = ? AND id <= "
            "(SELECT id FROM memory WHERE context_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
            (memory.context_id, memory.context_id, memory.limit),
        )

    async def claim_turn(self, task_id: str, owner: str) -> bool:
        with self._write() as db:
            claimed = self._claim(db, task_id, owner)
        await self._durable()
        return claimed

    async def release_turn(self, task_id: str, owner: str) -> None:
        with self._write() as db:
            self._release(db, task_id, owner)
        await self._durable()

    @staticmethod
    def _claim(db: sqlite3.Connection, task_id: str, owner: str) -> bool:
        return bool(db.execute(
            "UPDATE tasks SET running_owner = ? WHERE id = ? "
            "AND (running_owner IS NULL OR running_owner = ?)",
            (owner, task_id, owner),
        ).rowcount)

    @staticmethod
    def _release(db: sqlite3.Connection, task_id: str, owner: str) -> None:
        db.execute(
            "UPDATE tasks SET running_owner = NULL WHERE id = ? AND running_owner = ?",
            (task_id, owner),
        )

    async def running(self) -> list[tuple[str, str]]:
        await self._durable()
        rows = self._db.execute(
            "SELECT id, running_owner FROM tasks WHERE running_owner IS NOT NULL"
        ).fetchall()
        return [(r[0], r[1]) for r in rows]

    async def open_tasks(self) -> list[str]:
        await self._durable()
        rows = self._db.execute("SELECT id FROM tasks WHERE ended_at IS NULL").fetchall()
        return [r[0] for r in rows]

    # -- push notifications ----------------------------------------------------------------

    async def put_push_config(self, task_id: str, config: PushConfig) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO push_configs (task_id, id, config, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (task_id, id) DO UPDATE SET config = excluded.config",
                (task_id, config.id, dump_config(config), time.time()),
            )
        await self._durable()

    async def push_configs(self, task_id: str) -> list[PushConfig]:
        await self._durable()
        rows = self._db.execute(
            "SELECT config FROM push_configs WHERE task_id = ? ORDER BY created_at, rowid",
            (task_id,),
        ).fetchall()
        return [load_config(r[0]) for r in rows]

    async def delete_push_config(self, task_id: str, config_id: str) -> bool:
        with self._write() as db:
            gone = db.execute(
                "DELETE FROM push_configs WHERE task_id = ? AND id = ?", (task_id, config_id)
            ).rowcount
            db.execute(
                "DELETE FROM push_outbox WHERE task_id = ? AND config_id = ?", (task_id, config_id)
            )
        await self._durable()
        return bool(gone)

    async def due_deliveries(self, now: float, limit: int) -> list[Delivery]:
        await self._durable()
        rows = self._db.execute(
            "SELECT o.id, o.task_id, o.config_id, o.body, o.attempts FROM push_outbox o "
            "JOIN (SELECT MIN(id) AS id FROM push_outbox GROUP BY task_id, config_id) f "
            "ON o.id = f.id WHERE o.due_at <= ? ORDER BY o.id LIMIT ?",
            (now, limit),
        ).fetchall()
        return [Delivery(r[0], r[1], r[2], bytes(r[3]), r[4]) for r in rows]

    async def claim_delivery(self, delivery: Delivery, until: float) -> bool:
        with self._write() as db:  # a conditional update: one process wins the row
            claimed = db.execute(
                "UPDATE push_outbox SET due_at = ? WHERE id = ? AND due_at <= ?",
                (until, delivery.id, time.time()),
            ).rowcount
        await self._durable()
        return bool(claimed)

    async def delivery_done(self, delivery_id: int) -> None:
        with self._write() as db:
            db.execute("DELETE FROM push_outbox WHERE id = ?", (delivery_id,))
        await self._durable()

    async def delivery_retry(self, delivery_id: int, attempts: int, at: float) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE push_outbox SET attempts = ?, due_at = ? WHERE id = ?",
                (attempts, at, delivery_id),
            )
        await self._durable()

    async def purge(self, ended_before: float) -> int:
        with self._write() as db:
            ids = [
                r[0]
                for r in db.execute(
                    "SELECT id FROM tasks WHERE ended_at IS NOT NULL AND ended_at < ?",
                    (ended_before,),
                )
            ]
            contexts = {
                r[0] for i in ids for r in db.execute("SELECT context_id FROM tasks WHERE id = ?", (i,))
            }
            for table, column in (
                ("events", "task_id"), ("snapshots", "task_id"), ("tickets", "task_id"),
                ("push_configs", "task_id"), ("push_outbox", "task_id"), ("tasks", "id"),
            ):
                db.executemany(f"DELETE FROM {table} WHERE {column} = ?", [(i,) for i in ids])
            for context_id in contexts:  # a conversation goes with its last task
                if not db.execute("SELECT 1 FROM tasks WHERE context_id = ?", (context_id,)).fetchone():
                    db.execute("DELETE FROM memory WHERE context_id = ?", (context_id,))
        await self._durable()
        return len(ids)

    async def checkpoint(self) -> None:
        """Copy the WAL back into the database file, in a worker thread (SQLite releases the
        GIL), so the fsync it needs never stalls the event loop; the janitor calls it."""
        await asyncio.to_thread(self._checkpointer.execute, "PRAGMA wal_checkpoint(PASSIVE)")

    async def close(self) -> None:
        self._checkpointer.close()
        if self._batch is not None:
            self._commit()
        self._db.close()
