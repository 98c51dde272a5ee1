"""The client's reading of both versions' frames (a2a_server/client/wire.py): the same
events from 0.3 and 1.0, nothing shown twice, other servers' status texts kept."""

from __future__ import annotations

from typing import Any

from a2a_server.client.transport import sse_data
from a2a_server.client.wire import Activity, Ids, Note, Reader, Reply, State, Text, wire_for


def _task_0_3(state: str, artifacts: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"kind": "task", "id": "t1", "contextId": "c1", "status": {"state": state},
            "artifacts": artifacts or []}


def _answer(text: str) -> dict[str, Any]:
    return {"artifactId": "a1", "name": "answer", "parts": [{"kind": "text", "text": text}]}


def test_both_versions_read_to_the_same_events() -> None:
    old = Reader(wire_for("0.3"))
    new = Reader(wire_for("1.0"))
    frames_0_3 = [
        _task_0_3("submitted"),
        {"kind": "status-update", "taskId": "t1", "contextId": "c1", "final": False,
         "status": {"state": "working", "message": {"kind": "message", "role": "agent", "messageId": "m",
                    "parts": [{"kind": "data", "data": {"type": "tool_started", "toolName": "calc"}}]}}},
        {"kind": "artifact-update", "taskId": "t1", "contextId": "c1", "artifact": _answer("84"), "lastChunk": True},
        {"kind": "status-update", "taskId": "t1", "contextId": "c1", "final": True, "status": {"state": "completed"}},
    ]
    frames_1_0 = [
        {"task": {"id": "t1", "contextId": "c1", "status": {"state": "TASK_STATE_SUBMITTED"}}},
        {"statusUpdate": {"taskId": "t1", "contextId": "c1", "status": {"state": "TASK_STATE_WORKING", "message": {
            "messageId": "m", "role": "ROLE_AGENT", "parts": [{"data": {"type": "tool_started", "toolName": "calc"}}]}}}},
        {"artifactUpdate": {"taskId": "t1", "contextId": "c1", "lastChunk": True,
                            "artifact": {"artifactId": "a1", "name": "answer", "parts": [{"text": "84"}]}}},
        {"statusUpdate": {"taskId": "t1", "contextId": "c1", "status": {"state": "TASK_STATE_COMPLETED"}}},
    ]
    a = [e for f in frames_0_3 for e in old.read(f)]
    b = [e for f in frames_1_0 for e in new.read(f)]
    assert a == b == [Ids("t1", "c1"), State("submitted"), Activity({"type": "tool_started", "toolName": "calc"}),
                      State("working"), Text("84", "answer", True), State("completed")]


def test_a_whole_task_sent_again_shows_only_what_is_new() -> None:
    reader = Reader(wire_for("0.3"))
    reader.read(_task_0_3("working", [_answer("Hello")]))
    events = reader.read(_task_0_3("completed", [_answer("Hello, world")]))
    assert Text(", world", "answer", True) in events
    assert not [e for e in reader.read(_task_0_3("completed", [_answer("Hello, world")])) if isinstance(e, Text) and e.text]


def test_other_servers_status_texts_and_replies() -> None:
    reader = Reader(wire_for("0.3"))
    working = {"kind": "status-update", "taskId": "t", "contextId": "c", "final": False, "status": {
        "state": "working", "message": {"kind": "message", "role": "agent", "messageId": "m",
                                        "parts": [{"kind": "text", "text": "Searching the web..."}]}}}
    assert Note("Searching the web...") in reader.read(working)
    assert reader.read({"kind": "message", "role": "agent", "messageId": "r", "contextId": "c",
                        "parts": [{"kind": "text", "text": "hi"}]}) == [Reply("hi", "c")]
    failed = {"statusUpdate": {"taskId": "t", "contextId": "c", "status": {"state": "TASK_STATE_FAILED", "message": {
        "messageId": "m", "role": "ROLE_AGENT", "parts": [{"text": "out of tokens"}]}}}}
    assert State("failed", "out of tokens") in Reader(wire_for("1.0")).read(failed)


def test_a_continued_task_does_not_show_its_earlier_turns() -> None:
    reader = Reader(wire_for("0.3"))
    first = reader.read(_task_0_3("input-required", [_answer("What should I call you?")]), seen=True)
    assert first == [Ids("t1", "c1")]
    events = reader.read({"kind": "artifact-update", "taskId": "t1", "contextId": "c1",
                          "artifact": {**_answer("Hi Ada"), "artifactId": "a2"}})
    assert events == [Text("Hi Ada", "answer")]


def test_sse_data() -> None:
    lines = [": keep-alive", "", "id: 1", "data: {\"a\":", "data: 1}", "", "event: x", "data:2", ""]
    assert list(sse_data(lines)) == ['{"a":\n1}', "2"]
