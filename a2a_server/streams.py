"""Subscriptions: one reader of one task's frames, replayed from the log, then live.

A subscription attaches to the task's runtime *before* it reads the log, so no frame falls
between the replay and the live part; frames seen twice that way are dropped by sequence
number. It ends after the first frame with `final:true`. Idle waits yield `None`, which the
SSE layer turns into a keep-alive comment; each idle wait also reads the log once, so frames
that another server process (sharing the SQLite file) wrote still arrive.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from a2a_server.model import Frame, StatusUpdate
from a2a_server.store.base import TaskStore

if TYPE_CHECKING:
    from a2a_server.runtime import TaskRuntime

__all__ = ["Subscription", "is_final_frame"]


def is_final_frame(frame: Frame) -> bool:
    return type(frame) is StatusUpdate and frame.final


class Subscription:
    def __init__(
        self, store: TaskStore, task_id: str, after: int, runtime: TaskRuntime | None
    ) -> None:
        self._store = store
        self._task_id = task_id
        self._after = after
        self._runtime = runtime
        self._live: asyncio.Queue[tuple[int, Frame]] = asyncio.Queue()

    def push(self, seq: int, frame: Frame) -> None:
        """Called by the runtime for every frame it writes."""
        self._live.put_nowait((seq, frame))

    async def frames(self, idle: float | None = None) -> AsyncIterator[tuple[int, Frame] | None]:
        """Every frame after `after`, in order, up to and including the final one."""
        runtime = self._runtime
        if runtime is not None:
            runtime.attach(self)
        try:
            last = self._after
            for seq, frame in await self._store.read_log(self._task_id, last):
                last = seq
                yield seq, frame
                if is_final_frame(frame):
                    return
            if runtime is None:
                return
            while True:
                if self._live.empty() and runtime.terminal and last >= runtime.last_seq:
                    return  # the task ended and everything it wrote has been sent
                try:
                    async with asyncio.timeout(idle):
                        batch = [await self._live.get()]
                except TimeoutError:
                    # quiet: has another process sharing the store written to the task?
                    batch = await self._store.read_log(self._task_id, last)
                    if not batch:
                        yield None
                        continue
                for seq, frame in batch:
                    if seq <= last:
                        continue
                    last = seq
                    yield seq, frame
                    if is_final_frame(frame):
                        return
        finally:
            if runtime is not None:
                runtime.detach(self)
