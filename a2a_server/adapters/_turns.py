"""What every adapter reads from a `Turn`, in framework-neutral form: the conversation so far,
this turn's prompt, and a user's answer to an approval.

Memory comes from `turn.history`, the store's conversation memory of the context (durable,
bounded by `--memory-messages`, shared by every server process on the store), unless a
framework keeps the conversation itself (AFK and AgentFlow threads).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from a2a_server.jsoncodec import dumps
from a2a_server.model import DataPart, Message, Role, TextPart
from a2a_server.runner.base import Settlement, Turn

__all__ = ["conversation", "decision", "prompt"]

_YES = frozenset({"yes", "y", "ok", "okay", "approve", "approved", "allow", "accept", "go"})
_NO = frozenset({"no", "n", "deny", "denied", "reject", "rejected", "refuse", "stop"})


def prompt(turn: Turn) -> str:
    """This turn's input as text: the user's message, or in a resume turn what the deferred
    tools came back with."""
    return _settled_note(turn.settled) if turn.is_resume else _content(turn.message)


def conversation(turn: Turn) -> list[tuple[str, str]]:
    """The context's earlier messages as (role, text), role "user" or "assistant", oldest
    first, then this turn's prompt as the user's."""
    earlier = [
        ("assistant" if m.role is Role.AGENT else "user", _content(m)) for m in turn.history
    ]
    return [*earlier, ("user", prompt(turn))]


def _content(message: Message | None) -> str:
    """A message as text: its text parts, data parts as JSON, files by name."""
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


def _settled_note(settled: Sequence[Settlement]) -> str:
    """What the deferred tools of a resume turn came back with, for a model to read."""
    return "Background tools finished: " + "; ".join(_settlement(s) for s in settled)


def decision(turn: Turn) -> bool | None:
    """The user's answer to an approval: a DataPart `{"approved": bool}`, or a text that starts
    with yes/approve/ok (True) or no/deny/reject (False); None when it says neither."""
    for part in turn.parts:
        if isinstance(part, DataPart) and isinstance(part.data, dict):
            approved = part.data.get("approved")
            if isinstance(approved, bool):
                return approved
    words = turn.text.strip().lower().split()
    first = words[0].strip(".,!") if words else ""
    if first in _YES:
        return True
    if first in _NO:
        return False
    return None


def _settlement(s: Settlement) -> str:
    if s.state == "resolved":
        output: Any = s.output if isinstance(s.output, str) else dumps(s.output)
        return f"{s.tool_name} (ticket {s.ticket_id}) finished: {output}"
    return f"{s.tool_name} (ticket {s.ticket_id}) {s.state}: {s.error}"
