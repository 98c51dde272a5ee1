"""The deferred-tickets extension: methods to see and settle tickets from outside.

Tools that hand work to another system (a CI job, a human approval) are settled by that
system through the server (spec §3.5: namespaced extension methods `a2aserver.tickets/list`,
`get`, `resolve`, `fail`; their wire is `protocol/tickets.py`).

Tickets are seen and settled by their task's owner, and by the principals of
`--ticket-principals`; to anyone else a ticket is unknown. Unknown tickets get -32050.
Settling a settled ticket again with the same result answers the ticket as it is
(idempotent); with another result, -32051.
"""

from __future__ import annotations

from typing import Any

from a2a_server import follow, logs
from a2a_server.errors import TaskNotFound, TicketConflict, TicketNotFound
from a2a_server.handler import CallContext, RequestHandler
from a2a_server.mapping import ours
from a2a_server.model import TERMINAL_STATES, Frame, StatusUpdate
from a2a_server.protocol.tickets import FailParams, GetParams, ListParams, ResolveParams
from a2a_server.store.base import SettleCommand
from a2a_server.tickets import Ticket

__all__ = [
    "fail_ticket",
    "get_ticket",
    "list_tickets",
    "resolve_ticket",
]

async def _works_on(handler: RequestHandler, task_id: str, ctx: CallContext) -> bool:
    """Whether the caller may see and settle the task's tickets: its owner, or a principal
    of `--ticket-principals` (the systems that do deferred work)."""
    loaded = await handler.store.load(task_id)
    if loaded is None or not (loaded.principal == ctx.principal or ctx.principal in handler.ticket_principals):
        return False
    logs.note(task_id, loaded.task.context_id)
    return True


async def list_tickets(handler: RequestHandler, params: ListParams, ctx: CallContext) -> list[Ticket]:
    if not await _works_on(handler, params.task_id, ctx):
        raise TaskNotFound()  # unknown, or another's: the same answer
    tickets = await handler.store.tickets(params.task_id)
    return [t for t in tickets if params.state in (None, t.state)]


async def get_ticket(handler: RequestHandler, params: GetParams, ctx: CallContext) -> Ticket:
    return await _ticket(handler, params.ticket_id, ctx)


async def resolve_ticket(handler: RequestHandler, params: ResolveParams, ctx: CallContext) -> Ticket:
    return await _settle(handler, ctx, params.ticket_id, "resolved", output=params.output)


async def fail_ticket(handler: RequestHandler, params: FailParams, ctx: CallContext) -> Ticket:
    return await _settle(handler, ctx, params.ticket_id, "failed", error=params.error)


async def _ticket(handler: RequestHandler, ticket_id: str, ctx: CallContext) -> Ticket:
    ticket = await handler.store.ticket(ticket_id)
    if ticket is None or not await _works_on(handler, ticket.task_id, ctx):
        raise TicketNotFound(f"Ticket {ticket_id} not found")
    return ticket


async def _settle(
    handler: RequestHandler, ctx: CallContext, ticket_id: str, state: str, *,
    output: Any = None, error: str | None = None,
) -> Ticket:
    """Queue the settlement for the ticket's task (its actor, wherever it runs, writes it) and
    wait until the ticket is no longer pending: then it settled with this result, or with
    another (a conflict), or the task ended first."""
    ticket = await _ticket(handler, ticket_id, ctx)
    if ticket.pending:
        loaded = await handler.store.load(ticket.task_id)
        if loaded is not None and loaded.task.status.state not in TERMINAL_STATES:
            await handler.replica.submit(ticket.task_id, SettleCommand(ticket_id, state, output, error))
            # or a turn's end: a settlement that found the ticket settled already (by a
            # request that raced this one) writes no frame, and the task may go on resting
            await follow.until(
                handler.store, ticket.task_id, loaded.seq,
                lambda f: _announces(f, ticket_id) or follow.is_final(f),
            )
        ticket = await _ticket(handler, ticket_id, ctx)
    if ticket.state == state and ticket.output == output and ticket.error == error:
        return ticket  # settled now, or earlier with the same result
    raise TicketConflict(f"Ticket {ticket_id} is already {ticket.state} with another result")


def _announces(frame: Frame, ticket_id: str) -> bool:
    """A frame that tells the ticket settled, or that the task ended (and its tickets too)."""
    if type(frame) is not StatusUpdate:
        return False
    if frame.status.state in TERMINAL_STATES:
        return True
    return any(t.get("ticketId") == ticket_id and t.get("state") != "pending"
               for t in ours(frame.metadata).get("tickets", ()))
