"""Following a task through its log: what a request waits on, on whichever replica it came.

A request never talks to the task's actor (it may run on another replica): it queues its
command and reads the effect in the log, through `TaskStore.watch`. The frames tell it all:
a message's turn opens with the Task whose history ends with that message, and ends with a
final frame (terminal or interrupted) or a frame saying the task parked on its tickets; an
end of the task before the turn opened means the message was never run.

Idle waits yield None every `keepalive` seconds (an SSE stream turns them into comments).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable

from a2a_server.errors import UnsupportedOperation
from a2a_server.mapping import ours
from a2a_server.model import TERMINAL_STATES, Frame, StatusUpdate, Task
from a2a_server.store.base import TaskStore

__all__ = ["Batch", "Item", "batches", "ends_turn", "frames", "is_final", "turn_batches", "until"]

Item = tuple[int, Frame] | None
Batch = list[tuple[int, Frame]]


def is_final(frame: Frame) -> bool:
    """The last frame of a stream: a terminal or interrupted status."""
    return type(frame) is StatusUpdate and frame.final


def ends_turn(frame: Frame) -> bool:
    """The last frame of a turn: final, or the task parked on pending tickets."""
    return is_final(frame) or (type(frame) is StatusUpdate and bool(ours(frame.metadata).get("parked")))


def _ends_task(frame: Frame) -> bool:
    return type(frame) is StatusUpdate and frame.status.state in TERMINAL_STATES


async def batches(
    store: TaskStore, task_id: str, after: int, keepalive: float | None = None
) -> AsyncGenerator[Batch | None, None]:
    """Every frame of the task after `after`, live, to the next final one (included), in
    the batches they were committed in (a stream writes each batch at once), None when idle
    for `keepalive`."""
    watch = store.watch(task_id, after, keepalive)
    try:
        async for batch in watch:
            if not batch:  # none came for `keepalive` seconds
                yield None
                continue
            ends = next((i for i, item in enumerate(batch) if is_final(item[1])), None)
            if ends is not None:
                yield batch[: ends + 1]
                return
            yield batch
    finally:
        await watch.aclose()


async def frames(
    store: TaskStore, task_id: str, after: int, keepalive: float | None = None
) -> AsyncIterator[Item]:
    """`batches`, a frame at a time."""
    async with contextlib.aclosing(batches(store, task_id, after, keepalive)) as each:
        async for batch in each:
            if batch is None:
                yield None
            else:
                for item in batch:
                    yield item


async def turn_batches(
    store: TaskStore, task_id: str, message_id: str, after: int, keepalive: float | None = None
) -> AsyncGenerator[Batch | None, None]:
    """The frames of the turn a message opens, from its Task to the next final frame, in
    batches; UnsupportedOperation if the task ended before the turn opened (the message
    never ran)."""
    opened = after == 0  # a new task's first turn opens with the task
    watch = store.watch(task_id, after, keepalive)  # read here, not through `batches`: a hop less
    try:
        async for batch in watch:
            if not batch:  # none came for `keepalive` seconds
                yield None
                continue
            out: Batch = []
            for item in batch:
                frame = item[1]
                if not opened:  # the turns queued before this one run first
                    if type(frame) is Task and frame.history and frame.history[-1].message_id == message_id:
                        opened = True
                    elif _ends_task(frame):
                        raise UnsupportedOperation(f"Task {task_id} ended before this message was handled.")
                    else:
                        continue
                out.append(item)
                if is_final(frame):
                    yield out
                    return
            if out:
                yield out
    finally:
        await watch.aclose()


async def until(
    store: TaskStore, task_id: str, after: int, done: Callable[[Frame], bool]
) -> Frame | None:
    """Wait for the first frame after `after` for which `done` holds; None if the task
    ended (a terminal frame) first without one. A turn's end that only interrupts the task
    (input-required) does not end the wait: a command queued behind that turn is still
    carried out after it."""
    watch = store.watch(task_id, after)
    try:
        async for batch in watch:
            for _, frame in batch:
                if done(frame):
                    return frame
                if _ends_task(frame):
                    return None
    finally:
        await watch.aclose()
    return None
