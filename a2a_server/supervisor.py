"""One owner for every background asyncio task of an app (structured concurrency).

Runs outlive the request that started them (a dropped stream or a non-blocking send must not
stop its task), so they cannot live in the request's scope. They live in one supervisor
owned by the app's lifespan instead: nothing is left running when the app stops, and a
failing child is logged without tearing down its siblings. (A `TaskGroup` would tear them
down: hence a set of tasks, not a group with a wrapper coroutine around each child, which
every step of a task actor would pass through.)
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
        self._open = False
        self._tasks: set[asyncio.Task[Any]] = set()

    async def __aenter__(self) -> Supervisor:
        self._open = True
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._open = False  # from now on no child starts (one stopping may try)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run `coro` beside the app until it ends or the app stops."""
        if not self._open:
            coro.close()
            raise RuntimeError("the app is not running: enter its lifespan first")
        task = asyncio.get_running_loop().create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._ended)
        return task

    def _ended(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("background task %s failed", task.get_name(), exc_info=exc)
