"""Serve an Agentor agent (`agentor.Agentor`). Nothing else here knows Agentor; this module
reads its objects by their documented fields and needs no import of it.

Agentor's public `stream_chat` drops both the text deltas and the tool call ids (it yields
whole messages and tool names), so a turn runs on its engine instead, the agent loop every
`Agentor` holds (`agent._loop`, an `agentor.AgentLoop`): `astream(messages,
stream_text=True)` yields `agentor.engine.events.Event`s with all of it. Only an Agentor
without that engine (before 0.1.0) is run through `stream_chat(serialize=False)`.

| engine event | runner event |
|---|---|
| a new `turn` number | `StepStarted` |
| `text_delta` | `TextDelta` |
| `generation` with `reasoning` | `ReasoningDelta` |
| `message`, when its turn streamed no text | `TextDelta` (the whole message) |
| `tool_call` (name, args, call id) | `ToolStarted` |
| `tool_result` (`error` set when the tool raised) | `ToolCompleted` |
| `run_end`, status completed | `Completed` (usage) |
| `run_end`, status max_turns or failed (the exception follows) | `Failed`, once |

Agentor has no approval, deferral or background concept. Memory: the context's earlier
turns from `turn.history`, as the run's message list. Cancel: closing the engine's stream,
which closes the model's.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing
from typing import Any

from a2a_server.adapters._detect import has_class
from a2a_server.adapters._errors import describe, explain, tool_error
from a2a_server.adapters._runs import jsonable
from a2a_server.adapters._turns import conversation, prompt
from a2a_server.runner.base import Skill, Turn
from a2a_server.runner.events import (
    Completed,
    Failed,
    ReasoningDelta,
    RunnerEvent,
    StepStarted,
    TextDelta,
    ToolCompleted,
    ToolStarted,
)

__all__ = ["AgentorRunner", "matches", "wrap"]

FRAMEWORK = "Agentor"


def matches(obj: object) -> bool:
    return has_class(obj, ("agentor",), ("Agentor",))


def wrap(obj: object) -> AgentorRunner:
    return AgentorRunner(obj)


class AgentorRunner:
    def __init__(self, agent: Any) -> None:
        self.agent = agent
        self.name = str(agent.name)
        instructions = getattr(agent, "instructions", None)
        self.description = instructions if isinstance(instructions, str) and instructions else (
            f"An Agentor agent ({self.name})."
        )
        self.skills: Sequence[Skill] = _skills(agent)

    async def run(self, turn: Turn) -> AsyncIterator[RunnerEvent]:
        engine = getattr(self.agent, "_loop", None)
        if engine is not None and hasattr(engine, "astream"):
            messages = [{"role": role, "content": text} for role, text in conversation(turn)]
            events = self._engine(engine.astream(messages, stream_text=True))
        else:
            events = self._chat(self.agent.stream_chat(prompt(turn), serialize=False))
        async with aclosing(events) as mapped:
            async for event in mapped:
                yield event

    async def _engine(self, stream: Any) -> AsyncGenerator[RunnerEvent, None]:
        turn, streamed = 0, False  # the engine's turn; whether it streamed text
        failure: str | None = None
        try:
            async with aclosing(stream) as events:
                async for ev in events:
                    if ev.turn and ev.turn != turn:
                        turn, streamed = ev.turn, False
                        yield StepStarted(turn)
                    kind = ev.type
                    if kind == "text_delta" and ev.text:
                        streamed = True
                        yield TextDelta(ev.text, turn)
                    elif kind == "generation" and ev.reasoning:
                        yield ReasoningDelta(ev.reasoning)
                    elif kind == "message" and ev.text and not streamed:
                        yield TextDelta(ev.text, turn)
                    elif kind == "tool_call":
                        yield ToolStarted(str(ev.name), str(ev.call_id or ""), jsonable(ev.args))
                    elif kind == "tool_result":
                        yield _tool_result(ev)
                    elif kind == "run_end" and ev.status == "completed":
                        yield Completed(usage=_usage(ev.usage))
                        return
                    elif kind in ("run_end", "error"):
                        failure = str(ev.error or f"the run ended {ev.status}")
        except Exception as exc:  # after run_end(failed) the engine raises the cause
            yield Failed(explain(exc, FRAMEWORK))
            return
        yield Failed(describe(failure or "the run ended without a result", FRAMEWORK))

    async def _chat(self, stream: Any) -> AsyncGenerator[RunnerEvent, None]:
        """`stream_chat`'s `AgentOutput`s, for an Agentor without its engine: text chunks,
        tools by name only (call ids made up, paired in order), the final message."""
        calls: dict[str, list[str]] = {}
        count, streamed = 0, False
        try:
            async with aclosing(stream) as outputs:
                async for out in outputs:
                    action = out.tool_action
                    if out.chunk:
                        streamed = True
                        yield TextDelta(out.chunk)
                    elif action is not None and action.type == "tool_called":
                        count += 1
                        call_id = f"{action.name}-{count}"
                        calls.setdefault(action.name, []).append(call_id)
                        yield ToolStarted(action.name, call_id)
                    elif action is not None and action.type == "tool_output":
                        pending = calls.get(action.name) or [f"{action.name}-{count}"]
                        yield ToolCompleted(action.name, pending.pop(0), True, out.message)
                    elif out.reasoning:
                        yield ReasoningDelta(str(out.reasoning))
                    elif out.message and not streamed:
                        yield TextDelta(out.message)
        except Exception as exc:
            yield Failed(explain(exc, FRAMEWORK))
            return
        yield Completed()


def _tool_result(ev: Any) -> ToolCompleted:
    name, call_id = str(ev.name), str(ev.call_id or "")
    if ev.error is not None:
        return ToolCompleted(name, call_id, False, None, tool_error(ev.error))
    return ToolCompleted(name, call_id, True, jsonable(ev.result))


def _usage(usage: Any) -> dict[str, int] | None:
    total = getattr(usage, "total_tokens", 0) or 0
    if not total:
        return None
    return {
        "prompt_tokens": int(usage.input_tokens),
        "completion_tokens": int(usage.output_tokens),
        "total_tokens": int(total),
    }


def _skills(agent: Any) -> tuple[Skill, ...]:
    chat = Skill("chat", str(agent.name), f"Talk to {agent.name}.", ("chat",))
    tools = tuple(
        Skill(str(t.name), str(t.name), str(getattr(t, "description", "") or t.name), ("tool",))
        for t in getattr(agent, "tools", None) or () if getattr(t, "name", None)
    )
    return (chat, *tools)
