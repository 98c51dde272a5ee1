"""Pieces every adapter's run needs: a bounded per-task memory of paused runs, stopping a
framework's run quietly, and tool values made JSON.

A paused run (an approval asked, an interrupt, deferred calls) is kept in memory for its
task until the next turn takes it or the task ends (`forget`); the oldest go first past the
bound. After a restart it is gone: the adapter then says so or starts afresh from the
conversation, as each one documents.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Awaitable
from typing import Any, Generic, TypeVar

from a2a_server.jsoncodec import dumps

__all__ = ["Parked", "jsonable", "quietly"]

log = logging.getLogger("a2a_server")

T = TypeVar("T")


class Parked(Generic[T]):
    """Task id -> the state of its paused run, at most `limit` of them."""

    def __init__(self, limit: int = 10_000) -> None:
        self._items: OrderedDict[str, T] = OrderedDict()
        self._limit = limit

    def put(self, task_id: str, value: T) -> None:
        self._items[task_id] = value
        self._items.move_to_end(task_id)
        while len(self._items) > self._limit:
            self._items.popitem(last=False)

    def pop(self, task_id: str) -> T | None:
        return self._items.pop(task_id, None)


async def quietly(what: str, step: Awaitable[Any], timeout: float = 5.0) -> None:
    """Run a cleanup step (close a stream, stop a run) shielded from a second cancel and
    bounded in time; a failure is logged, never raised over the error being handled."""
    try:
        await asyncio.wait_for(asyncio.shield(step), timeout)
    except Exception:
        log.warning("could not %s", what, exc_info=True)


def jsonable(value: Any) -> Any:
    """`value` if it is JSON, else its text (a tool may return any Python object)."""
    try:
        dumps(value)
    except (TypeError, ValueError):
        return str(value)
    return value
