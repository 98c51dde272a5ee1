"""1.0 envelope checks: version negotiation (spec 1.0 §3.6), error objects with their
google.rpc.ErrorInfo (§9.5, §5.4), standard JSON-RPC errors, ProtoJSON's two spellings of
params (§5.5) and the content type (§9.1)."""

from __future__ import annotations

import uuid
from typing import Any

from conformance.model import Fail
from conformance.probe import Reply, describe
from conformance.probe_v1 import V1Probe, v1_check
from conformance.shapes_v1 import problem

ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
DOMAIN = "a2a-protocol.org"
REASONS = {  # §5.4: the A2A error type, UPPER_SNAKE_CASE, without "Error"
    -32001: "TASK_NOT_FOUND", -32002: "TASK_NOT_CANCELABLE", -32003: "PUSH_NOTIFICATION_NOT_SUPPORTED",
    -32004: "UNSUPPORTED_OPERATION", -32005: "CONTENT_TYPE_NOT_SUPPORTED", -32006: "INVALID_AGENT_RESPONSE",
    -32007: "EXTENDED_AGENT_CARD_NOT_CONFIGURED", -32008: "EXTENSION_SUPPORT_REQUIRED",
    -32009: "VERSION_NOT_SUPPORTED",
}
_MISSING = "conformance-no-such-task"


def expect_error(reply: Reply, code: int, request_id: Any, what: str) -> None:
    """`reply` is the 1.0 JSON-RPC error `code` (with its ErrorInfo, for an A2A code) and
    echoes `request_id`; fails the check otherwise."""
    if reply.status != 200:
        raise Fail(f"{what}: HTTP {reply.status} (JSON-RPC errors are sent with HTTP 200)")
    if not isinstance(reply.body, dict) or not isinstance(reply.body.get("error"), dict):
        raise Fail(f"{what}: expected error {code}, got {describe(reply)}")
    bad = problem("JSONRPCErrorResponse", reply.body)
    if bad:
        raise Fail(f"{what}: {bad} (an error holds only code, message and data)")
    if reply.error_code != code:
        raise Fail(f"{what}: expected error {code}, got {describe(reply)}")
    if reply.body.get("id") != request_id:
        raise Fail(f"{what}: response id {reply.body.get('id')!r}, expected {request_id!r}")
    if code in REASONS:
        check_error_info(reply.body["error"], REASONS[code], what)


def check_error_info(error: dict[str, Any], reason: str, what: str) -> None:
    details = error.get("data")
    if not isinstance(details, list):
        raise Fail(f"{what}: error.data is {type(details).__name__}, not an array of google.rpc details")
    infos = [d for d in details if isinstance(d, dict) and d.get("@type") == ERROR_INFO]
    if len(infos) != 1:
        raise Fail(f"{what}: error.data holds {len(infos)} google.rpc.ErrorInfo, not one")
    bad = problem("ErrorInfo", infos[0])
    if bad:
        raise Fail(f"{what}: {bad}")
    if infos[0]["domain"] != DOMAIN:
        raise Fail(f"{what}: ErrorInfo domain {infos[0]['domain']!r}, not {DOMAIN!r}")
    if infos[0]["reason"] != reason:
        raise Fail(f"{what}: ErrorInfo reason {infos[0]['reason']!r}, not {reason!r}")


@v1_check("v1.version.missing", "3.6.2", "must", "A 1.0 method without A2A-Version gets -32009 VERSION_NOT_SUPPORTED")
async def version_missing(v: V1Probe) -> None:
    reply = await v.rpc("GetTask", {"id": _MISSING}, request_id=21, headers={"A2A-Version": None})
    expect_error(reply, -32009, 21, "GetTask without A2A-Version (that is 0.3)")


@v1_check("v1.version.unsupported", "3.6.2", "must", "An unsupported A2A-Version gets -32009 VERSION_NOT_SUPPORTED")
async def version_unsupported(v: V1Probe) -> None:
    reply = await v.rpc("SendMessage", {"message": v.message("hello")}, request_id=22, headers={"A2A-Version": "99.0"})
    expect_error(reply, -32009, 22, "A2A-Version: 99.0")


@v1_check("v1.version.patch", "3.6", "must", "A patch version in A2A-Version is ignored (1.0.7 is 1.0)")
async def version_patch(v: V1Probe) -> None:
    reply = await v.rpc("GetTask", {"id": _MISSING}, request_id=23, headers={"A2A-Version": "1.0.7"})
    expect_error(reply, -32001, 23, "GetTask of an unknown task with A2A-Version: 1.0.7")


@v1_check("v1.errors.error-info", "9.5", "must", "A2A errors: only code, message and data; data holds the ErrorInfo")
async def error_info(v: V1Probe) -> None:
    expect_error(await v.rpc("GetTask", {"id": _MISSING}, request_id=24), -32001, 24, "GetTask of an unknown task")
    expect_error(await v.rpc("CancelTask", {"id": _MISSING}, request_id=25), -32001, 25, "CancelTask of an unknown task")


@v1_check("v1.jsonrpc.method-not-found", "9.5", "must", "An unknown method gets -32601 with the request id")
async def method_not_found(v: V1Probe) -> None:
    expect_error(await v.rpc("ConformanceNoSuchMethod", {}, request_id=26), -32601, 26, "an unknown method")


@v1_check("v1.jsonrpc.invalid-params", "3.3.2", "must", "Invalid params get -32602")
async def invalid_params(v: V1Probe) -> None:
    expect_error(await v.rpc("SendMessage", {"message": {"parts": "invalid"}}, request_id=27), -32602, 27,
                 "SendMessage with a malformed message")
    expect_error(await v.rpc("SendMessage", {}, request_id=28), -32602, 28, "SendMessage without a message")


@v1_check("v1.jsonrpc.snake-case", "5.5", "must", "Params in the proto's snake_case names are accepted too")
async def snake_case(v: V1Probe) -> None:
    context_id = f"conformance-snake-{uuid.uuid4()}"
    message = {"message_id": f"conformance-{context_id}", "role": "ROLE_USER", "parts": [{"text": "hello"}],
               "context_id": context_id}
    sent = await v.rpc("SendMessage", {"message": message, "configuration": {"return_immediately": True}})
    if not isinstance(sent.result, dict):
        raise Fail(f"SendMessage with message_id and context_id failed: {describe(sent)}")
    got = sent.result.get("task") or sent.result.get("message") or {}
    if got.get("contextId") != context_id:
        raise Fail(f"context_id {context_id!r} was not read (the answer has contextId {got.get('contextId')!r})")
    listed = await v.rpc("ListTasks", {"context_id": context_id, "page_size": 1})
    page = listed.result
    if not isinstance(page, dict) or page.get("pageSize") != 1:
        raise Fail(f"ListTasks with page_size 1 did not page by 1: {describe(listed)}")


@v1_check("v1.jsonrpc.content-type", "9.1", "must", "JSON-RPC answers are application/json")
async def content_type(v: V1Probe) -> None:
    reply = await v.rpc("GetTask", {"id": _MISSING})
    if not reply.content_type.startswith("application/json"):
        raise Fail(f"the answer is {reply.content_type!r}, not application/json")


CHECKS = (
    version_missing, version_unsupported, version_patch, error_info, method_not_found, invalid_params,
    snake_case, content_type,
)
