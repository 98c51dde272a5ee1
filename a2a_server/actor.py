"""The one writer of a task: `TaskActor`, alive while this app instance holds the task's
lease (design §5).

Everything that changes a task arrives as a command in its inbox, from any replica: a
message (a turn to run), a ticket settlement, a cancel. The lease holder's actor drains the
inbox in order, runs the turns one at a time, writes every frame (fenced by the lease, under
one lock, so a cancel never finds a write half-way), keeps the folded Task live, and lets
the lease go when nothing is left to do (the store keeps it while commands wait).

Turns: a message's turn opens with the Task (its history holding the message) on a task that
goes on, runs the runner (`turn.run_turn`) and ends the task completed, failed, rejected or
input-required; or parks it, with a frame saying so, `working` while tickets it deferred are
pending, or `auth-required` (streams stay open: the authorization comes as a settled ticket
or with the next message). When the last pending ticket settles, the runner gets a resume
turn with the results.

A turn whose lease expired (its replica died) is cut: the actor that takes the task over
closes the artifacts it left open (an empty last chunk marked interrupted) and fails the
task saying the turn was lost, unless tickets the client was told of are still pending:
then the task parks on them, and its resume turn is told the earlier turn was cut.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from a2a_server import logs
from a2a_server.follow import ends_turn
from a2a_server.jsoncodec import dumps
from a2a_server.mapping import (
    META_KEY,
    LiveFold,
    TurnMapper,
    agent_message,
    apply,
    ours,
    task_usage,
    worth_notifying,
)
from a2a_server.model import (
    FINAL_STATES,
    INTERRUPTED_STATES,
    TERMINAL_STATES,
    ArtifactUpdate,
    Frame,
    Message,
    Status,
    StatusUpdate,
    Task,
    TaskState,
    TextPart,
)
from a2a_server.runner.base import Turn
from a2a_server.runner.events import (
    AuthRequired,
    Completed,
    Failed,
    InputRequired,
    Rejected,
    ToolBackgroundFailed,
    ToolBackgroundResolved,
    ToolCompleted,
    ToolDeferred,
)
from a2a_server.store.base import (
    Appended,
    CancelCommand,
    Change,
    Lease,
    LeaseLost,
    Loaded,
    MemoryAdd,
    MessageCommand,
    Queued,
    SettleCommand,
)
from a2a_server.tickets import Ticket
from a2a_server.turn import AGENT_FAILED, End, run_turn
from a2a_server.values import replace
from a2a_server.waits import first_done

if TYPE_CHECKING:
    from a2a_server.replica import Replica
    from a2a_server.store.hub import Bell

__all__ = ["CANCELED", "LOST", "NOT_JSON", "TaskActor", "is_json", "opening"]

log = logging.getLogger("a2a_server")

CANCELED = "The task was canceled."
LOST = "The server running this task's turn stopped before it ended; the turn was lost."
CUT = (
    "The server running this task's turn stopped before it ended; the turn was cut short. "
    "Its background work is still pending, and the task goes on when it settles."
)
NOT_JSON = "the tool's output is not JSON"
_SNAPSHOT_EVERY = 1024  # frames: bounds the tail a read folds, for a task that never rests
# frames: at rest, a snapshot is kept once the log has grown by this many since the last (a
# short answer's few frames are folded by a read rather than written twice)
_SNAPSHOT_AT_REST = 16


@dataclasses.dataclass
class _TurnRequest:
    message: Message | None  # None: a resume turn
    command_id: int | None = None  # the inbox command it carries out (none: a new task's)
    opened: bool = False  # its first write was made with the task (`opening`)
    fresh_context: bool = False  # it runs in a context made with its task: no memory before it


def opening(task: Task) -> tuple[Change, Task]:
    """A new task's first turn, opened as the task is created: `working`, the turn marked
    running (what `_open_turn` writes), to go with the task's creation in one write; and
    the Task after it."""
    working = TurnMapper(task.id, task.context_id).working()
    opened = apply(task.copy(), working)
    # no Task to keep: a read folds the two frames of a task just made
    return Change(frames=(working,), turn=True), opened


class TaskActor:
    def __init__(self, replica: Replica, lease: Lease, loaded: Loaded) -> None:
        self._replica = replica
        self._store = replica.store
        self._settings = replica.settings
        self.lease = lease
        self.task_id = lease.task_id
        self.context_id = loaded.task.context_id  # a task's never changes
        self._fold = LiveFold(loaded.task)  # the live Task (a turn's text joined when read)
        self.seq = loaded.seq
        self.principal = loaded.principal
        self._needs_recovery = loaded.turn_running
        self._lock = asyncio.Lock()
        self._queue: list[_TurnRequest] = []  # a list: a deque is 600 bytes even empty
        self._seen = 0  # the last inbox command taken
        self._open: set[int] = set()  # commands taken and not yet carried out
        self._turn: asyncio.Future[None] | None = None  # the running turn's task (or `_HostedTurn`)
        self._heir: asyncio.Task[None] | None = None  # the actor's life, if it left its task (`_host`)
        self._mapper: TurnMapper | None = None  # the running turn's
        self._snapshot_seq = loaded.seq
        self._lost = False
        self.letting_go = False  # a write letting the lease go is under way, or went
        self._released = False  # the lease is let go: this actor writes nothing more
        # what this actor knows without reading (set for a task it made: `start_new_task`)
        self._ticketless = False  # the task has no tickets: it deferred no tool yet
        self._fresh_context = False  # its context is new: the first turn has no history
        self._resting: list[asyncio.Future[Task | None]] = []  # told when a turn next ends
        self._bell: Bell | None = None  # a new task's doorbell, until it runs

    @property
    def task(self) -> Task:
        """The live Task, as written so far."""
        return self._fold.task

    @task.setter
    def task(self, task: Task) -> None:
        self._fold.task = task

    @property
    def state(self) -> TaskState:
        return self._fold.state

    @property
    def terminal(self) -> bool:
        return self._fold.state in TERMINAL_STATES

    def start_new_task(self, fresh_context: bool, bell: Bell, opened: bool = False) -> None:
        """The task was just created with its first message: its first turn comes first.
        `fresh_context`: its context was made with it (there is no history to read); `bell`:
        its doorbell, listening since before it was made (so there is no inbox to read
        first); `opened`: the turn's first write was made with the task (`opening`)."""
        self._queue.append(_TurnRequest(self.task.history[-1], opened=opened))
        self._ticketless = True
        self._fresh_context = fresh_context
        self._bell = bell

    def discard(self) -> None:
        """A new task's actor that will not run (its request failed before): its bell goes."""
        if self._bell is not None:
            self._bell.close()
            self._bell = None

    def first_rest(self) -> asyncio.Future[Task | None]:
        """The Task once the turn to run first ends (rests, or parks on its tickets), as
        written and committed; None if this actor stops before (the caller follows the
        log). Asked before the actor runs, for a task it made: the answer to a blocking send
        of a new task, without following the log and folding it again."""
        waiter: asyncio.Future[Task | None] = asyncio.get_running_loop().create_future()
        self._resting.append(waiter)
        return waiter

    def _tell_rest(self, task: Task | None) -> None:
        waiting, self._resting = self._resting, []
        for waiter in waiting:
            if not waiter.done():  # its caller may have gone
                waiter.set_result(None if task is None else task.copy())

    # -- the actor's life ---------------------------------------------------------------------

    async def run(self) -> None:
        # what this task's lines are about (the actor runs in a task of its own)
        logs.current.set(logs.LogContext(
            principal=self.principal or None, task_id=self.task_id, context_id=self.context_id
        ))
        bell, self._bell = self._bell, None
        if bell is None:
            await self._life(None, None)
        else:  # a new task's, listening since before it was made: its inbox is what rings
            await self._life(bell, bell.rang(), self._queue.pop(0) if self._queue else None)

    async def _life(self, bell: Bell | None, ring: asyncio.Future[None] | None,
                    first: _TurnRequest | None = None) -> None:
        """The actor's loop: commands taken as the doorbell rings, turns run one at a time,
        the lease let go when nothing is left. `first`: a new task's first turn, run in this
        task (`_host`); a command that comes meanwhile starts the loop in a task of its own,
        which this one hands the actor's life to once the turn ends."""
        try:
            if first is not None:
                assert bell is not None and ring is not None
                if not await self._host(first, bell, ring):
                    return  # the actor's life went on in the task a command started
            elif bell is None:
                # listening from here on: a command queued now rings it, so one read of the
                # inbox after this misses none (and is the only one needed)
                bell = await self._store.doorbell(self.task_id)
                ring = bell.rang()
                if self._needs_recovery:
                    await self._recover_cut_turn()
                await self._take_commands()
            assert ring is not None
            while not self._lost:
                if ring.done():
                    ring = bell.rang()
                    await self._take_commands()
                if self.terminal and self._turn is None:
                    await self._close()
                    return
                if self._turn is None and not await self._start_next():
                    if await self._let_go():
                        return
                    await self._take_commands()  # they came meanwhile
                    continue
                await first_done(ring, self._turn)
                if self._turn is not None and self._turn.done():
                    self._turn = None
        except LeaseLost:
            if self._lives_here():
                log.warning("task %s: lease lost; another replica writes it now", self.task_id)
        finally:
            if self._lives_here():
                self._replica.forget(self)  # first: a command queued from now on claims anew
                self._tell_rest(None)
                await self.stop()
                if bell is not None:
                    bell.close()

    def _lives_here(self) -> bool:
        """Whether the actor's life is this task's: the one it started in, unless a command
        during a hosted first turn started it again in another (`_host`)."""
        return self._heir is None or self._heir is asyncio.current_task()

    async def _host(self, request: _TurnRequest, bell: Bell, ring: asyncio.Future[None]) -> bool:
        """Run a new task's first turn in the actor's own task, not one of its own: most
        tasks are one turn long, and a second task per request cost 2.8 % of a `hello`. The
        turn is `self._turn` all the same (a `_HostedTurn`: a cancel cuts it, a stop waits for
        it); a command that rings meanwhile starts the actor's loop in a new task (its heir),
        which takes the command at once, as it would beside a turn of its own. Whether this
        task goes on as the actor once the turn has ended (no heir came)."""
        host = asyncio.current_task()
        assert host is not None
        hosted = self._turn = _HostedTurn(host)

        def command_came(_: object) -> None:
            if self._turn is hosted and not hosted.done() and not self._lost:
                with contextlib.suppress(RuntimeError):  # the app stops: nobody takes it
                    self._heir = self._replica.spawn(self._life(bell, ring), f"task-{self.task_id}")

        ring.add_done_callback(command_came)
        try:
            await self._run_turn(request)
        except asyncio.CancelledError:
            # the cut (a cancel, a lost lease) ends the turn, not this task; anything else
            # (the app stops) does
            if not hosted.cut or host.uncancel() > 0:
                raise
        except LeaseLost:
            if self._heir is None:
                raise
            # the heir learns it at its next write
        else:
            if hosted.cut:  # a runner that swallowed the cut: the request is spent all the same
                host.uncancel()
        finally:
            ring.remove_done_callback(command_came)
            if self._turn is hosted:
                self._turn = None
            hosted.set_result(None)
        return self._heir is None

    async def stop(self) -> None:
        """Stop writing: the lease is gone (or the app stops). The turn is cut, not ended."""
        self._lost = True
        turn, self._turn = self._turn, None
        if turn is not None and not turn.done():
            turn.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await turn

    async def _let_go(self, consumed: tuple[int, ...] = ()) -> bool:
        """Let the lease go, unless commands wait; whether it went. A renewal that finds
        it gone meanwhile is told that this is why (`letting_go`), not that it was lost."""
        return (await self._write([], consumed=consumed, release=True)).released

    async def _close(self) -> None:
        """After the end: what is still queued can never run; let the lease go (unless the
        write that ended the task did)."""
        if self._released:
            return
        self._queue.clear()
        while True:
            for queued in await self._store.inbox(self.task_id, self._seen):
                self._seen = queued.id
                self._open.add(queued.id)
            if await self._let_go(tuple(self._open)):
                return

    async def _take_commands(self) -> None:
        if self._released:  # the task ended and its lease went: what came after is not ours
            return
        for queued in await self._store.inbox(self.task_id, self._seen):
            self._seen = queued.id
            self._open.add(queued.id)
            command = queued.command
            if isinstance(command, MessageCommand):
                self._queue.append(_TurnRequest(command.message, queued.id))
            elif isinstance(command, SettleCommand):
                await self._settle(queued, command)
            elif isinstance(command, CancelCommand):
                await self._cancel(queued)

    # -- writes -------------------------------------------------------------------------------

    async def _write(
        self,
        frames: Sequence[Frame],
        tickets: Sequence[Ticket] = (),
        *,
        memory: MemoryAdd | None = None,
        consumed: Sequence[int] = (),
        turn: bool | None = None,
        release: bool = False,
    ) -> Appended:
        """Write frames and their side effects (the caller holds the lock, or needs none):
        fold them into the live Task first; give the store the Task when it rests, when a
        push notification goes out with it, and every so many frames, to keep as its
        snapshot every so many frames and at a rest after more than a few. Frames and
        nothing else (a turn's text and progress) are not waited for: the runner goes on
        while they commit, and clients get them once they have (see `Change.wait`)."""
        before = self.state
        if tickets:
            self._ticketless = False
        if frames:
            task = self._fold.task
            for frame in frames:
                task = apply(task, frame)
            self._fold.task = task
        notify = bool(frames) and worth_notifying(frames, before)
        rests = any(type(f) is StatusUpdate and f.status.state in FINAL_STATES for f in frames)  # type: ignore[union-attr]
        parked = any(ours(getattr(f, "metadata", None)).get("parked") for f in frames)
        due = self._snapshot_due(frames)
        given = rests or parked or notify or due
        keep = due or ((rests or parked) and self._snapshot_due(frames, _SNAPSHOT_AT_REST))
        if frames and self.terminal and not self._queue and not (self._open - set(consumed)):
            release = True  # the task's end, and nothing waits here: the lease goes with it
        change = Change(
            frames=tuple(frames), tickets=tuple(tickets), task=self.task if given else None,
            notify=notify, keep=keep, memory=memory, consumed=tuple(consumed), turn=turn,
            release=release,
            wait=bool(given or tickets or memory or consumed or turn is not None or release),
        )
        self.letting_go = release
        try:
            done = await self._store.append(self.lease, change)
        except Exception:  # TaskEnded (by an earlier writer whose lease this one followed) too
            self.letting_go = False
            await self._reload()  # the live fold is ahead of what was written
            raise
        self.letting_go = self._released = done.released
        self.seq = done.seq
        self._open.difference_update(consumed)
        if keep:
            self._snapshot_seq = done.seq
        if self._resting and any(ends_turn(f) for f in frames):
            self._tell_rest(self.task)
        if done.queued:  # deliveries to send (none: the task has no webhooks)
            self._replica.poke_push()
        if self.terminal and frames:
            self._replica.task_ended(self.task_id)
        return done

    def _snapshot_due(self, frames: Sequence[Frame], every: int = _SNAPSHOT_EVERY) -> bool:
        """Whether the store keeps the Task with these frames: every so many frames, so a
        read folds a bounded tail even of a task that never rests."""
        return self.seq + len(frames) - self._snapshot_seq >= every

    async def _reload(self) -> None:
        loaded = await self._store.load(self.task_id)
        if loaded is not None:
            self.task, self.seq = loaded.task, loaded.seq

    async def emit(self, make: Callable[[], list[Frame]]) -> None:
        """Make frames and write them, both under the lock (see `turn.Writes`). A turn's
        text that the store takes at once (`_chunks_now`, no wait) needs no lock when it is
        free: nothing else runs from making the frames to their write, as under the lock.
        Else the lock is taken (at once, when free: no other write came between)."""
        if self._lock.locked():
            async with self._lock:
                await self._write_made(make())
            return
        frames = make()
        if (len(frames) == 1 and type(frames[0]) is ArtifactUpdate
                and self.state not in TERMINAL_STATES and self._chunks_now(frames)):
            return  # most of a turn's text: one chunk
        async with self._lock:
            await self._write_made(frames)

    async def _write_made(self, frames: list[Frame]) -> None:
        if frames and self.state not in TERMINAL_STATES:
            # a turn's text: most often one chunk (no generator to look at one frame)
            if (type(frames[0]) is ArtifactUpdate if len(frames) == 1
                    else all(type(f) is ArtifactUpdate for f in frames)):
                if not self._chunks_now(frames):
                    await self._write_chunks(frames)
            else:
                await self._write(frames)

    def _chunks_now(self, frames: Sequence[Frame]) -> bool:
        """`_write_chunks` with no call of `append` at all, when the store takes the chunks
        at once (`TaskStore.append_now`) and no snapshot is due: most of a turn's text."""
        if self._snapshot_due(frames):
            return False
        seq = self._store.append_now(self.lease, tuple(frames))
        if seq is None:
            return False
        self._fold.add_chunks(frames)
        self.seq = seq
        return True

    async def _write_chunks(self, frames: Sequence[Frame]) -> None:
        """`_write` for the frames a turn writes most, artifact updates (its text) alone:
        they change no state, notify nobody, end nothing, so what `_write` works out for
        them is known; they are not waited for, but when a snapshot is due."""
        self._fold.add_chunks(frames)
        keep = self._snapshot_due(frames)
        change = Change(frames=tuple(frames), task=self.task, wait=True) if keep else Change(tuple(frames), wait=False)
        try:
            done = await self._store.append(self.lease, change)
        except Exception:  # TaskEnded among them: the live fold is ahead of what was written
            await self._reload()
            raise
        self.seq = done.seq
        if keep:
            self._snapshot_seq = done.seq

    # -- turns --------------------------------------------------------------------------------

    async def _start_next(self) -> bool:
        """Start the next turn, if there is one: a queued message, else a resume turn."""
        if self.terminal:
            return False
        request = self._queue.pop(0) if self._queue else await self._resume_request()
        if request is None:
            return False
        self._turn = asyncio.get_running_loop().create_task(
            self._run_turn(request), name=f"turn-{self.task_id}"
        )
        return True

    async def _resume_request(self) -> _TurnRequest | None:
        if self.state is not TaskState.WORKING and self.state is not TaskState.AUTH_REQUIRED:
            return None
        tickets = await self._tickets()
        if any(t.pending for t in tickets) or all(t.delivered for t in tickets):
            return None
        return _TurnRequest(None)

    async def _run_turn(self, request: _TurnRequest) -> None:
        mapper = self._mapper = TurnMapper(self.task_id, self.context_id)
        cut = bool(ours(self.task.metadata).get("turnCut"))
        started = time.perf_counter()
        try:
            if request.opened:
                delivered: list[Ticket] = []
            else:
                async with self._lock:
                    opened = await self._open_turn(request, mapper, cut)
                if opened is None:
                    return
                delivered = opened
            if self._fresh_context:
                history, self._fresh_context = [], False
                request.fresh_context = True
            else:
                history = await self._store.memory(self.principal, self.context_id)
            turn = Turn(
                self.task_id, self.context_id, request.message, tuple(history),
                tuple(t.settlement() for t in delivered),
                new_task=request.command_id is None and request.message is not None,
                usage=task_usage(self.task), cut=cut,
            )
            end = await run_turn(
                self._replica.runner, turn, mapper, self, self._settings.coalesce_ms, self._replica.share
            )
            await self._finish(request, mapper, end)
            self._replica.metrics.turn_seconds.observe(time.perf_counter() - started)
        except (asyncio.CancelledError, LeaseLost):
            raise
        except Exception:
            error_id = logs.failure(log, "turn of task %s failed", self.task_id)
            await self._end(mapper, TaskState.FAILED, f"{AGENT_FAILED} (error id {error_id})")
        finally:
            self._mapper = None

    async def _open_turn(
        self, request: _TurnRequest, mapper: TurnMapper, cut: bool
    ) -> list[Ticket] | None:
        """The turn's first write: its Task (a message on a task that goes on), `working`,
        the tickets it will hand the runner; None when there is nothing to run."""
        frames: list[Frame] = []
        delivered: list[Ticket] = []
        if request.message is not None and request.command_id is not None:
            snapshot = self.task.copy()
            message = replace(
                request.message, task_id=self.task_id, context_id=self.context_id
            )
            snapshot.history.append(message)
            request.message = message
            frames.append(snapshot)
        elif request.message is None:
            delivered = [t for t in await self._tickets() if not t.pending and not t.delivered]
            if not delivered:
                return None
        if self.state is not TaskState.WORKING or frames or cut:
            frames.append(replace(
                mapper.working(), metadata={META_KEY: {"turnCut": False}} if cut else None
            ))
        consumed = (request.command_id,) if request.command_id is not None else ()
        await self._write(
            frames, [replace(t, delivered=True) for t in delivered],
            consumed=consumed, turn=True,
        )
        return delivered

    async def _finish(self, request: _TurnRequest, mapper: TurnMapper, end: End) -> None:
        usage = end.usage
        if isinstance(end, InputRequired):
            memory = self._memory(request, end.prompt)
            async with self._lock:
                await self._write(
                    [*mapper.finish(), mapper.end(TaskState.INPUT_REQUIRED, end.prompt, usage=usage, data=end.data)],
                    memory=memory, turn=False,
                )
            return
        if isinstance(end, AuthRequired):
            # the stream stays open: the authorization comes out of band (a ticket of this
            # turn settles, and a resume turn goes on) or with the next message (its turn)
            memory = self._memory(request, end.prompt)
            frame = mapper.end(TaskState.AUTH_REQUIRED, end.prompt, usage=usage, data=end.data)
            mine = {**ours(frame.metadata), "parked": True}
            frame = replace(frame, final=False, metadata={META_KEY: mine})
            async with self._lock:
                await self._write([*mapper.finish(), frame], memory=memory, turn=False)
            return
        if isinstance(end, Failed | Rejected):
            said = end.error if isinstance(end, Failed) else end.reason
            state = TaskState.FAILED if isinstance(end, Failed) else TaskState.REJECTED
            await self._end(mapper, state, said, usage, self._memory(request, said))
            return
        assert isinstance(end, Completed)
        async with self._lock:
            head = mapper.finish(end.final_text)
            memory = self._memory(request, mapper.answer_text(end.final_text))
            tickets = await self._tickets()
            if any(t.pending for t in tickets):  # parked until they settle
                await self._write([*head, self._parked(mapper, usage)], memory=memory, turn=False)
            elif any(not t.delivered for t in tickets):  # settled meanwhile: a resume turn next
                await self._write([*head, *mapper.usage(usage)], memory=memory, turn=False)
            else:
                await self._write(
                    [*head, mapper.end(TaskState.COMPLETED, usage=usage)], memory=memory, turn=False
                )

    def _parked(self, mapper: TurnMapper, usage: dict[str, int] | None, **extra: Any) -> Frame:
        """The frame that ends a turn parked on pending tickets (the stream stays open)."""
        mine: dict[str, Any] = {"parked": True, **extra}
        if usage:
            mine["usage"] = usage
        frame = mapper.working()
        return replace(frame, metadata={META_KEY: mine})

    def _memory(self, request: _TurnRequest, said: str) -> MemoryAdd | None:
        answer = [agent_message([TextPart(said)], self.task_id, self.context_id)] if said else []
        entries = ([request.message] if request.message is not None else []) + answer
        if not entries:
            return None
        return MemoryAdd(
            self.principal, self.context_id, entries, self._settings.memory_messages,
            fresh=request.fresh_context,
        )

    async def _end(
        self,
        mapper: TurnMapper,
        state: TaskState,
        text: str,
        usage: dict[str, int] | None = None,
        memory: MemoryAdd | None = None,
        consumed: Sequence[int] = (),
    ) -> None:
        """End the task (failed, rejected, canceled): its open answer closed, its pending
        tickets failed with it."""
        async with self._lock:
            if self.terminal:
                return
            closing = await self._closing_tickets(f"the task {state.value}")
            try:
                head = mapper.finish()
            except Exception:  # a runner left the mapper in a state it cannot close
                log.exception("could not close the answer of task %s", self.task_id)
                head = []
            await self._write(
                [*head, mapper.end(state, text, closing, usage)], closing,
                memory=memory, consumed=consumed, turn=False,
            )
            for ticket in closing:
                self._replica.metrics.tickets_settled.labels(ticket.state).inc()

    async def _closing_tickets(self, why: str) -> list[Ticket]:
        return [t.settle("failed", error=why) for t in await self._tickets() if t.pending]

    async def _tickets(self) -> list[Ticket]:
        """The task's tickets (none to read while it deferred no tool)."""
        return [] if self._ticketless else await self._store.tickets(self.task_id)

    # -- tickets ------------------------------------------------------------------------------

    async def defer(self, event: ToolDeferred, mapper: TurnMapper) -> None:
        """A deferred tool: its ticket, announced (`turn.Writes`)."""
        if await self._store.ticket(event.ticket_id) is not None:
            log.warning("runner reused ticket id %s; tool call failed", event.ticket_id)
            refused = ToolCompleted(event.tool_name, event.tool_call_id, False, None, "duplicate ticket id")
            await self.emit(lambda: [*mapper.flush_before_event(), mapper.progress(refused)])
            return
        now = time.time()
        lifetime = event.deadline_seconds or self._settings.ticket_deadline_seconds
        ticket = Ticket(
            id=event.ticket_id, task_id=self.task_id, context_id=self.context_id,
            tool_name=event.tool_name, tool_call_id=event.tool_call_id,
            resume_hint=event.resume_hint, created_at=now, deadline=now + lifetime,
        )
        pending = sum(t.pending for t in await self._tickets())
        if pending >= self._settings.max_pending_tickets:
            limit = self._settings.max_pending_tickets
            ticket = ticket.settle("failed", error=f"too many pending background tools ({limit})")
        async with self._lock:
            await self._write([*mapper.flush_before_event(), *mapper.ticket_event(ticket)], [ticket])
        if event.work is not None and ticket.pending:
            self._replica.run_background(ticket, event.work)

    async def settle_from_runner(self, event: ToolBackgroundResolved | ToolBackgroundFailed) -> None:
        """A settlement the runner itself reports, during its turn (`turn.Writes`)."""
        if isinstance(event, ToolBackgroundResolved):
            await self._settle_ticket(event.ticket_id, "resolved", event.output, None)
        else:
            await self._settle_ticket(event.ticket_id, "failed", None, event.error)

    async def _settle(self, queued: Queued, command: SettleCommand) -> None:
        await self._settle_ticket(
            command.ticket_id, command.state, command.output, command.error, consumed=(queued.id,)
        )

    async def _settle_ticket(
        self, ticket_id: str, state: str, output: Any, error: str | None, consumed: Sequence[int] = ()
    ) -> None:
        """Settle a pending ticket of this task (a settled or foreign one is left alone, its
        command consumed all the same); the last one to settle brings a resume turn."""
        async with self._lock:
            ticket = await self._store.ticket(ticket_id)
            if ticket is None or ticket.task_id != self.task_id or not ticket.pending or self.terminal:
                if consumed:
                    await self._write([], consumed=consumed)
                return
            if not is_json(output):
                log.error("ticket %s: output is not JSON; failing it", ticket_id)
                state, output, error = "failed", None, NOT_JSON
            settled = ticket.settle(state, output=output, error=error)
            current = self.state if self.state in INTERRUPTED_STATES else TaskState.WORKING
            events = TurnMapper(self.task_id, self.context_id)
            await self._write(events.ticket_event(settled, current), [settled], consumed=consumed)
        self._replica.metrics.tickets_settled.labels(settled.state).inc()
        self._replica.ticket_settled(ticket_id)

    # -- cancel -------------------------------------------------------------------------------

    async def _cancel(self, queued: Queued) -> None:
        """Stop the task for good: its turn, the messages queued behind it, its tickets."""
        if self.terminal:
            await self._write([], consumed=(queued.id,))
            return
        turn, mapper = self._turn, self._mapper
        if turn is not None:
            async with self._lock:  # so the turn is never stopped half-way through a write
                turn.cancel()
            await asyncio.wait([turn])
            self._turn = None
        self._queue.clear()  # messages behind the turn: consumed unrun, their waiters see the end
        await self._end(
            mapper or TurnMapper(self.task_id, self.context_id), TaskState.CANCELED, CANCELED,
            consumed=tuple(self._open),
        )

    # -- recovery -----------------------------------------------------------------------------

    async def _recover_cut_turn(self) -> None:
        """The turn that was running when its replica died: see the module docstring."""
        if self.terminal:
            await self._write([], turn=False)
            return
        events = TurnMapper(self.task_id, self.context_id)
        closing = events.close_interrupted(await self._store.read(self.task_id))
        if any(t.pending for t in await self._store.tickets(self.task_id)):
            cut = replace(
                events.working(),
                status=Status(TaskState.WORKING, agent_message([TextPart(CUT)], self.task_id, self.context_id)),
                metadata={META_KEY: {"parked": True, "turnCut": True}},
            )
            async with self._lock:
                await self._write([*closing, cut], turn=False)
            log.warning("task %s: its turn was cut; parked on its pending tickets", self.task_id)
            return
        async with self._lock:
            await self._write([*closing, events.end(TaskState.FAILED, LOST)], turn=False)
        log.warning("task %s: its turn was lost with its replica; failed", self.task_id)


class _HostedTurn(asyncio.Future[None]):
    """A turn run in its actor's own task (`TaskActor._host`), as a turn's task looks to the
    actor: done once the turn has ended; cancelling it cuts the turn (the host's task is
    cancelled, and goes on once the turn has unwound)."""

    def __init__(self, host: asyncio.Task[Any]) -> None:
        super().__init__()
        self._host = host
        self.cut = False  # cancelled: the host's cancellation is this future's

    def cancel(self, msg: Any = None) -> bool:
        if self.done():
            return False
        if not self.cut:
            self.cut = True
            self._host.cancel(msg)
        return True


def is_json(value: Any) -> bool:
    try:
        dumps(value)
    except (TypeError, ValueError):
        return False
    return True
