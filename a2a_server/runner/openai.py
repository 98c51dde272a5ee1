"""A runner for any OpenAI-compatible chat-completions server (OpenAI, vLLM, llama.cpp,
Ollama, ...), built on the `openai` package. The only module that imports it.

One turn is an agent loop: stream a completion (content deltas become `text_delta`,
tool-call deltas are assembled), run the tool calls it asks for concurrently, feed their
results back, and go on until the model answers without tools, up to `max_steps`.

- Deferred tools return `Deferred`: the model is told the work is pending with the ticket id
  and the task parks; the resume turn puts the real result in place of the pending note and
  lets the model go on from there.
- `ask_user` is built in: the model asks, the turn ends `input-required`, and the user's next
  message on the task carries the answer.
- The context's earlier turns come in `turn.history` (the store's conversation memory).
- Token usage is reported with `Completed(usage=...)`; past `max_tokens_per_task` the task
  fails, saying so. Cancelling the turn closes the HTTP stream to the model at once.
- `openai`/`httpx` errors are translated here into readable failures; the client retries
  429 and 5xx answers with backoff, at most `max_retries` times.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import openai

from a2a_server.jsoncodec import dumps
from a2a_server.model import DataPart, Message, Role, TextPart
from a2a_server.runner.base import Settlement, Skill, Turn
from a2a_server.runner.events import (
    Completed,
    Failed,
    InputRequired,
    RunnerEvent,
    StepStarted,
    TextDelta,
    ToolCompleted,
    ToolDeferred,
    ToolStarted,
)
from a2a_server.runner.tools import Deferred, Tool, ToolCallError, ToolError, background, tool

__all__ = ["OpenAIRunner"]

log = logging.getLogger("a2a_server")

PENDING = "The work is running in the background (ticket {ticket}). Its result comes later."
_MAX_PARKED = 10_000


@tool(name="ask_user")
def _ask_user(question: str) -> str:
    """Ask the user a question and wait for the answer. Use it when you need information only
    the user has; the answer arrives as the user's next message."""
    return question


@dataclass
class _Call:
    """A tool call being assembled from streamed deltas."""

    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)

    def message(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": "".join(self.arguments)},
        }


class _Stop(Exception):
    """Ends the turn with a failure the client may read."""


class OpenAIRunner:
    def __init__(
        self,
        model: str,
        *,
        tools: Sequence[Tool] = (),
        system_prompt: str | None = "You are a helpful assistant.",
        api_key: str | None = None,
        base_url: str | None = None,
        max_steps: int = 8,
        max_tokens_per_task: int = 200_000,
        max_retries: int = 3,
        timeout: float = 120.0,
        name: str | None = None,
        description: str | None = None,
        skills: Sequence[Skill] | None = None,
    ) -> None:
        self.model = model
        self.tools = {t.name: t for t in (*tools, _ask_user)}
        self.system_prompt = system_prompt
        self.max_steps = max_steps
        self.max_tokens_per_task = max_tokens_per_task
        # A local server needs no key, but the client wants one: any placeholder does.
        self.client = openai.AsyncOpenAI(
            api_key=api_key or os.environ.get("OPENAI_API_KEY") or "not-needed",
            base_url=base_url,
            max_retries=max_retries,
            timeout=timeout,
        )
        self.base_url = _public(str(self.client.base_url))  # what failure messages may show
        self.name = name or f"{model} agent"
        self.description = description or f"An agent answering with the model {model}."
        self.skills: Sequence[Skill] = skills if skills is not None else self._default_skills(tools)
        # task id -> transcript to resume; bounded (after a restart, resume turns rebuild it)
        self._parked: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()

    def forget(self, task_id: str) -> None:
        """The task has ended: drop what was kept to resume it (the app calls this)."""
        self._parked.pop(task_id, None)

    async def aclose(self) -> None:
        """Close the connections to the model server (the app calls it when it stops)."""
        await self.client.close()

    @staticmethod
    def _default_skills(tools: Sequence[Tool]) -> tuple[Skill, ...]:
        chat = Skill("chat", "Chat", "Answers questions and follows instructions.", ("chat",))
        return (chat, *(Skill(t.name, t.name, t.description, ("tool",)) for t in tools))

    # -- one turn --------------------------------------------------------------------------------

    async def run(self, turn: Turn) -> AsyncIterator[RunnerEvent]:
        messages = self._transcript(turn)
        used = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
        already = int(turn.usage.get("total_tokens", 0))
        try:
            for step in range(1, self.max_steps + 1):
                yield StepStarted(step)
                calls: list[_Call] = []
                text: list[str] = []
                async for event in self._complete(messages, calls, text, used):
                    yield event
                if already + used["total_tokens"] > self.max_tokens_per_task:
                    raise _Stop(
                        f"Stopped: the task reached its limit of {self.max_tokens_per_task} "
                        "tokens (max_tokens_per_task)."
                    )
                assistant: dict[str, Any] = {"role": "assistant", "content": "".join(text) or None}
                if not calls:
                    yield Completed(usage=dict(used))
                    return
                assistant["tool_calls"] = [c.message() for c in calls]
                messages.append(assistant)
                ask = next((c for c in calls if c.name == "ask_user"), None)
                if ask is not None:
                    yield InputRequired(self._question(ask), usage=dict(used))
                    return
                deferred = False
                async for event in self._run_tools(turn, calls, messages):
                    deferred = deferred or isinstance(event, ToolDeferred)
                    yield event
                if deferred:
                    self._parked[turn.task_id] = list(messages)
                    self._parked.move_to_end(turn.task_id)
                    while len(self._parked) > _MAX_PARKED:
                        self._parked.popitem(last=False)
            raise _Stop(f"Stopped: the turn reached its limit of {self.max_steps} steps (max_steps).")
        except _Stop as stop:
            yield Failed(str(stop), usage=dict(used))

    def _transcript(self, turn: Turn) -> list[dict[str, Any]]:
        head = [{"role": "system", "content": self.system_prompt}] if self.system_prompt else []
        if not turn.is_resume:
            self._parked.pop(turn.task_id, None)  # a new message: an old parked transcript is moot
        if turn.is_resume:
            parked = self._parked.pop(turn.task_id, None)
            if parked is not None:
                return _with_results(parked, turn.settled)
            note = "; ".join(_settlement_text(s) for s in turn.settled)
            return [*head, *_history(turn.history), {"role": "user", "content": f"Background tools finished: {note}"}]
        return [*head, *_history(turn.history), {"role": "user", "content": _content(turn.message)}]

    async def _complete(
        self,
        messages: list[dict[str, Any]],
        calls: list[_Call],
        text: list[str],
        used: dict[str, int],
    ) -> AsyncIterator[RunnerEvent]:
        """Stream one completion: text deltas out, tool calls assembled into `calls`."""
        schemas = [t.schema for t in self.tools.values()]
        try:
            stream = await self.client.chat.completions.create(  # type: ignore[call-overload]
                model=self.model,
                messages=messages,
                tools=schemas,
                stream=True,
                stream_options={"include_usage": True},
            )
            try:
                step_usage: dict[str, int] = {}
                by_index: dict[int, _Call] = {}
                async for chunk in stream:
                    if chunk.usage is not None:  # the last report wins (some servers repeat it)
                        step_usage = {k: getattr(chunk.usage, k, 0) or 0 for k in used}
                    for choice in chunk.choices or ():
                        delta = choice.delta
                        if delta is None:
                            continue
                        if delta.content:
                            text.append(delta.content)
                            yield TextDelta(delta.content)
                        for part in delta.tool_calls or ():
                            _assemble(calls, by_index, part)
                for key, value in step_usage.items():
                    used[key] += value
            finally:
                await stream.close()  # also on cancel: the connection to the model goes at once
        except openai.OpenAIError as exc:
            raise _Stop(self._explain(exc)) from None
        for i, call in enumerate(calls):
            call.id = call.id or f"call_{i}_{uuid.uuid4().hex[:8]}"

    def _explain(self, exc: openai.OpenAIError) -> str:
        log.warning("model request failed: %r", exc)
        if isinstance(exc, openai.APITimeoutError):
            return f"The model server at {self.base_url} did not answer in time."
        if isinstance(exc, openai.APIConnectionError):
            return f"Could not reach the model server at {self.base_url}."
        if isinstance(exc, openai.AuthenticationError):
            return "The model server refused the API key (HTTP 401)."
        if isinstance(exc, openai.NotFoundError):
            return f"The model server does not know the model {self.model!r} (HTTP 404)."
        if isinstance(exc, openai.RateLimitError):
            return "The model server is rate limiting requests (HTTP 429); try again later."
        if isinstance(exc, openai.APIStatusError):
            return f"The model server answered HTTP {exc.status_code}."
        return "The request to the model failed."

    @staticmethod
    def _question(call: _Call) -> str:
        try:
            question = json.loads("".join(call.arguments) or "{}").get("question")
        except (ValueError, AttributeError):
            question = None
        return question if isinstance(question, str) and question else "Could you tell me more?"

    async def _run_tools(
        self, turn: Turn, calls: list[_Call], messages: list[dict[str, Any]]
    ) -> AsyncIterator[RunnerEvent]:
        """Run a step's tool calls concurrently; report each as it ends."""
        for call in calls:
            yield ToolStarted(call.name, call.id)
        results: dict[str, str] = {}
        tasks = {asyncio.ensure_future(self._call(call)): call for call in calls}
        try:
            for done in asyncio.as_completed(tasks):
                call, outcome, error = await done
                if isinstance(outcome, Deferred):
                    ticket = f"{call.name}-{uuid.uuid4().hex[:12]}"
                    work = background(outcome.work, call.name, ticket) if outcome.work else None
                    yield ToolDeferred(
                        call.name, call.id, ticket, outcome.resume_hint, work, outcome.deadline_seconds
                    )
                    results[call.id] = PENDING.format(ticket=ticket)
                elif error is None:
                    yield ToolCompleted(call.name, call.id, True, outcome)
                    results[call.id] = outcome
                else:
                    shown, told = error
                    yield ToolCompleted(call.name, call.id, False, None, shown)
                    results[call.id] = f"Error: {told}"
        finally:
            for task in tasks:
                task.cancel()
        messages.extend(
            {"role": "tool", "tool_call_id": c.id, "content": results[c.id]} for c in calls
        )

    async def _call(self, call: _Call) -> tuple[_Call, Any, tuple[str, str] | None]:
        """(call, output, None) or (call, None, (error for the client, error for the model))."""
        found = self.tools.get(call.name)
        try:
            if found is None:
                raise ToolCallError(f"there is no tool named {call.name!r}")
            output = await found.call("".join(call.arguments))
            if isinstance(output, Deferred) or isinstance(output, str):
                return call, output, None
            try:
                return call, dumps(output), None
            except (TypeError, ValueError):
                raise ToolError("the tool's output is not JSON") from None
        except ToolError as exc:
            return call, None, (str(exc), str(exc))
        except Exception as exc:
            log.exception("tool %s failed", call.name)
            return call, None, ("the tool failed", f"{type(exc).__name__}: {exc}")


def _assemble(calls: list[_Call], by_index: dict[int, _Call], part: Any) -> None:
    """Add one streamed tool-call delta: a new id (or a delta without an index) starts a new
    call; names and arguments arrive in pieces."""
    index = part.index if isinstance(part.index, int) else None
    call = by_index.get(index) if index is not None else None
    if call is None or (part.id and call.id and part.id != call.id):
        call = _Call()
        calls.append(call)
        if index is not None:
            by_index[index] = call
    call.id = part.id or call.id
    if part.function is not None:
        if part.function.name and not call.name.endswith(part.function.name):
            call.name += part.function.name
        call.arguments.append(part.function.arguments or "")


def _content(message: Message | None) -> str:
    """A user message as chat text: its text parts, data parts as JSON, files by name."""
    if message is None:
        return ""
    out = []
    for part in message.parts:
        if isinstance(part, TextPart):
            out.append(part.text)
        elif isinstance(part, DataPart):
            out.append(dumps(part.data))
        else:
            out.append(f"[file {part.filename or part.url or 'attached'}]")
    return "\n".join(out)


def _history(history: Sequence[Message]) -> list[dict[str, Any]]:
    return [
        {"role": "assistant" if m.role is Role.AGENT else "user", "content": _content(m)}
        for m in history
    ]


def _settlement_text(s: Settlement) -> str:
    if s.state == "resolved":
        result = s.output if isinstance(s.output, str) else dumps(s.output)
        return f"{s.tool_name} (ticket {s.ticket_id}) finished: {result}"
    return f"{s.tool_name} (ticket {s.ticket_id}) {s.state}: {s.error}"


def _with_results(
    transcript: list[dict[str, Any]], settled: Sequence[Settlement]
) -> list[dict[str, Any]]:
    """The parked transcript with each pending tool note replaced by the real result, cut
    after the step's tool messages: the model goes on from the moment its tools answered."""
    by_call = {s.tool_call_id: s for s in settled}
    out: list[dict[str, Any]] = []
    last = -1
    for i, message in enumerate(transcript):
        s = by_call.get(message.get("tool_call_id", "")) if message.get("role") == "tool" else None
        if s is not None:
            ok = s.state == "resolved"
            result = s.output if isinstance(s.output, str) else dumps(s.output)
            message = {**message, "content": result if ok else f"Error: {s.state}: {s.error}"}
            last = i
        out.append(message)
    if last < 0:
        return out
    while last + 1 < len(out) and out[last + 1].get("role") == "tool":
        last += 1  # the other answers of that step belong with it
    return out[: last + 1]


def _public(url: str) -> str:
    """A URL without user info or query: safe to put in a message a client sees."""
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
