"""Upkeep of the task store: recovery at start-up, then ticket expiry and retention.

At start-up, a turn recorded as running by a process that is gone died with it: its task
ends `failed`, saying the server restarted (never left `working` forever). A task parked on
tickets that all settled while no process was there gets its resume turn. Then, every
`sweep_seconds`: pending tickets past their deadline expire (the runner learns it in its
resume turn), and tasks that ended more than `retention_seconds` ago are purged.
"""

from __future__ import annotations

import asyncio
import logging
import time

from a2a_server.errors import TaskNotFound
from a2a_server.handler import RequestHandler
from a2a_server.liveness import is_alive

__all__ = ["Janitor"]

log = logging.getLogger("a2a_server")

EXPIRED = "the ticket's deadline passed before it was settled"


class Janitor:
    def __init__(self, handler: RequestHandler) -> None:
        self._handler = handler
        self._store = handler.store
        self._settings = handler.settings

    async def recover(self) -> None:
        await self._fail_dead_turns()
        for task_id in await self._store.open_tasks():
            runtime = await self._handler.runtime_for(task_id)
            if runtime is not None and runtime.state == "working":
                runtime.kick()  # a resume turn, if its tickets all settled meanwhile

    async def _fail_dead_turns(self) -> None:
        """Turns whose process is gone (found at start-up, and by a surviving process that
        shares the store, at every sweep) end their tasks `failed`."""
        for task_id, owner in await self._store.running():
            if is_alive(owner):
                continue
            try:
                runtime = await self._handler.runtime_for(task_id)
            except TaskNotFound:
                continue
            if runtime is None:
                await self._store.release_turn(task_id, owner)
            else:
                log.warning("task %s: its turn died with process %s; failing it", task_id, owner)
                await runtime.fail_interrupted_turn(owner)

    async def sweep(self) -> None:
        await self._fail_dead_turns()
        now = time.time()
        for ticket in await self._store.due_tickets(now):
            try:
                runtime = await self._handler.runtime_for(ticket.task_id)
            except TaskNotFound:
                continue
            if runtime is not None:
                await runtime.settle_ticket(ticket.id, "expired", error=EXPIRED)
        checkpoint = getattr(self._store, "checkpoint", None)  # stores with a WAL have one
        if checkpoint is not None:
            await checkpoint()
        purged = await self._store.purge(now - self._settings.retention_seconds)
        if purged:
            log.info("purged %d ended task(s)", purged)

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self._settings.sweep_seconds)
            try:
                await self.sweep()
            except Exception:
                log.exception("sweep failed; trying again next time")
