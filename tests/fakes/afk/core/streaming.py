"""`afk.core.streaming`: the events of `Runner.run_stream`, and the handle that yields them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

_END = object()


@dataclass(frozen=True, slots=True)
class AgentStreamEvent:
    type: str  # text_delta | tool_started | tool_completed | tool_deferred |
    #            tool_background_resolved | tool_background_failed | step_started | completed | error
    text_delta: str | None = None
    tool_name: str | None = None
    tool_call_id: str | None = None
    tool_success: bool | None = None
    tool_output: Any = None
    tool_error: str | None = None
    tool_ticket_id: str | None = None
    step: int | None = None
    state: str | None = None
    run_event: Any = None
    result: Any = None
    error: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


class AgentStreamHandle:
    """Async-iterable stream of one run; `result` once it completed; `cancel()` stops it."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._result: Any = None
        self._done = False
        self._task: asyncio.Task[None] | None = None

    async def emit(self, event: AgentStreamEvent) -> None:
        if event.type == "completed":
            self._result = event.result
        await self._queue.put(event)

    async def close(self) -> None:
        self._done = True
        await self._queue.put(_END)

    @property
    def result(self) -> Any:
        return self._result

    @property
    def done(self) -> bool:
        return self._done

    async def cancel(self) -> None:
        """The run goes to `cancelled`; the stream ends."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    def __aiter__(self) -> AsyncIterator[AgentStreamEvent]:
        return self._events()

    async def _events(self) -> AsyncIterator[AgentStreamEvent]:
        while True:
            item = await self._queue.get()
            if item is _END:
                return
            yield item  # type: ignore[misc]
