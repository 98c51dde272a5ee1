"""The conformance suite's own tests.

Each check runs against a deliberately broken endpoint (our real app behind one injected
fault, `tests/faults.py`) and must fail there: a check that no broken endpoint can fail is not
a check. Then the whole suite must pass against our server (both agents), and against the
official SDK's server it must find exactly the departures the README lists.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from a2a_server import Settings, create_app
from a2a_server.runner.conformance import ConformanceRunner
from conformance import Outcome, run_suite
from conformance.checks import ALL_CHECKS
from conformance.cli import main as conformance_main
from conformance.report import as_table
from tests.conftest import LiveServer, fast_demo, free_port
from tests.faults import Fault, FaultHolder, Faulty

pytestmark = pytest.mark.anyio

BY_ID = {c.id: c for c in ALL_CHECKS}


# -- fault builders ------------------------------------------------------------------------------

def code(method: str | None, old: int, new: int) -> Any:
    """Turn error `old` into `new` (for one method, or any when None)."""
    def reply(m: str | None, req: Any, body: Any) -> Any:
        if isinstance(body, dict) and body.get("error", {}).get("code") == old and (method is None or m == method):
            body = {**body, "error": {**body["error"], "code": new}}
        return body
    return reply


def code_event(method: str, old: int, new: int) -> Any:
    """`code` for an error sent as an SSE event (to clients that read only SSE)."""
    def event(m: str | None, req: Any, i: int, body: Any) -> list[Any]:
        return [code(method, old, new)(m, req, body)]
    return event


def result(method: str, change: Any) -> Any:
    """Change the result of `method` (a function of the result)."""
    def reply(m: str | None, req: Any, body: Any) -> Any:
        if m == method and isinstance(body, dict) and "result" in body:
            body = {**body, "result": change(copy.deepcopy(body["result"]), req)}
        return body
    return reply


def error_to_result(method: str, errcode: int, make: Any) -> Any:
    def reply(m: str | None, req: Any, body: Any) -> Any:
        if m == method and isinstance(body, dict) and body.get("error", {}).get("code") == errcode:
            return {"jsonrpc": "2.0", "id": body.get("id"), "result": make(req)}
        return body
    return reply


def frames(method: str | None, change: Any) -> Any:
    """Change stream events: `change(index, body, request) -> list of bodies`."""
    def event(m: str | None, req: Any, i: int, body: Any) -> list[Any]:
        if method is None or m == method:
            return change(i, copy.deepcopy(body), req)
        return [body]
    return event


def on_result(test: Any, change: Any) -> Any:
    def apply(i: int, body: Any, req: Any) -> list[Any]:
        r = body.get("result")
        if isinstance(r, dict) and test(i, r, req):
            change(r)
        return [body]
    return apply


def fake_task(req: Any) -> dict[str, Any]:
    tid = ((req or {}).get("params") or {}).get("message", {}).get("taskId", "t")
    return {"kind": "task", "id": tid, "contextId": "c", "status": {"state": "working"}}


def _set(key: str, value: Any) -> Any:
    def change(d: dict[str, Any]) -> None:
        d[key] = value
    return change


def _status_without(d: dict[str, Any]) -> None:
    d.pop("status", None)


def final_last(i: int, body: Any, req: Any) -> list[Any]:
    r = body.get("result") or {}
    return [body, body] if r.get("final") is True else [body]  # final twice


def final_missing(i: int, body: Any, req: Any) -> list[Any]:
    r = body.get("result") or {}
    if r.get("final") is True:
        r["final"] = False
    return [body]


def final_early(i: int, body: Any, req: Any) -> list[Any]:
    r = body.get("result") or {}
    if r.get("kind") == "status-update" and r["status"]["state"] == "working":
        r["final"] = True
    return [body]


def history_of_two(r: dict[str, Any], req: Any) -> dict[str, Any]:
    if (req.get("params") or {}).get("historyLength") is not None and r.get("history"):
        r["history"] = r["history"] * 2
    return r


def interrupted_final_false(i: int, body: Any, req: Any) -> list[Any]:
    r = body.get("result") or {}
    if r.get("kind") == "status-update" and r["status"]["state"] == "input-required":
        r["final"] = False
    return [body]


def leaky(m: str | None, req: Any, body: Any) -> Any:
    if isinstance(body, dict) and "error" in body:
        body["error"]["message"] += ' Traceback (most recent call last): File "handler.py"'
    return body


FAULTS: dict[str, list[Fault]] = {
    "card.served": [Fault("card path 404", card_status=404)],
    "card.declares": [Fault("card without a JSON-RPC interface", card=lambda c: {
        k: v for k, v in c.items() if k not in ("url", "supportedInterfaces", "additionalInterfaces")})],
    "card.schema": [Fault("card without skills", card=lambda c: {k: v for k, v in c.items() if k != "skills"})],
    "card.url": [Fault("card url not the endpoint", card=lambda c: {**c, "url": c["url"] + "nowhere/"})],
    "card.protocol-version": [Fault("protocolVersion 1.0", card=lambda c: {**c, "protocolVersion": "1.0"})],
    "card.interfaces": [Fault("interfaces without main", card=lambda c: {**c, "additionalInterfaces": [{"url": "http://elsewhere/", "transport": "JSONRPC"}]})],
    "capability.streaming": [Fault("streams but says it does not", card=lambda c: {**c, "capabilities": {**c["capabilities"], "streaming": False}})],
    "capability.push": [Fault("push works but undeclared", card=lambda c: {**c, "capabilities": {**c["capabilities"], "pushNotifications": False}})],
    "capability.extended-card": [Fault("claims an extended card", card=lambda c: {**c, "supportsAuthenticatedExtendedCard": True})],
    "jsonrpc.parse-error": [Fault("parse error as -32600", reply=code(None, -32700, -32600))],
    "jsonrpc.invalid-request": [Fault("invalid request as -32602", reply=code(None, -32600, -32602))],
    "jsonrpc.invalid-id": [Fault("object id accepted", reply=lambda m, req, b: {**b, "error": {**b["error"], "code": -32602}} if isinstance(req, dict) and isinstance(req.get("id"), dict) else b)],
    "jsonrpc.batch": [Fault("batch answered as batch", reply=lambda m, req, b: [b] if isinstance(req, list) else b)],
    "jsonrpc.method-not-found": [Fault("unknown method as -32600", reply=code(None, -32601, -32600))],
    "jsonrpc.invalid-params": [Fault("invalid params as -32600", reply=code("message/send", -32602, -32600))],
    "jsonrpc.id-echo": [Fault("integer id echoed as string", reply=lambda m, req, b: {**b, "id": str(b.get("id"))} if isinstance(b, dict) and isinstance(b.get("id"), int) else b)],
    "errors.task-not-found": [Fault("unknown task as -32603", reply=code("tasks/get", -32001, -32603))],
    "errors.cancel-not-found": [Fault("cancel unknown as -32602", reply=code("tasks/cancel", -32001, -32602))],
    "errors.message-to-unknown-task": [Fault("unknown taskId as -32602", reply=code("message/send", -32001, -32602))],
    "errors.no-leaks": [Fault("traceback in errors", reply=leaky)],
    "send.result": [Fault("task without status", reply=result("message/send", lambda r, req: {k: v for k, v in r.items() if k != "status"}))],
    "send.task-ids": [Fault("history dropped", reply=result("message/send", lambda r, req: {**r, "history": []}))],
    "send.context-kept": [Fault("contextId replaced", reply=result("message/send", lambda r, req: {**r, "contextId": "another-context"}))],
    "get.task": [Fault("tasks/get returns another id", reply=result("tasks/get", lambda r, req: {**r, "id": "some-other-task"}))],
    "get.history-length": [Fault("historyLength ignored", reply=result("tasks/get", history_of_two))],
    "get.bad-history-length": [Fault("negative historyLength as -32603", reply=code("tasks/get", -32602, -32603))],
    "cancel.open-task": [Fault("cancel leaves it working", reply=result("tasks/cancel", lambda r, req: {**r, "status": {**r["status"], "state": "working"}}))],
    "cancel.ended-task": [Fault("not-cancelable as -32004", reply=code("tasks/cancel", -32002, -32004))],
    "lifecycle.terminal-is-final": [Fault("ended task takes messages", reply=error_to_result("message/send", -32004, fake_task))],
    "lifecycle.terminal-code": [Fault("ended task as -32602", reply=code("message/send", -32004, -32602))],
    "lifecycle.input-required": [Fault("follow-up frames of another task", event=frames("message/stream", on_result(lambda i, r, req: bool(((req.get("params") or {}).get("message") or {}).get("taskId")) and r.get("kind") != "task", _set("taskId", "some-other-task"))))],
    "sse.content-type": [Fault("streams as text/plain", content_type="text/plain")],
    "sse.events": [
        Fault("frames without jsonrpc", event=frames("message/stream", lambda i, b, req: [{k: v for k, v in b.items() if k != "jsonrpc"}])),
        Fault("frames without the request id", event=frames("message/stream", lambda i, b, req: [{**b, "id": None}] if i > 0 else [b])),
        Fault("two responses in one event", event=frames("message/stream", lambda i, b, req: [json.dumps(b) + json.dumps(b)] if i == 1 else [b])),
    ],
    "sse.frame-shapes": [Fault("status-update without status", event=frames("message/stream", on_result(lambda i, r, req: r.get("kind") == "status-update", _status_without)))],
    "sse.task-first": [Fault("no Task first", event=frames("message/stream", lambda i, b, req: [] if i == 0 else [b]))],
    "sse.one-task": [Fault("a frame of another context", event=frames("message/stream", on_result(lambda i, r, req: i == 2, _set("contextId", "elsewhere"))))],
    "sse.final": [
        Fault("final twice", event=frames("message/stream", final_last)),
        Fault("final missing", event=frames("message/stream", final_missing)),
        Fault("final on working", event=frames("message/stream", final_early)),
    ],
    "sse.final-interrupted": [Fault("input-required without final", event=frames("message/stream", interrupted_final_false))],
    "sse.closes": [Fault("stays open after final", hold_open=4.0)],
    "artifacts.chunks": [
        Fault("first chunk appends", event=frames("message/stream", on_result(lambda i, r, req: r.get("kind") == "artifact-update" and r.get("append") is False, _set("append", True)))),
        Fault("chunk after lastChunk", event=frames("message/stream", lambda i, b, req: [b, b] if (b.get("result") or {}).get("lastChunk") else [b])),
    ],
    "artifacts.add-up": [Fault("chunks do not add up", event=frames("message/stream", on_result(lambda i, r, req: r.get("kind") == "artifact-update", lambda r: r["artifact"]["parts"][0].update(text="X"))))],
    "artifacts.last-chunk": [Fault("lastChunk never set", event=frames("message/stream", on_result(lambda i, r, req: r.get("kind") == "artifact-update", _set("lastChunk", False))))],
    "resubscribe.unknown": [Fault("resubscribe unknown as -32603", reply=code("tasks/resubscribe", -32001, -32603), event=code_event("tasks/resubscribe", -32001, -32603))],
    "resubscribe.ended": [Fault("resubscribe ended as -32001", reply=code("tasks/resubscribe", -32004, -32001), event=code_event("tasks/resubscribe", -32004, -32001))],
    "resubscribe.live": [
        Fault("resubscribe without the Task", event=frames("tasks/resubscribe", lambda i, b, req: [] if i == 0 else [b])),
        Fault("resubscribe without final", event=frames("tasks/resubscribe", final_missing)),
    ],
    "push.round-trip": [Fault("get returns another url", reply=result("tasks/pushNotificationConfig/get", lambda r, req: {**r, "pushNotificationConfig": {**r["pushNotificationConfig"], "url": "https://else.example/"}}))],
    "push.unknown-task": [Fault("config for unknown task accepted", reply=error_to_result("tasks/pushNotificationConfig/set", -32001, lambda req: req["params"]))],
    "tickets.visible": [Fault("tickets/list empty", reply=result("a2aserver.tickets/list", lambda r, req: []))],
    "tickets.settle": [Fault("conflicting resolve accepted", reply=error_to_result("a2aserver.tickets/resolve", -32051, lambda req: {"ticketId": req["params"]["ticketId"], "state": "resolved"}))],
}


@pytest.fixture(scope="module")
def faulty() -> Iterator[tuple[FaultHolder, str]]:
    holder = FaultHolder()
    port = free_port()
    settings = Settings(store="memory", port=port, keepalive_seconds=0.5)
    app = Faulty(create_app(settings, ConformanceRunner(streaming_timeout=0.5)), holder)
    server = LiveServer(app, port)
    server.start()
    yield holder, server.url
    server.stop()


def test_every_check_has_a_broken_endpoint() -> None:
    not_v1 = {c.id for c in ALL_CHECKS if c.version != "1.0"}  # 1.0's: tests/test_conformance_v1.py
    assert set(FAULTS) == not_v1, set(FAULTS) ^ not_v1
    assert len(BY_ID) == len(ALL_CHECKS), "check ids are unique"
    for c in ALL_CHECKS:
        assert re.fullmatch(r"\d+(\.\d+)*", c.section) and c.level in ("must", "should") and c.title
        assert c.version in ("0.3", "1.0", "any") and c.id.startswith("v1.") == (c.version == "1.0")


CASES = [(check_id, fault) for check_id, faults in FAULTS.items() for fault in faults]


@pytest.mark.parametrize(("check_id", "fault"), CASES, ids=[f"{c}:{f.name}" for c, f in CASES])
async def test_check_fails_on_its_fault(faulty: tuple[FaultHolder, str], check_id: str, fault: Fault) -> None:
    holder, url = faulty
    holder.fault = None
    clean = await run_suite(url, [BY_ID[check_id]], timeout=10)
    assert clean.results[0].outcome is Outcome.PASS, (check_id, clean.results[0].detail)
    holder.fault = fault
    try:
        report = await run_suite(url, [BY_ID[check_id]], timeout=10)
    finally:
        holder.fault = None
    (r,) = report.results
    assert r.outcome is Outcome.FAIL, f"{check_id} did not notice {fault.name!r}: {r.outcome} {r.detail}"
    assert r.detail


def _serve(app: Any) -> LiveServer:
    port = free_port()
    server = LiveServer(app, port)
    server.start()
    return server


@pytest.mark.parametrize("agent", ["conformance", "demo"])
async def test_our_server_passes_every_must_check(agent: str, tmp_path: Path) -> None:
    port = free_port()
    settings = Settings(store=f"sqlite:///{tmp_path}/t.db", port=port, push_allow_hosts="127.0.0.1")
    runner = ConformanceRunner(streaming_timeout=0.5) if agent == "conformance" else fast_demo()
    server = LiveServer(create_app(settings, runner), port)
    server.start()
    try:
        report = await run_suite(server.url, timeout=10, webhook_host="127.0.0.1")
    finally:
        server.stop()
    print("\n" + as_table(report))
    assert report.must_failures == []
    counts = report.counts()
    assert counts["fail"] == 0
    if agent == "conformance":
        assert counts["skip"] == 0, [(r.check.id, r.detail) for r in report.results if r.outcome is Outcome.SKIP]


def _readme_sdk_failures() -> set[str]:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("<!-- sdk-departures -->")[1].split("<!-- /sdk-departures -->")[0]
    return set(re.findall(r"^\| `([a-z0-9.-]+)` \|", section, flags=re.MULTILINE))


async def test_the_official_sdk_server_departs_only_as_the_readme_says() -> None:
    from conformance.sdk_echo import build_app

    port = free_port()
    server = LiveServer(build_app(f"http://127.0.0.1:{port}/", push=True, slow_seconds=30), port)
    server.start()
    try:
        report = await run_suite(server.url, timeout=10, webhook_host="127.0.0.1")
    finally:
        server.stop()
    print("\n" + as_table(report))
    failed = {r.check.id for r in report.results if r.outcome is Outcome.FAIL}
    assert failed == _readme_sdk_failures(), "update the README's list of SDK departures"
    assert report.counts("0.3")["pass"] >= 35 and report.counts("1.0")["pass"] >= 50, "the suite ran against the SDK for real"


def test_cli_table_json_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    holder = FaultHolder()
    port = free_port()
    app = Faulty(create_app(Settings(store="memory", port=port), ConformanceRunner(streaming_timeout=0.5)), holder)
    server = LiveServer(app, port)
    server.start()
    try:
        out = tmp_path / "r.json"
        assert conformance_main([server.url, "--json", str(out), "--timeout", "10"]) == 0
        table = capsys.readouterr()
        assert "§7.2.2" in table.out and "0 must-level failure(s)" in table.out
        assert "[1/" in table.err  # the progress line
        data = json.loads(out.read_text())
        assert data["summary"]["mustFailures"] == 0 and len(data["results"]) == len(ALL_CHECKS)
        assert {r["version"] for r in data["results"]} == {"any", "0.3", "1.0"}
        assert conformance_main([server.url, "--quiet", "--version", "1.0", "--json", str(out)]) == 0
        capsys.readouterr()
        assert {r["version"] for r in json.loads(out.read_text())["results"]} == {"any", "1.0"}
        holder.fault = FAULTS["sse.final"][0]
        assert conformance_main([server.url, "--quiet"]) == 1
        assert "FAIL" in capsys.readouterr().out
    finally:
        server.stop()
