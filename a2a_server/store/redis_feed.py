"""Following Redis streams live, for one store instance: one reader loop on one connection.

The watchers (`watch`) and lease holders (`doorbell`) of this instance share one blocking
XREAD over every stream they follow, task logs and task inboxes alike: a thousand followed
tasks cost one connection and one command in flight, not a thousand. What the reader reads
goes to the hub: frames another instance wrote, decoded once for every watcher here, and a
ring for a command another instance queued. Entries this instance wrote are skipped
undecoded (each entry names its writer): the hub had them from the write itself.

The set of streams changes as watchers come and go, and a stream added while the reader
blocks would wait for the block to time out. So the reader also reads a wake-up stream of
this instance's own, and a watcher that adds a stream the blocked read lacks writes one entry
to it. Every stream is read from the last id the reader saw (never `$`), so nothing written
between two reads is skipped, however a wake and a read cross on the way to the server.
Inboxes are streams too (rather than pub/sub) for the same reason: a ring can't be lost
between two reads, nor in a reconnect, and it needs no connection of its own.

A lost connection (a Redis restart, a network blip) is retried with backoff. Once Redis
answers again, every watcher re-reads from its last sequence number and every bell rings
(`Hub.poke_all`), and the reader goes on from its cursors: nothing lost, nothing doubled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, cast

from redis.asyncio import Redis
from redis.exceptions import RedisError

from a2a_server.store.codec import load_frame
from a2a_server.store.hub import Hub

__all__ = ["Feed", "Followed"]

log = logging.getLogger("a2a_server")

BLOCK_SECONDS = 5.0  # the longest one read blocks
_BLOCK_MS = int(BLOCK_SECONDS * 1000)
_COUNT = 1000  # entries per stream per read: a long backlog comes in slices
_BACKOFF = (0.05, 2.0)  # first and longest wait between reconnection attempts
Reply = list[tuple[bytes, list[tuple[bytes, dict[bytes, bytes]]]]]  # XREAD's, per stream
_WAKE_TTL = 86_400  # an instance that dies leaves its wake-up stream for a day at most


class Followed:
    """A stream followed here: whose it is, and how far the reader has read it."""

    __slots__ = ("cursor", "joins", "key", "log", "task_id", "users")

    def __init__(self, key: bytes, task_id: str, log: bool, cursor: int) -> None:
        self.key = key
        self.task_id = task_id
        self.log = log  # a task's log (frames); else its inbox (rings)
        self.cursor = cursor  # the last entry id read, `0-<cursor>`
        self.users = 0
        self.joins = 0


class Feed:
    def __init__(
        self, reader: Redis, waker: Redis, hub: Hub, writer: bytes, wake_key: bytes
    ) -> None:
        self._reader = reader  # a connection of its own: it blocks
        self._waker = waker
        self._hub = hub
        self._writer = writer
        self._wake_key = wake_key
        self._wake_id: bytes | None = None
        self._streams: dict[bytes, Followed] = {}
        self._reading: frozenset[bytes] | None = None  # the streams of the read in flight
        self._task: asyncio.Task[None] | None = None

    def follow(self, key: bytes, task_id: str, *, log: bool, after: int) -> Followed:
        """Follow a stream from entry `0-<after>` (from where the first follower started;
        a later one reads what came before it by itself). Then `nudge`, then `leave`."""
        stream = self._streams.get(key)
        if stream is None:
            stream = self._streams[key] = Followed(key, task_id, log, after)
        stream.users += 1
        stream.joins += 1
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="redis-feed")
        return stream

    async def nudge(self, stream: Followed) -> None:
        """Wake the reader if it blocks on a read without this stream."""
        if self._reading is None or stream.key in self._reading:
            return
        try:
            async with self._waker.pipeline(transaction=False) as pipe:
                pipe.xadd(self._wake_key, {b"w": b""}, maxlen=1, approximate=False)
                pipe.expire(self._wake_key, _WAKE_TTL)
                await pipe.execute()
        except RedisError:  # the reader is reconnecting, and reads all streams once it has
            log.debug("redis feed: no wake-up (Redis unreachable)")

    def seen(self, stream: Followed, seq: int) -> None:
        """Its one follower read the log to `seq` itself: the reader need not read that
        again. (With more followers, one's read says nothing of what another has.)"""
        if stream.users == 1 and stream.joins == 1 and seq > stream.cursor:
            stream.cursor = seq

    def leave(self, stream: Followed) -> None:
        stream.users -= 1
        if stream.users == 0 and self._streams.get(stream.key) is stream:
            del self._streams[stream.key]

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            with contextlib.suppress(RedisError):
                await self._waker.delete(self._wake_key)
        await self._reader.aclose()

    # -- the reader ---------------------------------------------------------------------------

    async def _run(self) -> None:
        delay, broken = _BACKOFF[0], False
        while True:
            try:
                if broken:
                    await self._reader.ping()
                    log.info("redis feed: Redis answers again; watchers re-read")
                    delay, broken = _BACKOFF[0], False
                    self._hub.poke_all()
                if self._wake_id is None:
                    self._wake_id = cast(bytes, await self._reader.xadd(
                        self._wake_key, {b"w": b""}, maxlen=1, approximate=False
                    ))
                    await self._reader.expire(self._wake_key, _WAKE_TTL)
                reply = await self._read()
            except (RedisError, OSError) as exc:
                if not broken:
                    log.warning("redis feed: %s; reconnecting", exc)
                broken = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, _BACKOFF[1])
                continue
            try:
                self._dispatch(reply)
            except Exception:  # an entry it cannot read must not stop every watcher here
                log.exception("redis feed: an entry could not be handed on")

    async def _read(self) -> Reply:
        assert self._wake_id is not None
        streams: dict[Any, Any] = {self._wake_key: self._wake_id}
        for key, stream in self._streams.items():
            streams[key] = b"0-%d" % stream.cursor
        self._reading = frozenset(streams)
        try:
            # the store's clients have no socket timeout (see store/redis.py): a read that
            # outlives its block by far is on a dead connection
            async with asyncio.timeout(BLOCK_SECONDS + 10):
                reply = await self._reader.xread(streams, count=_COUNT, block=_BLOCK_MS)
        finally:
            self._reading = None
        return cast(Reply, reply or [])

    def _dispatch(self, reply: Reply) -> None:
        for key, entries in reply:
            if not entries:
                continue
            if key == self._wake_key:
                self._wake_id = entries[-1][0]
                continue
            stream = self._streams.get(key)
            if stream is None:
                continue  # nobody here follows it any more
            stream.cursor = max(stream.cursor, int(entries[-1][0][2:]))
            theirs = [(eid, fields) for eid, fields in entries if fields.get(b"w") != self._writer]
            if not theirs:
                continue
            if stream.log:
                batch = [(int(eid[2:]), load_frame(fields[b"f"])) for eid, fields in theirs]
                self._hub.frames(stream.task_id, batch)
            else:
                self._hub.ring(stream.task_id)
