"""The request handler: what each A2A method does, in plain async Python.

No HTTP and no JSON-RPC here: methods take validated params, return JSON-shaped results (or a
primed stream) and raise `A2AError`s. The handler keeps one `TaskRuntime` per task that can
still change; ended tasks live only in the store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from a2a_server.errors import (
    InvalidParams,
    TaskNotCancelable,
    TaskNotFound,
    UnsupportedOperation,
)
from a2a_server.liveness import instance
from a2a_server.protocol import objects
from a2a_server.protocol.objects import Frame
from a2a_server.protocol.v0_3 import MessageSendParams, TaskIdParams, TaskQueryParams
from a2a_server.push_guard import Resolver, parse_allow_hosts, system_resolver
from a2a_server.runner.base import Runner
from a2a_server.runtime import TaskRuntime, TurnHandle
from a2a_server.settings import Settings
from a2a_server.store.base import TaskStore
from a2a_server.streams import Subscription
from a2a_server.supervisor import Supervisor

__all__ = ["CallContext", "PrimedStream", "RequestHandler", "lenient_message"]


@dataclass(frozen=True, slots=True)
class CallContext:
    """What the HTTP edge tells a method about the call."""

    extensions: frozenset[str] = frozenset()
    last_event_id: str | None = None  # the SSE `Last-Event-ID` request header


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

    async def send_message(self, params: MessageSendParams, ctx: CallContext) -> dict[str, Any]:
        """message/send: the Task once it rests (blocking, the default), or at once."""
        runtime, handle = await self._start_turn(params)
        config = params.configuration
        if config is None or config.blocking is not False:
            await handle.done.wait()
            if handle.error is not None:
                raise handle.error
        task = await self.store.get_task(runtime.task_id)
        assert task is not None
        return _trim_history(task, config.history_length if config else None)

    async def stream_message(self, params: MessageSendParams, ctx: CallContext) -> PrimedStream:
        """message/stream: the turn's frames, from its Task to the final status-update."""
        runtime, handle = await self._start_turn(params)
        after = await handle.started
        if handle.error is not None:
            raise handle.error
        return await PrimedStream.prime(self._frames(runtime.subscribe(after)))

    async def _start_turn(self, params: MessageSendParams) -> tuple[TaskRuntime, TurnHandle]:
        from a2a_server.push_api import checked  # the push methods build on this module

        config = params.configuration
        push = None
        if config is not None and config.push_notification_config is not None:
            push = await checked(self, config.push_notification_config)  # before any write
        message = params.message.wire()
        task_id = message.get("taskId")
        if task_id is None:
            return await self._new_task(message, push)
        runtime = await self.runtime_for(task_id)
        if runtime is None:
            raise UnsupportedOperation(
                f"Task {task_id} is in a terminal state; send a new message without taskId."
            )
        context_id = message.get("contextId")
        if context_id is not None and context_id != runtime.context_id:
            raise InvalidParams("message.contextId does not match the contextId of the task")
        message["contextId"] = runtime.context_id
        if push is not None:
            await self.store.put_push_config(runtime.task_id, push)
        return runtime, runtime.submit(message)

    async def _new_task(
        self, message: dict[str, Any], push: dict[str, Any] | None
    ) -> tuple[TaskRuntime, TurnHandle]:
        task_id = objects.new_id()
        context_id = message.get("contextId") or objects.new_id()
        message["taskId"] = task_id
        message["contextId"] = context_id
        seq = await self.store.create(objects.task(task_id, context_id, "submitted", [message]))
        if push is not None:
            await self.store.put_push_config(task_id, push)
        runtime = self._track(task_id, context_id, "submitted", seq)
        return runtime, runtime.submit(message, new_task=True)

    # -- tasks/* --------------------------------------------------------------------------------

    async def get_task(self, params: TaskQueryParams, ctx: CallContext) -> dict[str, Any]:
        task = await self.store.get_task(params.id)
        if task is None:
            raise TaskNotFound()
        return _trim_history(task, params.history_length)

    async def cancel_task(self, params: TaskIdParams, ctx: CallContext) -> dict[str, Any]:
        runtime = await self.runtime_for(params.id)
        if runtime is None:
            raise TaskNotCancelable(f"Task {params.id} has already ended.")
        await runtime.cancel()
        canceled = await self.store.get_task(params.id)
        assert canceled is not None
        return canceled

    async def resubscribe(self, params: TaskIdParams, ctx: CallContext) -> PrimedStream:
        """tasks/resubscribe: the current Task, then live frames until the final one.

        With `Last-Event-ID`: exactly the frames after that one instead, then live frames,
        whether the task still runs or has ended (design §5).
        """
        if ctx.last_event_id is not None:
            after = _sequence_number(ctx.last_event_id)
            runtime = await self.runtime_for(params.id)
            snap = await self.store.snapshot(params.id)
            if snap is not None and after > snap[1]:
                raise InvalidParams(f"Last-Event-ID {after} is past the task's last frame")
            sub = Subscription(self.store, params.id, after, runtime)
            return PrimedStream(None, self._frames(sub))
        snap = await self.store.snapshot(params.id)
        if snap is None:
            raise TaskNotFound()
        task, seq = snap
        state = task["status"]["state"]
        if state in objects.TERMINAL_STATES:
            raise UnsupportedOperation(f"Task {params.id} has already ended.")
        if state in objects.INTERRUPTED_STATES:
            return PrimedStream((seq, task), _nothing())  # nothing comes until the client speaks
        runtime = self._runtimes.get(params.id) or self._load(task, seq)
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
        if task["status"]["state"] in objects.TERMINAL_STATES:
            return None
        return self._runtimes.get(task_id) or self._load(task, seq)

    def _load(self, task: dict[str, Any], seq: int) -> TaskRuntime:
        return self._track(task["id"], task["contextId"], task["status"]["state"], seq)

    def _track(self, task_id: str, context_id: str, state: str, seq: int) -> TaskRuntime:
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


def _trim_history(task: dict[str, Any], length: int | None) -> dict[str, Any]:
    """Keep the `length` most recent history messages (None: all)."""
    if length is not None and "history" in task:
        task["history"] = task["history"][-length:] if length else []
    return task


def lenient_message(params: dict[str, Any]) -> dict[str, Any]:
    """For `--lenient-messages`: a message without role or messageId is a user's, with a new id."""
    message = params.get("message")
    if isinstance(message, dict):
        message = dict(message)
        if message.get("role") is None:
            message["role"] = "user"
        if message.get("messageId") is None:
            message["messageId"] = objects.new_id()
        return {**params, "message": message}
    return params

