"""The in-memory task store: for tests and for `--store memory` (one process, nothing kept).

It behaves as the other stores do, by the same contract (tests/test_store_contract.py).
Frames, messages and configs are frozen values, shared freely; a Task is copied on the way
in and out. Watchers are woken by asyncio events, replaced on each write; lease holders
by a hub's doorbells (`hub.Bell`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass, field

from a2a_server.calls import ListTasks, TaskPage
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
from a2a_server.store.codec import dump_task
from a2a_server.store.hub import Bell, Hub
from a2a_server.store.paging import page_token, read_page_token
from a2a_server.tickets import Ticket

__all__ = ["MemoryStore"]


@dataclass
class _Task:
    principal: str
    context_id: str
    state: TaskState
    status_at: str
    log: list[Frame]
    snapshot: tuple[Task, int]
    ended_at: float | None = None
    owner: str | None = None
    token: int = 0
    until: float = 0.0
    turn_running: bool = False
    inbox: list[Queued] = field(default_factory=list)
    next_command: int = 1
    tickets: list[str] = field(default_factory=list)
    configs: dict[str, PushConfig] = field(default_factory=dict)
    # set once the log grows; made by the first watcher to wait, not by every write (a
    # streamed chunk is one)
    wrote: asyncio.Event | None = None

    def grew(self) -> None:
        if self.wrote is not None:
            self.wrote.set()
            self.wrote = None


@dataclass
class _Delivery:
    delivery: Delivery
    due_at: float = 0.0
    claimed_until: float = 0.0


class MemoryStore:
    def __init__(self) -> None:
        self._tasks: dict[str, _Task] = {}
        self._tickets: dict[str, Ticket] = {}
        self._memory: dict[tuple[str, str], list[Message]] = {}
        self._outbox: dict[int, _Delivery] = {}
        self._next_delivery = 1
        self._bells = Hub()  # the lease holders' doorbells

    # -- the log and its lease ----------------------------------------------------------------

    async def create(
        self, task: Task, *, principal: str, owner: str, ttl: float, then: Change | None = None
    ) -> Lease:
        if task.id in self._tasks:
            raise ValueError(f"task {task.id} exists")
        first = task.copy()
        self._tasks[task.id] = _Task(
            principal, task.context_id, task.status.state, task.status.timestamp, [first],
            (first, 1), owner=owner, token=1, until=time.time() + ttl,
        )
        lease = Lease(task.id, owner, 1)
        if then is not None:  # nothing runs between the two: one step all the same
            await self.append(lease, then)
        return lease

    def _held(self, lease: Lease) -> _Task:
        rec = self._tasks.get(lease.task_id)
        if rec is None or rec.owner != lease.owner or rec.token != lease.token:
            raise LeaseLost(lease.task_id)
        return rec

    async def append(self, lease: Lease, change: Change) -> Appended:
        rec = self._held(lease)
        if change.frames and rec.state in TERMINAL_STATES:
            raise TaskEnded(lease.task_id, rec.state)
        for ticket in change.tickets:  # a settlement: of a pending ticket only
            known = self._tickets.get(ticket.id)
            if known is not None and not known.pending and not ticket.pending and not ticket.delivered:
                raise TicketRaced(ticket.id)
        for frame in change.frames:
            if type(frame) is StatusUpdate or type(frame) is Task:
                rec.state = frame.status.state  # type: ignore[union-attr]
                rec.status_at = frame.status.timestamp  # type: ignore[union-attr]
        rec.log.extend(f.copy() if type(f) is Task else f for f in change.frames)  # type: ignore[union-attr]
        seq = len(rec.log)
        if change.task is not None and change.keep:
            rec.snapshot = (change.task.copy(), seq)
        if rec.state in TERMINAL_STATES and rec.ended_at is None:
            rec.ended_at = time.time()
        for ticket in change.tickets:
            if ticket.id not in self._tickets:
                rec.tickets.append(ticket.id)
            self._tickets[ticket.id] = ticket
        if change.memory is not None:
            await self.remember(change.memory)
        queued = 0
        if change.notify and rec.configs and change.task is not None:
            body = dump_task(change.task)
            queued = len(rec.configs)
            for config_id in rec.configs:
                d = Delivery(self._next_delivery, lease.task_id, config_id, body, 0, time.time())
                self._outbox[d.id] = _Delivery(d)
                self._next_delivery += 1
        if change.consumed:
            done = set(change.consumed)
            rec.inbox = [q for q in rec.inbox if q.id not in done]
        if change.turn is not None:
            rec.turn_running = change.turn
        released = False
        if change.release and not rec.inbox:
            rec.owner, released = None, True
        if change.frames:
            rec.grew()
        return Appended(seq, released, queued)

    def append_now(self, lease: Lease, frames: tuple[Frame, ...]) -> int | None:
        rec = self._tasks.get(lease.task_id)
        if len(frames) == 1:  # most often one chunk: looked at as it is, not by a generator
            kind = type(frames[0])
            moves_row = kind is StatusUpdate or kind is Task
        else:
            moves_row = not frames or any(type(f) is StatusUpdate or type(f) is Task for f in frames)
        if (
            moves_row or rec is None or rec.owner != lease.owner or rec.token != lease.token
            or rec.state in TERMINAL_STATES
        ):
            return None
        rec.log.extend(frames)
        rec.grew()
        return len(rec.log)

    async def submit(
        self, task_id: str, command: Command, *, owner: str, ttl: float
    ) -> tuple[int, Lease | None]:
        rec = self._tasks[task_id]
        queued = Queued(rec.next_command, command)
        rec.next_command += 1
        rec.inbox.append(queued)
        self._bells.ring(task_id)
        return queued.id, await self.claim(task_id, owner=owner, ttl=ttl)

    async def claim(
        self, task_id: str, *, owner: str, ttl: float, dead: str | None = None
    ) -> Lease | None:
        rec = self._tasks.get(task_id)
        if rec is None or rec.state in TERMINAL_STATES:
            return None
        now = time.time()
        if rec.owner is not None and rec.owner not in (owner, dead) and rec.until > now:
            return None
        if rec.owner != owner:
            rec.owner, rec.token = owner, rec.token + 1
        rec.until = now + ttl
        return Lease(task_id, owner, rec.token)

    async def renew(self, leases: Sequence[Lease], ttl: float) -> list[Lease]:
        lost = []
        until = time.time() + ttl
        for lease in leases:
            rec = self._tasks.get(lease.task_id)
            if rec is None or rec.owner != lease.owner or rec.token != lease.token:
                lost.append(lease)
            else:
                rec.until = until
        return lost

    async def inbox(self, task_id: str, after: int = 0) -> list[Queued]:
        rec = self._tasks.get(task_id)
        return [q for q in rec.inbox if q.id > after] if rec is not None else []

    async def leases(self, expiring_by: float) -> list[tuple[str, str]]:
        return [(t, r.owner) for t, r in self._tasks.items() if r.owner is not None and r.until <= expiring_by]

    # -- following a log ----------------------------------------------------------------------

    async def read(self, task_id: str, after: int = 0) -> list[tuple[int, Frame]]:
        rec = self._tasks.get(task_id)
        log = rec.log if rec is not None else []
        return list(enumerate(log[after:], start=after + 1))

    async def watch(
        self, task_id: str, after: int, idle: float | None = None
    ) -> AsyncGenerator[list[tuple[int, Frame]], None]:
        while True:
            rec = self._tasks.get(task_id)
            if rec is None:
                return
            if rec.wrote is None:  # made before the read: no write falls between the two
                rec.wrote = asyncio.Event()
            wrote = rec.wrote
            batch = await self.read(task_id, after)
            if batch:
                after = batch[-1][0]
                yield batch
            elif idle is None:
                await wrote.wait()
            else:
                try:
                    async with asyncio.timeout(idle):  # a timer, not wait_for's task
                        await wrote.wait()
                except TimeoutError:
                    yield []

    async def doorbell(self, task_id: str) -> Bell:
        return self._bells.bell(task_id)

    # -- reads --------------------------------------------------------------------------------

    async def load(self, task_id: str) -> Loaded | None:
        rec = self._tasks.get(task_id)
        if rec is None:
            return None
        task, seq = rec.snapshot
        return Loaded(
            fold(task.copy(), rec.log[seq:]), len(rec.log), rec.principal, rec.turn_running,
            rec.owner,
        )

    async def list_tasks(self, query: ListTasks, principal: str) -> TaskPage:
        """Sorted here: this store is for tests and small deployments; the others read an
        index."""
        found = sorted(
            (
                (rec.status_at, task_id)
                for task_id, rec in self._tasks.items()
                if rec.principal == principal
                and (query.context_id is None or rec.context_id == query.context_id)
                and (query.status is None or rec.state is query.status)
                and (query.status_timestamp_after is None or rec.status_at >= query.status_timestamp_after)
            ),
            reverse=True,
        )
        total = len(found)
        if query.page_token:
            cursor = read_page_token(query.page_token)
            found = [entry for entry in found if entry < cursor]
        page = found[: query.page_size]
        token = page_token(*page[-1]) if len(found) > query.page_size else ""
        tasks = []
        for _, task_id in page:
            loaded = await self.load(task_id)
            assert loaded is not None
            tasks.append(loaded.task)
        return TaskPage(tasks, token, query.page_size, total)

    async def counts(self) -> StoreCounts:
        tasks: dict[str, int] = {}
        for rec in self._tasks.values():
            tasks[rec.state.value] = tasks.get(rec.state.value, 0) + 1
        return StoreCounts(tasks, sum(1 for t in self._tickets.values() if t.pending))

    async def open_tasks(self, principal: str) -> int:
        return sum(1 for rec in self._tasks.values() if rec.principal == principal and rec.ended_at is None)

    async def ticket(self, ticket_id: str) -> Ticket | None:
        return self._tickets.get(ticket_id)

    async def tickets(self, task_id: str) -> list[Ticket]:
        rec = self._tasks.get(task_id)
        return [self._tickets[t] for t in rec.tickets] if rec is not None else []

    async def due_tickets(self, now: float) -> list[Ticket]:
        return [t for t in self._tickets.values() if t.pending and t.deadline is not None and t.deadline <= now]

    async def memory(self, principal: str, context_id: str) -> list[Message]:
        return list(self._memory.get((principal, context_id), ()))

    async def remember(self, memory: MemoryAdd) -> None:
        kept = self._memory.setdefault((memory.principal, memory.context_id), [])
        kept.extend(memory.messages)
        del kept[: max(0, len(kept) - memory.limit)]

    # -- push notifications -------------------------------------------------------------------

    async def put_push_config(self, task_id: str, config: PushConfig) -> None:
        self._tasks[task_id].configs[config.id] = config

    async def push_configs(self, task_id: str) -> list[PushConfig]:
        rec = self._tasks.get(task_id)
        return list(rec.configs.values()) if rec is not None else []

    async def delete_push_config(self, task_id: str, config_id: str) -> bool:
        rec = self._tasks.get(task_id)
        if rec is None or rec.configs.pop(config_id, None) is None:
            return False
        for i, entry in list(self._outbox.items()):
            if entry.delivery.task_id == task_id and entry.delivery.config_id == config_id:
                del self._outbox[i]
        return True

    async def take_deliveries(self, now: float, hold: float, limit: int) -> list[Delivery]:
        heads: dict[tuple[str, str], _Delivery] = {}
        for _, entry in sorted(self._outbox.items()):
            heads.setdefault((entry.delivery.task_id, entry.delivery.config_id), entry)
        taken: list[Delivery] = []
        for entry in heads.values():
            if entry.due_at <= now and entry.claimed_until <= now and len(taken) < limit:
                entry.claimed_until = now + hold
                taken.append(entry.delivery)
        return taken

    async def finish_delivery(self, delivery: Delivery, retry_at: float | None) -> None:
        entry = self._outbox.get(delivery.id)
        if entry is None:
            return
        if retry_at is None:
            del self._outbox[delivery.id]
        else:
            entry.delivery = dataclasses.replace(entry.delivery, attempts=entry.delivery.attempts + 1)
            entry.due_at, entry.claimed_until = retry_at, 0.0

    async def outbox_stats(self, now: float) -> OutboxStats:
        if not self._outbox:
            return OutboxStats(0, 0.0)
        oldest = min(e.delivery.created_at for e in self._outbox.values())
        return OutboxStats(len(self._outbox), max(0.0, now - oldest))

    # -- upkeep -------------------------------------------------------------------------------

    async def purge(self, ended_before: float) -> int:
        gone = [t for t, r in self._tasks.items() if r.ended_at is not None and r.ended_at < ended_before]
        for task_id in gone:
            rec = self._tasks.pop(task_id)
            key = (rec.principal, rec.context_id)
            if all((r.principal, r.context_id) != key for r in self._tasks.values()):
                self._memory.pop(key, None)  # a conversation goes with its last task
            for ticket_id in rec.tickets:
                del self._tickets[ticket_id]
            for i, entry in list(self._outbox.items()):
                if entry.delivery.task_id == task_id:
                    del self._outbox[i]
            rec.grew()  # watchers of a purged task end
        return len(gone)

    async def close(self) -> None:
        return None
