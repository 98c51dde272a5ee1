"""Serve a Pydantic AI agent (`pydantic_ai.Agent`): one `run_stream_events` per turn, its
events mapped onto ours. The only module that imports `pydantic_ai`.

| Pydantic AI event | runner event |
|---|---|
| the first event of each model response | `StepStarted` (Pydantic AI has no step event) |
| `PartStartEvent` with a `TextPart` (it holds the first chunk), `TextPartDelta` | `TextDelta` |
| `PartStartEvent` with a `ThinkingPart`, `ThinkingPartDelta` | `ReasoningDelta` |
| `FunctionToolCallEvent` (name, call id, args) | `ToolStarted` |
| `FunctionToolResultEvent` (`outcome` success, or failed/denied/retried) | `ToolCompleted` |
| a native tool's call part (at its end) and return part (web search, ...) | the same |
| output `DeferredToolRequests.calls` (a tool raised `CallDeferred`) | `ToolDeferred`, each |
| output `DeferredToolRequests.approvals` (`requires_approval`) | `InputRequired` |
| `AgentRunResultEvent` with any other output | `Completed` |
| an exception out of the run | `Failed`, once |

Every run allows `DeferredToolRequests` as output, so deferral and approval work whatever
the agent's own `output_type`. The run's messages wait in memory for the task's next turn:
the settled tickets (`DeferredToolResults.calls`) or the user's answer to the approvals
(`.approvals`, via `_turns.decision`) resume it. Without them (a restart, or a message on a
task parked on tickets) the turn is a fresh run from the conversation, told what settled
tickets came back with; an approval's answer then reaches the model as a message, and it
asks again.

A tool that raises `ToolFailed` or `ModelRetry` is a failed call and the run goes on; any other
exception in a tool aborts a Pydantic AI run by design, so the task fails.
Memory: the context's earlier turns from `turn.history`, as the run's message history.
Cancel: leaving the run's context manager cancels it and closes the model's stream.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from a2a_server.adapters._detect import has_class
from a2a_server.adapters._errors import explain, tool_error
from a2a_server.adapters._runs import Parked, jsonable
from a2a_server.adapters._turns import conversation, decision, prompt
from a2a_server.runner.base import Skill, Turn
from a2a_server.runner.events import (
    Completed,
    Failed,
    InputRequired,
    ReasoningDelta,
    RunnerEvent,
    StepStarted,
    TextDelta,
    ToolCompleted,
    ToolDeferred,
    ToolStarted,
)

if TYPE_CHECKING:
    from pydantic_ai.agent import AbstractAgent
    from pydantic_ai.messages import ModelMessage
    from pydantic_ai.tools import DeferredToolRequests, DeferredToolResults

__all__ = ["PydanticAIRunner", "matches", "wrap"]

FRAMEWORK = "Pydantic AI"


def matches(obj: object) -> bool:
    return has_class(obj, ("pydantic_ai",), ("AbstractAgent",))


def wrap(obj: object) -> PydanticAIRunner:
    return PydanticAIRunner(obj)  # type: ignore[arg-type]


@dataclass
class _Paused:
    messages: list[ModelMessage]
    tickets: dict[str, str] = field(default_factory=dict)  # ticket id -> tool call id
    approvals: list[str] = field(default_factory=list)  # call ids waiting on the user
    asked: InputRequired | None = None


class PydanticAIRunner:
    def __init__(self, agent: AbstractAgent[Any, Any]) -> None:
        import pydantic_ai.messages
        import pydantic_ai.tools

        self._messages = pydantic_ai.messages
        self._tools = pydantic_ai.tools
        self.agent = agent
        self.name = agent.name or "Pydantic AI agent"
        self.description = f"A Pydantic AI agent ({self.name})."
        self.skills: Sequence[Skill] = _skills(agent, self.name)
        self._paused: Parked[_Paused] = Parked()

    def forget(self, task_id: str) -> None:
        """The task ended: drop its paused run."""
        self._paused.pop(task_id)

    async def run(self, turn: Turn) -> AsyncIterator[RunnerEvent]:
        paused = self._paused.pop(turn.task_id)
        results: DeferredToolResults | None = None
        user_prompt: str | None = None
        if paused is not None and turn.is_resume:
            results = self._tools.DeferredToolResults(calls=self._settled(turn, paused))
        elif paused is not None and paused.approvals and paused.asked is not None:
            approved = decision(turn)
            if approved is None:  # neither yes nor no: ask again
                self._paused.put(turn.task_id, paused)
                yield paused.asked
                return
            results = self._tools.DeferredToolResults(
                approvals=dict.fromkeys(paused.approvals, approved)
            )
        else:  # a new run: a new task, a message on a task parked on tickets, or after a restart
            paused, user_prompt = None, prompt(turn)
        history = paused.messages if paused is not None else self._history(turn)
        async for event in self._run(turn, user_prompt, history, results):
            yield event

    async def _run(
        self,
        turn: Turn,
        user_prompt: str | None,
        history: list[ModelMessage],
        results: DeferredToolResults | None,
    ) -> AsyncIterator[RunnerEvent]:
        steps = 0
        new_step = True  # the next model event starts a step
        output: Any = [self.agent.output_type, self._tools.DeferredToolRequests]
        try:
            async with self.agent.run_stream_events(
                user_prompt, message_history=history, deferred_tool_results=results,
                output_type=output,
            ) as events:
                async for ev in cast("AsyncIterator[Any]", events):  # dispatched on event_kind
                    kind = ev.event_kind
                    if kind in ("part_start", "part_delta") and new_step:
                        new_step = False
                        steps += 1
                        yield StepStarted(steps)
                    if kind == "part_start":
                        part, text = ev.part, getattr(ev.part, "content", None)
                        if part.part_kind == "text" and text:
                            yield TextDelta(text, steps)
                        elif part.part_kind == "thinking" and text:
                            yield ReasoningDelta(text)
                        elif part.part_kind == "builtin-tool-return":
                            yield _completed(part)
                    elif kind == "part_end" and ev.part.part_kind == "builtin-tool-call":
                        part = ev.part  # a tool the provider runs; its arguments are whole now
                        yield ToolStarted(part.tool_name, part.tool_call_id, _arguments(part.args))
                    elif kind == "part_delta":
                        delta = ev.delta
                        if delta.part_delta_kind == "text" and delta.content_delta:
                            yield TextDelta(delta.content_delta, steps)
                        elif delta.part_delta_kind == "thinking" and delta.content_delta:
                            yield ReasoningDelta(delta.content_delta)
                    elif kind == "function_tool_call":
                        part = ev.part
                        yield ToolStarted(part.tool_name, part.tool_call_id, _arguments(part.args))
                    elif kind == "function_tool_result":
                        new_step = True
                        yield _completed(ev.part)
                    elif kind == "agent_run_result":
                        async for end in self._end(turn, ev.result):
                            yield end
                        return
        except Exception as exc:
            yield Failed(explain(exc, FRAMEWORK))
            return
        yield Completed()

    async def _end(self, turn: Turn, result: Any) -> AsyncIterator[RunnerEvent]:
        usage = _usage(result)
        output = result.output
        if not isinstance(output, self._tools.DeferredToolRequests):
            final = output if isinstance(output, str) else json.dumps(jsonable(output))
            yield Completed(final, usage=usage)
            return
        paused = _Paused(result.all_messages())
        for call in output.calls:
            ticket = f"{call.tool_name}-{uuid.uuid4().hex[:12]}"
            paused.tickets[ticket] = call.tool_call_id
            yield ToolDeferred(call.tool_name, call.tool_call_id, ticket, _hint(output, call))
        if output.approvals:
            paused.approvals = [call.tool_call_id for call in output.approvals]
            paused.asked = _asking(output, usage)
        self._paused.put(turn.task_id, paused)
        yield paused.asked if paused.asked is not None else Completed(usage=usage)

    def _settled(self, turn: Turn, paused: _Paused) -> dict[str, Any]:
        """The deferred calls' results: a settled ticket's output, or a failure the model sees."""
        calls: dict[str, Any] = {}
        for s in turn.settled:
            call = paused.tickets.get(s.ticket_id, s.tool_call_id)
            if s.state == "resolved":
                calls[call] = s.output
            else:
                calls[call] = self._messages.ToolReturnPart(
                    s.tool_name, f"{s.state}: {s.error}", call, outcome="failed"
                )
        return calls

    def _history(self, turn: Turn) -> list[ModelMessage]:
        m = self._messages
        out: list[ModelMessage] = []
        for role, text in conversation(turn)[:-1]:
            if role == "user":
                out.append(m.ModelRequest(parts=[m.UserPromptPart(text)]))
            else:
                out.append(m.ModelResponse(parts=[m.TextPart(text)]))
        return out


def _completed(part: Any) -> ToolCompleted:
    if part.outcome == "success":
        return ToolCompleted(part.tool_name, part.tool_call_id, True, jsonable(part.content))
    error = part.content if isinstance(part.content, str) else json.dumps(jsonable(part.content))
    return ToolCompleted(part.tool_name, part.tool_call_id, False, None,
                         tool_error(f"{part.outcome}: {error}"))


def _arguments(args: Any) -> Any:
    if isinstance(args, str):
        try:
            return json.loads(args or "{}")
        except ValueError:
            return args
    return jsonable(args)


def _hint(output: DeferredToolRequests, call: Any) -> str | None:
    meta = output.metadata.get(call.tool_call_id)
    return None if meta is None else json.dumps(jsonable(meta))


def _asking(output: DeferredToolRequests, usage: dict[str, int] | None) -> InputRequired:
    calls = [
        {"toolName": c.tool_name, "toolCallId": c.tool_call_id, "arguments": _arguments(c.args)}
        for c in output.approvals
    ]
    listed = ", ".join(f"{c['toolName']}({json.dumps(c['arguments'])})" for c in calls)
    return InputRequired(
        f"Approve {listed}? Answer yes or no.", usage=usage,
        data={"type": "approval", "calls": calls},
    )


def _skills(agent: AbstractAgent[Any, Any], name: str) -> tuple[Skill, ...]:
    """A chat skill, and one per function tool (the tools of its function toolsets)."""
    tools = [t for ts in agent.toolsets for t in (getattr(ts, "tools", None) or {}).values()]
    chat = Skill("chat", name, f"Talk to {name}.", ("chat",))
    return (chat, *(Skill(t.name, t.name, t.description or t.name, ("tool",)) for t in tools))


def _usage(result: Any) -> dict[str, int] | None:
    usage = result.usage
    total = usage.input_tokens + usage.output_tokens
    if not total:
        return None
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": total,
    }

