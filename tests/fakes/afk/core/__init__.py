"""`afk.core`: the `Runner` and its config.

One run is the agent loop: a step per model call (the model streams text deltas and asks for
tools), the tools run, their results go back, until the model answers without tools. A tool
may defer its work: it returns `ToolResult(deferred=ToolDeferredHandle(...))` with the work's
awaitable in `metadata["background_future"]`; while the run goes on, each step first polls
those and reports the finished ones (`tool_background_resolved`/`_failed`). The run ends
when the model answers without tools, whatever is still pending (its poller stops).

Memory is per `thread_id` and outlives the Runner: AFK's default memory store is a SQLite
file that every Runner of the process opens; this fake keeps it in a module dict.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import uuid
from dataclasses import dataclass
from typing import Any

from afk.agents import Agent, AgentResult, Usage
from afk.core.streaming import AgentStreamEvent, AgentStreamHandle
from afk.llms import LLM, LLMRequest, Message, StreamCompletedEvent, StreamTextDeltaEvent
from afk.tools import ToolResult

__all__ = ["Runner", "RunnerConfig"]

_THREADS: dict[str, list[Message]] = {}


@dataclass(frozen=True)
class RunnerConfig:
    interaction_mode: str = "headless"
    background_tools_enabled: bool = True
    background_tool_poll_interval_s: float = 0.5
    background_tool_default_grace_s: float = 0.0


@dataclass
class _Pending:
    future: asyncio.Future[Any]
    tool_name: str
    tool_call_id: str


class Runner:
    def __init__(self, config: RunnerConfig | None = None) -> None:
        self.config = config or RunnerConfig()
        self._used = False

    async def run_stream(
        self,
        agent: Agent,
        *,
        user_message: str | None = None,
        context: dict[str, Any] | None = None,
        thread_id: str | None = None,
    ) -> AgentStreamHandle:
        if self._used:  # what the real one does on reuse
            raise RuntimeError("MemoryStore is not initialized")
        self._used = True
        handle = AgentStreamHandle()
        thread = thread_id or str(uuid.uuid4())
        handle._task = asyncio.create_task(self._run(agent, user_message or "", thread, handle))
        return handle

    async def _run(self, agent: Agent, user_message: str, thread: str, handle: AgentStreamHandle) -> None:
        run_id = str(uuid.uuid4())
        emit = handle.emit
        memory = _THREADS.setdefault(thread, [])
        said = [Message("user", user_message)]
        pending: dict[str, _Pending] = {}
        try:
            if not isinstance(agent.model, LLM):
                raise TypeError(f"no provider for model {agent.model!r}")
            head = [Message("system", agent.instructions)] if agent.instructions else []
            tools = {t.name: t for t in agent.tools}
            step = 0
            while True:
                step += 1
                if step > agent.fail_safe.max_steps:
                    raise RuntimeError(f"Exceeded max_steps={agent.fail_safe.max_steps} for run {run_id}")
                await self._poll(pending, said, emit, step)
                await emit(AgentStreamEvent("step_started", step=step, state="running"))
                request = LLMRequest([*head, *memory, *said], [{"name": n} for n in tools])
                response = None
                async for ev in agent.model._chat_stream_core(request):
                    if isinstance(ev, StreamTextDeltaEvent) and ev.delta:
                        await emit(AgentStreamEvent("text_delta", text_delta=ev.delta, step=step))
                    elif isinstance(ev, StreamCompletedEvent):
                        response = ev.response
                if response is None:
                    raise RuntimeError("the model stream ended without a response")
                if response.text:
                    said.append(Message("assistant", response.text))
                if not response.tool_calls:
                    memory.extend(said)
                    await emit(AgentStreamEvent("completed", result=AgentResult(
                        "completed", response.text, run_id, thread, Usage())))
                    return
                for call in response.tool_calls:
                    await emit(AgentStreamEvent("tool_started", tool_name=call.tool_name,
                                                tool_call_id=call.id, step=step))
                for call in response.tool_calls:
                    result = await _call(tools.get(call.tool_name), call.arguments)
                    data = {"tool_name": call.tool_name, "tool_call_id": call.id}
                    if result.deferred is not None and self.config.background_tools_enabled:
                        ticket = result.deferred.ticket_id
                        pending[ticket] = _Pending(asyncio.ensure_future(
                            result.metadata["background_future"]), call.tool_name, call.id)
                        await emit(AgentStreamEvent(
                            "tool_deferred", tool_name=call.tool_name, tool_call_id=call.id,
                            tool_ticket_id=ticket, step=step,
                            data={**data, "ticket_id": ticket, "resume_hint": result.deferred.resume_hint}))
                        payload: dict[str, Any] = {"deferred": True, "ticket_id": ticket}
                        if self.config.background_tool_default_grace_s > 0:
                            await asyncio.sleep(self.config.background_tool_default_grace_s)
                            await self._poll(pending, said, emit, step)
                    else:
                        await emit(AgentStreamEvent(
                            "tool_completed", tool_name=call.tool_name, tool_call_id=call.id,
                            tool_success=result.success, tool_output=result.output,
                            tool_error=result.error_message, step=step,
                            data={**data, "success": result.success, "output": result.output,
                                  "error": result.error_message}))
                        payload = {"success": result.success, "output": result.output,
                                   "error": result.error_message}
                    said.append(Message("tool", json.dumps(payload, default=str), call.tool_name))
        except asyncio.CancelledError:
            pass  # the run is cancelled: no completed event, the stream just ends
        except Exception as exc:
            await emit(AgentStreamEvent("error", error="run_failed"))
            await emit(AgentStreamEvent("error", error=str(exc)))
        finally:
            for left in pending.values():
                left.future.cancel()
            await handle.close()

    async def _poll(self, pending: dict[str, _Pending], said: list[Message], emit: Any, step: int) -> None:
        for ticket, row in list(pending.items()):
            if not row.future.done():
                continue
            del pending[ticket]
            base = {"tool_name": row.tool_name, "tool_call_id": row.tool_call_id, "ticket_id": ticket}
            error = None if row.future.cancelled() else row.future.exception()
            if row.future.cancelled() or error is not None:
                message = "cancelled" if error is None else str(error)
                await emit(AgentStreamEvent("tool_background_failed", tool_name=row.tool_name,
                                            tool_call_id=row.tool_call_id, tool_ticket_id=ticket,
                                            tool_success=False, tool_error=message, step=step,
                                            data={**base, "success": False, "error": message}))
                said.append(Message("tool", json.dumps({"ticket_id": ticket, "error": message}), row.tool_name))
            else:
                output = row.future.result()
                await emit(AgentStreamEvent("tool_background_resolved", tool_name=row.tool_name,
                                            tool_call_id=row.tool_call_id, tool_ticket_id=ticket,
                                            tool_success=True, tool_output=output, step=step,
                                            data={**base, "success": True, "output": output}))
                said.append(Message("tool", json.dumps({"ticket_id": ticket, "output": output}, default=str), row.tool_name))


async def _call(tool: Any, arguments: dict[str, Any]) -> ToolResult:
    if tool is None:
        return ToolResult(success=False, error_message="unknown tool")
    try:
        value = tool.fn(tool.args_model(**arguments))
        if inspect.isawaitable(value):
            value = await value
    except Exception as exc:
        return ToolResult(success=False, error_message=str(exc))
    return value if isinstance(value, ToolResult) else ToolResult(output=value)
