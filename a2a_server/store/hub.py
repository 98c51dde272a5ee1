"""In-process fan-out of a store's writes to the watchers and lease holders of this process.

A store that other processes (or replicas) share tells its hub about every change: frames
it wrote itself (`frames`: handed over as they are, no decoding) and changes it learnt of
from elsewhere (`poke`: the watcher reads them from the store), and commands queued for a
task (`ring`). `follow` and `bell` are what `TaskStore.watch` and `TaskStore.doorbell` are
made of: a watcher registers before it reads, so no frame falls between its read and its
wait, and frames it already has are dropped by sequence number.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any

from a2a_server.model import Frame

__all__ = ["Bell", "Hub"]

Batch = list[tuple[int, Frame]]
Read = Callable[[str, int], Awaitable[Batch]]


class _Watcher:
    """A watcher's wait is on a future made only while it waits (an `asyncio.Event` holds a
    deque of waiters for its whole life, 600 bytes an open stream)."""

    __slots__ = ("_wake", "waiting")

    def __init__(self) -> None:
        self._wake: asyncio.Future[None] | None = None
        self.waiting: list[Batch | None] = []  # a batch of frames, or None: read the store

    def push(self, item: Batch | None) -> None:
        self.waiting.append(item)
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    async def take(self, idle: float | None = None) -> list[Batch | None]:
        """What was pushed since the last take, once there is some; [] if nothing was
        for `idle` seconds."""
        if not self.waiting:
            loop = asyncio.get_running_loop()
            self._wake = wake = loop.create_future()
            timer = None if idle is None else loop.call_later(idle, self._idle, wake)
            try:
                await wake
            finally:
                self._wake = None
                if timer is not None:
                    timer.cancel()
        items, self.waiting = self.waiting, []
        return items

    @staticmethod
    def _idle(wake: asyncio.Future[None]) -> None:
        if not wake.done():
            wake.set_result(None)


class Bell:
    """A lease holder's doorbell (`TaskStore.doorbell`). `rang()` is a future, done once a
    command is queued after the bell was made or the last one was done (at once if one
    was meanwhile). A future, not a generator: the lease holder waits for it beside its
    turn with no task of its own."""

    __slots__ = ("_closed", "_hub", "_rung", "_task_id", "_wake")

    def __init__(self, hub: Hub, task_id: str, closed: Callable[[], None] | None) -> None:
        self._hub: Hub | None = hub
        self._task_id = task_id
        self._closed = closed
        self._rung = False
        self._wake: asyncio.Future[None] | None = None

    def rang(self) -> asyncio.Future[None]:
        wake = asyncio.get_running_loop().create_future()
        if self._rung:
            self._rung = False
            wake.set_result(None)
        else:
            self._wake = wake
        return wake

    def ring(self) -> None:
        wake, self._wake = self._wake, None
        if wake is not None and not wake.done():
            wake.set_result(None)
        else:  # nobody waits (or gave up waiting): the next `rang()` is done at once
            self._rung = True

    def close(self) -> None:
        """Stop listening (it rings no more)."""
        hub, self._hub = self._hub, None
        if hub is None:
            return
        hub._forget(hub._bells, self._task_id, self)
        if self._closed is not None:
            self._closed()
        if self._wake is not None:
            self._wake.cancel()
            self._wake = None


class Hub:
    def __init__(self) -> None:
        # lists, not sets: a task most often has one of each (an empty set is 216 bytes,
        # a list of one 64), and each is added and removed once
        self._watchers: dict[str, list[_Watcher]] = {}
        self._bells: dict[str, list[Bell]] = {}

    def watched(self) -> set[str]:
        """The tasks someone here follows (a store reading from elsewhere needs them)."""
        return set(self._watchers) | set(self._bells)

    # -- what the store tells it --------------------------------------------------------------

    def frames(self, task_id: str, batch: Batch) -> None:
        for w in self._watchers.get(task_id, ()):
            w.push(batch)

    def poke(self, task_id: str) -> None:
        for w in self._watchers.get(task_id, ()):
            w.push(None)

    def ring(self, task_id: str) -> None:
        for bell in self._bells.get(task_id, ()):
            bell.ring()

    def poke_all(self) -> None:
        """Something may have changed everywhere (a reconnect): everyone looks again."""
        for task_id in list(self._watchers):
            self.poke(task_id)
        for task_id in list(self._bells):
            self.ring(task_id)

    # -- what watchers use --------------------------------------------------------------------

    async def follow(
        self, read: Read, task_id: str, after: int, idle: float | None = None
    ) -> AsyncGenerator[Batch, None]:
        """`TaskStore.watch` on a store that tells this hub what it writes (`read` reads
        what the hub was not handed)."""
        w = _Watcher()
        self._watchers.setdefault(task_id, []).append(w)
        try:
            last = after
            batch = await read(task_id, last)
            while True:
                fresh = [(s, f) for s, f in batch if s > last]
                if fresh:
                    if fresh[0][0] != last + 1:  # a gap: what was written meanwhile
                        fresh = [(s, f) for s, f in await read(task_id, last) if s > last]
                    if fresh:
                        last = fresh[-1][0]
                        yield fresh
                # nothing held while it waits: an open stream keeps no frame it has sent (the
                # first read, the Task with its history, most of all)
                fresh = batch = []
                items = await w.take(idle)
                if not items:  # idle: an empty batch says so (no timer task: a timer)
                    batch = []
                    yield []
                elif any(item is None for item in items):
                    batch = await read(task_id, last)
                else:
                    batch = [entry for item in items if item is not None for entry in item]
                del items
        finally:
            self._forget(self._watchers, task_id, w)

    def bell(self, task_id: str, closed: Callable[[], None] | None = None) -> Bell:
        """`TaskStore.doorbell` on a store that rings this hub for every command queued
        (`closed`: called once as the bell is closed)."""

        bell = Bell(self, task_id, closed)
        self._bells.setdefault(task_id, []).append(bell)
        return bell

    @staticmethod
    def _forget(table: dict[str, list[Any]], task_id: str, item: Any) -> None:
        entries = table.get(task_id)
        if entries is not None and item in entries:
            entries.remove(item)
            if not entries:
                del table[task_id]
