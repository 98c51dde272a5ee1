"""The wire of the deferred-tickets extension (`a2aserver.tickets/*`): its params in, its
Ticket JSON out. The same in both protocol versions: an extension of ours, not of either.

    a2aserver.tickets/list     {taskId, state?}        -> [Ticket]
    a2aserver.tickets/get      {ticketId}              -> Ticket
    a2aserver.tickets/resolve  {ticketId, output}      -> Ticket   (output: any JSON value)
    a2aserver.tickets/fail     {ticketId, error}       -> Ticket

A Ticket is {ticketId, taskId, contextId, toolName, toolCallId, state, createdAt, deadline,
resumeHint?, output?, error?}.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from a2a_server.tickets import Ticket

__all__ = [
    "FailParams",
    "GetParams",
    "ListParams",
    "ResolveParams",
    "parse_fail",
    "parse_get",
    "parse_list",
    "parse_resolve",
    "ticket_json",
    "tickets_json",
]


class _Params(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True, strict=True)


class ListParams(_Params):
    task_id: str = Field(alias="taskId")
    state: Literal["pending", "resolved", "failed", "expired"] | None = None


class GetParams(_Params):
    ticket_id: str = Field(alias="ticketId")


class ResolveParams(GetParams):
    output: Any = Field(...)


class FailParams(GetParams):
    error: str = Field(min_length=1)


def parse_list(params: dict[str, Any], lenient: bool = False) -> ListParams:
    return ListParams.model_validate(params)


def parse_get(params: dict[str, Any], lenient: bool = False) -> GetParams:
    return GetParams.model_validate(params)


def parse_resolve(params: dict[str, Any], lenient: bool = False) -> ResolveParams:
    return ResolveParams.model_validate(params)


def parse_fail(params: dict[str, Any], lenient: bool = False) -> FailParams:
    return FailParams.model_validate(params)


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def ticket_json(t: Ticket) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ticketId": t.id,
        "taskId": t.task_id,
        "contextId": t.context_id,
        "toolName": t.tool_name,
        "toolCallId": t.tool_call_id,
        "state": t.state,
        "createdAt": _iso(t.created_at),
        "deadline": _iso(t.deadline),
    }
    if t.resume_hint is not None:
        out["resumeHint"] = t.resume_hint
    if t.state == "resolved":
        out["output"] = t.output
    if t.error is not None:
        out["error"] = t.error
    return out


def tickets_json(tickets: list[Ticket]) -> list[dict[str, Any]]:
    return [ticket_json(t) for t in tickets]
