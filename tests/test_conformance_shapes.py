"""The suite's shape models (`conformance/shapes.py`) agree with the official schema: on real
objects our server emits, and on every single-field mutation of them."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from conformance.shapes import problem
from tests.client import send, stream, user_message
from tests.conftest import in_process
from tests.schema import _schema, _validator

pytestmark = pytest.mark.anyio


def official_ok(definition: str, obj: Any) -> bool:
    return not any(True for _ in _validator(definition).iter_errors(obj))


def mutations(obj: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[str, Any]]:
    """Copies of `obj` with one field removed, or set to null, a number or a string."""
    if isinstance(obj, dict):
        for key in obj:
            for label, value in (("removed", ...), ("null", None), ("number", 12345), ("string", "x")):
                changed = copy.deepcopy(obj)
                if value is ...:
                    del changed[key]
                else:
                    changed[key] = value
                yield f"{'.'.join(map(str, (*path, key)))} {label}", changed
            for label, inner in mutations(obj[key], (*path, key)):
                changed = copy.deepcopy(obj)
                changed[key] = inner
                yield label, changed
    elif isinstance(obj, list):
        for i, item in enumerate(obj[:2]):
            for label, inner in mutations(item, (*path, i)):
                changed = copy.deepcopy(obj)
                changed[i] = inner
                yield label, changed


async def corpus() -> list[tuple[str, Any]]:
    async with in_process() as client:
        task = await send(client, "calc 2+2")
        asked = await send(client, "ask me")
        frames = (await stream(client, "message/stream", {"message": user_message("broken tool")})).frames
        card = (await client.get("/.well-known/agent-card.json")).json()
        err = (await client.post("/", json={"jsonrpc": "2.0", "id": 1, "method": "tasks/get", "params": {"id": "x"}})).json()
    status = next(f for f in frames if f["kind"] == "status-update" and "message" in f["status"])
    chunk = next(f for f in frames if f["kind"] == "artifact-update")
    file_message = {"kind": "message", "role": "user", "messageId": "m", "parts": [
        {"kind": "file", "file": {"uri": "https://x/y.png", "mimeType": "image/png"}},
        {"kind": "data", "data": {"a": 1}}]}
    push = {"taskId": "t", "pushNotificationConfig": {"id": "c", "url": "https://h/x", "token": "t",
                                                      "authentication": {"schemes": ["Bearer"], "credentials": "c"}}}
    return [
        ("Task", task), ("Task", asked), ("TaskStatusUpdateEvent", status),
        ("TaskArtifactUpdateEvent", chunk), ("AgentCard", card), ("Message", file_message),
        ("TaskPushNotificationConfig", push), ("JSONRPCErrorResponse", err),
    ]


async def test_models_agree_with_the_official_schema() -> None:
    assert _schema()  # the official schema is there
    checked = 0
    for definition, obj in await corpus():
        assert official_ok(definition, obj) and problem(definition, obj) is None, definition
        for label, changed in mutations(obj):
            ours = problem(definition, changed) is None
            theirs = official_ok(definition, changed)
            assert ours == theirs, f"{definition}: {label}: ours says {ours}, the schema {theirs}"
            checked += 1
    assert checked > 500
    assert jsonschema  # the official check runs through jsonschema
