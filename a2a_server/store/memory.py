"""The in-memory task store: for tests and for `--store memory`.

Nothing survives the process; otherwise it behaves as the SQLite store does. Frames, messages
and configs are frozen values, shared freely; a Task is copied on the way out.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Sequence
from typing import Any

from a2a_server.mapping import fold
from a2a_server.model import FINAL_STATES, TERMINAL_STATES, Frame, Message, PushConfig, StatusUpdate, Task, TaskState
from a2a_server.calls import ListTasks, TaskPage
from a2a_server.store.base import Delivery, MemoryAdd, TaskEnded, TicketRaced, TurnClaimed
from a2a_server.store.paging import page_token, read_page_token
from a2a_server.store.codec import dump_task
from a2a_server.tickets import Ticket

__all__ = ["MemoryStore"]

_SNAPSHOT_EVERY = 16_384  # frames: bounds the tail a read folds, as in the SQLite store


class MemoryStore:
    def __init__(self) -> None:
        # a task is its log; reads fold the log's tail onto a snapshot taken when it rests
        self._logs: dict[str, list[Frame]] = {}
        self._snapshots: dict[str, tuple[Task, int]] = {}
        self._states: dict[str, tuple[TaskState, str]] = {}  # task -> (state, context id)
        self._listed: dict[str, tuple[str, str, str]] = {}  # task -> (owner, context, status at)
        self._ended: dict[str, float] = {}
        self._running: dict[str, str] = {}
        self._tickets: dict[str, Ticket] = {}
        self._task_tickets: dict[str, list[str]] = {}
        self._memory: dict[str, list[Message]] = {}
        self._push: dict[str, dict[str, PushConfig]] = {}  # task -> config id -> config
        self._outbox: dict[int, tuple[Delivery, float]] = {}  # id -> (delivery, due at)
        self._next_delivery = 1

    async def create(self, task: Task) -> int:
        task_id = task.id
        if task_id in self._logs:
            raise ValueError(f"task {task_id} exists")
        self._logs[task_id] = [task.copy()]
        self._snapshots[task_id] = (fold(None, [task]), 1)
        self._states[task_id] = (task.status.state, task.context_id)
        self._listed[task_id] = ("", task.context_id, task.status.timestamp)
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
        state, context_id = self._states[task_id]
        if frames and state in TERMINAL_STATES:
            raise TaskEnded(task_id, state)
        if claim is not None and self._running.get(task_id, claim) != claim:
            raise TurnClaimed(task_id)
        for ticket in tickets:  # a settlement: of a pending ticket only
            known = self._tickets.get(ticket.id)
            if known is not None and not known.pending and ticket.state != "pending" and not ticket.delivered:
                raise TicketRaced(ticket.id)
        log = self._logs[task_id]
        rests = False
        for frame in frames:
            if type(frame) is StatusUpdate or type(frame) is Task:
                state = frame.status.state  # type: ignore[union-attr]
                rests = rests or type(frame) is Task or state in FINAL_STATES
                owner, context, _ = self._listed[task_id]
                self._listed[task_id] = (owner, context, frame.status.timestamp)  # type: ignore[union-attr]
        log.extend(f.copy() if type(f) is Task else f for f in frames)  # type: ignore[union-attr]
        self._states[task_id] = (state, context_id)
        if state in TERMINAL_STATES:
            self._ended.setdefault(task_id, time.time())
        if rests or len(log) - self._snapshots[task_id][1] >= _SNAPSHOT_EVERY:
            self._snapshots[task_id] = (self._fold(task_id), len(log))
        for ticket in tickets:
            if ticket.id not in self._tickets:
                self._task_tickets.setdefault(ticket.task_id, []).append(ticket.id)
            self._tickets[ticket.id] = ticket
        if claim is not None:
            self._running[task_id] = claim
        if memory is not None:
            await self.add_memory(memory.context_id, memory.messages, memory.limit)
        if release is not None:
            await self.release_turn(task_id, release)
        if notify and self._push.get(task_id):
            body = dump_task(self._fold(task_id))
            for config_id in self._push[task_id]:
                delivery = Delivery(self._next_delivery, task_id, config_id, body)
                self._outbox[delivery.id] = (delivery, 0.0)
                self._next_delivery += 1
        return len(log)

    def committed(self) -> asyncio.Future[BaseException | None]:
        done: asyncio.Future[BaseException | None] = asyncio.get_running_loop().create_future()
        done.set_result(None)  # nothing here outlives the process anyway
        return done

    def _fold(self, task_id: str) -> Task:
        task, seq = self._snapshots[task_id]
        return fold(task.copy(), self._logs[task_id][seq:])

    async def get_task(self, task_id: str) -> Task | None:
        return self._fold(task_id) if task_id in self._logs else None

    async def snapshot(self, task_id: str) -> tuple[Task, int] | None:
        if task_id not in self._logs:
            return None
        return self._fold(task_id), len(self._logs[task_id])

    async def list_tasks(self, query: ListTasks, owner: str = "") -> TaskPage:
        """A page of `owner`'s tasks, newest status first (sorted here: this store is for
        tests and small deployments; the others read an index)."""
        found = sorted(
            (
                (at, task_id)
                for task_id, (who, context, at) in self._listed.items()
                if who == owner
                and (query.context_id is None or context == query.context_id)
                and (query.status is None or self._states[task_id][0] is query.status)
                and (query.status_timestamp_after is None or at >= query.status_timestamp_after)
            ),
            reverse=True,
        )
        total = len(found)
        if query.page_token:
            cursor = read_page_token(query.page_token)
            found = [entry for entry in found if entry < cursor]
        page = found[: query.page_size]
        more = len(found) > query.page_size
        token = page_token(*page[-1]) if more else ""
        return TaskPage([self._fold(t) for _, t in page], token, query.page_size, total)

    async def read_log(self, task_id: str, after: int = 0) -> list[tuple[int, Frame]]:
        log = self._logs.get(task_id, [])
        return [(seq, frame) for seq, frame in enumerate(log[after:], start=after + 1)]

    async def get_ticket(self, ticket_id: str) -> Ticket | None:
        return self._tickets.get(ticket_id)

    async def list_tickets(self, task_id: str) -> list[Ticket]:
        return [self._tickets[t] for t in self._task_tickets.get(task_id, ())]

    async def due_tickets(self, now: float) -> list[Ticket]:
        return [
            t
            for t in self._tickets.values()
            if t.pending and t.deadline is not None and t.deadline <= now
        ]

    async def get_memory(self, context_id: str) -> list[Message]:
        return list(self._memory.get(context_id, []))

    async def add_memory(self, context_id: str, messages: Sequence[Message], limit: int) -> None:
        memory = self._memory.setdefault(context_id, [])
        memory.extend(messages)
        del memory[: max(0, len(memory) - limit)]

    async def claim_turn(self, task_id: str, owner: str) -> bool:
        if self._running.setdefault(task_id, owner) != owner:
            return False
        return True

    async def release_turn(self, task_id: str, owner: str) -> None:
        if self._running.get(task_id) == owner:
            del self._running[task_id]

    async def running(self) -> list[tuple[str, str]]:
        return list(self._running.items())

    async def open_tasks(self) -> list[str]:
        return [t for t in self._logs if t not in self._ended]

    async def put_push_config(self, task_id: str, config: PushConfig) -> None:
        self._push.setdefault(task_id, {})[config.id] = config

    async def push_configs(self, task_id: str) -> list[PushConfig]:
        return list(self._push.get(task_id, {}).values())

    async def delete_push_config(self, task_id: str, config_id: str) -> bool:
        if self._push.get(task_id, {}).pop(config_id, None) is None:
            return False
        for delivery_id, (d, _) in list(self._outbox.items()):
            if d.task_id == task_id and d.config_id == config_id:
                del self._outbox[delivery_id]
        return True

    async def due_deliveries(self, now: float, limit: int) -> list[Delivery]:
        oldest: dict[tuple[str, str], tuple[Delivery, float]] = {}
        for d, due in sorted(self._outbox.values(), key=lambda e: e[0].id):
            oldest.setdefault((d.task_id, d.config_id), (d, due))
        return [d for d, due in oldest.values() if due <= now][:limit]

    async def claim_delivery(self, delivery: Delivery, until: float) -> bool:
        entry = self._outbox.get(delivery.id)
        if entry is None or entry[1] > time.time():
            return False
        self._outbox[delivery.id] = (entry[0], until)
        return True

    async def delivery_done(self, delivery_id: int) -> None:
        self._outbox.pop(delivery_id, None)

    async def delivery_retry(self, delivery_id: int, attempts: int, at: float) -> None:
        entry = self._outbox.get(delivery_id)
        if entry is not None:
            self._outbox[delivery_id] = (dataclasses.replace(entry[0], attempts=attempts), at)

    async def purge(self, ended_before: float) -> int:
        gone = []
        for task_id, ended in self._ended.items():  # in the order tasks ended: stop early
            if ended >= ended_before:
                break
            gone.append(task_id)
        for task_id in gone:
            context_id = self._states.pop(task_id)[1]
            del self._listed[task_id]
            del self._logs[task_id], self._snapshots[task_id], self._ended[task_id]
            if all(c != context_id for _, c in self._states.values()):
                self._memory.pop(context_id, None)  # a conversation goes with its last task
            for ticket_id in self._task_tickets.pop(task_id, []):
                del self._tickets[ticket_id]
            self._push.pop(task_id, None)
            for delivery_id, (d, _) in list(self._outbox.items()):
                if d.task_id == task_id:
                    del self._outbox[delivery_id]
        return len(gone)

    async def close(self) -> None:
        return None
