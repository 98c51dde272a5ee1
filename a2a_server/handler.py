"""The request handler: what each A2A method does, in plain async Python.

No HTTP, no JSON-RPC and no wire format here: methods take the version-neutral requests of
`calls.py`, return model values (or a primed stream of frames) and raise `A2AError`s; the
codecs in `protocol/` do the rest. The handler keeps one `TaskRuntime` per task that can still
change; ended tasks live only in the store.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from a2a_server import calls
from a2a_server.errors import (
    InvalidParams,
    TaskNotCancelable,
    TaskNotFound,
    UnsupportedOperation,
)
from a2a_server.liveness import instance
from a2a_server.mapping import new_task
from a2a_server.model import (
    TERMINAL_STATES,
    Frame,
    Message,
    PushConfig,
    Role,
    Task,
    TaskState,
    new_id,
)
from a2a_server.push_guard import Resolver, parse_allow_hosts, system_resolver
from a2a_server.runner.base import Runner, Turn
from a2a_server.runtime import TaskRuntime, TurnHandle
from a2a_server.settings import Settings
from a2a_server.store.base import TaskStore
from a2a_server.store.paging import BadPageToken
from a2a_server.streams import Subscription
from a2a_server.supervisor import Supervisor

__all__ = ["CallContext", "PrimedStream", "RequestHandler"]


@dataclass(frozen=True, slots=True)
class CallContext:
    """What the HTTP edge tells a method about the call."""

    extensions: frozenset[str] = frozenset()
    last_event_id: str | None = None  # the SSE `Last-Event-ID` request header
    version: str | None = None  # the `A2A-Version` the client declared (header or query)


class PrimedStream:
    """A stream whose first frame is already known, so errors before it stay plain errors."""

    def __init__(
        self, first: tuple[int, Frame] | None, rest: AsyncIterator[tuple[int, Frame] | None]
    ) -> None:
        self.first = first  # None: nothing to send yet, and no error can come before it
        self.rest = rest

    @classmethod
    async def prime(cls, frames: AsyncIterator[tuple[int, Frame] | None]) -> PrimedStream:
        async for item in frames:
            if item is not None:
                return cls(item, frames)
        raise UnsupportedOperation("The task has no frames to stream.")

    async def aclose(self) -> None:
        close = getattr(self.rest, "aclose", None)
        if close is not None:
            await close()


async def _nothing() -> AsyncIterator[tuple[int, Frame] | None]:
    return
    yield


class RequestHandler:
    def __init__(
        self,
        settings: Settings,
        runner: Runner,
        store: TaskStore,
        supervisor: Supervisor,
        on_notify: Callable[[], None] = lambda: None,
    ) -> None:
        self.settings = settings
        self.runner = runner
        self.store = store
        self.push_allow_hosts = parse_allow_hosts(settings.push_allow_hosts)
        self.resolve: Resolver = system_resolver  # webhook host lookups for the SSRF guard
        self._supervisor = supervisor
        self._on_notify = on_notify  # push notifications were queued
        self._runtimes: dict[str, TaskRuntime] = {}
        self.owner = instance()  # recorded with the turns this app runs

    # -- message/send, message/stream --------------------------------------------------------

    async def send_message(self, req: calls.SendMessage, ctx: CallContext) -> Task | Message:
        """message/send: the Task once it rests (blocking, the default), or at once; or the
        runner's direct reply, a Message."""
        started = await self._start_turn(req)
        if isinstance(started, Message):
            return started
        runtime, handle = started
        if req.blocking:
            await handle.done.wait()
            if handle.error is not None:
                raise handle.error
        task = await self.store.get_task(runtime.task_id)
        assert task is not None
        return _trim_history(task, req.history_length)

    async def stream_message(self, req: calls.SendMessage, ctx: CallContext) -> PrimedStream:
        """message/stream: the turn's frames, from its Task to the final status-update (or
        the runner's direct reply, alone)."""
        started = await self._start_turn(req)
        if isinstance(started, Message):
            return PrimedStream((0, started), _nothing())
        runtime, handle = started
        after = await handle.started
        if handle.error is not None:
            raise handle.error
        return await PrimedStream.prime(self._frames(runtime.subscribe(after)))

    async def _start_turn(self, req: calls.SendMessage) -> tuple[TaskRuntime, TurnHandle] | Message:
        from a2a_server.push_api import checked  # the push methods build on this module

        push = None if req.push_config is None else await checked(self, req.push_config)
        message = req.message
        if message.task_id is None:
            return await self._new_task(message, push)
        runtime = await self.runtime_for(message.task_id)
        if runtime is None:
            raise UnsupportedOperation(
                f"Task {message.task_id} is in a terminal state; send a new message without taskId."
            )
        if message.context_id is not None and message.context_id != runtime.context_id:
            raise InvalidParams("message.contextId does not match the contextId of the task")
        message = dataclasses.replace(message, context_id=runtime.context_id)
        if push is not None:
            await self.store.put_push_config(runtime.task_id, push)
        return runtime, runtime.submit(message)

    async def _new_task(
        self, message: Message, push: PushConfig | None
    ) -> tuple[TaskRuntime, TurnHandle] | Message:
        task_id = new_id()
        context_id = message.context_id or new_id()
        reply = await self._direct_reply(task_id, context_id, message)
        if reply is not None:
            return reply
        message = dataclasses.replace(message, task_id=task_id, context_id=context_id)
        seq = await self.store.create(new_task(task_id, context_id, message))
        if push is not None:
            await self.store.put_push_config(task_id, push)
        runtime = self._track(task_id, context_id, TaskState.SUBMITTED, seq)
        return runtime, runtime.submit(message, new_task=True)

    async def _direct_reply(self, task_id: str, context_id: str, message: Message) -> Message | None:
        """The runner's answer to a message without a task, if it gives one (`reply`)."""
        reply = getattr(self.runner, "reply", None)
        if reply is None:
            return None
        message = dataclasses.replace(message, context_id=context_id)
        history = tuple(await self.store.get_memory(context_id))
        parts = await reply(Turn(task_id, context_id, message, history))
        if parts is None:
            return None
        answer = Message(Role.AGENT, tuple(parts), new_id(), context_id=context_id)
        await self.store.add_memory(context_id, [message, answer], self.settings.memory_messages)
        return answer

    # -- tasks/* --------------------------------------------------------------------------------

    async def get_task(self, req: calls.GetTask, ctx: CallContext) -> Task:
        task = await self.store.get_task(req.id)
        if task is None:
            raise TaskNotFound()
        return _trim_history(task, req.history_length)

    async def list_tasks(self, req: calls.ListTasks, ctx: CallContext) -> calls.TaskPage:
        """ListTasks (1.0): a page of tasks, newest status first, read by the store's index."""
        try:
            page = await self.store.list_tasks(req)
        except BadPageToken as exc:
            raise InvalidParams(f"Invalid params: {exc}", field="pageToken") from None
        for task in page.tasks:
            _trim_history(task, req.history_length)
            if not req.include_artifacts:
                task.artifacts = []
        return page

    async def cancel_task(self, req: calls.TaskRef, ctx: CallContext) -> Task:
        runtime = await self.runtime_for(req.id)
        if runtime is None:
            raise TaskNotCancelable(f"Task {req.id} has already ended.")
        await runtime.cancel()
        canceled = await self.store.get_task(req.id)
        assert canceled is not None
        return canceled

    async def resubscribe(self, req: calls.TaskRef, ctx: CallContext) -> PrimedStream:
        """tasks/resubscribe, SubscribeToTask: the current Task, then live frames until the
        next final one.

        With `Last-Event-ID`: exactly the frames after that one instead, then live frames,
        whether the task still runs or has ended (design §5).
        """
        if ctx.last_event_id is not None:
            after = _sequence_number(ctx.last_event_id)
            runtime = await self.runtime_for(req.id)
            snap = await self.store.snapshot(req.id)
            if snap is not None and after > snap[1]:
                raise InvalidParams(f"Last-Event-ID {after} is past the task's last frame")
            sub = Subscription(self.store, req.id, after, runtime)
            return PrimedStream(None, self._frames(sub))
        snap = await self.store.snapshot(req.id)
        if snap is None:
            raise TaskNotFound()
        task, seq = snap
        state = task.status.state
        if state in TERMINAL_STATES:
            raise UnsupportedOperation(f"Task {req.id} has already ended.")
        # a task waiting on its client (input-required) is followed too: through the turn
        # its next message starts, to that turn's final frame (1.0: "for tasks not in a
        # terminal state")
        runtime = self._runtimes.get(req.id) or self._load(task, seq)
        return PrimedStream((seq, task), self._frames(runtime.subscribe(seq)))

    def _frames(self, sub: Subscription) -> AsyncIterator[tuple[int, Frame] | None]:
        return sub.frames(self.settings.keepalive_seconds)

    # -- runtimes --------------------------------------------------------------------------------

    async def runtime_for(self, task_id: str) -> TaskRuntime | None:
        """The runtime of a task (loaded from the store if need be); None once it has ended.

        Raises TaskNotFound for an unknown (or purged) task.
        """
        runtime = self._runtimes.get(task_id)
        if runtime is not None:
            return runtime
        snap = await self.store.snapshot(task_id)
        if snap is None:
            raise TaskNotFound()
        task, seq = snap
        if task.status.state in TERMINAL_STATES:
            return None
        return self._runtimes.get(task_id) or self._load(task, seq)

    def _load(self, task: Task, seq: int) -> TaskRuntime:
        return self._track(task.id, task.context_id, task.status.state, seq)

    def _track(self, task_id: str, context_id: str, state: TaskState, seq: int) -> TaskRuntime:
        runtime = TaskRuntime(
            task_id=task_id,
            context_id=context_id,
            state=state,
            last_seq=seq,
            store=self.store,
            runner=self.runner,
            supervisor=self._supervisor,
            settings=self.settings,
            on_end=self._forget,
            on_notify=self._on_notify,
            owner=self.owner,
        )
        self._runtimes[task_id] = runtime
        return runtime

    def _forget(self, runtime: TaskRuntime) -> None:
        if self._runtimes.get(runtime.task_id) is runtime:
            del self._runtimes[runtime.task_id]


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
