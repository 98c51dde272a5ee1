"""The exact frames of the benchmark workloads, as the bench agent emits them: the floor
server replays them byte for byte, and the SDK server's executor emits the same."""

from __future__ import annotations

import json
from typing import Any

TASK_ID = "00000000-0000-4000-8000-000000000001"
CONTEXT_ID = "00000000-0000-4000-8000-000000000002"
ARTIFACT_ID = "00000000-0000-4000-8000-000000000003"
STAMP = "2026-01-01T00:00:00.000Z"


def user_message(text: str, message_id: str = "bench-1") -> dict[str, Any]:
    return {"kind": "message", "role": "user", "messageId": message_id,
            "parts": [{"kind": "text", "text": text}]}


V1_METHODS = {"message/send": "SendMessage", "message/stream": "SendStreamingMessage"}
V1_HEADERS = {"A2A-Version": "1.0"}


def request(method: str, text: str, request_id: int = 1, **config: Any) -> bytes:
    params: dict[str, Any] = {"message": user_message(text)}
    if config:
        params["configuration"] = config
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method, "params": params},
                      separators=(",", ":")).encode()


def request_v1(method: str, text: str, request_id: int = 1) -> bytes:
    """The same request in protocol 1.0 (`method` named as in 0.3); send with V1_HEADERS."""
    message = {"role": "ROLE_USER", "messageId": "bench-1", "parts": [{"text": text}]}
    body = {"jsonrpc": "2.0", "id": request_id, "method": V1_METHODS[method], "params": {"message": message}}
    return json.dumps(body, separators=(",", ":")).encode()


def _task(text: str, state: str, artifacts: list[dict[str, Any]]) -> dict[str, Any]:
    message = {**user_message(text), "taskId": TASK_ID, "contextId": CONTEXT_ID}
    return {"kind": "task", "id": TASK_ID, "contextId": CONTEXT_ID,
            "status": {"state": state, "timestamp": STAMP}, "history": [message], "artifacts": artifacts}


def _status(state: str, final: bool) -> dict[str, Any]:
    return {"kind": "status-update", "taskId": TASK_ID, "contextId": CONTEXT_ID,
            "status": {"state": state, "timestamp": STAMP}, "final": final}


def _chunk(text: str, append: bool, last: bool) -> dict[str, Any]:
    return {"kind": "artifact-update", "taskId": TASK_ID, "contextId": CONTEXT_ID,
            "artifact": {"artifactId": ARTIFACT_ID, "parts": [{"kind": "text", "text": text}], "name": "answer"},
            "append": append, "lastChunk": last}


def send_result(text: str = "hello") -> dict[str, Any]:
    """What message/send answers: the completed Task."""
    artifact = {"artifactId": ARTIFACT_ID, "parts": [{"kind": "text", "text": f"echo: {text}"}], "name": "answer"}
    return _task(text, "completed", [artifact])


def stream_frames(count: int, text: str | None = None) -> list[dict[str, Any]]:
    """What message/stream `stream N` emits: Task, working, N chunks, completed."""
    text = text or f"stream {count}"
    chunks = [_chunk("tok ", i > 0, i == count - 1) for i in range(count)]
    return [_task(text, "submitted", []), _status("working", False), *chunks, _status("completed", True)]


def response(result: Any, request_id: int | str = 1) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "result": result}, separators=(",", ":")).encode()


def sse(frames: list[dict[str, Any]], request_id: int | str = 1) -> list[bytes]:
    return [b"id: %d\ndata: %s\n\n" % (i + 1, response(f, request_id)) for i, f in enumerate(frames)]
