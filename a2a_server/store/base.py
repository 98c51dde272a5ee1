"""The `TaskStore` seam (design §5): what every backend (memory, SQLite, Redis) provides.

A task is its event log: every frame it emits is appended with a per-task sequence number
(1 for the Task frame that creates it); the Task is the fold of that log (`mapping.apply`).
Frames, tickets, messages and configs are frozen values; a Task a store returns is the
caller's to keep.

The few operations a backend must make atomic, each one value in, all or nothing:

- `create`: a new task's Task frame, and the lease of its first turn.
- `append(lease, Change)`: frames and their side effects (new or settled tickets, context
  memory, push deliveries, consumed inbox commands, the turn flag, the lease let go),
  fenced by the lease: a writer whose lease another replica has since claimed writes
  nothing (`LeaseLost`). A settlement is compare-and-set: only a pending ticket settles
  (`TicketRaced`). Frames after the task ended are refused (`TaskEnded`). Letting the lease
  go fails, keeping it, while the task's inbox still holds commands (the holder goes on).
- `submit(task, command)`: put a command (a message, a ticket settlement, a cancel) in the
  task's inbox, in order, and claim the lease if nobody holds it; the lease holder is the
  one writer of the task, and drains the inbox.
- `claim` and `renew`: leases expire unless renewed; a claim of an expired lease gets a
  higher fencing token.
- `take_deliveries`: the head push delivery of each config, claimed for a while by one
  sender (so deliveries of a config go one at a time, in order, and a sender that dies
  leaves its claim to expire).

`watch` follows a log from a sequence number, live: every replica sees every frame
through it (an in-process shortcut serves the frames written here). The rest are plain
reads and writes that need nothing atomic.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Any, Protocol

from a2a_server.calls import ListTasks, TaskPage
from a2a_server.model import Frame, Message, PushConfig, Task
from a2a_server.store.hub import Bell
from a2a_server.tickets import Ticket
from a2a_server.values import value

__all__ = [
    "Appended",
    "CancelCommand",
    "Change",
    "Command",
    "Delivery",
    "Lease",
    "LeaseLost",
    "Loaded",
    "MemoryAdd",
    "MessageCommand",
    "OutboxStats",
    "Queued",
    "SettleCommand",
    "StoreCounts",
    "TaskEnded",
    "TaskStore",
    "TicketRaced",
    "open_store",
]


# -- values ------------------------------------------------------------------------------------


@value
class Lease:
    """The right to write a task, held by one app instance (`owner`) until it expires.
    `token` grows with every claim: a write under a superseded token is refused."""

    task_id: str
    owner: str
    token: int


@value
class MemoryAdd:
    """Messages to add to a conversation's memory, keeping the last `limit`. Memory belongs
    to the principal and context together: one caller never reads another's."""

    principal: str
    context_id: str
    messages: Sequence[Message]
    limit: int
    # the context was made with the task, and this is its first turn's: the memory held
    # nothing before, so a store need not trim it (a second task that joins the context while
    # this turn runs may leave it a turn's messages over `limit`, until the next add trims it)
    fresh: bool = False


@value
class MessageCommand:
    """Run a turn for this user message."""

    message: Message


@value
class SettleCommand:
    """Settle a pending ticket of the task: resolved, failed or expired."""

    ticket_id: str
    state: str
    output: Any = None
    error: str | None = None


@value
class CancelCommand:
    """Stop the task for good."""


Command = MessageCommand | SettleCommand | CancelCommand


@value
class Queued:
    """A command in a task's inbox, with its id (increasing per task)."""

    id: int
    command: Command


@value
class Change:
    """Everything one write does to a task, as one value (see `TaskStore.append`)."""

    frames: tuple[Frame, ...] = ()
    tickets: tuple[Ticket, ...] = ()  # new ones, or settlements (of pending ones only)
    task: Task | None = None  # the task as it stands after `frames`: given at rest, to keep
    notify: bool = False  # queue a push delivery of `task` for each of the task's configs
    # keep `task` as the task's snapshot; False: it came for the notification only, or the
    # frames since the last snapshot are few enough for a read to fold (a store may keep it)
    keep: bool = True
    memory: MemoryAdd | None = None
    consumed: tuple[int, ...] = ()  # inbox commands this change carries out
    turn: bool | None = None  # True: a turn starts; False: it ended (recovery tells cut turns)
    release: bool = False  # let the lease go (unless the inbox holds commands)
    # False: `append` may return before the write is durable (a store that batches commits
    # returns once it is in the open batch); watchers still see its frames only once they
    # are, and if that commit fails, the task's next append raises the failure
    wait: bool = True

    @property
    def frames_only(self) -> bool:
        """Frames and nothing else (a turn's text and progress)."""
        return (
            self.task is None and not self.tickets and self.memory is None and not self.notify
            and not self.consumed and self.turn is None and not self.release
        )


@value
class Appended:
    seq: int  # the sequence number of the log's last frame
    released: bool = False  # the lease was let go (False also when it was not asked)
    queued: int = 0  # push deliveries `notify` queued (none: the task has no configs)


@value
class Loaded:
    """A task as a store has it."""

    task: Task
    seq: int  # the last frame folded into `task`
    principal: str  # who created it (tasks belong to their caller)
    turn_running: bool  # a turn started and did not end: if its lease is gone, it was cut
    lease_owner: str | None  # who holds the lease, if anyone (it may have expired)


@value
class Delivery:
    """A push notification waiting to be sent: the Task as it was, for one config (the body
    is the stores' own form, `store.codec`; the sender encodes it for the config's version)."""

    id: int
    task_id: str
    config_id: str
    body: bytes
    attempts: int = 0
    created_at: float = 0.0


@value
class OutboxStats:
    waiting: int
    oldest_age_seconds: float  # 0 when nothing waits


@value
class StoreCounts:
    """What the store holds, for metrics: tasks by state, tickets still pending."""

    tasks: dict[str, int]
    pending_tickets: int


# -- errors ------------------------------------------------------------------------------------


class LeaseLost(Exception):
    """The write's lease was claimed by another owner since (or let go): nothing was
    written, and the writer must stop writing this task."""


class TicketRaced(Exception):
    """A settlement was written for a ticket that is no longer pending; nothing was written."""

    def __init__(self, ticket_id: str) -> None:
        super().__init__(f"ticket {ticket_id} is no longer pending")
        self.ticket_id = ticket_id


class TaskEnded(Exception):
    """Frames were appended to a task that has already ended; nothing was written."""

    def __init__(self, task_id: str, state: str) -> None:
        super().__init__(f"task {task_id} has ended ({state})")
        self.state = state


# -- the seam ----------------------------------------------------------------------------------


class TaskStore(Protocol):
    # the log, and the lease that guards it (atomic) ------------------------------------------

    async def create(
        self, task: Task, *, principal: str, owner: str, ttl: float, then: Change | None = None
    ) -> Lease:
        """Start a task's log with its Task frame (seq 1), owned by `principal`, its lease
        held by `owner` for `ttl` seconds; and, if given, append `then` (its frames from seq
        2), in the same write where the store can (one transaction), else right after.
        Waited for, whatever `then.wait` says."""
        ...

    async def append(self, lease: Lease, change: Change) -> Appended:
        """Write a change to the lease's task, all or nothing (see the module docstring).
        Raises, writing nothing: LeaseLost, TaskEnded, TicketRaced."""
        ...

    def append_now(self, lease: Lease, frames: tuple[Frame, ...]) -> int | None:
        """`append(lease, Change(frames, wait=False))` done at once, for a turn's text (artifact
        updates: frames that change no state): the last frame's sequence number, when the
        store can take them without waiting (it holds what it needs to check the lease, as in
        a batch that already checked it); None, having done nothing, when it cannot (the
        caller then calls `append`, which raises what refuses them). Like any unwaited
        append, what it took and then failed to commit (the lease lost, the task ended
        meanwhile) is raised by the lease's next `append`."""
        ...

    async def submit(
        self, task_id: str, command: Command, *, owner: str, ttl: float
    ) -> tuple[int, Lease | None]:
        """Queue a command for the task; the lease too, if nobody holds it (or it expired).
        Returns the command's id and the lease, if it was taken."""
        ...

    async def claim(
        self, task_id: str, *, owner: str, ttl: float, dead: str | None = None
    ) -> Lease | None:
        """The task's lease, if nobody holds it or its holder's expired (or its holder is
        `dead`, known gone before its lease ran out); else None."""
        ...

    async def renew(self, leases: Sequence[Lease], ttl: float) -> list[Lease]:
        """Extend these leases; returns those that were lost (claimed by another since)."""
        ...

    async def inbox(self, task_id: str, after: int = 0) -> list[Queued]:
        """The task's queued commands with an id above `after`, oldest first."""
        ...

    async def leases(self, expiring_by: float) -> list[tuple[str, str]]:
        """(task id, owner) of the leases held (not let go) that expire by `expiring_by`:
        expired ones, given now; all of them, given infinity."""
        ...

    # following a log ------------------------------------------------------------------------

    async def read(self, task_id: str, after: int = 0) -> list[tuple[int, Frame]]:
        """The frames of a task's log with a sequence number above `after`, in order."""
        ...

    def watch(
        self, task_id: str, after: int, idle: float | None = None
    ) -> AsyncGenerator[list[tuple[int, Frame]], None]:
        """The task's frames after `after`, in order, as they are written (by any replica);
        yields each batch as it arrives and waits for the next, and an empty batch when
        none came for `idle` seconds (a stream's keep-alive). The caller stops it."""
        ...

    async def doorbell(self, task_id: str) -> Bell:
        """The task's doorbell, listening once this returns: `Bell.rang()` is done once a
        command is queued for the task (by any replica) after that. The lease holder reads
        the inbox once it has the bell, then again each time it rings; it closes it."""
        ...

    # reads ----------------------------------------------------------------------------------

    async def load(self, task_id: str) -> Loaded | None:
        """The task as it stands, or None if unknown (or purged)."""
        ...

    async def list_tasks(self, query: ListTasks, principal: str) -> TaskPage:
        """A page of `principal`'s tasks, newest status first (then by id, descending);
        raises `paging.BadPageToken` for a token it did not make."""
        ...

    async def open_tasks(self, principal: str) -> int:
        """How many of `principal`'s tasks have not ended (for `--max-pending-tasks`)."""
        ...

    async def ticket(self, ticket_id: str) -> Ticket | None: ...

    async def tickets(self, task_id: str) -> list[Ticket]:
        """A task's tickets, oldest first."""
        ...

    async def due_tickets(self, now: float) -> list[Ticket]:
        """Pending tickets whose deadline has passed."""
        ...

    async def memory(self, principal: str, context_id: str) -> list[Message]:
        """A conversation's memory: its earlier messages, oldest first."""
        ...

    async def remember(self, memory: MemoryAdd) -> None:
        """Add to a conversation's memory outside any task (a direct reply has none)."""
        ...

    # push notifications ---------------------------------------------------------------------

    async def put_push_config(self, task_id: str, config: PushConfig) -> None:
        """Save a push config, replacing one with the same id."""
        ...

    async def push_configs(self, task_id: str) -> list[PushConfig]:
        """A task's push configs, oldest first."""
        ...

    async def delete_push_config(self, task_id: str, config_id: str) -> bool:
        """Delete a push config and its waiting deliveries; False if there was none."""
        ...

    async def take_deliveries(self, now: float, hold: float, limit: int) -> list[Delivery]:
        """The oldest waiting delivery of each config that is due by `now` and not claimed,
        each claimed for `hold` seconds (a sender that dies lets its claims expire)."""
        ...

    async def finish_delivery(self, delivery: Delivery, retry_at: float | None) -> None:
        """The delivery was sent (or given up: `retry_at` None), or is due again at
        `retry_at` with one more attempt counted."""
        ...

    async def outbox_stats(self, now: float) -> OutboxStats: ...

    async def counts(self) -> StoreCounts:
        """Tasks by state and pending tickets, across every replica (a scrape's; not hot)."""
        ...

    # upkeep ---------------------------------------------------------------------------------

    async def purge(self, ended_before: float) -> int:
        """Delete tasks that ended before this time, with everything of theirs."""
        ...

    async def close(self) -> None: ...


def open_store(url: str) -> TaskStore:
    """The store named by `--store`: `memory`, `sqlite:///path/to/file.db` or
    `redis://host:port/db`."""
    if url == "memory":
        from a2a_server.store.memory import MemoryStore

        return MemoryStore()
    if url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
        from a2a_server.store.sqlite import SQLiteStore

        # as in SQLAlchemy: sqlite:///relative.db, sqlite:////absolute/path.db; and
        # ?synchronous=full for commits that survive a power loss too (see SQLiteStore)
        path, _, query = url.removeprefix("sqlite:///").partition("?")
        options = dict(part.partition("=")[::2] for part in query.split("&") if part)
        synchronous = options.pop("synchronous", "normal")
        if options or synchronous not in ("normal", "full"):
            raise ValueError(f"--store {url!r}: the one option of sqlite:/// is ?synchronous=normal|full")
        return SQLiteStore(path, synchronous=synchronous)
    if url.startswith(("redis://", "rediss://", "unix://")):
        from a2a_server.store.redis import RedisStore

        return RedisStore(url)
    raise ValueError(f"--store must be memory, sqlite:///PATH or redis://HOST:PORT/DB, not {url!r}")
