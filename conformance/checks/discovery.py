"""Checks of the card itself, whatever versions it declares (spec 1.0 §8.2, §8.3.1; 0.3 §5.3):
it is served at the well-known path, and it names a JSON-RPC interface the suite can test."""

from __future__ import annotations

import json

from conformance.model import Fail, check
from conformance.probe import Probe


@check("card.served", "8.2", "must", "The card is served at /.well-known/agent-card.json", version="any")
async def served(p: Probe) -> None:
    response = await p.http.get(p.base + "/.well-known/agent-card.json")
    if response.status_code != 200:
        raise Fail(f"GET /.well-known/agent-card.json answered HTTP {response.status_code}")
    if not response.headers.get("content-type", "").startswith("application/json"):
        raise Fail(f"the card is served as {response.headers.get('content-type')!r}, not application/json")
    try:
        json.loads(response.text)
    except ValueError:
        raise Fail("the card is not JSON") from None


@check("card.declares", "8.3.1", "must", "The card declares a JSON-RPC interface of protocol 0.3 or 1.0", version="any")
async def declares(p: Probe) -> None:
    if p.interfaces.v0_3 is None and p.interfaces.v1_0 is None:
        raise Fail(f"{p.interfaces.why}: no supportedInterfaces entry for JSONRPC in 1.0 or 0.3, "
                   "and no 0.3 url with JSON-RPC")


CHECKS = (served, declares)
