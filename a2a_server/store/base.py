"""The `TaskStore` seam (design §5).

A task is its event log: every frame it emits is appended with a per-task sequence number
(1 for the Task frame that creates it), and the stored Task is the fold of that log
(`mapping.apply`). Tickets are written in the same call as the frames that announce them, so
a store can make both one transaction. Everything a store returns is the caller's to keep:
no later write changes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from a2a_server.protocol.objects import Frame
from a2a_server.tickets import Ticket

__all__ = ["TaskStore"]


class TaskStore(Protocol):
    async def create(self, task: Frame) -> int:
        """Start a task's log with its Task frame; returns its sequence number (1)."""
        ...

    async def append(
        self, task_id: str, frames: Sequence[Frame], tickets: Sequence[Ticket] = ()
    ) -> int:
        """Append frames to a task's log and save tickets, all at once.

        Returns the sequence number of the last frame (of the log, if `frames` is empty).
        """
        ...

    async def get_task(self, task_id: str) -> dict[str, Any] | None:
        """The current Task, or None if unknown."""
        ...

    async def snapshot(self, task_id: str) -> tuple[dict[str, Any], int] | None:
        """The current Task and the sequence number of the last frame folded into it."""
        ...

    async def read_log(self, task_id: str, after: int = 0) -> list[tuple[int, Frame]]:
        """The frames of a task's log with a sequence number above `after`, in order."""
        ...

    async def get_ticket(self, ticket_id: str) -> Ticket | None: ...

    async def list_tickets(self, task_id: str) -> list[Ticket]:
        """A task's tickets, oldest first."""
        ...

    async def get_memory(self, context_id: str) -> list[dict[str, Any]]:
        """The conversation memory of a context: earlier messages, oldest first."""
        ...

    async def add_memory(
        self, context_id: str, messages: Sequence[dict[str, Any]], limit: int
    ) -> None:
        """Add messages to a context's memory, dropping the oldest beyond `limit`."""
        ...
