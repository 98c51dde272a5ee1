"""Deferred tool tickets: a tool call accepted now and settled later (design §5).

A ticket is a frozen value; every change makes a new one with `dataclasses.replace`, and the
task store keeps the current version. `pending` is the only state a ticket leaves.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Any

from a2a_server.runner.base import Settlement

__all__ = ["SETTLED_STATES", "TICKET_STATES", "Ticket"]

TICKET_STATES = ("pending", "resolved", "failed", "expired")
SETTLED_STATES = frozenset(TICKET_STATES[1:])


@dataclass(frozen=True, slots=True)
class Ticket:
    id: str
    task_id: str
    context_id: str
    tool_name: str
    tool_call_id: str
    state: str = "pending"
    resume_hint: str | None = None
    created_at: float = dataclasses.field(default_factory=time.time)
    deadline: float | None = None
    output: Any = None
    error: str | None = None
    delivered: bool = False  # the runner has been given the settlement in a resume turn

    @property
    def pending(self) -> bool:
        return self.state == "pending"

    def settle(self, state: str, *, output: Any = None, error: str | None = None) -> Ticket:
        """A settled copy of this ticket."""
        if state not in SETTLED_STATES:
            raise ValueError(f"not a settled state: {state}")
        return dataclasses.replace(self, state=state, output=output, error=error)

    def settlement(self) -> Settlement:
        return Settlement(
            ticket_id=self.id,
            tool_name=self.tool_name,
            tool_call_id=self.tool_call_id,
            state=self.state,
            output=self.output,
            error=self.error,
        )

    def summary(self) -> dict[str, Any]:
        """The JSON form shown in task metadata and status-update DataParts."""
        out: dict[str, Any] = {
            "ticketId": self.id,
            "toolName": self.tool_name,
            "toolCallId": self.tool_call_id,
            "state": self.state,
        }
        if self.resume_hint:
            out["resumeHint"] = self.resume_hint
        if self.error is not None:
            out["error"] = self.error
        return out
