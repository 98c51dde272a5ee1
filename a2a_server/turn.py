"""One turn of a task: the runner's events, mapped to frames and written as they come.

`run_turn` drives `runner.run(turn)` and hands every frame to the task's actor (`Writes`),
which writes it under its lock. Text deltas are coalesced: the first delta of a quiet spell
arms a timer of `coalesce_ms`, and what arrived by then is flushed as one chunk; any other
event flushes the text before it (design §4). The turn's end event is returned, not
written: the actor decides how the turn ends (tickets may still be pending).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

from a2a_server import logs
from a2a_server.fairness import TurnShare
from a2a_server.mapping import TurnMapper
from a2a_server.model import Frame
from a2a_server.runner.base import Runner, Turn
from a2a_server.runner.events import (
    AgentUpdated,
    AuthRequired,
    Completed,
    Failed,
    InputRequired,
    NewArtifact,
    ReasoningDelta,
    Rejected,
    RunnerEvent,
    StepStarted,
    TextDelta,
    ToolBackgroundFailed,
    ToolBackgroundResolved,
    ToolCompleted,
    ToolDeferred,
    ToolStarted,
)

__all__ = ["AGENT_FAILED", "End", "Writes", "run_turn"]

log = logging.getLogger("a2a_server")

AGENT_FAILED = "The agent failed while handling this request."
End = Completed | InputRequired | AuthRequired | Rejected | Failed
_STOPPED = Completed()  # what a runner that simply stops amounts to


class Writes(Protocol):
    """What a turn needs of its task's actor."""

    async def emit(self, make: Callable[[], list[Frame]]) -> None:
        """Make frames and write them, both under the actor's lock."""
        ...

    async def defer(self, event: ToolDeferred, mapper: TurnMapper) -> None: ...

    async def settle_from_runner(self, event: ToolBackgroundResolved | ToolBackgroundFailed) -> None: ...


async def run_turn(
    runner: Runner, turn: Turn, mapper: TurnMapper, writes: Writes, coalesce_ms: float,
    share: TurnShare | None = None,
) -> End:
    """Run the turn to its end event (a runner that raises has failed); between events it
    waits for its turn in `share` once the slice is spent (`fairness.TurnShare`)."""
    window = coalesce_ms / 1000.0
    loop = asyncio.get_running_loop()
    timer: asyncio.TimerHandle | None = None
    # timed flushes in flight (a list: an empty set is 216 bytes, held for the turn's life)
    flushes: list[asyncio.Task[None]] = []

    def flush_now() -> None:
        nonlocal timer
        timer = None
        task = loop.create_task(writes.emit(mapper.flush))
        flushes.append(task)
        task.add_done_callback(flushes.remove)

    try:
        events = runner.run(turn)
        try:
            count = 0
            async for event in events:
                count += 1
                if share is not None and share.spent(count):
                    await share.wait()
                if isinstance(event, TextDelta):
                    if not isinstance(event.text, str):
                        log.error("runner yielded non-text %r in a text delta", event.text)
                        return Failed(AGENT_FAILED)
                    mapper.add_text(event.text)
                    if window <= 0:
                        await writes.emit(mapper.flush)
                    elif timer is None:
                        timer = loop.call_later(window, flush_now)
                    continue
                if timer is not None:
                    timer.cancel()
                    timer = None
                if flushes:  # a timed flush in flight writes before this event's frames
                    await asyncio.gather(*flushes)
                if isinstance(event, End):
                    return event
                await _step(event, mapper, writes)
        finally:  # stop a runner that goes on (as `contextlib.aclosing`, with no object of its own)
            await events.aclose()  # type: ignore[attr-defined]
        return _STOPPED
    except asyncio.CancelledError:
        raise
    except Exception:
        error_id = logs.failure(log, "runner failed on task %s", turn.task_id)
        return Failed(f"{AGENT_FAILED} (error id {error_id})")
    finally:
        if timer is not None:
            timer.cancel()
        if flushes:
            await asyncio.gather(*flushes, return_exceptions=True)


async def _step(event: RunnerEvent, mapper: TurnMapper, writes: Writes) -> None:
    """Frames for a runner event other than text or the turn's end."""
    if isinstance(event, StepStarted | ToolStarted | ToolCompleted | AgentUpdated | ReasoningDelta):
        await writes.emit(lambda: [*mapper.flush_before_event(), mapper.progress(event)])
    elif isinstance(event, NewArtifact):
        await writes.emit(lambda: [*mapper.flush_before_event(), mapper.artifact(event)])
    elif isinstance(event, ToolDeferred):
        await writes.defer(event, mapper)
    elif isinstance(event, ToolBackgroundResolved | ToolBackgroundFailed):
        await writes.emit(mapper.flush_before_event)
        await writes.settle_from_runner(event)
    else:
        log.warning("runner yielded an unknown event %r; ignored", event)
