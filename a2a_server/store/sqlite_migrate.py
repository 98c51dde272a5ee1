"""Bring an SQLite file of a2a-server 0.1.0 (schema 0) to the current schema, in place.

Those files kept protocol 0.3 JSON (the wire of the only version then served); the store now
keeps the version-neutral model in its own form (`store/codec.py`). Every row is read back
with the 0.3 codec and written anew, in the one transaction the store opens the file in:
a crash leaves the old file as it was. What 0.1.0 did not keep gets its neutral value: no
owner (the anonymous principal), no lease. A turn that file recorded as running was cut by
the stop that preceded the upgrade: it is marked running, and the first sweep takes it over
as any cut turn.
"""

from __future__ import annotations

import sqlite3
import time

from a2a_server.jsoncodec import loads
from a2a_server.mapping import fold
from a2a_server.model import TERMINAL_STATES
from a2a_server.protocol.v0_3 import read_frame, read_message, read_push_config
from a2a_server.store.codec import dump_config, dump_frame, dump_message, dump_task

__all__ = ["CUT_OWNER", "is_schema_0", "migrate_from_0"]

CUT_OWNER = "a2a-server 0.1.0"  # the holder of a migrated cut turn's (long expired) lease

_OLD = ("tasks", "events", "snapshots", "tickets", "memory", "push_configs", "push_outbox")


def is_schema_0(db: sqlite3.Connection) -> bool:
    columns = {row[1] for row in db.execute("PRAGMA table_info(tasks)")}
    return "running_owner" in columns and "principal" not in columns


def migrate_from_0(db: sqlite3.Connection, create_schema: str) -> None:
    """Rewrite the file (inside the caller's transaction); `create_schema` is the DDL of the
    current schema."""
    for table in _OLD:
        db.execute(f"ALTER TABLE {table} RENAME TO old_{table}")
    for index in [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")]:
        db.execute(f"DROP INDEX {index}")
    for statement in create_schema.split(";"):
        if statement.strip():
            db.execute(statement)
    for task_id, context_id, running, created_at, ended_at in db.execute(
        "SELECT id, context_id, running_owner, created_at, ended_at FROM old_tasks"
    ).fetchall():
        _task(db, task_id, context_id, running is not None, created_at, ended_at)
    db.execute(
        "INSERT INTO tickets SELECT id, task_id, context_id, tool_name, tool_call_id, state, "
        "resume_hint, created_at, deadline, output, error, delivered FROM old_tickets"
    )
    db.executemany(
        "INSERT INTO memory (principal, context_id, message) VALUES ('', ?, ?)",
        [(c, dump_message(read_message(loads(m)))) for c, m in
         db.execute("SELECT context_id, message FROM old_memory ORDER BY id").fetchall()],
    )
    db.executemany(
        "INSERT INTO push_configs (task_id, id, config, created_at) VALUES (?, ?, ?, ?)",
        [(t, i, dump_config(read_push_config(loads(c))), at) for t, i, c, at in
         db.execute("SELECT task_id, id, config, created_at FROM old_push_configs").fetchall()],
    )
    now = time.time()
    db.executemany(
        "INSERT INTO push_outbox (task_id, config_id, body, attempts, created_at, due_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [(t, c, dump_task(read_frame(loads(b))), a, now, due) for t, c, b, a, due in db.execute(  # type: ignore[arg-type]
            "SELECT task_id, config_id, body, attempts, due_at FROM old_push_outbox ORDER BY id"
        ).fetchall()],
    )
    for table in _OLD:
        db.execute(f"DROP TABLE old_{table}")


def _task(
    db: sqlite3.Connection, task_id: str, context_id: str, running: bool, created_at: float,
    ended_at: float | None,
) -> None:
    frames = [
        (seq, read_frame(loads(body))) for seq, body in
        db.execute("SELECT seq, frame FROM old_events WHERE task_id = ? ORDER BY seq", (task_id,))
    ]
    db.executemany(
        "INSERT INTO events (task_id, seq, frame) VALUES (?, ?, ?)",
        [(task_id, seq, dump_frame(f)) for seq, f in frames],
    )
    task = fold(None, (f for _, f in frames))
    db.execute(
        "INSERT INTO snapshots (task_id, seq, task) VALUES (?, ?, ?)",
        (task_id, frames[-1][0], dump_task(task)),
    )
    db.execute(  # a cut turn: an expired lease of nobody's, for the first sweep to take over
        "INSERT INTO tasks (id, context_id, principal, state, status_at, created_at, ended_at, "
        "lease_owner, lease_token, lease_until, turn_running) VALUES (?, ?, '', ?, ?, ?, ?, ?, 1, 0, ?)",
        (task_id, context_id, task.status.state.value, task.status.timestamp, created_at,
         ended_at if task.status.state in TERMINAL_STATES else None,
         CUT_OWNER if running else None, int(running)),
    )
