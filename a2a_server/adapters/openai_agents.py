"""Serve an OpenAI Agents SDK agent (`agents.Agent`): one `Runner.run_streamed` per turn, its
stream events mapped onto ours. The only module that imports `agents`.

| SDK stream event | runner event |
|---|---|
| `agent_updated_stream_event` (also the first agent) | `AgentUpdated(new_agent.name)` |
| raw `response.created` (once per model call) | `StepStarted` |
| raw `response.output_text.delta`, `response.refusal.delta` | `TextDelta` |
| raw `response.reasoning_text.delta`, `response.reasoning_summary_text.delta` | `ReasoningDelta` |
| run item `tool_called` (call id, name, JSON arguments) | `ToolStarted` |
| run item `tool_output` | `ToolCompleted`: failed when the SDK reported the call's error |
| run item `tool_called` of a hosted tool (web search, file search, ...) | both, at once |
| `result.interruptions` after the stream (`needs_approval`) | `InputRequired`, data: the calls |
| an exception out of `stream_events()` | `Failed`, once |

- Tool failures: by default the SDK hands the model a fixed text and streams no flag. The
  run's `RunConfig.tool_error_formatter` is told of each failed call (a tool that raised, a
  denied approval, an unknown tool); it records the call id and leaves the text to the run
  config's own formatter, or to the SDK.
- Approvals: the run's `RunState` waits in memory for the task's next message, which
  approves or denies every pending call (`_turns.decision`); after a restart it is gone and
  the task fails saying so.
- Memory: the context's earlier turns come from `turn.history` as input items (durable).
- Cancel: `result.cancel()` stops the run's tasks, which closes the model's stream.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from a2a_server.adapters._detect import has_class
from a2a_server.adapters._errors import explain
from a2a_server.adapters._runs import Parked, jsonable
from a2a_server.adapters._turns import conversation, decision
from a2a_server.runner.base import Skill, Turn
from a2a_server.runner.events import (
    AgentUpdated,
    Completed,
    Failed,
    InputRequired,
    ReasoningDelta,
    RunnerEvent,
    StepStarted,
    TextDelta,
    ToolCompleted,
    ToolStarted,
)

if TYPE_CHECKING:
    from agents import Agent, RunConfig, RunResultStreaming, RunState
    from agents.run_config import ToolErrorFormatter, ToolErrorFormatterArgs

__all__ = ["OpenAIAgentsRunner", "matches", "wrap"]

FRAMEWORK = "OpenAI Agents SDK"
LOST = "The approval this task waited for was lost when the server restarted; start a new task."
_TEXT = frozenset({"response.output_text.delta", "response.refusal.delta"})
_REASONING = frozenset({"response.reasoning_text.delta", "response.reasoning_summary_text.delta"})
_HOSTED = frozenset({  # tools OpenAI runs itself: a call item, and no output item after it
    "web_search_call", "file_search_call", "code_interpreter_call", "image_generation_call",
    "mcp_call",
})
_RESULTS = ("output", "outputs", "results")  # where a hosted call keeps what it found
_FAILURES = {
    "tool_exception": "the tool failed",
    "approval_rejected": "the call was not approved",
    "tool_not_found": "there is no such tool",
}


def matches(obj: object) -> bool:
    return has_class(obj, ("agents.agent",), ("Agent",))


def wrap(obj: object) -> OpenAIAgentsRunner:
    return OpenAIAgentsRunner(obj)  # type: ignore[arg-type]


@dataclass
class _Approval:
    state: RunState[Any]
    asked: InputRequired


class OpenAIAgentsRunner:
    def __init__(self, agent: Agent[Any], *, run_config: RunConfig | None = None) -> None:
        import agents

        self._sdk = agents
        self.agent = agent
        self.run_config = run_config or agents.RunConfig()
        self.name = agent.name
        instructions = agent.instructions if isinstance(agent.instructions, str) else None
        self.description = instructions or f"An OpenAI Agents SDK agent ({agent.name})."
        self.skills: Sequence[Skill] = _skills(agent)
        self._approvals: Parked[_Approval] = Parked()

    def forget(self, task_id: str) -> None:
        """The task ended: drop a run that waited on its approval."""
        self._approvals.pop(task_id)

    async def run(self, turn: Turn) -> AsyncIterator[RunnerEvent]:
        waiting = self._approvals.pop(turn.task_id)
        if waiting is not None:
            approved = decision(turn)
            if approved is None:  # neither yes nor no: ask again
                self._approvals.put(turn.task_id, waiting)
                yield waiting.asked
                return
            for item in waiting.state.get_interruptions():
                (waiting.state.approve if approved else waiting.state.reject)(item)
            start: Any = waiting.state
        elif not turn.new_task and not turn.is_resume:  # only an approval leaves a task open
            yield Failed(LOST)
            return
        else:
            start = [{"role": role, "content": text} for role, text in conversation(turn)]
        failed: dict[str, str] = {}
        theirs = self.run_config.tool_error_formatter
        recorder = _recorder(failed, theirs)
        config = dataclasses.replace(self.run_config, tool_error_formatter=recorder)
        result = self._sdk.Runner.run_streamed(self.agent, start, run_config=config)
        async with aclosing(self._stream(result, failed)) as events:
            async for event in events:
                yield event
                if isinstance(event, Failed):
                    return
        if result.interruptions:
            asked = _asking(result)
            self._approvals.put(turn.task_id, _Approval(result.to_state(), asked))
            yield asked
            return
        yield Completed(_final_text(result), usage=_usage(result))

    async def _stream(
        self, result: RunResultStreaming, failed: dict[str, str]
    ) -> AsyncGenerator[RunnerEvent, None]:
        """The run's events as ours; ends with `Failed` if the run raised."""
        names: dict[str, str] = {}  # call id -> tool name (an output item names no tool)
        steps = 0
        events = cast("AsyncGenerator[Any, None]", result.stream_events())  # dispatched on .type
        try:
            async for ev in events:
                if ev.type == "agent_updated_stream_event":
                    yield AgentUpdated(ev.new_agent.name)
                elif ev.type == "raw_response_event":
                    kind = ev.data.type
                    if kind == "response.created":
                        steps += 1
                        yield StepStarted(steps)
                    elif kind in _TEXT and ev.data.delta:
                        yield TextDelta(ev.data.delta, steps)
                    elif kind in _REASONING and ev.data.delta:
                        yield ReasoningDelta(ev.data.delta)
                elif ev.name == "tool_called":
                    raw = ev.item.raw_item
                    kind = _field(raw, "type")
                    call_id, name = _call_id(raw), _field(raw, "name") or kind or "tool"
                    if kind in _HOSTED:  # ran within the model's response: over when it arrives
                        for event in _hosted(raw, name, call_id):
                            yield event
                        continue
                    names[call_id] = name
                    yield ToolStarted(name, call_id, _arguments(_field(raw, "arguments")))
                elif ev.name == "tool_output":
                    call_id = _call_id(ev.item.raw_item)
                    name = names.get(call_id, "tool")
                    if call_id in failed:
                        yield ToolCompleted(name, call_id, False, None, failed[call_id])
                    else:
                        yield ToolCompleted(name, call_id, True, jsonable(ev.item.output))
        except Exception as exc:
            yield Failed(explain(exc, FRAMEWORK), usage=_usage(result))
        finally:
            if not result.is_complete:
                result.cancel()  # stops the run loop's tasks: the model's stream closes
            await events.aclose()


def _hosted(raw: Any, name: str, call_id: str) -> tuple[ToolStarted, ToolCompleted]:
    """A hosted tool's call and its end, both from its one item: what it was asked (all but
    its bookkeeping and results) and what it found. An image it made is left out: too big."""
    dump = raw.model_dump(exclude_none=True) if hasattr(raw, "model_dump") else dict(raw)
    kept = {"id", "type", "status", "error", "result", *_RESULTS}
    asked = {k: v for k, v in dump.items() if k not in kept}
    found = next((dump[k] for k in _RESULTS if k in dump), None)
    status = dump.get("status")
    failed = dump.get("error") or (status in ("failed", "incomplete") and status)
    end = ToolCompleted(name, call_id, False, None, str(failed)) if failed else (
        ToolCompleted(name, call_id, True, jsonable(found)))
    return ToolStarted(name, call_id, jsonable(asked)), end


def _asking(result: RunResultStreaming) -> InputRequired:
    calls = [
        {"toolName": item.tool_name or item.name, "toolCallId": item.call_id,
         "arguments": _arguments(item.arguments)}
        for item in result.interruptions
    ]
    listed = ", ".join(f"{c['toolName']}({json.dumps(c['arguments'])})" for c in calls)
    prompt = f"Approve {listed}? Answer yes or no."
    return InputRequired(prompt, usage=_usage(result), data={"type": "approval", "calls": calls})


def _recorder(failed: dict[str, str], theirs: ToolErrorFormatter | None) -> ToolErrorFormatter:
    """A formatter that notes the failed call, then leaves the text to the run config's own
    formatter, if it has one, else to the SDK."""

    def record(args: ToolErrorFormatterArgs[Any]) -> Any:
        failed[args.call_id] = _FAILURES.get(args.kind, "the tool failed")
        return theirs(args) if theirs is not None else None

    return record


def _field(raw: Any, name: str) -> Any:
    return raw.get(name) if isinstance(raw, dict) else getattr(raw, name, None)


def _call_id(raw: Any) -> str:
    return str(_field(raw, "call_id") or _field(raw, "id") or "")


def _arguments(arguments: Any) -> Any:
    if isinstance(arguments, str):
        try:
            return json.loads(arguments or "{}")
        except ValueError:
            return arguments
    return jsonable(arguments) if arguments is not None else None


def _final_text(result: RunResultStreaming) -> str | None:
    """The answer when none was streamed as text (used by the server only then)."""
    output = result.final_output
    if output is None or isinstance(output, str):
        return output
    dump = getattr(output, "model_dump_json", None)
    return dump() if callable(dump) else json.dumps(jsonable(output))


def _usage(result: RunResultStreaming) -> dict[str, int] | None:
    usage = result.context_wrapper.usage
    if not usage.total_tokens:
        return None
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.total_tokens,
    }


def _skills(agent: Agent[Any]) -> tuple[Skill, ...]:
    chat = Skill("chat", agent.name, f"Talk to {agent.name}.", ("chat",))
    tools = tuple(
        Skill(t.name, t.name, getattr(t, "description", "") or t.name, ("tool",))
        for t in agent.tools
    )
    return (chat, *tools)
