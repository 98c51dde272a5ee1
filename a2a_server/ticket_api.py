"""The deferred-tickets extension: methods to see and settle tickets from outside.

Tools that hand work to another system (a CI job, a human approval) are settled by that
system through the server (spec §3.5: namespaced extension methods `a2aserver.tickets/list`,
`get`, `resolve`, `fail`; their wire is `protocol/tickets.py`).

Unknown tickets get -32050. Settling a settled ticket again with the same result answers the
ticket as it is (idempotent); with another result, -32051.
"""

from __future__ import annotations

from typing import Any

from a2a_server.errors import TicketConflict, TicketNotFound
from a2a_server.handler import CallContext, RequestHandler
from a2a_server.protocol.tickets import FailParams, GetParams, ListParams, ResolveParams
from a2a_server.tickets import Ticket

__all__ = [
    "fail_ticket",
    "get_ticket",
    "list_tickets",
    "resolve_ticket",
]

async def list_tickets(handler: RequestHandler, params: ListParams, ctx: CallContext) -> list[Ticket]:
    await handler.runtime_for(params.task_id)  # TaskNotFound for an unknown task
    tickets = await handler.store.list_tickets(params.task_id)
    return [t for t in tickets if params.state in (None, t.state)]


async def get_ticket(handler: RequestHandler, params: GetParams, ctx: CallContext) -> Ticket:
    return await _ticket(handler, params.ticket_id)


async def resolve_ticket(handler: RequestHandler, params: ResolveParams, ctx: CallContext) -> Ticket:
    return await _settle(handler, params.ticket_id, "resolved", output=params.output)


async def fail_ticket(handler: RequestHandler, params: FailParams, ctx: CallContext) -> Ticket:
    return await _settle(handler, params.ticket_id, "failed", error=params.error)


async def _ticket(handler: RequestHandler, ticket_id: str) -> Ticket:
    ticket = await handler.store.get_ticket(ticket_id)
    if ticket is None:
        raise TicketNotFound(f"Ticket {ticket_id} not found")
    return ticket


async def _settle(
    handler: RequestHandler, ticket_id: str, state: str, *, output: Any = None, error: str | None = None
) -> Ticket:
    ticket = await _ticket(handler, ticket_id)
    if ticket.pending:
        runtime = await handler.runtime_for(ticket.task_id)
        if runtime is not None:
            await runtime.settle_ticket(ticket_id, state, output=output, error=error)
        ticket = await _ticket(handler, ticket_id)
    if ticket.state == state and ticket.output == output and ticket.error == error:
        return ticket  # settled now, or earlier with the same result
    raise TicketConflict(f"Ticket {ticket_id} is already {ticket.state} with another result")
