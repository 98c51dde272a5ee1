"""1.0 agent card checks (spec 1.0 §4.4, §8.3) and the honesty of its capabilities (§3.3.4,
§3.1.11)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from conformance.checks.v1_envelope import expect_error
from conformance.discovery import first_jsonrpc
from conformance.model import Fail, Skip
from conformance.probe import describe
from conformance.probe_v1 import V1Probe, v1_check
from conformance.shapes_v1 import problem
from conformance.triggers import COMPLETE

# the 0.3 fields a merged card (0.3 and 1.0 in one) carries beside the 1.0 ones
ONLY_0_3 = frozenset({"protocolVersion", "url", "preferredTransport", "additionalInterfaces",
                      "supportsAuthenticatedExtendedCard", "security"})
BINDINGS = frozenset({"JSONRPC", "GRPC", "HTTP+JSON"})
_MISSING = "conformance-no-such-task"


def card_v1(v: V1Probe) -> dict[str, Any]:
    """The card as a 1.0 client reads it: without the 0.3 fields when it declares 0.3 too."""
    if v.probe.interfaces.v0_3 is None:
        return v.card
    return {k: value for k, value in v.card.items() if k not in ONLY_0_3}


@v1_check("v1.card.schema", "4.4.1", "must", "The card is a valid 1.0 AgentCard (0.3 fields only beside a 0.3 interface)")
async def schema(v: V1Probe) -> None:
    bad = problem("AgentCard", card_v1(v))
    if bad:
        raise Fail(bad)


@v1_check("v1.card.interfaces", "8.3.1", "must", "supportedInterfaces: known bindings in upper case, Major.Minor versions, http(s) urls")
async def interfaces(v: V1Probe) -> None:
    listed = v.card.get("supportedInterfaces")
    if not isinstance(listed, list) or not listed:
        raise Fail("supportedInterfaces is missing or empty")
    for i, entry in enumerate(listed):
        binding, version, url = (entry.get(k) if isinstance(entry, dict) else None
                                 for k in ("protocolBinding", "protocolVersion", "url"))
        if binding not in BINDINGS and not (isinstance(binding, str) and re.match(r"^[a-z][a-z0-9+.-]*:", binding)):
            raise Fail(f"interface {i}: protocolBinding {binding!r} is none of JSONRPC, GRPC, HTTP+JSON (upper case) nor a URI")
        if not (isinstance(version, str) and re.fullmatch(r"\d+\.\d+", version)):
            raise Fail(f"interface {i}: protocolVersion {version!r} is not Major.Minor (§3.6: no patch version)")
        if not (isinstance(url, str) and urlsplit(url).scheme in ("http", "https") and urlsplit(url).netloc):
            raise Fail(f"interface {i}: url {url!r} is not an absolute http(s) URL")


@v1_check("v1.card.url", "8.3.1", "must", "The 1.0 JSON-RPC interface's url answers 1.0 calls")
async def url(v: V1Probe) -> None:
    reply = await v.rpc("GetTask", {"id": _MISSING}, request_id=31)
    if not isinstance(reply.body, dict) or reply.body.get("jsonrpc") != "2.0":
        raise Fail(f"POST to the 1.0 interface {v.url} is not a JSON-RPC endpoint: {describe(reply)}")
    expect_error(reply, -32001, 31, f"GetTask of an unknown task at {v.url}")


@v1_check("v1.card.preferred", "8.3.1", "should", "The first JSONRPC interface serves 1.0 (clients that read the binding only take it)")
async def preferred(v: V1Probe) -> None:
    first = first_jsonrpc(v.card) or {}
    if str(first.get("protocolVersion", "")).split(".")[0] == "1":
        return
    reply = await v.rpc("GetTask", {"id": _MISSING}, url=str(first.get("url")))
    if reply.error_code != -32001:
        raise Fail(f"the first JSONRPC interface is {first.get('protocolVersion')!r} at {first.get('url')}, and a 1.0 "
                   f"call there got {describe(reply)}: the 1.0 kit and fasta2a send 1.0 to it")


@v1_check("v1.capability.streaming", "3.3.4", "must", "Streaming works if declared, is refused with -32004 if not")
async def streaming_honest(v: V1Probe) -> None:
    stream = await v.stream("SendStreamingMessage", {"message": v.message(COMPLETE)}, request_id=32)
    if v.declares("streaming"):
        if not (stream.content_type.startswith("text/event-stream") and stream.frames):
            raise Fail(f"the card declares streaming, but SendStreamingMessage gave "
                       f"{describe(stream.reply) if stream.reply else 'no frames'}")
        return
    if stream.reply is not None:
        expect_error(stream.reply, -32004, 32, "SendStreamingMessage while the card does not declare streaming")
    else:
        raise Fail("the card does not declare streaming, yet SendStreamingMessage streamed")


@v1_check("v1.capability.push", "3.3.4", "must", "Push configs work if declared; if not, -32003 before any task lookup")
async def push_honest(v: V1Probe) -> None:
    if v.declares("pushNotifications"):
        task = await v.shared("completed")
        reply = await v.rpc("CreateTaskPushNotificationConfig",
                            {"taskId": task["id"], "url": "https://conformance.invalid/webhook"})
        if reply.error_code is not None:
            raise Fail(f"the card declares pushNotifications, but Create gave {describe(reply)}")
        return
    reply = await v.rpc("CreateTaskPushNotificationConfig", {"taskId": _MISSING, "url": "https://conformance.invalid/webhook"},
                        request_id=33)
    expect_error(reply, -32003, 33, "Create while the card does not declare pushNotifications")


@v1_check("v1.capability.extended-card", "3.1.11", "must", "GetExtendedAgentCard matches capabilities.extendedAgentCard")
async def extended_card(v: V1Probe) -> None:
    reply = await v.rpc("GetExtendedAgentCard", {}, request_id=34)
    if (v.card.get("capabilities") or {}).get("extendedAgentCard") is True:
        if reply.status in (401, 403):
            raise Skip("the extended card needs credentials the suite does not have")
        if reply.error_code == -32007:
            expect_error(reply, -32007, 34, "GetExtendedAgentCard (declared, not configured)")
            return
        bad = problem("AgentCard", reply.result) if reply.result is not None else describe(reply)
        if bad:
            raise Fail(f"the card declares an extended card, but GetExtendedAgentCard gave: {bad}")
        return
    expect_error(reply, -32004, 34, "GetExtendedAgentCard while the card does not declare extendedAgentCard")


CHECKS = (schema, interfaces, url, preferred, streaming_honest, push_honest, extended_card)
