"""JSON-RPC envelope checks (spec §3.2.1, §6.11, §8.1; JSON-RPC 2.0 §4-5) and A2A error codes
(§8.2)."""

from __future__ import annotations

import json
from typing import Any

from conformance.model import Fail, check
from conformance.probe import Probe, Reply, describe
from conformance.shapes import problem


def expect_error(reply: Reply, code: int, request_id: Any, what: str) -> None:
    if reply.status != 200:
        raise Fail(f"{what}: HTTP {reply.status} (JSON-RPC errors are sent with HTTP 200)")
    if not isinstance(reply.body, dict):
        raise Fail(f"{what}: the answer is not a JSON-RPC response ({describe(reply)})")
    bad = problem("JSONRPCErrorResponse", reply.body)
    if bad:
        raise Fail(f"{what}: {bad}")
    if reply.error_code != code:
        raise Fail(f"{what}: expected error {code}, got {describe(reply)}")
    if reply.body.get("id") != request_id:
        raise Fail(f"{what}: response id {reply.body.get('id')!r}, expected {request_id!r}")


@check("jsonrpc.parse-error", "8.1", "must", "Malformed JSON gets -32700 with id null")
async def parse_error(p: Probe) -> None:
    expect_error(await p.post(b'{"jsonrpc": "2.0", "method": "tasks/get", "id": 1'), -32700, None, "malformed JSON")


@check("jsonrpc.invalid-request", "8.1", "must", "A request that is not JSON-RPC 2.0 gets -32600")
async def invalid_request(p: Probe) -> None:
    expect_error(await p.post(b'{"jsonrpc": "1.0", "id": 7, "method": "tasks/get", "params": {"id": "x"}}'),
                 -32600, 7, 'jsonrpc "1.0"')
    expect_error(await p.post(b'{"jsonrpc": "2.0", "id": 8, "params": {}}'), -32600, 8, "no method")


@check("jsonrpc.invalid-id", "6.11.1", "should", "An id that is neither string nor number gets -32600")
async def invalid_id(p: Probe) -> None:
    expect_error(await p.post(b'{"jsonrpc": "2.0", "id": {"a": 1}, "method": "tasks/get", "params": {"id": "x"}}'),
                 -32600, None, "object id")


@check("jsonrpc.batch", "3.2.1", "should", "A batch (which A2A does not use) is refused with -32600")
async def batch(p: Probe) -> None:
    reply = await p.post(b'[{"jsonrpc": "2.0", "id": 1, "method": "tasks/get", "params": {"id": "x"}}]')
    if isinstance(reply.body, list):
        raise Fail("a batch was answered as a batch; A2A defines no batches")
    expect_error(reply, -32600, None, "batch")


@check("jsonrpc.method-not-found", "8.1", "must", "An unknown method gets -32601 with the request id")
async def method_not_found(p: Probe) -> None:
    expect_error(await p.rpc("conformance/no-such-method", {}, request_id=41), -32601, 41, "unknown method")


@check("jsonrpc.invalid-params", "8.1", "must", "Invalid params get -32602")
async def invalid_params(p: Probe) -> None:
    expect_error(await p.rpc("message/send", {"message": {"parts": "invalid"}}, request_id="ip"), -32602, "ip",
                 "message/send with a malformed message")
    expect_error(await p.rpc("message/send", {}, request_id="ip2"), -32602, "ip2", "message/send without a message")


@check("jsonrpc.id-echo", "6.11.2", "must", "Responses echo string and integer ids")
async def id_echo(p: Probe) -> None:
    for request_id in ("conformance-string-id", 8675309):
        reply = await p.rpc("tasks/get", {"id": "conformance-no-such-task"}, request_id=request_id)
        if not isinstance(reply.body, dict) or reply.body.get("id") != request_id:
            got = reply.body.get("id") if isinstance(reply.body, dict) else describe(reply)
            raise Fail(f"sent id {request_id!r}, the response has {got!r}")


@check("errors.task-not-found", "8.2", "must", "tasks/get of an unknown task gets -32001")
async def task_not_found(p: Probe) -> None:
    expect_error(await p.rpc("tasks/get", {"id": "conformance-no-such-task"}, request_id=3), -32001, 3, "tasks/get")


@check("errors.cancel-not-found", "7.4", "must", "tasks/cancel of an unknown task gets -32001")
async def cancel_not_found(p: Probe) -> None:
    expect_error(await p.rpc("tasks/cancel", {"id": "conformance-no-such-task"}, request_id=4), -32001, 4, "tasks/cancel")


@check("errors.message-to-unknown-task", "7.1", "should", "A message naming an unknown taskId gets -32001")
async def unknown_task_message(p: Probe) -> None:
    reply = await p.rpc("message/send", {"message": p.message("hello", taskId="conformance-no-such-task")}, request_id=5)
    expect_error(reply, -32001, 5, "message/send with an unknown taskId")


@check("errors.no-leaks", "8.1", "should", "Errors carry no exception text or stack traces")
async def no_leaks(p: Probe) -> None:
    for reply in (
        await p.post(b'{"jsonrpc": "2.0", "id": 1, "method": "message/send", "params": {"message": {"parts": [{"kind": "text"}]}}}'),
        await p.post(b'{"jsonrpc": "2.0", "id": 2, "method": "tasks/get", "params": {"id": ["not", "a", "string"]}}'),
    ):
        text = json.dumps(reply.body) if reply.body is not None else reply.text
        for marker in ("Traceback", 'File "', "Exception:", "Error(", "pydantic"):
            if marker in text:
                raise Fail(f"an error response contains {marker!r}: {text[:120]}")


CHECKS = (
    parse_error, invalid_request, invalid_id, batch, method_not_found, invalid_params, id_echo,
    task_not_found, cancel_not_found, unknown_task_message, no_leaks,
)
