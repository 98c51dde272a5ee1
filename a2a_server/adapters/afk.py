"""Serve an AFK agent (`afk.agents.Agent`): `afk.core.Runner().run_stream(agent,
user_message=..., thread_id=contextId)` per turn, one Runner per run (AFK refuses to reuse
one). AFK is not on a registry, so this adapter is duck-typed: it reads each event's `type`
and documented fields, and imports `afk` only to make a Runner.

Our event vocabulary copies AFK's, so the mapping is one-to-one: `text_delta`,
`step_started`, `tool_started`, `tool_completed` (`tool_success`, `tool_output`,
`tool_error`), `tool_deferred` (a ticket under AFK's `tool_ticket_id`),
`tool_background_resolved`/`_failed` (settle it), `completed` (`result.final_text`,
`result.usage`). A failed run sends two `error` events (`run_failed`, then the exception's
text): they end the turn as one failure, with the more telling text.

- Tickets: AFK reports a background tool that finishes while its run is still going; a
  ticket still pending when the run ends waits, like any ticket, to be settled through
  `a2aserver.tickets/*` (AFK stops watching it then). Once settled, the resume turn is a new
  run on the same thread told the results; tickets AFK settled within its own run need none.
- Memory: the thread (`thread_id` = the context id) is AFK's own; its default store is a
  SQLite file, so it survives a restart.
- Cancel: the stream handle's `cancel()`, which AFK's guide documents (the run goes to
  `cancelled`). The AFK source read at bcc10b6 has no `cancel()` on that handle; there the
  task still ends `canceled`, and AFK's run is left to end by itself.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from a2a_server.adapters._detect import has_class
from a2a_server.adapters._errors import describe, explain, tool_error
from a2a_server.adapters._runs import Parked, jsonable, quietly
from a2a_server.adapters._turns import prompt
from a2a_server.runner.base import Skill, Turn
from a2a_server.runner.events import (
    Completed,
    Failed,
    RunnerEvent,
    StepStarted,
    TextDelta,
    ToolBackgroundFailed,
    ToolBackgroundResolved,
    ToolCompleted,
    ToolDeferred,
    ToolStarted,
)

__all__ = ["AFKRunner", "matches", "wrap"]

FRAMEWORK = "AFK"
_BARE = frozenset({"run_failed", "run_interrupted"})  # an error event that only names its kind


def matches(obj: object) -> bool:
    return has_class(obj, ("afk.agents",), ("Agent", "BaseAgent"))


def wrap(obj: object) -> AFKRunner:
    return AFKRunner(obj)


def _default_runner() -> Any:
    return importlib.import_module("afk.core").Runner()


class AFKRunner:
    def __init__(self, agent: Any, *, new_runner: Callable[[], Any] = _default_runner) -> None:
        self.agent = agent
        self._new_runner = new_runner  # one AFK Runner per run; pass one with your RunnerConfig
        self.name = str(agent.name)
        instructions = getattr(agent, "instructions", None)
        self.description = instructions if isinstance(instructions, str) and instructions else (
            f"An AFK agent ({self.name})."
        )
        self.skills: Sequence[Skill] = _skills(agent)
        self._settled_in_run: Parked[set[str]] = Parked()  # task -> tickets AFK settled itself

    def forget(self, task_id: str) -> None:
        self._settled_in_run.pop(task_id)

    async def run(self, turn: Turn) -> AsyncIterator[RunnerEvent]:
        known = self._settled_in_run.pop(turn.task_id) or set()
        if turn.is_resume:  # AFK's own run went on with the results it saw: tell the rest
            untold = tuple(s for s in turn.settled if s.ticket_id not in known)
            turn = dataclasses.replace(turn, settled=untold)
            if not turn.settled:
                yield Completed()
                return
        try:
            handle = await self._new_runner().run_stream(
                self.agent, user_message=prompt(turn), thread_id=turn.context_id
            )
        except Exception as exc:
            yield Failed(explain(exc, FRAMEWORK))
            return
        errors: list[str] = []
        ended = False  # the run ended by itself: nothing to cancel
        try:
            async for ev in handle:
                if ev.type == "error":
                    errors.append(str(ev.error or "run_failed"))
                elif ev.type == "completed":
                    ended = True
                    yield _end(ev.result)
                    return
                else:
                    event = _event(ev)
                    if isinstance(event, ToolBackgroundResolved | ToolBackgroundFailed):
                        known.add(event.ticket_id)
                        self._settled_in_run.put(turn.task_id, known)
                    if event is not None:
                        yield event
            ended = True
        except Exception as exc:
            ended = True
            yield Failed(explain(exc, FRAMEWORK))
            return
        finally:
            if not ended:
                await quietly("cancel the AFK run", _cancel(handle))
        told = [e for e in errors if e not in _BARE] or errors or ["the run ended without a result"]
        yield Failed(describe(told[-1], FRAMEWORK))


def _event(ev: Any) -> RunnerEvent | None:
    """One AFK stream event as ours (None: nothing to map)."""
    kind, name, call = ev.type, str(ev.tool_name or "tool"), str(ev.tool_call_id or "")
    if kind == "text_delta":
        return TextDelta(ev.text_delta, ev.step or 0) if ev.text_delta else None
    if kind == "step_started":
        return StepStarted(int(ev.step or 0))
    if kind == "tool_started":
        return ToolStarted(name, call)
    if kind == "tool_completed":
        if ev.tool_success:
            return ToolCompleted(name, call, True, jsonable(ev.tool_output))
        return ToolCompleted(name, call, False, None, tool_error(ev.tool_error))
    if kind == "tool_deferred":
        hint = (ev.data or {}).get("resume_hint")
        hint = hint if isinstance(hint, str) else None
        return ToolDeferred(name, call, str(ev.tool_ticket_id), hint)
    if kind == "tool_background_resolved":
        return ToolBackgroundResolved(name, str(ev.tool_ticket_id), jsonable(ev.tool_output))
    if kind == "tool_background_failed":
        error = tool_error(ev.tool_error, "the background tool failed")
        return ToolBackgroundFailed(name, str(ev.tool_ticket_id), error)
    return None  # step_completed, status_update, run_event: run_stream does not send them


def _end(result: Any) -> Completed | Failed:
    state = getattr(result, "state", "completed")
    if state in ("failed", "cancelled"):
        return Failed(describe(f"the run ended {state}", FRAMEWORK))
    text = getattr(result, "final_text", None)
    return Completed(text if isinstance(text, str) else None, usage=_usage(result))


async def _cancel(handle: Any) -> None:
    cancel = getattr(handle, "cancel", None)
    if cancel is not None:
        outcome = cancel()
        if inspect.isawaitable(outcome):
            await outcome


def _usage(result: Any) -> dict[str, int] | None:
    usage = getattr(result, "usage", None)
    total = getattr(usage, "total_tokens", 0) or 0
    if not total:
        return None
    return {
        "prompt_tokens": int(getattr(usage, "input_tokens", 0) or 0),
        "completion_tokens": int(getattr(usage, "output_tokens", 0) or 0),
        "total_tokens": int(total),
    }


def _skills(agent: Any) -> tuple[Skill, ...]:
    chat = Skill("chat", str(agent.name), f"Talk to {agent.name}.", ("chat",))
    tools = tuple(
        Skill(str(t.name), str(t.name), str(getattr(t, "description", "") or t.name), ("tool",))
        for t in getattr(agent, "tools", None) or () if getattr(t, "name", None)
    )
    return (chat, *tools)
