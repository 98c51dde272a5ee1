"""A client for any A2A agent, ours or another's, in protocol 0.3 or 1.0: what `a2a-server
call` and `a2a-server card URL` are made of.

    discovery.py   fetch the agent card, choose the JSON-RPC interface (1.0 when offered)
    transport.py   JSON-RPC and Server-Sent Events over httpx; the client's errors
    wire.py        both versions' requests, and their frames read into neutral events
    render.py      those events on a terminal (rich) or as plain lines
    session.py     one turn, a chat, the exit codes of `call`
    cards.py       a card validated (0.3 and 1.0 shapes) and shown, for `card URL`
    progress.py    progress of long runs (the conformance suite, the benchmark)

It imports nothing of the server (no starlette): only httpx, rich and, to judge cards, the
conformance suite's own shape models.
"""

from a2a_server.client.discovery import Endpoint, discover
from a2a_server.client.transport import ClientError, RpcError, Unreachable

__all__ = ["ClientError", "Endpoint", "RpcError", "Unreachable", "discover"]
