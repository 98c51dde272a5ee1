"""The demo agent: offline, deterministic, and a tour of every runner event.

Prompts (case does not matter; also listed in the README and as skill examples in the card):
  time                      the clock tool
  calc 12*(3+4)             the calculator tool
  build website             a deferred build tool that settles a few seconds later
  broken tool               a tool that fails; the agent recovers
  ask me                    asks back (input-required); the next message answers
  connect calendar          needs the user's consent first (auth-required): a ticket settled
                            out of band grants it, or the next message ("approve")
  fail                      the run fails
  my name is Ada / what is my name / recall   conversation memory of the context
Anything else is echoed. Answers stream word by word with a small delay.
"""

from __future__ import annotations

import ast
import asyncio
import operator
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from a2a_server.model import Message, Role
from a2a_server.runner.base import Skill, Turn
from a2a_server.runner.events import (
    AuthRequired,
    Completed,
    Failed,
    InputRequired,
    RunnerEvent,
    StepStarted,
    TextDelta,
    ToolBackgroundFailed,
    ToolBackgroundResolved,
    ToolCompleted,
    ToolDeferred,
    ToolStarted,
)

__all__ = ["DemoRunner", "safe_eval", "tokens"]

ASK_PROMPT = "Happy to. What should I call you?"
CONSENT_PROMPT = "I need your consent to connect your {service}."
_APPROVALS = ("approve", "approved", "yes", "ok", "i consent", "consent")

SKILLS = (
    Skill("clock", "Clock", "Tells the current UTC time with a clock tool.", ("tools",), ("time",)),
    Skill(
        "calculator",
        "Calculator",
        "Evaluates arithmetic with a calculator tool.",
        ("tools", "math"),
        ("calc 12*(3+4)",),
    ),
    Skill(
        "build",
        "Background build",
        "Starts a build as a deferred tool that finishes a few seconds later; the task stays "
        "working until then, and the agent reports the result in a resume turn.",
        ("tools", "deferred"),
        ("build website",),
    ),
    Skill(
        "broken-tool",
        "Broken tool",
        "Calls a tool that fails, and recovers.",
        ("tools", "errors"),
        ("broken tool",),
    ),
    Skill(
        "ask",
        "Ask back",
        "Asks the user a question (input-required); the next message on the task answers it.",
        ("input-required",),
        ("ask me",),
    ),
    Skill(
        "connect",
        "Connect a service",
        "Needs the user's consent before it connects a service (auth-required): the task "
        "waits, its stream open, until the consent ticket is settled out of band or the next "
        "message approves.",
        ("auth-required", "deferred"),
        ("connect calendar",),
    ),
    Skill("fail", "Fail", "Makes the run fail.", ("errors",), ("fail",)),
    Skill(
        "memory",
        "Conversation memory",
        "Remembers what was said earlier in the same context.",
        ("memory",),
        ("my name is Ada", "what is my name", "recall"),
    ),
    Skill("echo", "Echo", "Echoes anything else.", ("echo",), ("hello",)),
)


class DemoRunner:
    name = "a2a-server demo agent"
    description = (
        "An offline, deterministic agent that shows every feature of a2a-server: streaming, "
        "tools, deferred tools, input-required, auth-required, failures and conversation memory."
    )
    skills = SKILLS

    def __init__(self, token_delay: float = 0.02, build_seconds: float = 3.0) -> None:
        self.token_delay = token_delay
        self.build_seconds = build_seconds

    async def run(self, turn: Turn) -> AsyncIterator[RunnerEvent]:
        if turn.is_resume:
            async for event in self._resume(turn):
                yield event
            return
        text = turn.text.strip()
        low = text.lower()
        yield StepStarted(1)
        last = _last_agent_said(turn.history) if not turn.new_task else None
        if last == ASK_PROMPT:
            async for event in self._say(f"Nice to meet you, {text}!"):
                yield event
        elif last is not None and last.startswith(CONSENT_PROMPT.split("{")[0]):
            async for event in self._consent_answer(turn, low):
                yield event
        elif low in ("time", "clock", "what time is it", "what time is it?"):
            async for event in self._clock():
                yield event
        elif low.startswith(("calc ", "calculate ")):
            async for event in self._calc(text.split(" ", 1)[1]):
                yield event
        elif low.startswith("build"):
            async for event in self._build(text[5:].strip() or "project"):
                yield event
        elif low.startswith("broken"):
            async for event in self._broken():
                yield event
        elif low.startswith("ask"):
            yield InputRequired(ASK_PROMPT)
            return
        elif low.startswith("connect"):
            async for event in self._connect(turn, text[7:].strip() or "calendar"):
                yield event
            return
        elif low == "fail":
            async for event in self._say("Trying... "):
                yield event
            yield Failed("The demo agent was asked to fail, so it did.")
            return
        else:
            async for event in self._say(_memory_answer(text, turn.history) or f"You said: {text}"):
                yield event
        yield Completed()

    async def _say(self, text: str) -> AsyncIterator[RunnerEvent]:
        for token in tokens(text):
            if self.token_delay:
                await asyncio.sleep(self.token_delay)
            yield TextDelta(token)

    async def _clock(self) -> AsyncIterator[RunnerEvent]:
        yield ToolStarted("clock", "call-clock")
        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        yield ToolCompleted("clock", "call-clock", True, {"utc": now})
        async for event in self._say(f"It is {now}."):
            yield event

    async def _calc(self, expression: str) -> AsyncIterator[RunnerEvent]:
        yield ToolStarted("calculator", "call-calc", {"expression": expression})
        try:
            value = safe_eval(expression)
        except (ValueError, ZeroDivisionError, OverflowError) as exc:
            yield ToolCompleted("calculator", "call-calc", False, None, str(exc))
            answer = f"I could not compute {expression!r}: {exc}."
        else:
            yield ToolCompleted("calculator", "call-calc", True, {"value": value})
            answer = f"{expression} = {value}"
        async for event in self._say(answer):
            yield event

    async def _build(self, target: str) -> AsyncIterator[RunnerEvent]:
        ticket_id = f"build-{uuid.uuid4().hex[:12]}"
        seconds = self.build_seconds

        async def work() -> AsyncIterator[ToolBackgroundResolved | ToolBackgroundFailed]:
            await asyncio.sleep(seconds)
            yield ToolBackgroundResolved(
                "build", ticket_id, {"target": target, "status": "success", "seconds": seconds}
            )

        yield ToolStarted("build", "call-build", {"target": target})
        yield ToolDeferred("build", "call-build", ticket_id, "the build reports back", work)
        async for event in self._say(f"Started building {target} (ticket {ticket_id}). "):
            yield event

    async def _broken(self) -> AsyncIterator[RunnerEvent]:
        yield ToolStarted("broken", "call-broken")
        yield ToolCompleted("broken", "call-broken", False, None, "the broken tool always fails")
        async for event in self._say("The broken tool failed, as it always does; no harm done."):
            yield event

    async def _connect(self, turn: Turn, service: str) -> AsyncIterator[RunnerEvent]:
        """Ask for consent: a ticket for it (settled by whoever grants it), and auth-required."""
        ticket_id = _consent_ticket(turn.task_id)
        yield ToolStarted("connect", "call-connect", {"service": service})
        yield ToolDeferred("connect", "call-connect", ticket_id, "settled when the user consents")
        prompt = CONSENT_PROMPT.format(service=service)
        yield AuthRequired(
            f"{prompt} Grant it by settling ticket {ticket_id} (a2aserver.tickets/resolve), or "
            "answer this task with \"approve\".",
            data={"ticketId": ticket_id, "service": service},
        )

    async def _consent_answer(self, turn: Turn, low: str) -> AsyncIterator[RunnerEvent]:
        """The next message after the consent prompt: it approves, or it declines."""
        ticket_id = _consent_ticket(turn.task_id)
        if low.strip(" .!") in _APPROVALS:
            yield ToolBackgroundResolved("connect", ticket_id, {"granted": True, "by": "message"})
            async for event in self._say("Thanks for your consent. "):
                yield event
        else:
            yield ToolBackgroundFailed("connect", ticket_id, "the user did not consent")
            async for event in self._say("Understood: I will not connect it. "):
                yield event

    async def _resume(self, turn: Turn) -> AsyncIterator[RunnerEvent]:
        if turn.cut:  # the turn that started the build died with its server
            async for event in self._say("(My earlier turn was cut short when the server stopped.) "):
                yield event
        for s in turn.settled:
            if s.tool_name == "connect":
                line = "Connected: your consent was granted. " if s.state == "resolved" else (
                    f"Not connected: {s.error or s.state}. "
                )
            elif s.state == "resolved" and isinstance(s.output, dict):
                line = f"Build of {s.output.get('target')} finished: {s.output.get('status')}. "
            else:
                line = f"{s.tool_name} ended {s.state}: {s.error or s.output}. "
            async for event in self._say(line):
                yield event
        yield Completed()


def _consent_ticket(task_id: str) -> str:
    return f"consent-{task_id}"


def tokens(text: str) -> list[str]:
    """Split text into word tokens that concatenate back to it exactly."""
    return re.findall(r"\s*\S+|\s+", text)


def _last_agent_said(history: tuple[Message, ...]) -> str | None:
    for message in reversed(history):
        if message.role is Role.AGENT:
            return message.text
    return None


def _memory_answer(text: str, history: tuple[Message, ...]) -> str | None:
    low = text.lower()
    said = [m.text for m in history if m.role is Role.USER]
    if low.startswith("my name is "):
        return f"Nice to meet you, {text[11:].strip().rstrip('.!')}. I will remember that."
    if "what is my name" in low or "what's my name" in low:
        for earlier in reversed(said):
            if earlier.lower().startswith("my name is "):
                return f"Your name is {earlier[11:].strip().rstrip('.!')}."
        return "You have not told me your name in this conversation."
    if low in ("recall", "what did i say", "what did i say?"):
        if not said:
            return "This is the start of our conversation."
        return "Earlier you said: " + " | ".join(said[-5:])
    return None


_OPS: dict[type, Any] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}


_MAX_BITS = 4096  # results stay well inside what prints quickly (and Python's digit limit)


def _bits(value: float) -> int:
    return abs(int(value)).bit_length() if isinstance(value, int) else 64


def safe_eval(expression: str) -> int | float:
    """Evaluate plain arithmetic (numbers, + - * / // % **, parentheses) and nothing else."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        raise ValueError("not an arithmetic expression") from None
    return _eval(tree.body)


def _eval(node: ast.AST) -> int | float:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        if isinstance(node.value, bool):
            raise ValueError("only numbers and + - * / // % ** are allowed")
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Pow):
            if abs(right) > 100 or _bits(left) * max(abs(right), 1) > _MAX_BITS:
                raise ValueError("the result would be too large")
        elif isinstance(node.op, ast.Mult) and _bits(left) + _bits(right) > _MAX_BITS:
            raise ValueError("the result would be too large")
        return _OPS[type(node.op)](left, right)  # type: ignore[no-any-return]
    if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
        return _OPS[type(node.op)](_eval(node.operand))  # type: ignore[no-any-return]
    raise ValueError("only numbers and + - * / // % ** are allowed")
