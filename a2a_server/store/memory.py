"""The in-memory task store: for tests and for `--store memory`. Copies on the way out."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from a2a_server.mapping import apply
from a2a_server.protocol.objects import Frame
from a2a_server.tickets import Ticket

__all__ = ["MemoryStore"]


class MemoryStore:
    def __init__(self) -> None:
        self._tasks: dict[str, dict[str, Any]] = {}
        self._logs: dict[str, list[Frame]] = {}
        self._tickets: dict[str, Ticket] = {}
        self._task_tickets: dict[str, list[str]] = {}
        self._memory: dict[str, list[dict[str, Any]]] = {}
        self.frames_written = 0  # for tests: how many frames the store was asked to write

    async def create(self, task: Frame) -> int:
        task_id = task["id"]
        if task_id in self._tasks:
            raise ValueError(f"task {task_id} exists")
        self._tasks[task_id] = apply(None, task)
        self._logs[task_id] = [task]
        self.frames_written += 1
        return 1

    async def append(
        self, task_id: str, frames: Sequence[Frame], tickets: Sequence[Ticket] = ()
    ) -> int:
        task = self._tasks[task_id]
        for frame in frames:
            task = apply(task, frame)
        self._tasks[task_id] = task
        log = self._logs[task_id]
        log.extend(frames)
        self.frames_written += len(frames)
        for ticket in tickets:
            if ticket.id not in self._tickets:
                self._task_tickets.setdefault(ticket.task_id, []).append(ticket.id)
            self._tickets[ticket.id] = ticket
        return len(log)

    async def get_task(self, task_id: str) -> dict[str, Any] | None:
        task = self._tasks.get(task_id)
        return None if task is None else copy.deepcopy(task)

    async def snapshot(self, task_id: str) -> tuple[dict[str, Any], int] | None:
        task = self._tasks.get(task_id)
        if task is None:
            return None
        return copy.deepcopy(task), len(self._logs[task_id])

    async def read_log(self, task_id: str, after: int = 0) -> list[tuple[int, Frame]]:
        log = self._logs.get(task_id, [])
        return [(seq, frame) for seq, frame in enumerate(log[after:], start=after + 1)]

    async def get_ticket(self, ticket_id: str) -> Ticket | None:
        return self._tickets.get(ticket_id)

    async def list_tickets(self, task_id: str) -> list[Ticket]:
        return [self._tickets[t] for t in self._task_tickets.get(task_id, ())]

    async def get_memory(self, context_id: str) -> list[dict[str, Any]]:
        return copy.deepcopy(self._memory.get(context_id, []))

    async def add_memory(
        self, context_id: str, messages: Sequence[dict[str, Any]], limit: int
    ) -> None:
        memory = self._memory.setdefault(context_id, [])
        memory.extend(copy.deepcopy(list(messages)))
        del memory[: max(0, len(memory) - limit)]
