"""The A2A extensions this server declares: their URIs and card entries.

A module of constants with no imports, so a client (the conformance suite, a runner) can
name an extension without loading the server.
"""

__all__ = ["TICKETS_EXTENSION", "TICKETS_EXTENSION_URI"]

TICKETS_EXTENSION_URI = "urn:a2a-server:extension:deferred-tickets:v1"
TICKETS_EXTENSION = {
    "uri": TICKETS_EXTENSION_URI,
    "description": (
        "Deferred tool tickets: a task parks `working` while its background tools run; "
        "metadata.a2aServer.pendingTickets lists them. The methods a2aserver.tickets/list, "
        "a2aserver.tickets/get, a2aserver.tickets/resolve and a2aserver.tickets/fail let the "
        "system doing the work settle them; errors -32050 (ticket not found) and -32051 "
        "(already settled differently)."
    ),
    "required": False,
}
