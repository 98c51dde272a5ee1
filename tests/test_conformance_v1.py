"""The 1.0 checks of the conformance suite, each against a deliberately broken endpoint (our
real app behind one injected fault, `tests/faults.py`): each must pass on the app as it is
and fail behind every one of its faults. (Against whole servers, ours and the SDK's, the
suite runs in tests/test_conformance.py.)"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from a2a_server import Settings, create_app
from a2a_server.runner.conformance import ConformanceRunner
from conformance import Outcome, run_suite
from conformance.checks import ALL_CHECKS
from conformance.checks.v1_card import ONLY_0_3
from tests.conftest import LiveServer, free_port
from tests.faults import Fault, FaultHolder, Faulty
from tests.test_conformance import (
    FAULTS,
    code,
    code_event,
    error_to_result,
    frames,
    on_result,
    result,
)

pytestmark = pytest.mark.anyio

BY_ID = {c.id: c for c in ALL_CHECKS}
_clean: set[str] = set()  # checks already seen passing on the app without a fault


# -- fault builders of 1.0 --------------------------------------------------------------------

def reason(old: str, new: str, key: str = "reason") -> Any:
    """Give the ErrorInfo whose reason is `old` another `key` value (reason or domain)."""
    def reply(m: str | None, req: Any, body: Any) -> Any:
        for detail in (body.get("error") or {}).get("data") or [] if isinstance(body, dict) else []:
            if isinstance(detail, dict) and detail.get("reason") == old:
                detail[key] = new
        return body
    return reply


def error(change: Any) -> Any:
    """Change every error object."""
    def reply(m: str | None, req: Any, body: Any) -> Any:
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            change(body["error"])
        return body
    return reply


def task_of_send(change: Any) -> Any:
    """Change the task of a SendMessage result: `change(task, request)`."""
    def apply(r: Any, req: Any) -> Any:
        if isinstance(r, dict) and isinstance(r.get("task"), dict):
            change(r["task"], req)
        return r
    return result("SendMessage", apply)


def card_interfaces(change: Any) -> Any:
    def card(c: dict[str, Any]) -> dict[str, Any]:
        c = copy.deepcopy(c)
        c["supportedInterfaces"] = change(c["supportedInterfaces"])
        return c
    return card


def interface_1_0(key: str, value: Any) -> Any:
    def change(listed: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**i, key: value(i[key])} if i["protocolVersion"] == "1.0" else i for i in listed]
    return card_interfaces(change)


def capability(key: str, value: Any) -> Any:
    return lambda c: {**c, "capabilities": {**c["capabilities"], key: value}}


def _params(req: Any) -> dict[str, Any]:
    return (req or {}).get("params") or {} if isinstance(req, dict) else {}


def refuse_patch_version(headers: dict[str, str], req: Any) -> Any:
    if headers.get("a2a-version") == "1.0.7":
        return {"jsonrpc": "2.0", "id": req.get("id"), "error": {"code": -32009, "message": "no", "data": [
            {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "VERSION_NOT_SUPPORTED",
             "domain": "a2a-protocol.org"}]}}
    return None


def refuse_snake_case(headers: dict[str, str], req: Any) -> Any:
    params = _params(req)
    keys = [*params, *(params.get("message") or {})]
    if any("_" in k for k in keys):
        return {"jsonrpc": "2.0", "id": req.get("id"), "error": {"code": -32602, "message": "camelCase only"}}
    return None


def drop_page_token(req: Any) -> Any:
    if req.get("method") == "ListTasks":
        _params(req).pop("pageToken", None)
    return req


def drop_push_credentials(req: Any) -> Any:
    config = (_params(req).get("configuration") or {}).get("taskPushNotificationConfig")
    if isinstance(config, dict):
        config.pop("authentication", None)
    return req


def _state(state: str) -> Any:
    return lambda t, req: t["status"].update(state=state)


def _history_twice(r: Any, req: Any) -> Any:
    if _params(req).get("historyLength") is not None and r.get("history"):
        r["history"] = r["history"] * 2
    return r


def _first_part(change: Any) -> Any:
    return task_of_send(lambda t, req: change((t.get("artifacts") or t["history"])[0]["parts"][0]))


def _update(kind: str, test: Any, change: Any) -> Any:
    """Change the `kind` member (statusUpdate, artifactUpdate) of stream results passing `test`."""
    return frames("SendStreamingMessage", on_result(
        lambda i, r, req: kind in r and test(r[kind]), lambda r: change(r[kind])))


_fake_task = {"task": {"id": "t", "contextId": "c", "status": {"state": "TASK_STATE_WORKING"}}}
_ERR = ("TASK_NOT_FOUND", "TASK_NOT_CANCELABLE", "VERSION_NOT_SUPPORTED")

V1_FAULTS: dict[str, list[Fault]] = {
    "v1.card.schema": [
        Fault("card without skills", card=lambda c: {k: v for k, v in c.items() if k != "skills"}),
        Fault("a 0.3 capability in the 1.0 card", card=capability("stateTransitionHistory", True)),
    ],
    "v1.card.interfaces": [
        Fault("binding spelled jsonrpc", card=card_interfaces(lambda ls: [{**i, "protocolBinding": "jsonrpc"} for i in ls])),
        Fault("protocolVersion with a patch", card=interface_1_0("protocolVersion", lambda v: "1.0.0")),
    ],
    "v1.card.url": [Fault("1.0 url not the endpoint", card=interface_1_0("url", lambda u: u + "nowhere/"))],
    "v1.card.preferred": [Fault("a 0.3-only url listed first", card=card_interfaces(
        lambda ls: [{**i, "url": i["url"] + "legacy/"} for i in ls if i["protocolVersion"] == "0.3"]
        + [i for i in ls if i["protocolVersion"] != "0.3"]))],
    "v1.capability.streaming": [Fault("streams but says it does not", card=capability("streaming", False))],
    "v1.capability.push": [Fault("push works but undeclared", card=capability("pushNotifications", False))],
    "v1.capability.extended-card": [Fault("claims an extended card", card=capability("extendedAgentCard", True))],
    "v1.version.missing": [Fault("no version as -32601", reply=code(None, -32009, -32601))],
    "v1.version.unsupported": [Fault("wrong ErrorInfo reason", reply=reason("VERSION_NOT_SUPPORTED", "UNSUPPORTED_OPERATION"))],
    "v1.version.patch": [Fault("patch version refused", answer=refuse_patch_version)],
    "v1.errors.error-info": [
        Fault("wrong ErrorInfo reason", reply=reason("TASK_NOT_FOUND", "NOT_FOUND")),
        Fault("ErrorInfo of another domain", reply=reason("TASK_NOT_FOUND", "example.com", key="domain")),
        Fault("data not an array", reply=error(lambda e: e.update(data=(e.get("data") or [{}])[0]))),
        Fault("an extra member in the error", reply=error(lambda e: e.update(details="x"))),
    ],
    "v1.jsonrpc.method-not-found": [Fault("unknown method as -32600", reply=code(None, -32601, -32600))],
    "v1.jsonrpc.invalid-params": [Fault("invalid params as -32600", reply=code("SendMessage", -32602, -32600))],
    "v1.jsonrpc.snake-case": [Fault("snake_case params refused", answer=refuse_snake_case)],
    "v1.jsonrpc.content-type": [Fault("answers as application/a2a+json", json_content_type="application/a2a+json")],
    "v1.send.result": [Fault("unwrapped SendMessage result", reply=result("SendMessage", lambda r, req: r.get("task", r)))],
    "v1.send.blocking": [Fault("blocking send answers working", reply=task_of_send(_state("TASK_STATE_WORKING")))],
    "v1.send.task-ids": [Fault("history without the user's message", reply=result("GetTask", lambda r, req: {
        **r, "history": [m for m in r.get("history", []) if m["role"] != "ROLE_USER"]}))],
    "v1.send.context-kept": [Fault("contextId replaced", reply=task_of_send(lambda t, req: t.update(contextId="another")))],
    "v1.get.task": [Fault("GetTask wrapped", reply=result("GetTask", lambda r, req: {"task": r}))],
    "v1.get.history-length": [Fault("historyLength ignored", reply=result("GetTask", _history_twice))],
    "v1.get.bad-history-length": [Fault("negative historyLength as -32603", reply=code("GetTask", -32602, -32603))],
    "v1.cancel.open-task": [Fault("cancel leaves it working", reply=result("CancelTask", lambda r, req: {
        **r, "status": {**r["status"], "state": "TASK_STATE_WORKING"}}))],
    "v1.cancel.twice": [
        Fault("not-cancelable as -32004", reply=code("CancelTask", -32002, -32004)),
        Fault("not-cancelable with the wrong reason", reply=reason("TASK_NOT_CANCELABLE", "UNSUPPORTED_OPERATION")),
    ],
    "v1.list.shape": [
        Fault("nextPageToken left out", reply=result("ListTasks", lambda r, req: {k: v for k, v in r.items() if k != "nextPageToken"})),
        Fault("oldest first", reply=result("ListTasks", lambda r, req: {**r, "tasks": r["tasks"][::-1]})),
    ],
    "v1.list.paging": [Fault("ListTasks token ignored", request=drop_page_token)],
    "v1.list.page-size": [Fault("bad pageSize as -32603", reply=code("ListTasks", -32602, -32603))],
    "v1.list.bad-token": [Fault("made-up token accepted", reply=error_to_result("ListTasks", -32602, lambda req: {
        "tasks": [], "nextPageToken": "", "pageSize": 50, "totalSize": 0}))],
    "v1.list.artifacts": [Fault("artifacts listed by default", reply=result("ListTasks", lambda r, req: {
        **r, "tasks": [t if _params(req).get("includeArtifacts") else {**t, "artifacts": []} for t in r["tasks"]]}))],
    "v1.lifecycle.terminal": [
        Fault("ended task takes messages", reply=error_to_result("SendMessage", -32004, lambda req: _fake_task)),
        Fault("ended task as -32602", reply=code("SendMessage", -32004, -32602)),
    ],
    "v1.lifecycle.unknown-task": [Fault("unknown taskId as -32602", reply=code("SendMessage", -32001, -32602))],
    "v1.lifecycle.context-mismatch": [Fault("mismatched contextId accepted",
                                            reply=error_to_result("SendMessage", -32602, lambda req: _fake_task))],
    "v1.lifecycle.input-required": [Fault("follow-up answered by another task", reply=task_of_send(
        lambda t, req: t.update(id="some-other-task") if _params(req)["message"].get("taskId") else None))],
    "v1.data.no-kind": [Fault("kind left in", reply=task_of_send(lambda t, req: t.update(kind="task")))],
    "v1.data.no-final": [Fault("final present", event=_update("statusUpdate", lambda u: True, lambda u: u.update(final=False)))],
    "v1.data.enums": [
        Fault("0.3 state spelling", reply=task_of_send(_state("completed"))),
        Fault("0.3 role spelling", reply=task_of_send(lambda t, req: t["history"][0].update(role="user"))),
    ],
    "v1.data.parts": [Fault("a part with text and url", reply=_first_part(lambda p: p.update(url="https://example.com/x")))],
    "v1.data.timestamps": [Fault("timestamp without Z", reply=task_of_send(
        lambda t, req: t["status"].update(timestamp=t["status"]["timestamp"].replace("Z", "+00:00"))))],
    "v1.data.millis": [Fault("microsecond timestamps", reply=task_of_send(
        lambda t, req: t["status"].update(timestamp=t["status"]["timestamp"].replace("Z", "123Z"))))],
    "v1.data.camel-case": [Fault("snake_case key out", reply=task_of_send(lambda t, req: t.update(context_id=t.pop("contextId"))))],
    "v1.sse.content-type": [Fault("streams as text/plain", content_type="text/plain")],
    "v1.sse.events": [
        Fault("events without jsonrpc", event=frames("SendStreamingMessage", lambda i, b, req: [{k: v for k, v in b.items() if k != "jsonrpc"}])),
        Fault("events without the request id", event=frames("SendStreamingMessage", lambda i, b, req: [{**b, "id": None}] if i > 0 else [b])),
        Fault("two responses in one event", event=frames("SendStreamingMessage", lambda i, b, req: [
            json.dumps(b) + json.dumps(b)] if i == 1 else [b])),
    ],
    "v1.sse.stream-response": [
        Fault("unwrapped events", event=frames("SendStreamingMessage", lambda i, b, req: [
            {**b, "result": next(iter(b["result"].values()))}])),
        Fault("two members in one event", event=frames("SendStreamingMessage", lambda i, b, req: [
            {**b, "result": {**b["result"], "message": {"messageId": "m", "role": "ROLE_AGENT", "parts": [{"text": "x"}]}}}]
            if i == 1 else [b])),
    ],
    "v1.sse.task-first": [Fault("no Task first", event=frames("SendStreamingMessage", lambda i, b, req: [] if i == 0 else [b]))],
    "v1.sse.one-task": [Fault("an event of another context", event=frames("SendStreamingMessage", on_result(
        lambda i, r, req: i == 2, lambda r: next(iter(r.values())).update(contextId="elsewhere"))))],
    "v1.sse.closes": [
        Fault("stream not closing", hold_open=4.0),
        Fault("an event after the terminal one", event=frames("SendStreamingMessage", lambda i, b, req: [b, b] if (
            (b.get("result") or {}).get("statusUpdate") or {}).get("status", {}).get("state") == "TASK_STATE_COMPLETED" else [b])),
    ],
    "v1.sse.closes-interrupted": [Fault("stream not closing at input-required", hold_open=4.0)],
    "v1.artifacts.chunks": [Fault("first chunk appends", event=_update(
        "artifactUpdate", lambda u: not u.get("append"), lambda u: u.update(append=True)))],
    "v1.artifacts.add-up": [Fault("chunks do not add up", event=_update(
        "artifactUpdate", lambda u: True, lambda u: u["artifact"]["parts"][0].update(text="X")))],
    "v1.artifacts.last-chunk": [Fault("lastChunk never set", event=_update(
        "artifactUpdate", lambda u: True, lambda u: u.pop("lastChunk", None)))],
    "v1.subscribe.live": [Fault("subscribe without the Task", event=frames("SubscribeToTask", lambda i, b, req: [] if i == 0 else [b]))],
    "v1.subscribe.ended": [Fault("ended task as -32001", reply=code("SubscribeToTask", -32004, -32001))],
    "v1.subscribe.unknown": [Fault("unknown task as -32603", reply=code("SubscribeToTask", -32001, -32603),
                                   event=code_event("SubscribeToTask", -32001, -32603))],
    "v1.push.round-trip": [
        Fault("get returns another url", reply=result("GetTaskPushNotificationConfig", lambda r, req: {**r, "url": "https://else.example/"})),
        Fault("delete answers the config", reply=result("DeleteTaskPushNotificationConfig", lambda r, req: _params(req))),
    ],
    "v1.push.unknown-task": [Fault("config for unknown task accepted", reply=error_to_result(
        "CreateTaskPushNotificationConfig", -32001, lambda req: req["params"]))],
    "v1.push.delivery": [Fault("push credentials lost", request=drop_push_credentials)],
}


@pytest.fixture(scope="module")
def faulty() -> Iterator[tuple[FaultHolder, str]]:
    holder = FaultHolder()
    port = free_port()
    settings = Settings(store="memory", port=port, keepalive_seconds=0.5, push_allow_hosts="127.0.0.1")
    app = Faulty(create_app(settings, ConformanceRunner(streaming_timeout=0.5)), holder)
    server = LiveServer(app, port)
    server.start()
    yield holder, server.url
    server.stop()


def test_every_check_has_a_broken_endpoint() -> None:
    assert set(FAULTS) | set(V1_FAULTS) == set(BY_ID), (set(FAULTS) | set(V1_FAULTS)) ^ set(BY_ID)
    assert {c.id for c in ALL_CHECKS if c.version == "1.0"} == set(V1_FAULTS)


CASES = [(check_id, fault) for check_id, faults in V1_FAULTS.items() for fault in faults]


@pytest.mark.parametrize(("check_id", "fault"), CASES, ids=[f"{c}:{f.name}" for c, f in CASES])
async def test_check_fails_on_its_fault(faulty: tuple[FaultHolder, str], check_id: str, fault: Fault) -> None:
    holder, url = faulty
    holder.fault = None
    if check_id not in _clean:  # passing once on the clean app is proof enough for its other faults
        (clean,) = (await run_suite(url, [BY_ID[check_id]], timeout=10, webhook_host="127.0.0.1")).results
        assert clean.outcome is Outcome.PASS, (check_id, clean.detail)
        _clean.add(check_id)
    holder.fault = fault
    try:
        report = await run_suite(url, [BY_ID[check_id]], timeout=10, webhook_host="127.0.0.1")
    finally:
        holder.fault = None
    (r,) = report.results
    assert r.outcome is Outcome.FAIL, f"{check_id} did not notice {fault.name!r}: {r.outcome} {r.detail}"
    assert r.detail


def _only_1_0(c: dict[str, Any]) -> dict[str, Any]:
    kept = {k: v for k, v in c.items() if k not in ONLY_0_3}
    return {**kept, "supportedInterfaces": [i for i in c["supportedInterfaces"] if i["protocolVersion"] == "1.0"]}


@pytest.mark.parametrize(("card", "served", "skipped"), [
    (_only_1_0, "v1.card.schema", "card.schema"),
    (lambda c: {k: v for k, v in c.items() if k != "supportedInterfaces"}, "card.schema", "v1.card.schema"),
])
async def test_a_version_the_card_does_not_declare_is_skipped(
    faulty: tuple[FaultHolder, str], card: Any, served: str, skipped: str
) -> None:
    holder, url = faulty
    holder.fault = Fault("one version only", card=card)
    try:
        report = await run_suite(url, [BY_ID["card.declares"], BY_ID[served], BY_ID[skipped]], timeout=10)
    finally:
        holder.fault = None
    declares, ran, other = report.results
    assert declares.outcome is Outcome.PASS and ran.outcome is Outcome.PASS, (declares.detail, ran.detail)
    version = BY_ID[skipped].version
    assert other.outcome is Outcome.SKIP and other.detail == f"the card declares no JSON-RPC interface for protocol {version}"
    assert report.interfaces.url(version) is None and report.interfaces.url(BY_ID[served].version) == url + "/"
