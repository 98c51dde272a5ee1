"""This app instance, as one replica among those sharing a store: its identity (the owner of
the leases it holds), the task actors it runs, the renewal of their leases, and the
background work of deferred tools it started.

A command for a task (a message, a settlement, a cancel) is queued in the store from
whichever replica receives it (`submit`); if nobody holds the task's lease, this replica
takes it and runs the task's actor here; else the holder, wherever it is, hears the
command's doorbell. Leases are renewed every third of their lifetime; a lease the store
says was lost stops its actor at once (another replica writes that task now).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from a2a_server.actor import NOT_JSON, TaskActor, is_json, opening
from a2a_server.fairness import TurnShare
from a2a_server.liveness import instance
from a2a_server.metrics import Metrics
from a2a_server.model import Task
from a2a_server.runner.base import Runner
from a2a_server.runner.events import BackgroundWork, ToolBackgroundFailed
from a2a_server.settings import Settings
from a2a_server.store.base import Change, Command, Lease, Loaded, SettleCommand, TaskStore
from a2a_server.supervisor import Supervisor
from a2a_server.tickets import Ticket

__all__ = ["Replica"]

log = logging.getLogger("a2a_server")


class Replica:
    def __init__(
        self,
        settings: Settings,
        runner: Runner,
        store: TaskStore,
        supervisor: Supervisor,
        on_push: Callable[[], None] = lambda: None,
        metrics: Metrics | None = None,
    ) -> None:
        self.settings = settings
        self.metrics = metrics or Metrics()
        self.runner = runner
        self.store = store
        self.owner = instance()
        self.ttl = settings.lease_seconds
        self._supervisor = supervisor
        self._on_push = on_push
        self._actors: dict[str, TaskActor] = {}
        # the loop, as this replica's turns share it with requests (`fairness`)
        slice_ms = settings.turn_slice_ms
        self.share = TurnShare(slice_ms / 1000) if slice_ms > 0 else None
        self._background: dict[str, dict[str, asyncio.Task[None]]] = {}  # task -> ticket -> work

    # -- actors -------------------------------------------------------------------------------

    def actor(self, task_id: str) -> TaskActor | None:
        return self._actors.get(task_id)

    async def create(
        self, task: Task, principal: str, *, fresh_context: bool = False, open_turn: bool = True
    ) -> TaskActor:
        """A new task, its lease held here; `run` its actor once its push configs are in (or
        `TaskActor.discard` it).
        `fresh_context`: the task's context was made with it. `open_turn`: its first turn
        opens as it is created (one write, not two); not when push configs come with it,
        since the turn's `working` is then theirs to be told of."""
        if open_turn:
            then, opened = opening(task)
        else:
            then, opened = None, task.copy()
        # listening before the task exists: no command can be queued for it unheard, so its
        # actor need not read the inbox before it waits (`TaskActor.run`)
        bell = await self.store.doorbell(task.id)
        try:
            lease = await self.store.create(task, principal=principal, owner=self.owner, ttl=self.ttl, then=then)
        except BaseException:
            bell.close()
            raise
        seq = 1 + (len(then.frames) if then is not None else 0)
        actor = TaskActor(self, lease, Loaded(opened, seq, principal, False, self.owner))
        actor.start_new_task(fresh_context, bell, opened=open_turn)
        return actor

    def run(self, actor: TaskActor) -> None:
        self._actors[actor.task_id] = actor
        self._supervisor.spawn(actor.run(), f"task-{actor.task_id}")

    def spawn(self, coro: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        """Run an actor's coroutine beside the app (an actor's life going on in a new task)."""
        return self._supervisor.spawn(coro, name)

    async def submit(self, task_id: str, command: Command) -> int:
        """Queue a command for a task; run the task here if nobody else does."""
        command_id, lease = await self.store.submit(task_id, command, owner=self.owner, ttl=self.ttl)
        if lease is not None:
            await self._take(lease)
        return command_id

    async def take_over(self, task_id: str, dead: str | None = None) -> bool:
        """Run a task whose lease expired (or whose holder is `dead`) here."""
        lease = await self.store.claim(task_id, owner=self.owner, ttl=self.ttl, dead=dead)
        if lease is None:
            return False
        await self._take(lease)
        return True

    async def _take(self, lease: Lease) -> None:
        running = self._actors.get(lease.task_id)
        if running is not None and running.lease == lease:
            return  # it runs here already, and hears the doorbell
        loaded = await self.store.load(lease.task_id)
        if loaded is None:
            return
        running = self._actors.get(lease.task_id)
        if running is not None and running.lease.owner == lease.owner and running.lease.token >= lease.token:
            return  # started meanwhile by another command of this lease, or of a newer one
        self.run(TaskActor(self, lease, loaded))

    def forget(self, actor: TaskActor) -> None:
        if self._actors.get(actor.task_id) is actor:
            del self._actors[actor.task_id]

    async def renew(self) -> None:
        """Extend the leases of this replica's actors; stop those whose lease was lost."""
        actors = list(self._actors.values())
        lost = {lease.task_id for lease in await self.store.renew([a.lease for a in actors], self.ttl)}
        for actor in actors:
            if actor.task_id in lost and self._actors.get(actor.task_id) is actor and not actor.letting_go:
                log.warning("task %s: lease lost; this replica stops writing it", actor.task_id)
                self.forget(actor)
                await actor.stop()

    async def keep_leases(self) -> None:
        while True:
            await asyncio.sleep(self.ttl / 3)
            try:
                await self.renew()
            except Exception:
                log.exception("renewing leases failed; trying again")

    async def stop(self) -> None:
        """The app stops: its actors stop writing (their turns are cut, as in a crash) and
        let their leases go, so another replica, or this one restarted, takes the tasks over
        without waiting for the leases to lapse."""
        for actor in list(self._actors.values()):
            await actor.stop()
            with contextlib.suppress(Exception):
                await self.store.append(actor.lease, Change(release=True))

    # -- what actors tell it ------------------------------------------------------------------

    def poke_push(self) -> None:
        self._on_push()

    def run_background(self, ticket: Ticket, work: BackgroundWork) -> None:
        """A deferred tool's own work, beside the task; its result settles the ticket through
        the inbox (the task may be run by another replica by then)."""
        job = self._supervisor.spawn(self._background_work(ticket, work), f"ticket-{ticket.id}")
        self._background.setdefault(ticket.task_id, {})[ticket.id] = job

    async def _background_work(self, ticket: Ticket, work: BackgroundWork) -> None:
        result = None
        try:
            async for event in work():
                result = event
                break
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("background work of ticket %s failed", ticket.id)
        finally:
            self._background.get(ticket.task_id, {}).pop(ticket.id, None)
        if result is None:
            result = ToolBackgroundFailed(ticket.tool_name, ticket.id, "the background tool failed")
        if isinstance(result, ToolBackgroundFailed):
            command = SettleCommand(ticket.id, "failed", error=result.error)
        elif not is_json(result.output):
            log.error("ticket %s: output is not JSON; failing it", ticket.id)
            command = SettleCommand(ticket.id, "failed", error=NOT_JSON)
        else:
            command = SettleCommand(ticket.id, "resolved", output=result.output)
        await self.submit(ticket.task_id, command)

    def ticket_settled(self, ticket_id: str) -> None:
        """Settled from outside (or expired): its background work here is moot."""
        for jobs in self._background.values():
            job = jobs.pop(ticket_id, None)
            if job is not None and job is not asyncio.current_task():
                job.cancel()

    def task_ended(self, task_id: str) -> None:
        for job in self._background.pop(task_id, {}).values():
            if job is not asyncio.current_task():
                job.cancel()
        forget = getattr(self.runner, "forget", None)  # optional: runner state of the task
        if forget is not None:
            forget(task_id)
