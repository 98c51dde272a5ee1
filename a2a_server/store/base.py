"""The `TaskStore` seam (design §5).

A task is its event log: every frame it emits is appended with a per-task sequence number
(1 for the Task frame that creates it), and the stored Task is the fold of that log
(`mapping.apply`). Tickets are written in the same call as the frames that announce them, so
a store makes both one transaction. Everything a store returns is the caller's to keep: no
later write changes it.

A store also remembers which server process is running a turn of a task (`claim_turn`), so
that two processes sharing the store never run turns of one task at once, and after a crash
the next process can tell a turn that died with its process from a task that is merely
parked on tickets. Settling a ticket is compare-and-set: only a pending ticket settles
(`TicketRaced` otherwise).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from a2a_server.calls import ListTasks, TaskPage
from a2a_server.model import Frame, Message, PushConfig, Task
from a2a_server.tickets import Ticket

__all__ = [
    "Delivery", "MemoryAdd", "TaskEnded", "TaskStore", "TicketRaced", "TurnClaimed", "open_store",
]


class TurnClaimed(Exception):
    """Another owner runs a turn of the task; nothing was written."""


@dataclass(frozen=True, slots=True)
class MemoryAdd:
    """Messages to add to a context's conversation memory, keeping the last `limit`."""

    context_id: str
    messages: Sequence[Message]
    limit: int


class TicketRaced(Exception):
    """A settlement was written for a ticket that is no longer pending; nothing was written."""

    def __init__(self, ticket_id: str) -> None:
        super().__init__(f"ticket {ticket_id} is no longer pending")
        self.ticket_id = ticket_id


@dataclass(frozen=True, slots=True)
class Delivery:
    """A push notification waiting to be sent: the Task as it was (in the stores' own form,
    `store.codec`; the sender encodes it for the config's protocol version), for one config."""

    id: int
    task_id: str
    config_id: str
    body: bytes
    attempts: int = 0


class TaskEnded(Exception):
    """Frames were appended to a task that has already ended; nothing was written."""

    def __init__(self, task_id: str, state: str) -> None:
        super().__init__(f"task {task_id} has ended ({state})")
        self.state = state


class TaskStore(Protocol):
    async def create(self, task: Task) -> int:
        """Start a task's log with its Task frame; returns its sequence number (1)."""
        ...

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
        """Append frames to a task's log and save tickets, all in one transaction.

        Returns the sequence number of the last frame (of the log, if `frames` is empty).
        - `notify`: queue a delivery of the Task as it is after these frames for each of the
          task's push configs, in the same transaction.
        - `claim` / `release`: claim the task's turn for an owner, give it up (as
          `claim_turn` / `release_turn`); `memory`: add to a context's memory. A turn's first
          and last writes carry these, so a turn costs two transactions.
        - `wait=False`: return before the write is durable; `committed()` tells when it is.
        Raises, writing nothing: TaskEnded if there are frames and the task has ended,
        TicketRaced if a settled ticket was no longer pending, TurnClaimed if another owner
        has the turn.
        """
        ...

    def committed(self) -> asyncio.Future[Any]:
        """A future done once everything written so far is durable (its result: None, or
        the exception that lost the writes)."""
        ...

    async def get_task(self, task_id: str) -> Task | None:
        """The current Task, or None if unknown (or purged)."""
        ...

    async def snapshot(self, task_id: str) -> tuple[Task, int] | None:
        """The current Task and the sequence number of the last frame folded into it."""
        ...

    async def list_tasks(self, query: ListTasks, owner: str = "") -> TaskPage:
        """A page of `owner`'s tasks matching the query, newest status first (then by id,
        descending); raises `paging.BadPageToken` for a token it did not make."""
        ...

    async def read_log(self, task_id: str, after: int = 0) -> list[tuple[int, Frame]]:
        """The frames of a task's log with a sequence number above `after`, in order."""
        ...

    async def get_ticket(self, ticket_id: str) -> Ticket | None: ...

    async def list_tickets(self, task_id: str) -> list[Ticket]:
        """A task's tickets, oldest first."""
        ...

    async def due_tickets(self, now: float) -> list[Ticket]:
        """Pending tickets whose deadline has passed."""
        ...

    async def get_memory(self, context_id: str) -> list[Message]:
        """The conversation memory of a context: earlier messages, oldest first."""
        ...

    async def add_memory(self, context_id: str, messages: Sequence[Message], limit: int) -> None:
        """Add messages to a context's memory, dropping the oldest beyond `limit`."""
        ...

    async def claim_turn(self, task_id: str, owner: str) -> bool:
        """Record that `owner` runs a turn of the task now; False if another process does."""
        ...

    async def release_turn(self, task_id: str, owner: str) -> None:
        """`owner`'s turn of the task is over (a claim by anyone else is left alone)."""
        ...

    async def running(self) -> list[tuple[str, str]]:
        """(task id, owner) of every task whose turn is recorded as running."""
        ...

    async def open_tasks(self) -> list[str]:
        """Ids of the tasks that have not ended."""
        ...

    # -- push notifications ----------------------------------------------------------------

    async def put_push_config(self, task_id: str, config: PushConfig) -> None:
        """Save a push config, replacing one with the same id."""
        ...

    async def push_configs(self, task_id: str) -> list[PushConfig]:
        """A task's push configs, oldest first."""
        ...

    async def delete_push_config(self, task_id: str, config_id: str) -> bool:
        """Delete a push config (and its pending deliveries); False if there was none."""
        ...

    async def due_deliveries(self, now: float, limit: int) -> list[Delivery]:
        """For each push config, its oldest pending delivery, if it is due by `now`."""
        ...

    async def claim_delivery(self, delivery: Delivery, until: float) -> bool:
        """Take a due delivery for sending until `until`; False if someone else took it."""
        ...

    async def delivery_done(self, delivery_id: int) -> None: ...

    async def delivery_retry(self, delivery_id: int, attempts: int, at: float) -> None: ...

    async def purge(self, ended_before: float) -> int:
        """Delete tasks that ended before this time, with their logs and tickets."""
        ...

    async def close(self) -> None: ...


def open_store(url: str) -> TaskStore:
    """The store named by `--store`: `memory`, or `sqlite:///path/to/file.db`."""
    if url == "memory":
        from a2a_server.store.memory import MemoryStore

        return MemoryStore()
    if url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
        from a2a_server.store.sqlite import SQLiteStore

        # as in SQLAlchemy: sqlite:///relative.db, sqlite:////absolute/path.db
        return SQLiteStore(url.removeprefix("sqlite:///"))
    raise ValueError(f"--store must be memory or sqlite:///PATH, not {url!r}")
