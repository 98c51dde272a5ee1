"""Following a task through its log: what a request waits on, on whichever replica it came.

A request never talks to the task's actor (it may run on another replica): it queues its
command and reads the effect in the log, through `TaskStore.watch`. The frames tell it all:
a message's turn opens with the Task whose history ends with that message, and ends with a
final frame (terminal or interrupted) or a frame saying the task parked on its tickets; an
end of the task before the turn opened means the message was never run.

Idle waits yield None every `keepalive` seconds (an SSE stream turns them into comments).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from a2a_server.errors import UnsupportedOperation
from a2a_server.mapping import ours
from a2a_server.model import TERMINAL_STATES, Frame, StatusUpdate, Task
from a2a_server.store.base import TaskStore

__all__ = ["Item", "ends_turn", "frames", "is_final", "turn_frames", "until"]

Item = tuple[int, Frame] | None


def is_final(frame: Frame) -> bool:
    """The last frame of a stream: a terminal or interrupted status."""
    return type(frame) is StatusUpdate and frame.final


def ends_turn(frame: Frame) -> bool:
    """The last frame of a turn: final, or the task parked on pending tickets."""
    return is_final(frame) or (type(frame) is StatusUpdate and bool(ours(frame.metadata).get("parked")))


def _ends_task(frame: Frame) -> bool:
    return type(frame) is StatusUpdate and frame.status.state in TERMINAL_STATES


async def frames(
    store: TaskStore, task_id: str, after: int, keepalive: float | None = None,
    *, through_finals: bool = False,
) -> AsyncIterator[Item]:
    """Every frame of the task after `after`, live, to the next final one (included; or on,
    past finals, when `through_finals`: the caller stops)."""
    watch = store.watch(task_id, after)
    pending: asyncio.Task[list[tuple[int, Frame]]] | None = None
    try:
        while True:
            if pending is None:
                pending = asyncio.ensure_future(anext(watch))
            done, _ = await asyncio.wait({pending}, timeout=keepalive)
            if not done:
                yield None
                continue
            try:
                batch = pending.result()
            except StopAsyncIteration:
                return  # the task is gone (purged)
            pending = None
            for item in batch:
                yield item
                if is_final(item[1]) and not through_finals:
                    return
    finally:
        if pending is not None:
            pending.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await pending  # the watch is free again before it is closed
        await watch.aclose()


async def turn_frames(
    store: TaskStore, task_id: str, message_id: str, after: int, keepalive: float | None = None
) -> AsyncIterator[Item]:
    """The frames of the turn a message opens, from its Task to the next final frame;
    UnsupportedOperation if the task ended before the turn opened (the message never ran)."""
    opened = after == 0  # a new task's first turn opens with the task
    async for item in frames(store, task_id, after, keepalive, through_finals=True):
        if item is None:
            yield None
            continue
        frame = item[1]
        if not opened:  # the turns queued before this one run first
            if type(frame) is Task and frame.history and frame.history[-1].message_id == message_id:
                opened = True
            elif _ends_task(frame):
                raise UnsupportedOperation(f"Task {task_id} ended before this message was handled.")
            else:
                continue
        yield item
        if is_final(frame):
            return


async def until(
    store: TaskStore, task_id: str, after: int, done: Callable[[Frame], bool]
) -> Frame | None:
    """Wait for the first frame after `after` for which `done` holds; None if the stream
    ended (a final frame) first without one."""
    async for item in frames(store, task_id, after):
        if item is not None and done(item[1]):
            return item[1]
    return None
