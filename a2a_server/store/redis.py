"""The Redis task store: one Redis (7 or newer) shared by several replicas of the server.

Everything the SQLite store keeps lives in Redis, under the prefix `a2a:` (`{t}` a task id,
`{pc}` a principal and context id as one unambiguous string, `len(principal):principal:ctx`):

    t:{t}        hash: context, principal, pc, state, status_at, created_at, ended_at,
                 owner, token, until (the lease), turn, seq (the last frame), snapshot and
                 snapshot_seq (the Task as the runtime folded it at rest), commands (the
                 inbox's last id)
    log:{t}      stream: the event log, entry `0-<seq>` per frame (seq 1 the Task frame), so
                 Last-Event-ID N reads from `0-N`; fields f (the frame) and w (its writer)
    in:{t}       stream: the inbox, entry `0-<id>` per command (fields c and w); a consumed
                 command is deleted
    tk:{ticket}  hash: s (its state, for the compare-and-set) and b (the ticket)
    tks:{t}      sorted set: the task's tickets by creation time
    due          sorted set: pending tickets with a deadline, by deadline
    mem:{pc}     list: a conversation's memory, trimmed to its limit
    pc:{t}       hash: push configs by id; pco:{t} their order (sorted set, by creation)
    dl:{n}       hash: a push delivery (task, config, body, attempts, created_at)
    oq:{queue}   sorted set: a config's deliveries in order (queue: `len(t):t:config`)
    ready        sorted set: each non-empty queue, by when its head may be taken (0 now;
                 a claim or a retry pushes it later)
    outbox       sorted set: every waiting delivery, by creation (outbox_stats); dlseq its ids
    leases       sorted set: tasks whose lease is held, by expiry
    ended        sorted set: ended tasks, by end time (purge)
    lp:{principal}, lc:{pc}, lps:{state}:{principal}, lcs:{state}:{pc}
                 the ListTasks indexes: `status_at \\0 id` at score 0, so lexicographic
                 order is (status time, id), as in SQLite, and a page token an exact bound;
                 one index per filter combination, so a page is read, never a scan
    states       hash: how many tasks are in each state; pending the set of pending
                 tickets (both for metrics, kept by the scripts that change them)
    wake:{instance}  a stream this instance's reader is woken through (`redis_feed`)

Each atomic step of the seam is one Lua script (`redis_lua`), one round trip: create,
append, submit, claim, renew, take_deliveries, finish_delivery (and delete_push_config and
purge, which touch many keys). Values are serialized here before a script runs, a frame
once per append. Reads that must agree with each other (load, list_tasks) are scripts too;
the others are single commands or one pipeline.

Leases expire by the clock of the replica that asks (`time.time()`, as in the other stores,
passed to the scripts): replicas' clocks must agree to well within a lease's lifetime (NTP).

The client does not retry a command whose connection failed: a script whose reply was lost
may have run, and running an append twice would write its frames twice. The error reaches
the caller instead; watchers and lease holders wait out a lost connection (`redis_feed`).
For durability Redis itself must persist (AOF): a Redis that restarts empty forgets the
tasks.
"""

from __future__ import annotations

import asyncio
import math
import socket
import time
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from contextlib import aclosing, suppress
from typing import Any, TypeVar, cast

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from a2a_server.calls import ListTasks, TaskPage
from a2a_server.jsoncodec import dumps_bytes, loads
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
from a2a_server.store import redis_lua as lua
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
from a2a_server.store.codec import (
    dump_command,
    dump_config,
    dump_frame,
    dump_message,
    dump_task,
    load_command,
    load_config,
    load_frame,
    load_message,
    load_task,
)
from a2a_server.store.hub import Bell, Hub
from a2a_server.store.paging import page_token, read_page_token
from a2a_server.store.redis_feed import Feed
from a2a_server.tickets import Ticket

__all__ = ["RedisStore"]

T = TypeVar("T")
Entries = list[tuple[bytes, dict[bytes, bytes]]]

_OPEN_STATES = tuple(s for s in TaskState if s not in TERMINAL_STATES)
_PURGE_BATCH = 100  # tasks per purge script: a script blocks Redis while it runs
_PATIENCE = (0.05, 1.0)  # backoff of a watcher's read while Redis is unreachable
# No socket timeout: with one, redis-py sends each command under `asyncio.wait_for`, which on
# Python 3.11 can swallow a cancellation (a task told to stop goes on, and an app's shutdown
# waits for it forever). TCP keepalive finds a dead connection instead, in half a minute.
_KEEPALIVE = {
    getattr(socket, name): value
    for name, value in (("TCP_KEEPIDLE", 10), ("TCP_KEEPINTVL", 5), ("TCP_KEEPCNT", 3))
    if hasattr(socket, name)
}


def _pair(a: str, b: str) -> str:
    """Two ids as one key part that no other pair makes (a byte length, as Lua's `#`)."""
    return f"{len(a.encode())}:{a}:{b}"


def _dump_ticket(t: Ticket) -> bytes:
    return dumps_bytes([t.id, t.task_id, t.context_id, t.tool_name, t.tool_call_id, t.state,
                        t.resume_hint, t.created_at, t.deadline, t.output, t.error, t.delivered])


def _load_ticket(data: bytes) -> Ticket:
    v = loads(data)
    return Ticket(id=v[0], task_id=v[1], context_id=v[2], tool_name=v[3], tool_call_id=v[4],
                  state=v[5], resume_hint=v[6], created_at=v[7], deadline=v[8], output=v[9],
                  error=v[10], delivered=v[11])


class RedisStore:
    def __init__(self, url: str, *, prefix: str = "a2a:") -> None:
        self.url = url
        self._p = prefix
        options: dict[str, Any] = {
            "retry": Retry(NoBackoff(), 0),  # see the module docstring
            "socket_timeout": None,
            "socket_keepalive": True,
            "socket_keepalive_options": _KEEPALIVE,
        }
        self._redis = Redis.from_url(url, **options)
        self._writer = uuid.uuid4().hex[:12].encode()  # this instance, as the writer of entries
        self._hub = Hub()
        reader = Redis.from_url(url, single_connection_client=True, **options)
        self._feed = Feed(reader, self._redis, self._hub, self._writer,
                          f"{prefix}wake:".encode() + self._writer)
        script = self._redis.register_script
        self._create, self._append = script(lua.CREATE), script(lua.APPEND)
        self._submit, self._claim = script(lua.SUBMIT), script(lua.CLAIM)
        self._renew, self._leases = script(lua.RENEW), script(lua.LEASES)
        self._load, self._list = script(lua.LOAD), script(lua.LIST)
        self._tickets = script(lua.TICKETS)
        self._take, self._finish = script(lua.TAKE_DELIVERIES), script(lua.FINISH_DELIVERY)
        self._delete_config, self._purge = script(lua.DELETE_CONFIG), script(lua.PURGE)
        # appends nobody waits for (Change.wait false: a turn's text), sent in a pipeline
        # of their own once this loop iteration ends, rather than one round trip each
        # task -> (lease token, the log's last seq) as that lease's appends here left it
        self._seqs: dict[str, tuple[int, int]] = {}
        self._queued: list[tuple[Lease, Change, int]] = []  # (lease, change, seq before it)
        self._sending: dict[str, int] = {}  # task -> its appends queued or in flight
        self._sent = asyncio.Event()  # set when a pipeline of them has been answered
        self._sender: asyncio.Task[None] | None = None
        self._lost: dict[str, tuple[int, BaseException]] = {}  # task -> (token, what failed)
        self._dropped: set[tuple[str, int]] = set()  # leases that failed: their queued appends go unsent

    # -- keys (see the module docstring) ------------------------------------------------------

    def _task(self, task_id: str) -> str:
        return f"{self._p}t:{task_id}"

    def _log(self, task_id: str) -> str:
        return f"{self._p}log:{task_id}"

    def _inbox(self, task_id: str) -> str:
        return f"{self._p}in:{task_id}"

    def _memory(self, principal: str, context_id: str) -> str:
        return f"{self._p}mem:{_pair(principal, context_id)}"

    def _listing(self, principal: str, context_id: str | None, state: TaskState | None) -> str:
        """The index that answers a query (the names `redis_lua.listings` writes)."""
        if context_id is None:
            who, kind = principal, "lp"
        else:
            who, kind = _pair(principal, context_id), "lc"
        return f"{self._p}{kind}:{who}" if state is None else f"{self._p}{kind}s:{state.value}:{who}"

    def _key(self, name: str) -> str:
        return self._p + name

    # -- the log and its lease ----------------------------------------------------------------

    async def create(
        self, task: Task, *, principal: str, owner: str, ttl: float, then: Change | None = None
    ) -> Lease:
        now = time.time()
        made = await self._create(
            keys=[self._task(task.id), self._log(task.id), self._key("leases")],
            args=[self._p, task.id, task.context_id, principal, _pair(principal, task.context_id),
                  task.status.state.value, task.status.timestamp, now, owner, now + ttl,
                  dump_task(task), self._writer, 1 if then is not None and then.turn else 0],
        )
        if not made:
            raise ValueError(f"task {task.id} exists")
        lease = Lease(task.id, owner, 1)
        self._seqs[task.id] = (1, 1)
        if then is not None:  # a second script: the task's turn is marked running already,
            await self.append(lease, then)  # so if this one never runs, the turn is cut, as lost
        return lease

    async def append(self, lease: Lease, change: Change) -> Appended:
        task_id = lease.task_id
        lost = self._lost.pop(task_id, None)
        if lost is not None and lost[0] == lease.token:
            raise lost[1]  # an earlier append of this lease, unwaited, was refused or never sent
        if not change.wait and change.frames_only and (now := self._queue(lease, change)) is not None:
            return Appended(now)
        while self._sending.get(task_id):  # what was queued before goes first
            self._sent.clear()
            await self._sent.wait()
        lost = self._lost.pop(task_id, None)
        if lost is not None and lost[0] == lease.token:
            raise lost[1]
        try:
            reply = await self._append(**self._append_call(lease, change))
        except BaseException:
            self._seqs.pop(task_id, None)  # not known whether it was written
            raise
        done = self._appended(lease, change, reply)
        if done.released:
            self._seqs.pop(task_id, None)  # the next writer of it, here or not, reads anew
        else:
            self._seqs[task_id] = (lease.token, done.seq)
        return done

    def _append_call(self, lease: Lease, change: Change) -> dict[str, Any]:
        task_id, frames = lease.task_id, change.frames
        encoded = [dump_frame(f) for f in frames]
        state: TaskState | None = None
        status_at = ""
        for frame in frames:
            if type(frame) is StatusUpdate or type(frame) is Task:
                state, status_at = frame.status.state, frame.status.timestamp  # type: ignore[union-attr]
        snapshot = dump_task(change.task) if change.task is not None else b""
        tickets: list[Any] = []
        for t in change.tickets:
            settles = t.state != "pending" and not t.delivered
            tickets += [t.id, "1" if settles else "", t.state, t.created_at,
                        "" if t.deadline is None else t.deadline, _dump_ticket(t)]
        memory = change.memory
        messages = [dump_message(m) for m in memory.messages] if memory is not None else []
        return {
            "keys": [self._task(task_id), self._log(task_id), self._inbox(task_id),
                     self._key("leases"), self._key("ended"), self._key("due"),
                     self._key(f"tks:{task_id}"), self._key(f"pco:{task_id}"), self._key("ready"),
                     self._key("outbox"), self._key("dlseq"),
                     self._memory(memory.principal, memory.context_id) if memory is not None
                     else self._task(task_id)],
            "args": [self._p, task_id, lease.owner, lease.token, self._writer, time.time(),
                     state.value if state is not None else "", status_at,
                     "1" if state in TERMINAL_STATES else "", snapshot,
                     "1" if change.notify else "", "" if change.turn is None else int(change.turn),
                     "1" if change.release else "", "" if memory is None else memory.limit,
                     len(encoded), *encoded, len(change.tickets), *tickets,
                     len(change.consumed), *change.consumed, len(messages), *messages],
        }

    def _appended(self, lease: Lease, change: Change, reply: Any) -> Appended:
        """The APPEND script's reply: what was appended (its frames handed to this process's
        followers), or the refusal raised."""
        task_id, frames = lease.task_id, change.frames
        if reply[0] != b"ok":
            self._seqs.pop(task_id, None)
            if reply[0] == b"lease":
                raise LeaseLost(task_id)
            if reply[0] == b"ended":
                raise TaskEnded(task_id, TaskState(reply[1].decode()))
            raise TicketRaced(reply[1].decode())
        seq = int(reply[1])
        if frames:
            self._hub.frames(task_id, list(enumerate(frames, start=seq - len(frames) + 1)))
        return Appended(seq, bool(reply[2]), int(reply[3]))

    def _failed(self, lease: Lease) -> bool:
        return (lease.task_id, lease.token) in self._dropped

    async def _send_queued(self) -> None:
        """Send the queued appends, in order, a pipeline at a time (what is queued while one
        is in flight goes in the next); a lease whose append is refused or fails is told at
        its next append, and its later appends are dropped (not sent, or not heeded)."""
        while self._queued:
            await asyncio.sleep(0)  # the rest of this loop iteration's appends join it
            queued, self._queued = self._queued, []
            sending = [not self._failed(lease) for lease, _, _ in queued]
            replies: list[Any] = []
            try:
                if any(sending):
                    async with self._redis.pipeline(transaction=False) as pipe:
                        for (lease, change, _), send in zip(queued, sending, strict=True):
                            if send:
                                await self._append(**self._append_call(lease, change), client=pipe)
                        replies = await pipe.execute(raise_on_error=False)
            except Exception as exc:  # noqa: BLE001 - the connection: none of them is known written
                replies = [exc] * sum(sending)
            answers = iter(replies)
            for (lease, change, before), send in zip(queued, sending, strict=True):
                task_id = lease.task_id
                dropped = self._failed(lease)
                self._sending[task_id] -= 1
                if not self._sending[task_id]:
                    del self._sending[task_id]
                    self._dropped.discard((task_id, lease.token))  # none of its appends is left
                reply = next(answers) if send else None
                if not send or dropped:
                    continue  # an earlier append of the lease failed: this one is told no more
                try:
                    if isinstance(reply, BaseException):
                        raise reply
                    done = self._appended(lease, change, reply)
                    if done.seq != before + len(change.frames):
                        raise LeaseLost(task_id)  # someone else wrote the log: not this lease's
                except Exception as exc:  # noqa: BLE001 - told to the task's next append
                    self._seqs.pop(task_id, None)
                    self._lost[task_id] = (lease.token, exc)
                    if task_id in self._sending:  # the rest of its queued appends are dropped
                        self._dropped.add((task_id, lease.token))
            self._sent.set()

    def append_now(self, lease: Lease, frames: tuple[Frame, ...]) -> int | None:
        lost = self._lost.get(lease.task_id)
        if lost is not None and lost[0] == lease.token:
            return None  # `append` raises it
        if any(type(f) is StatusUpdate or type(f) is Task for f in frames):
            return None  # a change of state: `append`'s
        return self._queue(lease, Change(frames, wait=False))

    def _queue(self, lease: Lease, change: Change) -> int | None:
        """An unwaited change of frames only, queued for the sender (`_send_queued`) when the
        lease's last sequence number is known here: the last frame's; else None."""
        task_id, frames = lease.task_id, change.frames
        held = self._seqs.get(task_id)
        if held is None or held[0] != lease.token or not frames:
            return None
        known = held[1]
        self._seqs[task_id] = (lease.token, known + len(frames))
        self._queued.append((lease, change, known))
        self._sending[task_id] = self._sending.get(task_id, 0) + 1
        if self._sender is None or self._sender.done():
            self._sender = asyncio.get_running_loop().create_task(self._send_queued())
        return known + len(frames)

    async def submit(
        self, task_id: str, command: Command, *, owner: str, ttl: float
    ) -> tuple[int, Lease | None]:
        now = time.time()
        reply = await self._submit(
            keys=[self._task(task_id), self._inbox(task_id), self._key("leases")],
            args=[task_id, dump_command(command), self._writer, owner, now, now + ttl],
        )
        if reply is None:
            raise KeyError(task_id)
        self._hub.ring(task_id)  # the reader skips what this instance wrote: ring here
        command_id, token = int(reply[0]), int(reply[1])
        return command_id, Lease(task_id, owner, token) if token else None

    async def claim(
        self, task_id: str, *, owner: str, ttl: float, dead: str | None = None
    ) -> Lease | None:
        now = time.time()
        token = await self._claim(
            keys=[self._task(task_id), self._key("leases")],
            args=[task_id, owner, now, now + ttl, dead or ""],
        )
        return None if token is None else Lease(task_id, owner, int(token))

    async def renew(self, leases: Sequence[Lease], ttl: float) -> list[Lease]:
        if not leases:
            return []
        args: list[Any] = [self._p, time.time() + ttl]
        for lease in leases:
            args += [lease.task_id, lease.owner, lease.token]
        lost = await self._renew(keys=[self._key("leases")], args=args)
        return [leases[int(i)] for i in lost]

    async def _entries(self, key: str, after: int) -> list[tuple[bytes, dict[bytes, bytes]]]:
        """A stream's entries after `0-<after>` (every id here is `0-<n>`)."""
        return cast(Entries, await self._redis.xrange(key, f"(0-{after}", "+"))

    async def inbox(self, task_id: str, after: int = 0) -> list[Queued]:
        entries = await self._entries(self._inbox(task_id), after)
        return [Queued(int(eid[2:]), load_command(fields[b"c"])) for eid, fields in entries]

    async def leases(self, expiring_by: float) -> list[tuple[str, str]]:
        by = "+inf" if expiring_by == math.inf else expiring_by
        flat = await self._leases(keys=[self._key("leases")], args=[self._p, by])
        return [(flat[i].decode(), flat[i + 1].decode()) for i in range(0, len(flat), 2)]

    # -- following a log ----------------------------------------------------------------------

    async def read(self, task_id: str, after: int = 0) -> list[tuple[int, Frame]]:
        entries = await self._entries(self._log(task_id), after)
        return [(int(eid[2:]), load_frame(fields[b"f"])) for eid, fields in entries]

    async def watch(
        self, task_id: str, after: int, idle: float | None = None
    ) -> AsyncGenerator[list[tuple[int, Frame]], None]:
        """Frames this instance writes reach the watcher from the write (`Hub`); others'
        through the one reader loop of this instance (`redis_feed`)."""
        stream = self._feed.follow(self._log(task_id).encode(), task_id, log=True, after=after)
        try:
            await self._feed.nudge(stream)

            async def read(task_id: str, after: int) -> list[tuple[int, Frame]]:
                batch = await _patiently(lambda: self.read(task_id, after))
                if batch:
                    self._feed.seen(stream, batch[-1][0])
                return batch

            follow = self._hub.follow(read, task_id, after, idle)
            async with aclosing(cast(AsyncGenerator[Any, None], follow)) as batches:
                async for batch in batches:
                    yield batch
        finally:
            self._feed.leave(stream)

    async def doorbell(self, task_id: str) -> Bell:
        """Rings for commands queued here come from `submit`; others' through the reader,
        which reads the task's inbox from its start (at most one needless ring)."""
        stream = self._feed.follow(self._inbox(task_id).encode(), task_id, log=False, after=0)
        try:
            await self._feed.nudge(stream)
        except BaseException:
            self._feed.leave(stream)
            raise
        return self._hub.bell(task_id, closed=lambda: self._feed.leave(stream))

    # -- reads --------------------------------------------------------------------------------

    async def load(self, task_id: str) -> Loaded | None:
        reply = await self._load(keys=[self._task(task_id), self._log(task_id)])
        if reply is None:
            return None
        principal, turn, owner, snapshot, seq, *tail = reply
        task = fold(load_task(snapshot), (load_frame(f) for f in tail))
        return Loaded(task, int(seq), principal.decode(), turn == b"1", owner.decode() or None)

    async def list_tasks(self, query: ListTasks, principal: str) -> TaskPage:
        """A page of `principal`'s tasks from the one index that answers the query."""
        after = query.status_timestamp_after
        low = b"-" if after is None else b"[" + after.encode()
        high = b"+"
        if query.page_token:
            at, last_id = read_page_token(query.page_token)
            high = b"(" + at.encode() + b"\0" + last_id.encode()
        total, *rows = await self._list(
            keys=[self._listing(principal, query.context_id, query.status)],
            args=[self._p, low, high, query.page_size + 1],
        )
        page = rows[: query.page_size]
        tasks = [fold(load_task(row[1]), (load_frame(f) for f in row[2:])) for row in page]
        token = ""
        if len(rows) > query.page_size:
            at_bytes, _, last = page[-1][0].partition(b"\0")
            token = page_token(at_bytes.decode(), last.decode())
        return TaskPage(tasks, token, query.page_size, int(total))

    async def ticket(self, ticket_id: str) -> Ticket | None:
        data = await self._redis.hget(self._key(f"tk:{ticket_id}"), "b")
        return None if data is None else _load_ticket(cast(bytes, data))

    async def tickets(self, task_id: str) -> list[Ticket]:
        key = self._key(f"tks:{task_id}")
        blobs = await self._tickets(keys=[key], args=[self._p, "-inf", "+inf"])
        return [_load_ticket(b) for b in blobs]

    async def due_tickets(self, now: float) -> list[Ticket]:
        blobs = await self._tickets(keys=[self._key("due")], args=[self._p, "-inf", now])
        return [t for t in map(_load_ticket, blobs) if t.pending]

    async def memory(self, principal: str, context_id: str) -> list[Message]:
        kept = await self._redis.lrange(self._memory(principal, context_id), 0, -1)
        return [load_message(m) for m in kept]

    async def remember(self, memory: MemoryAdd) -> None:
        key = self._memory(memory.principal, memory.context_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            if memory.messages:
                pipe.rpush(key, *(dump_message(m) for m in memory.messages))
            if memory.limit > 0:
                pipe.ltrim(key, -memory.limit, -1)
            else:
                pipe.delete(key)
            await pipe.execute()

    # -- push notifications -------------------------------------------------------------------

    async def put_push_config(self, task_id: str, config: PushConfig) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._key(f"pc:{task_id}"), config.id, dump_config(config))
            pipe.zadd(self._key(f"pco:{task_id}"), {config.id: time.time()}, nx=True)
            await pipe.execute()

    async def push_configs(self, task_id: str) -> list[PushConfig]:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zrange(self._key(f"pco:{task_id}"), 0, -1)
            pipe.hgetall(self._key(f"pc:{task_id}"))
            order, configs = await pipe.execute()
        return [load_config(configs[c]) for c in order if c in configs]

    async def delete_push_config(self, task_id: str, config_id: str) -> bool:
        gone = await self._delete_config(
            keys=[self._key(f"pc:{task_id}"), self._key(f"pco:{task_id}"), self._key("ready"),
                  self._key("outbox")],
            args=[self._p, task_id, config_id],
        )
        return bool(gone)

    async def take_deliveries(self, now: float, hold: float, limit: int) -> list[Delivery]:
        """The heads ready longest are taken first (the `ready` index), handed out oldest
        first, as the other stores do."""
        rows = await self._take(keys=[self._key("ready")], args=[self._p, now, now + hold, limit])
        taken = [
            Delivery(int(n), task.decode(), config.decode(), bytes(body), int(attempts), float(at))
            for n, task, config, body, attempts, at in rows
        ]
        return sorted(taken, key=lambda d: d.id)

    async def finish_delivery(self, delivery: Delivery, retry_at: float | None) -> None:
        await self._finish(
            keys=[self._key("ready"), self._key("outbox")],
            args=[self._p, delivery.id, "" if retry_at is None else retry_at],
        )

    async def outbox_stats(self, now: float) -> OutboxStats:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zcard(self._key("outbox"))
            pipe.zrange(self._key("outbox"), 0, 0, withscores=True)
            count, oldest = await pipe.execute()
        return OutboxStats(count, max(0.0, now - oldest[0][1]) if oldest else 0.0)

    async def counts(self) -> StoreCounts:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(self._key("states"))
            pipe.scard(self._key("pending"))
            states, pending = await pipe.execute()
        tasks = {k.decode(): int(v) for k, v in states.items() if int(v) > 0}
        return StoreCounts(tasks, int(pending))

    async def open_tasks(self, principal: str) -> int:
        async with self._redis.pipeline(transaction=False) as pipe:
            for state in _OPEN_STATES:
                pipe.zcard(self._listing(principal, None, state))
            return sum(int(n) for n in await pipe.execute())

    # -- upkeep -------------------------------------------------------------------------------

    async def purge(self, ended_before: float) -> int:
        keys = [self._key(k) for k in ("ended", "leases", "due", "ready", "outbox")]
        total = 0
        while True:
            n = int(await self._purge(keys=keys, args=[self._p, ended_before, _PURGE_BATCH]))
            total += n
            if n < _PURGE_BATCH:
                return total

    async def close(self) -> None:
        if self._sender is not None:
            with suppress(Exception):
                await self._sender
        await self._feed.close()
        await self._redis.aclose()


async def _patiently(read: Callable[[], Awaitable[T]]) -> T:
    """A read that waits out a lost connection (a watcher would rather wait than fail)."""
    delay = _PATIENCE[0]
    while True:
        try:
            return await read()
        except (RedisConnectionError, RedisTimeoutError):
            await asyncio.sleep(delay)
            delay = min(delay * 2, _PATIENCE[1])
