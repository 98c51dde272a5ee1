"""The life of one task while it can still change: turns, frames, tickets, cancel.

A `TaskRuntime` runs the task's turns one at a time, in order (a worker drains a queue), and
is the only writer of the task's frames: every write goes through `_write` under one lock,
which appends to the store and then hands the frame to every live subscriber. A turn runs in
the task's worker itself; `_pump` reads the runner's events, coalesces text deltas arriving
within `coalesce_ms` (a timer flushes them) and maps everything else at once (design §4).

Deferred tool tickets park the task `working`; when the last pending one settles, the worker
gives the runner a resume turn with the results (design §5).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from a2a_server.errors import A2AError, TaskNotCancelable, UnsupportedOperation
from a2a_server.jsoncodec import dumps
from a2a_server.mapping import TurnMapper, agent_message, task_usage, worth_notifying
from a2a_server.model import (
    INTERRUPTED_STATES,
    TERMINAL_STATES,
    Frame,
    Message,
    StatusUpdate,
    Task,
    TaskState,
    TextPart,
)
from a2a_server.runner.base import Runner, Turn
from a2a_server.runner.events import (
    BackgroundWork,
    Completed,
    Failed,
    AgentUpdated,
    AuthRequired,
    InputRequired,
    NewArtifact,
    ReasoningDelta,
    Rejected,
    StepStarted,
    TextDelta,
    ToolBackgroundFailed,
    ToolBackgroundResolved,
    ToolCompleted,
    ToolDeferred,
    ToolStarted,
)
from a2a_server.settings import Settings
from a2a_server.store.base import MemoryAdd, TaskEnded, TaskStore, TicketRaced, TurnClaimed
from a2a_server.streams import Subscription
from a2a_server.supervisor import Supervisor
from a2a_server.tickets import Ticket

__all__ = ["TaskRuntime", "TurnHandle"]

log = logging.getLogger("a2a_server")

AGENT_FAILED = "The agent failed while handling this request."
CANCELED = "The task was canceled."
RESTARTED = "The server restarted while this task's turn was running; the turn was lost."
_END = Completed()  # what a runner that simply stops amounts to
_End = Completed | InputRequired | AuthRequired | Rejected | Failed  # the events that end a turn


class TurnHandle:
    """Lets a request follow the turn it queued: where its frames start, and when it rests."""

    def __init__(self) -> None:
        self.started: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self.done = asyncio.Event()

    def start(self, seq: int) -> None:
        if not self.started.done():
            self.started.set_result(seq)

    def finish(self, seq: int) -> None:
        self.start(seq)
        self.done.set()

    error: A2AError | None = None

    def reject(self, error: A2AError) -> None:
        """The turn will never run: the task ended (or was canceled) first."""
        if not self.done.is_set():
            self.error = error
            self.start(-1)
            self.done.set()


@dataclass
class _TurnRequest:
    message: Message | None  # None: a resume turn
    new_task: bool = False
    handles: list[TurnHandle] = field(default_factory=list)


class TaskRuntime:
    def __init__(
        self,
        *,
        task_id: str,
        context_id: str,
        state: TaskState,
        last_seq: int,
        store: TaskStore,
        runner: Runner,
        supervisor: Supervisor,
        settings: Settings,
        on_end: Callable[[TaskRuntime], None],
        on_notify: Callable[[], None] = lambda: None,
        owner: str = "",
    ) -> None:
        self.task_id = task_id
        self.context_id = context_id
        self.state = state
        self.last_seq = last_seq
        self._store = store
        self._runner = runner
        self._supervisor = supervisor
        self._settings = settings
        self._on_end = on_end
        self._on_notify = on_notify
        self._owner = owner  # this app's id, recorded with the turns it runs
        self._lock = asyncio.Lock()
        self._subscribers: set[Subscription] = set()
        self._queue: deque[_TurnRequest] = deque()
        self._worker: asyncio.Task[None] | None = None
        self._turn: asyncio.Task[None] | None = None
        self._turn_handles: list[TurnHandle] = []
        self._mapper: TurnMapper | None = None  # the running turn's
        self._background: dict[str, asyncio.Task[None]] = {}
        self._canceling = False
        self._settled_since_check = False
        self._claimed_elsewhere = False
        self._events = TurnMapper(task_id, context_id)  # for frames outside any turn

    @property
    def terminal(self) -> bool:
        return self.state in TERMINAL_STATES

    # -- subscribers and writes --------------------------------------------------------------

    def attach(self, sub: Subscription) -> None:
        self._subscribers.add(sub)

    def detach(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)

    def subscribe(self, after: int) -> Subscription:
        return Subscription(self._store, self.task_id, after, self)

    async def _emit(
        self,
        make: Callable[[], list[Frame]],
        tickets: Sequence[Ticket] = (),
        *,
        release: str | None = None,
        memory: MemoryAdd | None = None,
    ) -> None:
        """Build frames with `make` and write them, both under the lock: a turn's mapper only
        changes together with the write, so a cancel never finds it half-way."""
        async with self._lock:
            frames = make()
            if frames or tickets or release is not None or memory is not None:
                await self._write(frames, tickets, release=release, memory=memory)

    async def _write(
        self,
        frames: list[Frame],
        tickets: Sequence[Ticket] = (),
        *,
        claim: str | None = None,
        release: str | None = None,
        memory: MemoryAdd | None = None,
    ) -> None:
        if self.terminal:
            log.debug("task %s ended; dropped %d frame(s)", self.task_id, len(frames))
            return
        notify = worth_notifying(frames, self.state)
        try:  # the write joins the store's open batch; subscribers see it once it commits
            last = await self._store.append(
                self.task_id, frames, tickets, notify=notify, claim=claim, release=release,
                memory=memory, wait=False,
            )
        except TaskEnded as ended:  # ended elsewhere: this runtime was loaded from a stale read
            log.warning("task %s had already ended; dropped %d frame(s)", self.task_id, len(frames))
            self.state = ended.state
            self._on_end(self)
            return
        first = last - len(frames) + 1
        for frame in frames:
            if type(frame) is StatusUpdate or type(frame) is Task:
                self.state = frame.status.state  # type: ignore[union-attr]
        self.last_seq = last
        if frames:
            committed = self._store.committed()
            if committed.done():
                self._publish(first, frames, committed)
            else:  # a stream's frames share commits instead of waiting for one each
                committed.add_done_callback(lambda done: self._publish(first, frames, done))
        if notify:
            self._on_notify()
        if self.terminal:
            for task in self._background.values():
                task.cancel()
            forget = getattr(self._runner, "forget", None)  # optional: runner state of the task
            if forget is not None:
                forget(self.task_id)
            self._on_end(self)

    def _publish(self, first: int, frames: list[Frame], committed: asyncio.Future[Any]) -> None:
        """Hand durable frames to the live subscribers (never before they are durable)."""
        if committed.result() is not None:
            log.error("task %s: %d frame(s) were lost with their commit", self.task_id, len(frames))
            return
        for seq, frame in enumerate(frames, start=first):
            for sub in self._subscribers:
                sub.push(seq, frame)

    # -- turns -----------------------------------------------------------------------------------

    def submit(self, message: Message, *, new_task: bool = False) -> TurnHandle:
        """Queue a user message as a turn of this task."""
        if self.terminal or self._canceling:
            raise UnsupportedOperation(f"Task {self.task_id} has ended; start a new task.")
        handle = TurnHandle()
        self._queue.append(_TurnRequest(message, new_task, [handle]))
        if self._worker is None:
            self.kick()
        return handle

    def kick(self) -> None:
        """Make sure a worker drains the queue (and looks for a resume turn)."""
        if self._worker is None and not self.terminal:
            self._worker = self._supervisor.spawn(self._work(), f"task-{self.task_id}")

    async def _work(self) -> None:
        try:
            while not self.terminal and not self._canceling:
                if not self._queue:
                    self._settled_since_check = False
                    resume = await self._resume_request()
                    if resume is not None:
                        self._queue.append(resume)
                    elif self._settled_since_check:
                        continue  # a ticket settled while we looked: look again
                    elif not self._queue:
                        return
                request = self._queue.popleft()
                self._turn_handles = request.handles
                self._turn = asyncio.current_task()  # the turn runs here; cancel() stops this task
                try:
                    await self._run_turn(request)
                finally:
                    self._turn = self._mapper = None
                if self._claimed_elsewhere:  # that process's turn, when it ends, goes on
                    self._claimed_elsewhere = False
                    return
        finally:
            self._worker = None
            if self.terminal:
                self._reject_queued("ended")

    def _reject_queued(self, how: str) -> None:
        error = UnsupportedOperation(f"Task {self.task_id} {how} before this message was handled.")
        while self._queue:
            for handle in self._queue.popleft().handles:
                handle.reject(error)

    async def _resume_request(self) -> _TurnRequest | None:
        if self.state is not TaskState.WORKING or self._canceling:
            return None
        tickets = await self._store.list_tickets(self.task_id)
        if any(t.pending for t in tickets) or not any(not t.delivered for t in tickets):
            return None
        return _TurnRequest(None)

    async def _run_turn(self, request: _TurnRequest) -> None:
        mapper = self._mapper = TurnMapper(self.task_id, self.context_id)
        rests = True  # a turn stopped with the app stays claimed: the next start fails it
        try:
            async with self._lock:
                start = 0 if request.new_task else self.last_seq  # a new task: from its Task
                for handle in request.handles:
                    handle.start(start)
                frames: list[Frame] = []
                if request.message is not None and not request.new_task:
                    frames.append(await self._snapshot_with(request.message))
                delivered: list[Ticket] = []
                if request.message is None:
                    delivered = await self._undelivered()
                    if not delivered:
                        return
                if self.state is not TaskState.WORKING:
                    frames.append(mapper.working())
                try:  # the turn's first write claims it
                    await self._write(
                        frames, [dataclasses.replace(t, delivered=True) for t in delivered],
                        claim=self._owner,
                    )
                except TurnClaimed:
                    # another server process sharing the store runs a turn of this task; a
                    # resume it needs, its own turn's end will start
                    self._reject(request, "is busy in another server process; try again")
                    self._claimed_elsewhere = True
                    return
                if self.terminal:  # it ended meanwhile (in another process, say)
                    self._reject(request, "has ended")
                    return
            history = await self._store.get_memory(self.context_id)
            turn = Turn(
                self.task_id, self.context_id, request.message, tuple(history),
                tuple(t.settlement() for t in delivered), new_task=request.new_task,
                usage=await self._usage() if not request.new_task else {},
            )
            end = await self._pump(turn, mapper)
            rests = await self._finish(request, mapper, end)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("turn of task %s failed", self.task_id)
            await self._end_failed(mapper, AGENT_FAILED)
        finally:
            if rests and not self._canceling:
                for handle in request.handles:
                    handle.finish(self.last_seq)

    def _reject(self, request: _TurnRequest, why: str) -> None:
        error = UnsupportedOperation(f"Task {self.task_id} {why}.")
        for handle in request.handles:
            handle.reject(error)

    async def _usage(self) -> dict[str, int]:
        task = await self._store.get_task(self.task_id)
        return task_usage(task) if task is not None else {}

    async def _snapshot_with(self, message: Message) -> Frame:
        task = await self._store.get_task(self.task_id)
        assert task is not None
        task.history.append(message)
        return task

    async def _undelivered(self) -> list[Ticket]:
        """Settled tickets the runner has not been given yet (for a resume turn)."""
        return [t for t in await self._store.list_tickets(self.task_id) if not t.pending and not t.delivered]

    async def _pump(self, turn: Turn, mapper: TurnMapper) -> _End:
        """Map the runner's events to frames until the turn ends. Text deltas are coalesced:
        the first delta of a quiet spell arms a timer, and what arrived by then is flushed."""
        window = self._settings.coalesce_ms / 1000.0
        loop = asyncio.get_running_loop()
        timer: asyncio.TimerHandle | None = None

        def flush_now() -> None:
            nonlocal timer
            timer = None
            self._supervisor.spawn(self._emit(mapper.flush), f"flush-{self.task_id}")

        try:
            events = self._runner.run(turn)
            async with contextlib.aclosing(events):  # type: ignore[type-var]  # stop a runner that goes on
                async for event in events:
                    if isinstance(event, TextDelta):
                        if not isinstance(event.text, str):
                            log.error("runner yielded non-text %r in a text delta", event.text)
                            return Failed(AGENT_FAILED)
                        mapper.add_text(event.text)
                        if window <= 0:
                            await self._emit(mapper.flush)
                        elif timer is None:
                            timer = loop.call_later(window, flush_now)
                        continue
                    if timer is not None:
                        timer.cancel()
                        timer = None
                    if isinstance(event, Completed | InputRequired | AuthRequired | Rejected | Failed):
                        return event
                    await self._step(event, mapper)
            return _END
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("runner failed on task %s", self.task_id)
            return Failed(AGENT_FAILED)
        finally:
            if timer is not None:
                timer.cancel()

    async def _step(self, event: Any, mapper: TurnMapper) -> None:
        """Frames for a runner event other than text or the turn's end."""
        if isinstance(event, StepStarted | ToolStarted | ToolCompleted | AgentUpdated | ReasoningDelta):
            await self._emit(lambda: [*mapper.flush_before_event(), mapper.progress(event)])
        elif isinstance(event, NewArtifact):
            await self._emit(lambda: [*mapper.flush_before_event(), mapper.artifact(event)])
        elif isinstance(event, ToolDeferred):
            await self._defer(event, mapper)
        elif isinstance(event, ToolBackgroundResolved | ToolBackgroundFailed):
            await self._emit(mapper.flush_before_event)
            await self.settle(event)
        else:
            log.warning("runner yielded an unknown event %r; ignored", event)

    async def _finish(
        self, request: _TurnRequest, mapper: TurnMapper, end: _End
    ) -> bool:
        """End a turn; False when the request's handles pass to a chained resume turn."""
        final_text = end.final_text if isinstance(end, Completed) else None
        if isinstance(end, InputRequired | AuthRequired):
            said = end.prompt
        elif isinstance(end, Failed):
            said = end.error
        elif isinstance(end, Rejected):
            said = end.reason
        else:
            said = mapper.answer_text(final_text)
        # the turn's last write: its frames, the memory of what was said, and the claim let go
        memory, owner = self._memory(request.message, said), self._owner
        usage = end.usage
        if isinstance(end, InputRequired | AuthRequired):
            state = (
                TaskState.INPUT_REQUIRED if isinstance(end, InputRequired) else TaskState.AUTH_REQUIRED
            )
            prompt, data = end.prompt, end.data
            await self._emit(
                lambda: [*mapper.finish(), mapper.end(state, prompt, usage=usage, data=data)],
                memory=memory, release=owner,
            )
            return True
        if isinstance(end, Failed):
            await self._end_failed(mapper, end.error, usage, memory)
            return True
        if isinstance(end, Rejected):
            await self._end_failed(mapper, end.reason, usage, memory, state=TaskState.REJECTED)
            return True
        tickets = await self._store.list_tickets(self.task_id)
        if any(t.pending for t in tickets):  # parked until they settle
            await self._emit(
                lambda: [*mapper.finish(final_text), *mapper.usage(usage)], memory=memory, release=owner
            )
            return True
        if any(not t.delivered for t in tickets):
            await self._emit(
                lambda: [*mapper.finish(final_text), *mapper.usage(usage)], memory=memory, release=owner
            )
            self._queue.appendleft(_TurnRequest(None, handles=request.handles))
            return False
        await self._emit(
            lambda: [*mapper.finish(final_text), mapper.end(TaskState.COMPLETED, usage=usage)],
            memory=memory, release=owner,
        )
        return True

    def _memory(self, message: Message | None, said: str) -> MemoryAdd | None:
        said_message = (
            [agent_message([TextPart(said)], self.task_id, self.context_id)] if said else []
        )
        entries = ([message] if message is not None else []) + said_message
        if not entries:
            return None
        return MemoryAdd(self.context_id, entries, self._settings.memory_messages)

    async def _end_failed(
        self,
        mapper: TurnMapper,
        error: str,
        usage: dict[str, int] | None = None,
        memory: MemoryAdd | None = None,
        *,
        state: TaskState = TaskState.FAILED,
    ) -> None:
        """End the task failed (or rejected): its open answer closed, its tickets with it."""
        async with self._lock:
            closing = await self._closing_tickets(f"the task {state.value}")
            try:
                head = mapper.finish()
            except Exception:  # a runner left the mapper in a state it cannot close
                log.exception("could not close the answer of task %s", self.task_id)
                head = []
            await self._write(
                [*head, mapper.end(state, error, closing, usage)], closing,
                memory=memory, release=self._owner,
            )

    # -- tickets ---------------------------------------------------------------------------------

    async def _defer(self, event: ToolDeferred, mapper: TurnMapper) -> None:
        if await self._store.get_ticket(event.ticket_id) is not None:
            log.warning("runner reused ticket id %s; tool call failed", event.ticket_id)
            refused = ToolCompleted(
                event.tool_name, event.tool_call_id, False, None, "duplicate ticket id"
            )
            await self._emit(lambda: [*mapper.flush_before_event(), mapper.progress(refused)])
            return
        now = time.time()
        lifetime = event.deadline_seconds or self._settings.ticket_deadline_seconds
        ticket = Ticket(
            id=event.ticket_id,
            task_id=self.task_id,
            context_id=self.context_id,
            tool_name=event.tool_name,
            tool_call_id=event.tool_call_id,
            resume_hint=event.resume_hint,
            created_at=now,
            deadline=now + lifetime,
        )
        pending = sum(t.pending for t in await self._store.list_tickets(self.task_id))
        if pending >= self._settings.max_pending_tickets:
            limit = self._settings.max_pending_tickets
            ticket = ticket.settle("failed", error=f"too many pending background tools ({limit})")
        await self._emit(lambda: [*mapper.flush_before_event(), *mapper.ticket_event(ticket)], [ticket])
        if event.work is not None and ticket.pending:
            self._background[ticket.id] = self._supervisor.spawn(
                self._run_background(ticket, event.work), f"ticket-{ticket.id}"
            )

    async def _run_background(self, ticket: Ticket, work: BackgroundWork) -> None:
        result: ToolBackgroundResolved | ToolBackgroundFailed | None = None
        try:
            async for event in work():
                result = event
                break
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("background work of ticket %s failed", ticket.id)
        finally:
            self._background.pop(ticket.id, None)
        if result is None:
            result = ToolBackgroundFailed(ticket.tool_name, ticket.id, "the background tool failed")
        await self.settle(result)

    async def settle(self, event: ToolBackgroundResolved | ToolBackgroundFailed) -> bool:
        """Settle a pending ticket of this task from a runner event."""
        if isinstance(event, ToolBackgroundResolved):
            return await self.settle_ticket(event.ticket_id, "resolved", output=event.output)
        return await self.settle_ticket(event.ticket_id, "failed", error=event.error)

    async def settle_ticket(
        self, ticket_id: str, state: str, *, output: Any = None, error: str | None = None
    ) -> bool:
        """Settle a pending ticket of this task (resolved, failed or expired); False if it is
        not one, or no longer pending. The last one to settle brings a resume turn."""
        async with self._lock:
            ticket = await self._store.get_ticket(ticket_id)
            if ticket is None or ticket.task_id != self.task_id or not ticket.pending:
                return False
            if self.terminal or self._canceling:
                return False
            if not _is_json(output):
                log.error("ticket %s: output is not JSON; failing it", ticket_id)
                state, output, error = "failed", None, "the tool's output is not JSON"
            settled = ticket.settle(state, output=output, error=error)
            current = self.state if self.state in INTERRUPTED_STATES else TaskState.WORKING
            try:
                await self._write(self._events.ticket_event(settled, current), [settled])
            except TicketRaced:  # settled meanwhile by another process
                return False
        work = self._background.pop(ticket_id, None)
        if work is not None and work is not asyncio.current_task():
            work.cancel()
        self._settled_since_check = True
        self.kick()
        return True

    async def fail_interrupted_turn(self, dead_owner: str) -> None:
        """After a restart: the turn that was running when the server died is lost. Its
        open artifacts are closed with an empty chunk marked interrupted (what was held back
        died with the process), and the task fails saying why."""
        async with self._lock:
            closing = await self._closing_tickets("the server restarted during the turn")
            log = await self._store.read_log(self.task_id)
            frames = [
                *self._events.close_interrupted(log),
                self._events.end(TaskState.FAILED, RESTARTED, closing),
            ]
            await self._write(frames, closing, release=dead_owner)
        if self.terminal:
            return
        await self._store.release_turn(self.task_id, dead_owner)  # it had ended already

    async def _closing_tickets(self, why: str) -> list[Ticket]:
        """The task's pending tickets, failed because the task ends."""
        return [
            t.settle("failed", error=why)
            for t in await self._store.list_tickets(self.task_id)
            if t.pending
        ]

    # -- cancel ----------------------------------------------------------------------------------

    async def cancel(self) -> None:
        """Stop the task for good: running turn, queued turns and background work."""
        if self.terminal or self._canceling:
            raise TaskNotCancelable(f"Task {self.task_id} cannot be canceled in its state.")
        self._canceling = True
        mapper = self._mapper  # the worker forgets it once the turn is gone
        turn = self._turn
        handles = list(self._turn_handles) if turn is not None else []
        self._reject_queued("was canceled")
        try:
            if turn is not None:
                async with self._lock:  # so the turn is never stopped half-way through a write
                    turn.cancel()
                await asyncio.wait([turn])
            for task in list(self._background.values()):
                task.cancel()
            async with self._lock:
                if self.terminal:
                    raise TaskNotCancelable(f"Task {self.task_id} has already ended.")
                closing = await self._closing_tickets("the task was canceled")
                head = mapper.finish() if mapper is not None else []
                await self._write(
                    [*head, self._events.end(TaskState.CANCELED, CANCELED, closing)], closing,
                    release=self._owner,
                )
        finally:
            self._canceling = False
            for handle in handles:
                handle.finish(self.last_seq)


def _is_json(value: Any) -> bool:
    try:
        dumps(value)
    except (TypeError, ValueError):
        return False
    return True
