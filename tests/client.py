"""Small JSON-RPC and SSE helpers for the tests. Every response they see is validated: a 0.3
one against the official JSON Schema, a 1.0 one (`version="1.0"`) against the proto, so no
emitted object escapes the check."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.proto import validate_stream_response, validate_v1, validate_v1_error
from tests.schema import validate, validate_result

_ids = itertools.count(1)


def user_message(text: str, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "message",
        "role": "user",
        "messageId": f"msg-{next(_ids)}",
        "parts": [{"kind": "text", "text": text}],
        **extra,
    }


V1 = {"A2A-Version": "1.0"}

V1_RESULTS = {  # 1.0 method -> the proto message of its result (None: no result)
    "SendMessage": "SendMessageResponse",
    "GetTask": "Task",
    "CancelTask": "Task",
    "ListTasks": "ListTasksResponse",
    "CreateTaskPushNotificationConfig": "TaskPushNotificationConfig",
    "GetTaskPushNotificationConfig": "TaskPushNotificationConfig",
    "ListTaskPushNotificationConfigs": "ListTaskPushNotificationConfigsResponse",
    "DeleteTaskPushNotificationConfig": None,
    "GetExtendedAgentCard": "AgentCard",
}
V1_STREAMS = frozenset({"SendStreamingMessage", "SubscribeToTask"})


def check_response(
    body: dict[str, Any], request_id: Any, *, method: str | None = None, version: str = "0.3"
) -> dict[str, Any]:
    """Validate a JSON-RPC response body (or one SSE event's) of `method`; returns it."""
    assert body.get("jsonrpc") == "2.0", body
    assert body.get("id") == request_id, body
    if "error" in body:
        assert "result" not in body
        if version == "1.0" and method is not None and not method.startswith("a2aserver."):
            validate_v1_error(body["error"])
        else:
            validate("JSONRPCErrorResponse", body)
        return body
    result = body["result"]
    if version == "1.0":
        if method in V1_STREAMS:
            validate_stream_response(result)
        elif method in V1_RESULTS and V1_RESULTS[method] is not None:
            validate_v1(V1_RESULTS[method], result)  # type: ignore[arg-type]
        elif method in V1_RESULTS:
            assert result is None, body
    elif isinstance(result, dict) and "kind" in result:
        validate_result(result)
    return body


async def rpc(
    client: httpx.AsyncClient,
    method: str,
    params: Any = None,
    *,
    request_id: Any = "req",
    version: str = "0.3",
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        payload["params"] = params
    if version == "1.0":
        headers = {**V1, **(headers or {})}
    response = await client.post("/", json=payload, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return check_response(response.json(), request_id, method=method, version=version)


async def result(client: httpx.AsyncClient, method: str, params: Any = None) -> dict[str, Any]:
    body = await rpc(client, method, params)
    assert "result" in body, body
    return body["result"]  # type: ignore[no-any-return]


async def send(client: httpx.AsyncClient, text: str, **config: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"message": user_message(text, **config.pop("message", {}))}
    if config:
        params["configuration"] = config
    return await result(client, "message/send", params)


@dataclass
class Event:
    seq: int | None
    body: dict[str, Any]

    @property
    def result(self) -> dict[str, Any]:
        return self.body["result"]  # type: ignore[no-any-return]


@dataclass
class SSE:
    events: list[Event] = field(default_factory=list)
    comments: int = 0

    @property
    def frames(self) -> list[dict[str, Any]]:
        return [e.result for e in self.events if "result" in e.body]


def parse_sse_block(
    block: str, request_id: Any, method: str | None = None, version: str = "0.3"
) -> Event | None:
    seq = None
    data: list[str] = []
    for line in block.split("\n"):
        if line.startswith(":") or not line:
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "id":
            seq = int(value)
        elif name == "data":
            data.append(value)
    if not data:
        return None
    body = json.loads("\n".join(data))
    check_response(body, request_id, method=method, version=version)
    return Event(seq, body)


async def stream(
    client: httpx.AsyncClient,
    method: str,
    params: Any,
    *,
    request_id: Any = "stream",
    headers: dict[str, str] | None = None,
    stop_after: int | None = None,
    on_event: Callable[[Event], None] | None = None,
    version: str = "0.3",
    stop_when: Callable[[Event], bool] | None = None,
) -> SSE:
    """Read an SSE response to the end (or `stop_after` events, or the first for which
    `stop_when` holds, then drop the connection)."""
    payload = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
    out = SSE()
    if version == "1.0":
        headers = {**V1, **(headers or {})}
    async with client.stream("POST", "/", json=payload, headers=headers) as response:
        assert response.status_code == 200
        if response.headers["content-type"].startswith("application/json"):
            body = json.loads(await response.aread())
            check_response(body, request_id, method=method, version=version)
            out.events.append(Event(None, body))
            return out
        assert response.headers["content-type"].startswith("text/event-stream")
        buffer = ""
        async for text in response.aiter_text():
            buffer += text
            while "\n\n" in buffer:
                block, buffer = buffer.split("\n\n", 1)
                if block.startswith(":"):
                    out.comments += 1
                event = parse_sse_block(block, request_id, method, version)
                if event is not None:
                    out.events.append(event)
                    if on_event is not None:
                        on_event(event)
                    if stop_after is not None and len(out.events) >= stop_after:
                        return out
                    if stop_when is not None and stop_when(event):
                        return out
    return out


def answer_text(task: dict[str, Any]) -> str:
    """The text of a Task's answer artifacts (one per turn), in order."""
    return "".join(
        p["text"]
        for artifact in task.get("artifacts", [])
        if artifact.get("name") == "answer"
        for p in artifact["parts"]
        if p["kind"] == "text"
    )


def assert_stream_rules(frames: list[dict[str, Any]]) -> None:
    """The SSE rules of design §4: Task first, one task id, `final:true` exactly once and last,
    only on a terminal or interrupted state; artifact chunk flags consistent."""
    assert frames, "empty stream"
    assert frames[0]["kind"] == "task", frames[0]
    task_id = frames[0]["id"]
    finals = [i for i, f in enumerate(frames) if f.get("final") is True]
    assert finals == [len(frames) - 1], f"final flags at {finals} of {len(frames)}"
    last = frames[-1]
    assert last["kind"] == "status-update"
    assert last["status"]["state"] in {
        "completed", "canceled", "failed", "rejected", "input-required", "auth-required"
    }
    seen: dict[str, bool] = {}  # artifactId -> closed
    for f in frames[1:]:
        assert f["taskId"] == task_id
        if f["kind"] == "artifact-update":
            aid = f["artifact"]["artifactId"]
            assert not seen.get(aid), f"chunk after lastChunk on {aid}"
            assert f["append"] is (aid in seen), f"append flag wrong on {aid}"
            seen[aid] = bool(f.get("lastChunk"))
            interrupted = (f["artifact"].get("metadata") or {}).get("a2aServer", {}).get("interrupted")
            if f.get("lastChunk") and not interrupted:
                assert any(p.get("text") for p in f["artifact"]["parts"] if p["kind"] == "text") or any(
                    p["kind"] != "text" for p in f["artifact"]["parts"]
                ), "empty last chunk"
    assert all(seen.values()), f"artifact left open: {seen}"


def chunks_text(frames: list[dict[str, Any]]) -> str:
    return "".join(
        p["text"]
        for f in frames
        if f["kind"] == "artifact-update" and f["artifact"].get("name") == "answer"
        for p in f["artifact"]["parts"]
        if p["kind"] == "text"
    )
