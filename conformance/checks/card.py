"""Agent card checks of protocol 0.3 (spec §5) and the honesty of its capabilities (§7.2, §7.5,
§7.10)."""

from __future__ import annotations

from urllib.parse import urlsplit

from conformance.discovery import jsonrpc_0_3_url
from conformance.model import Fail, Skip, check
from conformance.probe import Probe, describe
from conformance.shapes import problem


def _card(p: Probe) -> dict:  # type: ignore[type-arg]
    if p.card is None:
        raise Fail("no agent card at /.well-known/agent-card.json (nor the legacy agent.json)")
    return p.card


@check("card.schema", "5.5", "must", "The card is a valid AgentCard")
async def schema(p: Probe) -> None:
    bad = problem("AgentCard", _card(p))
    if bad:
        raise Fail(bad)


@check("card.url", "5.6.1", "must", "The card's url is the JSON-RPC endpoint of its preferred transport")
async def url(p: Probe) -> None:
    card = _card(p)
    target = jsonrpc_0_3_url(card)
    if target is None:
        raise Fail(f"no JSON-RPC interface: preferredTransport is {card.get('preferredTransport')!r} "
                   "and additionalInterfaces lists none")
    if urlsplit(target).scheme not in ("http", "https"):
        raise Fail(f"the JSON-RPC url {target!r} is not an absolute http(s) URL")
    reply = await p.rpc("tasks/get", {"id": "conformance-no-such-task"})
    if not isinstance(reply.body, dict) or reply.body.get("jsonrpc") != "2.0":
        raise Fail(f"POST to the card's url {target} is not a JSON-RPC endpoint: {describe(reply)}")


@check("card.protocol-version", "5.5", "should", "protocolVersion names protocol 0.3")
async def protocol_version(p: Probe) -> None:
    version = str(_card(p).get("protocolVersion", ""))
    if not version.startswith("0.3"):
        raise Fail(f"protocolVersion is {version!r}, not 0.3.x")


@check("card.interfaces", "5.6.2", "should", "additionalInterfaces lists the main url and transport too")
async def interfaces(p: Probe) -> None:
    card = _card(p)
    listed = card.get("additionalInterfaces")
    if not listed:
        raise Skip("the card lists no additionalInterfaces")
    main = (card.get("url"), card.get("preferredTransport", "JSONRPC"))
    if not any(isinstance(i, dict) and (i.get("url"), i.get("transport")) == main for i in listed):
        raise Fail(f"additionalInterfaces does not include the main interface {main}")


@check("capability.streaming", "7.2", "must", "Streaming works if declared, is refused with -32004 if not")
async def streaming_honest(p: Probe) -> None:
    from conformance.triggers import COMPLETE

    stream = await p.stream("message/stream", {"message": p.message(COMPLETE)})
    is_sse = stream.content_type.startswith("text/event-stream") and bool(stream.frames)
    if p.declares("streaming"):
        if not is_sse:
            why = describe(stream.reply) if stream.reply else "no frames"
            raise Fail(f"the card declares streaming, but message/stream gave {why}")
        return
    code = stream.reply.error_code if stream.reply else (stream.events[0].body or {}).get("error", {}).get("code") if stream.events else None
    if code not in (-32004, -32601):
        raise Fail(f"the card does not declare streaming, yet message/stream was not refused with -32004 (got {code})")


@check("capability.push", "7.5", "must", "Push configs work if declared, are refused with -32003 if not")
async def push_honest(p: Probe) -> None:
    task = await p.shared("completed")
    reply = await p.rpc("tasks/pushNotificationConfig/set", {
        "taskId": task["id"], "pushNotificationConfig": {"url": "https://conformance.invalid/webhook"},
    })
    if p.declares("pushNotifications"):
        if reply.error_code is not None:
            raise Fail(f"the card declares pushNotifications, but set gave {describe(reply)}")
    elif reply.error_code != -32003:
        raise Fail(f"the card does not declare pushNotifications, yet set gave {describe(reply)}, not -32003")


@check("capability.extended-card", "7.10", "must", "agent/getAuthenticatedExtendedCard matches the card's claim")
async def extended_card(p: Probe) -> None:
    reply = await p.rpc("agent/getAuthenticatedExtendedCard")
    if _card(p).get("supportsAuthenticatedExtendedCard") is True:
        if reply.status in (401, 403):
            raise Skip("the extended card needs credentials the suite does not have")
        bad = problem("AgentCard", reply.result) if reply.result is not None else describe(reply)
        if bad:
            raise Fail(f"the card claims an extended card, but the method gave: {bad}")
    elif reply.error_code not in (-32007, -32004, -32601):
        raise Fail(f"no extended card is declared, yet the method gave {describe(reply)}, not -32007")


CHECKS = (schema, url, protocol_version, interfaces, streaming_honest, push_honest, extended_card)
