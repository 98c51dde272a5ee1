"""The `Runner` protocol: how the server drives an agent (design §3).

The server calls `run(turn)` once per turn and consumes the runner events it yields. A turn is
either a user message (`turn.message`, with `turn.text` and `turn.parts`) or a resume turn
(`turn.settled`: the results of the deferred tool tickets the task was parked on).
`turn.history` is the conversation memory of the turn's context: the earlier user and agent
messages, oldest first. Everything a turn holds is the version-neutral model (`model.py`):
a runner never sees the wire of either protocol version.

A runner may also have an `async aclose()`, which the app calls when it stops; a
`forget(task_id)`, called when a task ends, to drop what it kept for that task; and an
`async reply(turn)`, asked before a new task is made: the parts it returns answer the message
directly, as a Message, and no task is made (A2A's stateless reply); None goes on as usual.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import field
from typing import Any, Protocol, runtime_checkable

from a2a_server.model import Message, Part
from a2a_server.runner.events import RunnerEvent
from a2a_server.values import value

__all__ = ["Runner", "Settlement", "Skill", "Turn"]


@value
class Skill:
    """One skill of the agent, as published in the agent card."""

    id: str
    name: str
    description: str
    tags: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    input_modes: tuple[str, ...] = ()  # MIME types; none: the card's defaults
    output_modes: tuple[str, ...] = ()


@value
class Settlement:
    """How a deferred tool ticket ended, handed to the runner in a resume turn."""

    ticket_id: str
    tool_name: str
    tool_call_id: str
    state: str  # "resolved" | "failed" | "expired"
    output: Any = None
    error: str | None = None


@value
class Turn:
    """One turn of a task, as the runner sees it."""

    task_id: str
    context_id: str
    message: Message | None = None
    history: tuple[Message, ...] = ()
    settled: tuple[Settlement, ...] = ()
    new_task: bool = True  # False when the message continues an existing task
    usage: Mapping[str, int] = field(default_factory=dict)  # the task's tokens so far
    cut: bool = False  # the task's previous turn was cut short (its process died)

    @property
    def is_resume(self) -> bool:
        return self.message is None

    @property
    def text(self) -> str:
        """The text parts of the user's message, joined with newlines ("" in a resume turn)."""
        return "" if self.message is None else self.message.text

    @property
    def parts(self) -> tuple[Part, ...]:
        """Every part of the user's message: text, files and data (none in a resume turn)."""
        return () if self.message is None else self.message.parts


@runtime_checkable
class Runner(Protocol):
    """An agent the server can drive."""

    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    @property
    def skills(self) -> Sequence[Skill]: ...

    def run(self, turn: Turn) -> AsyncIterator[RunnerEvent]:
        """Run one turn, yielding runner events; end with `Completed`, `InputRequired` or
        `Failed` (a runner that just stops is taken as completed)."""
        ...
