"""The request handler: what each A2A method does, in plain async Python.

No HTTP, no JSON-RPC and no wire format here: methods take the version-neutral requests of
`calls.py`, return model values (or a primed stream of frames) and raise `A2AError`s; the
codecs in `protocol/` do the rest. A method that changes a task queues a command for it
(`replica.Replica.submit`: the task's actor, on this replica or another, carries it out) and
follows the effect in the task's log (`follow.py`); so every replica serves every task.

Tasks belong to the principal that created them: to anyone else a task is unknown
(TaskNotFound), so its existence never leaks.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from a2a_server import calls, follow, logs
from a2a_server.actor import TaskActor
from a2a_server.errors import (
    InvalidParams,
    TaskNotCancelable,
    TaskNotFound,
    TooManyPendingTasks,
    UnsupportedOperation,
)
from a2a_server.mapping import fold, new_task
from a2a_server.model import (
    TERMINAL_STATES,
    Frame,
    Message,
    PushConfig,
    Role,
    StatusUpdate,
    Task,
    TaskState,
    new_id,
)
from a2a_server.push_guard import Resolver, parse_allow_hosts, system_resolver
from a2a_server.replica import Replica
from a2a_server.runner.base import Turn
from a2a_server.settings import Settings
from a2a_server.store.base import CancelCommand, Loaded, MemoryAdd, MessageCommand, TaskStore
from a2a_server.store.paging import BadPageToken
from a2a_server.values import replace

if TYPE_CHECKING:
    from agent_card import AgentCard

__all__ = ["CallContext", "PrimedStream", "RequestHandler"]


def _always() -> bool:
    return True


@dataclass(frozen=True, slots=True)
class CallContext:
    """What the HTTP edge tells a method about the call."""

    extensions: frozenset[str] = frozenset()
    last_event_id: str | None = None  # the SSE `Last-Event-ID` request header
    version: str | None = None  # the `A2A-Version` the client declared (header or query)
    principal: str = ""  # who is calling ("": anonymous, when no auth is configured)
    # claims one of the caller's stream slots (`limits.StreamClaim.take`); False: none left
    take_stream_slot: Callable[[], bool] = _always


class PrimedStream:
    """A stream whose first frame is already known, so errors before it stay plain errors;
    then `head`, the frames committed with it, and the rest in batches (each written at
    once), None when the stream is idle."""

    __slots__ = ("first", "head", "rest")

    def __init__(
        self, first: tuple[int, Frame] | None, rest: AsyncIterator[follow.Batch | None],
        head: Sequence[tuple[int, Frame]] = (),
    ) -> None:
        self.first = first  # None: nothing to send yet, and no error can come before it
        self.head = head
        self.rest = rest

    @classmethod
    async def prime(cls, batches: AsyncIterator[follow.Batch | None]) -> PrimedStream:
        async for batch in batches:
            if batch:
                return cls(batch[0], batches, batch[1:])
        raise UnsupportedOperation("The task has no frames to stream.")

    async def aclose(self) -> None:
        close = getattr(self.rest, "aclose", None)
        if close is not None:
            await close()


class _Started(NamedTuple):
    """A message's turn, queued: its task, the log's last sequence number before its frames,
    and, when the message made the task, the Task as it was made and its actor, for the
    caller to run (`Replica.run`)."""

    task_id: str
    after: int
    created: Task | None = None
    actor: TaskActor | None = None

    def run(self, replica: Replica) -> None:
        if self.actor is not None:
            replica.run(self.actor)


async def _nothing() -> AsyncIterator[follow.Batch | None]:
    return
    yield


class RequestHandler:
    def __init__(self, settings: Settings, replica: Replica) -> None:
        self.settings = settings
        self.replica = replica
        self.runner = replica.runner
        self.store: TaskStore = replica.store
        self.push_allow_hosts = parse_allow_hosts(settings.push_allow_hosts)
        self.ticket_principals = frozenset(
            p.strip() for p in (settings.ticket_principals or "").split(",") if p.strip()
        )
        self.resolve: Resolver = system_resolver  # webhook host lookups for the SSRF guard
        self.extended_card: AgentCard | None = None  # `--extended-card`, merged (app.py)

    async def task_of(self, task_id: str, ctx: CallContext) -> Loaded:
        """The caller's task as the store has it; TaskNotFound if unknown or another's."""
        loaded = await self.store.load(task_id)
        if loaded is None or loaded.principal != ctx.principal:
            raise TaskNotFound()  # "Task not found", exactly: some clients match the text
        logs.note(task_id, loaded.task.context_id)
        return loaded

    # -- message/send, message/stream --------------------------------------------------------

    async def send_message(self, req: calls.SendMessage, ctx: CallContext) -> Task | Message:
        """message/send: the Task once its turn rests (blocking, the default), or at once; or
        the runner's direct reply, a Message."""
        started = await self._start_turn(req, ctx)
        if isinstance(started, Message):
            return started
        task_id, after, created, actor = started
        # a blocking send of a new task is answered by its actor (its Task, once the turn's
        # end is committed), asked before it runs
        rested = actor.first_rest() if req.blocking and actor is not None else None
        started.run(self.replica)
        if not req.blocking and created is not None:
            return _trim_history(created, req.history_length)  # as it was made, submitted
        if rested is not None:
            with self._aside():
                task = await rested
            if task is not None:
                return _trim_history(task, req.history_length)
        if req.blocking:  # follow the log: a task that went on, or an actor that stopped first
            seen: list[Frame] = []  # a new task's: its log from the start, the Task included
            turn = follow.turn_batches(self.store, task_id, req.message.message_id, after)
            with self._aside():
                async with contextlib.aclosing(turn):
                    async for batch in turn:
                        if batch is None:
                            continue
                        if created is not None:
                            seen += (frame for _, frame in batch)
                        if any(follow.ends_turn(frame) for _, frame in batch):
                            break
            if created is not None:  # folded from what it followed: the store's fold, unread
                return _trim_history(fold(None, seen), req.history_length)
        loaded = await self.task_of(task_id, ctx)
        return _trim_history(loaded.task, req.history_length)

    def _aside(self) -> contextlib.AbstractContextManager[None]:
        """A blocking send's wait for its turn: not served meanwhile (`TurnShare.aside`)."""
        share = self.replica.share
        return _UNSHARED if share is None else share.aside()

    async def stream_message(self, req: calls.SendMessage, ctx: CallContext) -> PrimedStream:
        """message/stream: the turn's frames, from its Task to the final status-update (or
        the runner's direct reply, alone)."""
        started = await self._start_turn(req, ctx)
        if isinstance(started, Message):
            return PrimedStream((0, started), _nothing())
        batches = follow.turn_batches(
            self.store, started.task_id, req.message.message_id, started.after,
            self.settings.keepalive_seconds,
        )
        try:
            # a new task's first frames were written with it: they go out before its actor
            # runs the turn, which may not wait between the rest (and so hold the loop)
            return await PrimedStream.prime(batches)
        finally:
            started.run(self.replica)

    async def _start_turn(self, req: calls.SendMessage, ctx: CallContext) -> _Started | Message:
        """Queue the message's turn; where its frames start; or the runner's direct reply."""
        from a2a_server.push_api import checked  # the push methods build on this module

        push = None if req.push_config is None else await checked(self, req.push_config)
        message = req.message
        if message.task_id is None:
            return await self._new_task(message, push, ctx)
        loaded = await self.task_of(message.task_id, ctx)
        if loaded.task.status.state in TERMINAL_STATES:
            raise UnsupportedOperation(
                f"Task {message.task_id} is in a terminal state; send a new message without taskId."
            )
        context_id = loaded.task.context_id
        if message.context_id is not None and message.context_id != context_id:
            raise InvalidParams("message.contextId does not match the contextId of the task")
        task_id = message.task_id
        if push is not None:
            await self.store.put_push_config(task_id, push)
        message = replace(message, context_id=context_id)
        await self.replica.submit(task_id, MessageCommand(message))
        return _Started(task_id, loaded.seq)

    async def _new_task(
        self, message: Message, push: PushConfig | None, ctx: CallContext
    ) -> _Started | Message:
        task_id = new_id()
        fresh_context = not message.context_id  # made here: it has no history yet
        context_id = message.context_id or new_id()
        logs.note(task_id, context_id)
        reply = await self._direct_reply(task_id, context_id, message, ctx)
        if reply is not None:
            return reply
        limit = self.settings.limit("max_pending_tasks")
        if limit and await self.store.open_tasks(ctx.principal) >= limit:
            raise TooManyPendingTasks(
                f"This caller has {limit:g} tasks not yet ended, the most it may have; wait for "
                "some to end, or cancel some."
            )
        message = replace(message, task_id=task_id, context_id=context_id)
        created = new_task(task_id, context_id, message)
        actor = await self.replica.create(
            created, ctx.principal,
            fresh_context=fresh_context, open_turn=push is None,
        )
        if push is not None:
            try:
                await self.store.put_push_config(task_id, push)
            except BaseException:
                actor.discard()  # never run: its lease runs out, and a janitor takes it over
                raise
        return _Started(task_id, 0, created, actor)

    async def _direct_reply(
        self, task_id: str, context_id: str, message: Message, ctx: CallContext
    ) -> Message | None:
        """The runner's answer to a message without a task, if it gives one (`reply`)."""
        reply = getattr(self.runner, "reply", None)
        if reply is None:
            return None
        message = replace(message, context_id=context_id)
        history = tuple(await self.store.memory(ctx.principal, context_id))
        parts = await reply(Turn(task_id, context_id, message, history))
        if parts is None:
            return None
        answer = Message(Role.AGENT, tuple(parts), new_id(), context_id=context_id)
        limit = self.settings.memory_messages
        await self.store.remember(MemoryAdd(ctx.principal, context_id, [message, answer], limit))
        return answer

    # -- tasks/* --------------------------------------------------------------------------------

    async def get_task(self, req: calls.GetTask, ctx: CallContext) -> Task:
        loaded = await self.task_of(req.id, ctx)
        return _trim_history(loaded.task, req.history_length)

    async def list_tasks(self, req: calls.ListTasks, ctx: CallContext) -> calls.TaskPage:
        """ListTasks (1.0): a page of the caller's tasks, newest status first, read by the
        store's index."""
        try:
            page = await self.store.list_tasks(req, ctx.principal)
        except BadPageToken as exc:
            raise InvalidParams(f"Invalid params: {exc}", field="pageToken") from None
        for task in page.tasks:
            _trim_history(task, req.history_length)
            if not req.include_artifacts:
                task.artifacts = []
        return page

    async def cancel_task(self, req: calls.TaskRef, ctx: CallContext) -> Task:
        loaded = await self.task_of(req.id, ctx)
        if loaded.task.status.state in TERMINAL_STATES:
            raise TaskNotCancelable(f"Task {req.id} has already ended.")
        await self.replica.submit(req.id, CancelCommand())
        end = await follow.until(self.store, req.id, loaded.seq, _is_terminal)
        if end is None or end.status.state is not TaskState.CANCELED:  # type: ignore[union-attr]
            raise TaskNotCancelable(f"Task {req.id} ended before it could be canceled.")
        return (await self.task_of(req.id, ctx)).task

    async def resubscribe(self, req: calls.TaskRef, ctx: CallContext) -> PrimedStream:
        """tasks/resubscribe, SubscribeToTask: the current Task, then live frames until the
        next final one. A task waiting on its client (input-required) is followed too:
        through the turn its next message starts (1.0: "for tasks not in a terminal state").

        With `Last-Event-ID`: exactly the frames after that one instead, then live frames,
        whether the task still runs or has ended (design §5).
        """
        loaded = await self.task_of(req.id, ctx)
        keepalive = self.settings.keepalive_seconds
        if ctx.last_event_id is not None:
            after = _sequence_number(ctx.last_event_id)
            if after > loaded.seq:
                raise InvalidParams(f"Last-Event-ID {after} is past the task's last frame")
            if loaded.task.status.state in TERMINAL_STATES:
                return PrimedStream(None, _replay(self.store, req.id, after))
            return PrimedStream(None, follow.batches(self.store, req.id, after, keepalive))
        if loaded.task.status.state in TERMINAL_STATES:
            raise UnsupportedOperation(f"Task {req.id} has already ended.")
        return PrimedStream(
            (loaded.seq, loaded.task), follow.batches(self.store, req.id, loaded.seq, keepalive)
        )


_REPLAY_BATCH = 64  # frames of a replay written at once
_UNSHARED = contextlib.nullcontext()  # `_aside` with no TurnShare (reusable)


async def _replay(store: TaskStore, task_id: str, after: int) -> AsyncIterator[follow.Batch | None]:
    logged = await store.read(task_id, after)
    for start in range(0, len(logged), _REPLAY_BATCH):
        yield logged[start : start + _REPLAY_BATCH]


def _is_terminal(frame: Frame) -> bool:
    return type(frame) is StatusUpdate and frame.status.state in TERMINAL_STATES


def _sequence_number(header: str) -> int:
    text = header.strip()
    if not text.isdigit():
        raise InvalidParams("Last-Event-ID must be the sequence number of a frame")
    return int(text)


def _trim_history(task: Task, length: int | None) -> Task:
    """Keep the `length` most recent history messages (None: all; 0: none)."""
    if length is not None:
        task.history = task.history[-length:] if length else []
    return task

