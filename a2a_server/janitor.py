"""Upkeep of the task store, on every replica: taking over cut turns, ticket expiry,
retention.

Every `sweep_seconds` (and once at start-up): a lease that expired means its replica died
(or stalled) mid-work: this replica takes the task over, and its actor ends or parks the cut
turn (`actor.TaskActor`). A holder known dead sooner (a process of this machine that is
gone, as after a restart) is not waited for. Pending tickets past their deadline expire (the
runner learns it in its resume turn); tasks that ended more than `retention_seconds` ago
are purged.
"""

from __future__ import annotations

import asyncio
import logging
import time

from a2a_server.liveness import is_alive
from a2a_server.replica import Replica
from a2a_server.settings import Settings
from a2a_server.store.base import SettleCommand

__all__ = ["EXPIRED", "Janitor"]

log = logging.getLogger("a2a_server")

EXPIRED = "the ticket's deadline passed before it was settled"


class Janitor:
    def __init__(self, settings: Settings, replica: Replica) -> None:
        self._settings = settings
        self._replica = replica
        self._store = replica.store

    async def take_over_cut_turns(self) -> None:
        now = time.time()
        for task_id, owner in await self._store.leases(now):
            if await self._replica.take_over(task_id):
                log.warning("task %s: took it over from %s, whose lease expired", task_id, owner)
        for task_id, owner in await self._dead_holders():
            if await self._replica.take_over(task_id, dead=owner):
                log.warning("task %s: took it over from %s, which is gone", task_id, owner)

    async def _dead_holders(self) -> list[tuple[str, str]]:
        """Leases still running whose holder is a process of this machine that is gone."""
        return [
            (task_id, owner) for task_id, owner in await self._store.leases(float("inf"))
            if owner != self._replica.owner and not is_alive(owner)
        ]

    async def sweep(self) -> None:
        await self.take_over_cut_turns()
        now = time.time()
        for ticket in await self._store.due_tickets(now):
            await self._replica.submit(ticket.task_id, SettleCommand(ticket.id, "expired", error=EXPIRED))
        checkpoint = getattr(self._store, "checkpoint", None)  # stores with a WAL have one
        if checkpoint is not None:
            await checkpoint()
        purged = await self._store.purge(now - self._settings.retention_seconds)
        if purged:
            log.info("purged %d ended task(s)", purged)

    async def run(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("sweep failed; trying again next time")
            await asyncio.sleep(self._settings.sweep_seconds)
