"""The runner-event vocabulary (design §3): what every runner yields, as frozen dataclasses.

`mapping.py` turns these into A2A frames; runners never see A2A objects or HTTP.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import field
from typing import Any, ClassVar

from a2a_server.model import Part
from a2a_server.values import value

__all__ = [
    "AgentUpdated",
    "AuthRequired",
    "BackgroundWork",
    "Completed",
    "Failed",
    "InputRequired",
    "NewArtifact",
    "ReasoningDelta",
    "Rejected",
    "RunnerEvent",
    "StepStarted",
    "TextDelta",
    "ToolBackgroundFailed",
    "ToolBackgroundResolved",
    "ToolCompleted",
    "ToolDeferred",
    "ToolStarted",
]


@value
class StepStarted:
    """A new step of the agent loop."""

    type: ClassVar[str] = "step_started"
    step: int


@value
class TextDelta:
    """A piece of the answer text."""

    type: ClassVar[str] = "text_delta"
    text: str
    step: int = 0


@value
class ReasoningDelta:
    """A piece of the agent's reasoning, where a framework streams it: kept in frame
    metadata, never mixed into the answer."""

    type: ClassVar[str] = "reasoning_delta"
    text: str


@value
class AgentUpdated:
    """Another agent took over the run (a hand-off)."""

    type: ClassVar[str] = "agent_updated"
    agent_name: str


@value
class NewArtifact:
    """An artifact of its own, beside the answer (a file, data, a report), sent whole."""

    type: ClassVar[str] = "artifact"
    parts: tuple[Part, ...]
    name: str | None = None
    description: str | None = None
    metadata: dict[str, Any] | None = None


@value
class ToolStarted:
    """A tool call begins."""

    type: ClassVar[str] = "tool_started"
    tool_name: str
    tool_call_id: str
    arguments: Any = None  # the call's arguments (JSON), as the client may see them


@value
class ToolCompleted:
    """A tool call ended, successfully or not. `output` stays out of the answer text."""

    type: ClassVar[str] = "tool_completed"
    tool_name: str
    tool_call_id: str
    success: bool = True
    output: Any = None
    error: str | None = None


@value
class ToolBackgroundResolved:
    """A deferred tool finished with `output`."""

    type: ClassVar[str] = "tool_background_resolved"
    tool_name: str
    ticket_id: str
    output: Any = None


@value
class ToolBackgroundFailed:
    """A deferred tool failed or expired."""

    type: ClassVar[str] = "tool_background_failed"
    tool_name: str
    ticket_id: str
    error: str = "the background tool failed"


BackgroundWork = Callable[[], AsyncIterator[ToolBackgroundResolved | ToolBackgroundFailed]]
"""The runner's own background work for a ticket: yields one settlement event, then ends."""


@value
class ToolDeferred:
    """A tool accepted the call and runs in the background, identified by `ticket_id`.

    With `work`, the server runs it beside the task and the settlement event it yields settles
    the ticket; without it, the ticket waits to be settled from outside (the ticket API). A
    ticket still pending at its deadline expires, which the runner learns in its resume turn.
    """

    type: ClassVar[str] = "tool_deferred"
    tool_name: str
    tool_call_id: str
    ticket_id: str
    resume_hint: str | None = None
    work: BackgroundWork | None = field(default=None, compare=False, repr=False)
    deadline_seconds: float | None = None  # default: the server's ticket deadline setting


# The three events that end a turn (Completed, InputRequired, Failed) may carry the tokens the
# turn used; the server adds them up in the task's metadata.a2aServer.usage.


@value
class InputRequired:
    """The agent needs the user before it can go on: `prompt` says what, `data` (JSON
    object, optional) describes it for programs (an approval: the tool and its arguments)."""

    type: ClassVar[str] = "input_required"
    prompt: str
    usage: dict[str, int] | None = None
    data: dict[str, Any] | None = None


@value
class AuthRequired:
    """The agent needs an authorization before it can go on (the user's consent to a
    third-party API, say): the task waits `auth-required` until a settled ticket or the
    next message brings it."""

    type: ClassVar[str] = "auth_required"
    prompt: str
    usage: dict[str, int] | None = None
    data: dict[str, Any] | None = None


@value
class Completed:
    """The run finished. `final_text` is used only when no text was streamed."""

    type: ClassVar[str] = "completed"
    final_text: str | None = None
    usage: dict[str, int] | None = None


@value
class Rejected:
    """The agent will not do this task: it ends `rejected`, `reason` shown to the client."""

    type: ClassVar[str] = "rejected"
    reason: str
    usage: dict[str, int] | None = None


@value
class Failed:
    """The run failed; `error` is shown to the client, so it must not leak internals."""

    type: ClassVar[str] = "error"
    error: str
    usage: dict[str, int] | None = None


RunnerEvent = (
    StepStarted
    | TextDelta
    | ReasoningDelta
    | AgentUpdated
    | NewArtifact
    | ToolStarted
    | ToolCompleted
    | ToolDeferred
    | ToolBackgroundResolved
    | ToolBackgroundFailed
    | InputRequired
    | AuthRequired
    | Completed
    | Rejected
    | Failed
)
