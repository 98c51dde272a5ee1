"""Serve a 10xGraph / AgentFlow compiled graph (`StateGraph(...).compile()`): one
`astream(input, config={"thread_id": contextId}, response_granularity=FULL)` per turn, its
`StreamChunk`s mapped onto ours. 10xGraph (`tenxgraph`, with `agentflow` kept as an alias)
and 10xscale-agentflow (`agentflow`) stream the same chunks; the framework's modules are
imported from whichever package the graph comes from.

| chunk | runner event |
|---|---|
| updates `node_invoked` (each node sends it twice; `__start__`/`__end__` skipped) | `StepStarted` |
| assistant message, `delta=True`: its text; its reasoning blocks | `TextDelta`; `ReasoningDelta` |
| assistant message, `delta=False`, when its step streamed nothing | the same, whole |
| updates `invoking_tool` (tool name, call id, args) | `ToolStarted` |
| tool message with a `ToolResultBlock` | `ToolCompleted` (failed if `is_error`) |
| error `tool_failed` (the run goes on) | `ToolCompleted`, failed |
| updates `interrupted` (`interrupt()` in a node or tool) | `InputRequired`, data: the interrupt |
| any other error, then `NodeError` out of `astream` | `Failed`, once |
| the stream's end | `Completed` |

- Memory and interrupts live in the graph's thread (`thread_id` = the context id), kept by
  the checkpointer the graph was compiled with; without one a graph remembers nothing. A
  message on a task that an interrupt left `input-required` resumes the thread with
  `{"resume": answer}`: the message's DataPart if it has one, else its text. A durable
  checkpointer keeps the interrupt across a restart, so nothing is held here.
- Cancel: `astop(config)` (the graph's stop flag), then closing the stream, which closes the
  model's.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from contextlib import aclosing
from typing import Any

from a2a_server.adapters._detect import has_class
from a2a_server.adapters._errors import explain, tool_error
from a2a_server.adapters._runs import jsonable, quietly
from a2a_server.adapters._turns import prompt
from a2a_server.model import DataPart
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
    ToolStarted,
)

__all__ = ["AgentFlowRunner", "matches", "wrap"]

FRAMEWORK = "10xGraph"
_EDGES = frozenset({"__start__", "__end__"})


def matches(obj: object) -> bool:
    return has_class(obj, ("tenxgraph", "agentflow"), ("CompiledGraph",))


def wrap(obj: object) -> AgentFlowRunner:
    return AgentFlowRunner(obj)


class AgentFlowRunner:
    def __init__(self, graph: Any, *, name: str = "10xGraph agent") -> None:
        package = type(graph).__module__.split(".")[0]  # tenxgraph, or agentflow
        self._full = importlib.import_module(f"{package}.utils").ResponseGranularity.FULL
        self._message = importlib.import_module(f"{package}.core.state").Message
        self.graph = graph
        self.name = name
        self.description = f"A {FRAMEWORK} graph."
        self.skills: Sequence[Skill] = (Skill("chat", name, f"Talk to {name}.", ("chat",)),)

    async def run(self, turn: Turn) -> AsyncIterator[RunnerEvent]:
        config = {"thread_id": turn.context_id}
        if not turn.new_task and not turn.is_resume:  # only an interrupt leaves a task open
            start: dict[str, Any] = {"resume": _answer(turn)}
        else:
            start = {"messages": [self._message.text_message(prompt(turn))]}
        ended = False
        stream = self.graph.astream(start, config=config, response_granularity=self._full)
        try:
            async with aclosing(_Mapper().events(stream)) as events:
                async for event in events:
                    yield event
            ended = True
        finally:
            if not ended:  # canceled: the graph's own stop, then the stream (and the model's)
                await quietly("stop the 10xGraph run", self.graph.astop(config))
                await quietly("close the 10xGraph stream", stream.aclose())


class _Mapper:
    """The chunks of one run as runner events; holds what deduplication needs."""

    def __init__(self) -> None:
        self.steps: set[tuple[Any, Any]] = set()  # (node, step) already seen
        self.step = 0
        self.streamed = False  # the current step streamed text
        self.done: set[str] = set()  # call ids already reported completed
        self.asked: InputRequired | None = None  # an interrupt: the run's end asks it

    async def events(self, stream: Any) -> AsyncGenerator[RunnerEvent, None]:
        try:
            async for chunk in stream:
                kind = str(getattr(chunk.event, "value", chunk.event))
                data = chunk.data or {}
                if kind == "updates":
                    for event in self._update(data):
                        yield event
                elif kind == "message" and chunk.message is not None:
                    for event in self._message(chunk.message, data):
                        yield event
                elif kind == "error" and data.get("status") == "tool_failed":
                    call_id = str(data.get("tool_call_id") or "")
                    if call_id not in self.done:
                        self.done.add(call_id)
                        error = tool_error(data.get("error") or data.get("reason"))
                        yield ToolCompleted(str(data.get("tool_name")), call_id, False, None, error)
        except Exception as exc:  # the error chunk came first; the exception says it best
            yield Failed(explain(exc, FRAMEWORK))
            return
        yield self.asked or Completed()

    def _update(self, data: dict[str, Any]) -> list[RunnerEvent]:
        status, node = data.get("status"), data.get("node")
        if status == "node_invoked" and node not in _EDGES and "tool_name" not in data:
            key = (node, data.get("step"))
            if key in self.steps:
                return []
            self.steps.add(key)
            self.step += 1
            self.streamed = False
            return [StepStarted(self.step)]
        if status == "invoking_tool":
            name, call_id = str(data.get("tool_name")), str(data.get("tool_call_id") or "")
            return [ToolStarted(name, call_id, jsonable(data.get("args")))]
        if status == "interrupted":
            found = jsonable(data.get("interrupt"))
            interrupt = found if isinstance(found, dict) else {"value": found}
            asked = interrupt.get("message") or "The agent is waiting for your answer."
            self.asked = InputRequired(str(asked), data={"type": "interrupt", **interrupt})
        return []

    def _message(self, message: Any, data: dict[str, Any]) -> list[RunnerEvent]:
        if message.role == "tool":
            return [self._tool_result(block, data) for block in message.content
                    if type(block).__name__ == "ToolResultBlock" and self._first(block.call_id)]
        if message.role != "assistant" or not (message.delta or not self.streamed):
            return []  # a step's final message repeats what its deltas streamed
        out: list[RunnerEvent] = [
            ReasoningDelta(block.summary) for block in message.content
            if type(block).__name__ == "ReasoningBlock" and block.summary
        ]
        text = message.text()
        if text:
            out.append(TextDelta(text, self.step))
        self.streamed = self.streamed or (bool(message.delta) and bool(out))
        return out

    def _first(self, call_id: Any) -> bool:
        key = str(call_id or "")
        if key in self.done:
            return False
        self.done.add(key)
        return True

    @staticmethod
    def _tool_result(block: Any, data: dict[str, Any]) -> ToolCompleted:
        name, call_id = str(data.get("tool_name") or "tool"), str(block.call_id or "")
        if block.is_error:
            return ToolCompleted(name, call_id, False, None, tool_error(block.output))
        return ToolCompleted(name, call_id, True, jsonable(block.output))


def _answer(turn: Turn) -> Any:
    """What resumes an interrupt: the message's data, else its text."""
    for part in turn.parts:
        if isinstance(part, DataPart):
            return part.data
    return turn.text
