"""The version-neutral model: what the runtime, the mapping, the stores and the runners speak.

Protocol codecs (`protocol/v0_3.py`, `protocol/v1_0.py`) turn wire JSON into these values and
these values into wire JSON; nothing below them sees a wire shape of either version (design
§5b). Values are frozen and slotted: cheap to build, safe to hand to every subscriber of a
task. The one exception is `Task`, the fold of a task's log, whose lists grow as frames are
applied; `Task.copy()` copies those lists (their elements are frozen, so that is enough).

States and roles are `StrEnum`s whose values are the 0.3 spellings; a codec maps them to its
version's spelling (`TASK_STATE_WORKING`, `ROLE_USER` in 1.0).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from a2a_server.values import value

__all__ = [
    "FINAL_STATES",
    "INTERRUPTED_STATES",
    "TERMINAL_STATES",
    "Artifact",
    "ArtifactUpdate",
    "DataPart",
    "FilePart",
    "Frame",
    "Message",
    "Metadata",
    "Part",
    "PushConfig",
    "Role",
    "Status",
    "StatusUpdate",
    "Task",
    "TaskState",
    "TextPart",
    "new_id",
    "now_iso",
    "random_hex",
    "text_of",
]

Metadata = Mapping[str, Any]
"""Free-form JSON metadata. Never changed in place: a change makes a new mapping."""


_RANDOM_74 = ((1 << 80) - 1) ^ (0xF << 76) ^ (0x3 << 62)  # the low 80 bits, less version and variant
_VERSION_7 = (0x7 << 76) | (0x2 << 62)


def new_id() -> str:
    """A UUID of version 7 (RFC 9562): the Unix time in milliseconds (48 bits), then 74
    random bits (unguessable still). Ids made in a later millisecond sort later, so the
    store's indexes of tasks and their logs grow at their end: a new task's rows land on the
    pages the last one's did, and a commit writes those few pages rather than one per index
    at random.
    (Formatted here: `uuid.UUID` would double its cost.)"""
    value = ((time.time_ns() // 1_000_000) << 80) | (_draw() & _RANDOM_74) | _VERSION_7
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_DRAWS = 400  # 80-bit draws made from one read of `os.urandom` (4,000 bytes)
_draws: list[int] = []


def _forked() -> None:
    """In a forked child: its own draws, not the ones its parent makes next."""
    _draws.clear()


os.register_at_fork(after_in_child=_forked)


def _draw() -> int:
    """80 bits of `os.urandom`, read 4,000 bytes at a time: each read is a system call that
    lets the GIL go, and the event loop then waits for it back behind the store's threads.
    `list.pop` hands each draw to one caller only, threads included, with no lock; two
    threads finding the list empty at once both refill it, and lose nothing by it."""
    try:
        return _draws.pop()
    except IndexError:
        pool = os.urandom(_DRAWS * 10)
        _draws[:] = [int.from_bytes(pool[i : i + 10]) for i in range(0, len(pool), 10)]
        return _draws.pop()


def random_hex(size: int) -> str:
    """`size` random bytes in hex (a request id; at most 10), from the same draws as
    `new_id`'s."""
    if not 0 < size <= 10:
        raise ValueError(f"random_hex draws 1 to 10 bytes, not {size}")
    return f"{_draw() >> (80 - 8 * size):0{2 * size}x}"


_stamp = (-1, "")  # (a second of Unix time, its ISO-8601 form): one binding, swapped whole


def now_iso() -> str:
    """UTC ISO-8601 with millisecond precision and a `Z` (as both versions want); the
    milliseconds truncated, as `datetime.isoformat(timespec="milliseconds")` does. The
    second's form is made once per second (formatting a datetime was 2 % of a send)."""
    global _stamp
    second, ms = divmod(time.time_ns() // 1_000_000, 1000)
    at, text = _stamp
    if at != second:
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _stamp = (second, text)
    return f"{text}.{ms:03d}Z"


class TaskState(StrEnum):
    SUBMITTED = "submitted"
    WORKING = "working"
    INPUT_REQUIRED = "input-required"
    AUTH_REQUIRED = "auth-required"
    COMPLETED = "completed"
    CANCELED = "canceled"
    FAILED = "failed"
    REJECTED = "rejected"
    UNKNOWN = "unknown"


TERMINAL_STATES = frozenset(
    {TaskState.COMPLETED, TaskState.CANCELED, TaskState.FAILED, TaskState.REJECTED}
)
INTERRUPTED_STATES = frozenset({TaskState.INPUT_REQUIRED, TaskState.AUTH_REQUIRED})
FINAL_STATES = TERMINAL_STATES | INTERRUPTED_STATES
"""States that end a stream: terminal, or waiting on the client (spec §7.2, life-of-a-task)."""


class Role(StrEnum):
    USER = "user"
    AGENT = "agent"


# -- parts -------------------------------------------------------------------------------------


@value
class TextPart:
    text: str
    metadata: Metadata | None = None
    media_type: str | None = None


@value
class FilePart:
    """A file, by content (`raw`, base64 as on both wires) or by `url`: exactly one of them."""

    raw: str | None = None
    url: str | None = None
    filename: str | None = None
    media_type: str | None = None
    metadata: Metadata | None = None


@value
class DataPart:
    """Structured data: any JSON value (the 0.3 wire carries a non-object as {"value": ...})."""

    data: Any
    metadata: Metadata | None = None
    media_type: str | None = None


Part = TextPart | FilePart | DataPart


def text_of(parts: tuple[Part, ...] | list[Part]) -> str:
    """The text parts, joined with newlines."""
    return "\n".join(p.text for p in parts if isinstance(p, TextPart))


# -- messages, artifacts, tasks ----------------------------------------------------------------


@value
class Message:
    role: Role
    parts: tuple[Part, ...]
    message_id: str = field(default_factory=new_id)
    task_id: str | None = None
    context_id: str | None = None
    reference_task_ids: tuple[str, ...] = ()
    extensions: tuple[str, ...] = ()
    metadata: Metadata | None = None

    @property
    def text(self) -> str:
        return text_of(self.parts)


@value
class Status:
    state: TaskState
    message: Message | None = None
    timestamp: str = field(default_factory=now_iso)


@value
class Artifact:
    artifact_id: str
    parts: tuple[Part, ...]
    name: str | None = None
    description: str | None = None
    metadata: Metadata | None = None
    extensions: tuple[str, ...] = ()


@dataclass(slots=True)
class Task:
    """A task as it stands: the fold of its log (`mapping.apply`)."""

    id: str
    context_id: str
    status: Status
    history: list[Message] = field(default_factory=list)
    artifacts: list[Artifact] = field(default_factory=list)
    metadata: Metadata | None = None

    def copy(self) -> Task:
        return Task(
            self.id, self.context_id, self.status, list(self.history), list(self.artifacts),
            self.metadata,
        )


# -- the frames a task emits -------------------------------------------------------------------


@value
class StatusUpdate:
    """The task's status changed. `final` marks the last frame of a turn's stream (a
    terminal or interrupted state): the 0.3 wire sends it, the 1.0 wire closes the stream."""

    task_id: str
    context_id: str
    status: Status
    final: bool = False
    metadata: Metadata | None = None


@value
class ArtifactUpdate:
    """A chunk of an artifact: `append` adds to the artifact sent before under the same id,
    `last_chunk` closes it."""

    task_id: str
    context_id: str
    artifact: Artifact
    append: bool = False
    last_chunk: bool = False
    metadata: Metadata | None = None


Frame = Task | Message | StatusUpdate | ArtifactUpdate
"""One thing a task emits, in its log and on its streams. A `Task` frame is a snapshot and
is never changed once emitted."""


# -- push notification configs -----------------------------------------------------------------


@value
class PushConfig:
    """A webhook of a task. `protocol` is the version the client that set it speaks: its
    notifications are sent in that version's shape (issue: push in the creator's version)."""

    id: str
    url: str
    token: str | None = None
    schemes: tuple[str, ...] = ()  # of `authentication` (0.3: a list; 1.0: one `scheme`)
    credentials: str | None = None
    protocol: str = "0.3"
