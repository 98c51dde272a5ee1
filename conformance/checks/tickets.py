"""a2a-server's deferred-tickets extension, when the card declares it: pending tickets are
visible and can be settled from outside (a2aserver.tickets/*)."""

from __future__ import annotations

from typing import Any

from conformance.model import Fail, Skip, check
from conformance.probe import Probe, describe


async def _parked(p: Probe) -> tuple[dict[str, Any], str]:
    task = await p.fresh("open")
    pending = ((task.get("metadata") or {}).get("a2aServer") or {}).get("pendingTickets") or []
    if not pending:
        raise Skip("the open task is not parked on a ticket")
    return task, pending[0]["ticketId"]


@check("tickets.visible", "3.5.5", "must", "A parked task lists its pending tickets, and tickets/list agrees", needs="tickets")
async def visible(p: Probe) -> None:
    task, ticket_id = await _parked(p)
    listed = await p.result("a2aserver.tickets/list", {"taskId": task["id"], "state": "pending"})
    if not isinstance(listed, list) or [t.get("ticketId") for t in listed] != [ticket_id]:
        raise Fail(f"a2aserver.tickets/list gave {listed!r}, not the pending ticket {ticket_id}")
    got = await p.result("a2aserver.tickets/get", {"ticketId": ticket_id})
    if got.get("state") != "pending" or got.get("taskId") != task["id"]:
        raise Fail(f"a2aserver.tickets/get gave {got!r}")
    await p.rpc("tasks/cancel", {"id": task["id"]})


@check("tickets.settle", "3.5.5", "must", "Resolving the last ticket lets the task end; settling again is idempotent", needs="tickets")
async def settle(p: Probe) -> None:
    task, ticket_id = await _parked(p)
    resolved = await p.result("a2aserver.tickets/resolve", {"ticketId": ticket_id, "output": {"ok": True}})
    if resolved.get("state") != "resolved":
        raise Fail(f"resolve gave {resolved!r}")
    ended = await p.wait_for_state(task["id"], {"completed", "failed", "input-required"})
    if ended is None:
        raise Fail("the task did not go on after its last ticket was resolved")
    again = await p.rpc("a2aserver.tickets/resolve", {"ticketId": ticket_id, "output": {"ok": True}})
    if again.error_code is not None:
        raise Fail(f"resolving again with the same output is not idempotent: {describe(again)}")
    other = await p.rpc("a2aserver.tickets/resolve", {"ticketId": ticket_id, "output": {"ok": False}})
    if other.error_code != -32051:
        raise Fail(f"resolving again with another output should be -32051, got {describe(other)}")
    unknown = await p.rpc("a2aserver.tickets/get", {"ticketId": "conformance-no-such-ticket"})
    if unknown.error_code != -32050:
        raise Fail(f"an unknown ticket should be -32050, got {describe(unknown)}")


CHECKS = (visible, settle)
