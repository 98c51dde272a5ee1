"""Builders for the A2A 0.3.0 objects the server emits.

Emitted objects are plain JSON-shaped dicts (camelCase keys, `kind` always set, absent fields
left out) built only here. They are never re-validated at run time: the test suite validates
every one it sees against the official schema instead, which keeps the frame path cheap.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "INTERRUPTED_STATES",
    "TERMINAL_STATES",
    "Frame",
    "agent_message",
    "artifact_update",
    "data_part",
    "is_final_state",
    "new_id",
    "now_iso",
    "status_update",
    "task",
    "text_part",
]

Frame = dict[str, Any]
"""One emitted object: a Task, Message, status-update or artifact-update."""

TERMINAL_STATES = frozenset({"completed", "canceled", "failed", "rejected"})
INTERRUPTED_STATES = frozenset({"input-required", "auth-required"})


def is_final_state(state: str) -> bool:
    """A state that ends a stream: terminal or interrupted (spec §7.2, life-of-a-task)."""
    return state in TERMINAL_STATES or state in INTERRUPTED_STATES


def new_id() -> str:
    return str(uuid.uuid4())


def now_iso() -> str:
    """UTC ISO-8601 with millisecond precision and a `Z`."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def text_part(text: str) -> dict[str, Any]:
    return {"kind": "text", "text": text}


def data_part(data: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "data", "data": data}


def agent_message(
    parts: list[dict[str, Any]], task_id: str, context_id: str
) -> dict[str, Any]:
    return {
        "kind": "message",
        "role": "agent",
        "messageId": new_id(),
        "parts": parts,
        "taskId": task_id,
        "contextId": context_id,
    }


def task(
    task_id: str, context_id: str, state: str, history: list[dict[str, Any]]
) -> Frame:
    return {
        "kind": "task",
        "id": task_id,
        "contextId": context_id,
        "status": {"state": state, "timestamp": now_iso()},
        "history": history,
        "artifacts": [],
    }


def status_update(
    task_id: str,
    context_id: str,
    state: str,
    *,
    message: dict[str, Any] | None = None,
    final: bool = False,
    metadata: dict[str, Any] | None = None,
) -> Frame:
    status: dict[str, Any] = {"state": state, "timestamp": now_iso()}
    if message is not None:
        status["message"] = message
    frame: Frame = {
        "kind": "status-update",
        "taskId": task_id,
        "contextId": context_id,
        "status": status,
        "final": final,
    }
    if metadata:
        frame["metadata"] = metadata
    return frame


def artifact_update(
    task_id: str,
    context_id: str,
    artifact_id: str,
    parts: list[dict[str, Any]],
    *,
    append: bool,
    last_chunk: bool,
    name: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> Frame:
    artifact: dict[str, Any] = {"artifactId": artifact_id, "parts": parts}
    if name is not None:
        artifact["name"] = name
    if metadata:
        artifact["metadata"] = metadata
    return {
        "kind": "artifact-update",
        "taskId": task_id,
        "contextId": context_id,
        "artifact": artifact,
        "append": append,
        "lastChunk": last_chunk,
    }
