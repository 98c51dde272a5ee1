"""The deferred-tickets extension: JSON-RPC methods to see and settle tickets from outside.

Tools that hand work to another system (a CI job, a human approval) are settled by that
system through the server (spec §3.5: namespaced extension methods):

    a2aserver.tickets/list     {taskId, state?}        -> [Ticket]
    a2aserver.tickets/get      {ticketId}              -> Ticket
    a2aserver.tickets/resolve  {ticketId, output}      -> Ticket   (output: any JSON value)
    a2aserver.tickets/fail     {ticketId, error}       -> Ticket

Unknown tickets get -32050. Settling a settled ticket again with the same result answers the
ticket as it is (idempotent); with another result, -32051.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from a2a_server.errors import TicketConflict, TicketNotFound
from a2a_server.handler import CallContext, RequestHandler
from a2a_server.tickets import Ticket

__all__ = [
    "TICKETS_EXTENSION",
    "TICKETS_EXTENSION_URI",
    "FailParams",
    "GetParams",
    "ListParams",
    "ResolveParams",
    "fail_ticket",
    "get_ticket",
    "list_tickets",
    "resolve_ticket",
    "ticket_json",
]

TICKETS_EXTENSION_URI = "urn:a2a-server:extension:deferred-tickets:v1"
TICKETS_EXTENSION = {
    "uri": TICKETS_EXTENSION_URI,
    "description": (
        "Deferred tool tickets: a task parks `working` while its background tools run; "
        "metadata.a2aServer.pendingTickets lists them. The methods a2aserver.tickets/list, "
        "a2aserver.tickets/get, a2aserver.tickets/resolve and a2aserver.tickets/fail let the "
        "system doing the work settle them; errors -32050 (ticket "
        "not found) and -32051 (already settled differently)."
    ),
    "required": False,
}


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


async def list_tickets(handler: RequestHandler, params: ListParams, ctx: CallContext) -> Any:
    await handler.runtime_for(params.task_id)  # TaskNotFound for an unknown task
    tickets = await handler.store.list_tickets(params.task_id)
    return [ticket_json(t) for t in tickets if params.state in (None, t.state)]


async def get_ticket(handler: RequestHandler, params: GetParams, ctx: CallContext) -> Any:
    return ticket_json(await _ticket(handler, params.ticket_id))


async def resolve_ticket(handler: RequestHandler, params: ResolveParams, ctx: CallContext) -> Any:
    return await _settle(handler, params.ticket_id, "resolved", output=params.output)


async def fail_ticket(handler: RequestHandler, params: FailParams, ctx: CallContext) -> Any:
    return await _settle(handler, params.ticket_id, "failed", error=params.error)


async def _ticket(handler: RequestHandler, ticket_id: str) -> Ticket:
    ticket = await handler.store.get_ticket(ticket_id)
    if ticket is None:
        raise TicketNotFound(f"Ticket {ticket_id} not found")
    return ticket


async def _settle(
    handler: RequestHandler, ticket_id: str, state: str, *, output: Any = None, error: str | None = None
) -> Any:
    ticket = await _ticket(handler, ticket_id)
    if ticket.pending:
        runtime = await handler.runtime_for(ticket.task_id)
        if runtime is not None:
            await runtime.settle_ticket(ticket_id, state, output=output, error=error)
        ticket = await _ticket(handler, ticket_id)
    if ticket.state == state and ticket.output == output and ticket.error == error:
        return ticket_json(ticket)  # settled now, or earlier with the same result
    raise TicketConflict(f"Ticket {ticket_id} is already {ticket.state} with another result")
