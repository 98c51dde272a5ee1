"""One owner for every background asyncio task of an app (structured concurrency).

Runs outlive the request that started them (a dropped stream or a non-blocking send must not
stop its task), so they cannot live in the request's scope. They live in one `TaskGroup`
opened by the app's lifespan instead: nothing is left running when the app stops, and a
failing child is logged without tearing down its siblings.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

__all__ = ["Supervisor"]

log = logging.getLogger("a2a_server")


class Supervisor:
    def __init__(self) -> None:
        self._group: asyncio.TaskGroup | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    async def __aenter__(self) -> Supervisor:
        self._group = asyncio.TaskGroup()
        await self._group.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        group, self._group = self._group, None
        for task in list(self._tasks):
            task.cancel()
        if group is not None:
            await group.__aexit__(None, None, None)

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run `coro` beside the app until it ends or the app stops."""
        if self._group is None:
            coro.close()
            raise RuntimeError("the app is not running: enter its lifespan first")
        task = self._group.create_task(self._guard(coro, name), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(lambda _: coro.close())  # if canceled before it ever ran
        return task

    @staticmethod
    async def _guard(coro: Coroutine[Any, Any, Any], name: str) -> Any:
        try:
            return await coro
        except Exception:
            log.exception("background task %s failed", name)
            return None
