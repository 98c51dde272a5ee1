"""The suite's 1.0 models (`conformance/shapes_v1.py`) agree with the normative proto: on real
objects our server emits, on hand-made ones for what it never emits (security schemes,
signatures), and on every single-field mutation of them.

The reference is `tests/proto.py` (the proto compiled, ProtoJSON's rules as a writer must
follow them) plus the two rules the spec adds in prose and a ProtoJSON parser does not
enforce: a field is absent rather than null (§5.7; a `google.protobuf.Value` aside, whose
null is a value), and a oneof holds exactly one member (§4.1.6: a part is one of text, raw,
url or data; §3.2.3: a StreamResponse is one of its payloads).
"""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf import descriptor

from a2a_server.runner.conformance import ConformanceRunner
from conformance.shapes_v1 import problem
from tests.client import stream
from tests.conftest import in_process
from tests.proto import _descriptor, validate_v1
from tests.test_conformance_shapes import mutations

pytestmark = pytest.mark.anyio

V1 = {"A2A-Version": "1.0"}
_VALUE = "google.protobuf.Value"
_OPAQUE = {"google.protobuf.Struct", _VALUE, "google.protobuf.ListValue", "google.protobuf.Timestamp"}


def official_ok(type_name: str, obj: Any) -> bool:
    if not _prose_rules_hold(_descriptor(type_name), obj):
        return False
    try:
        validate_v1(type_name, obj)
    except AssertionError:
        return False
    return True


def _prose_rules_hold(desc: descriptor.Descriptor, obj: Any) -> bool:
    if not isinstance(obj, dict):
        return True
    for oneof in desc.oneofs:
        if len(oneof.fields) == 1 and oneof.name.startswith("_"):
            continue  # the synthetic oneof of a proto3 `optional` field
        if sum(f.json_name in obj for f in oneof.fields) != 1:
            return False
    for field in desc.fields:
        if field.json_name not in obj:
            continue
        value = obj[field.json_name]
        message = field.message_type
        if value is None:
            if message is None or message.full_name != _VALUE:
                return False
            continue
        if message is None or message.full_name in _OPAQUE:
            continue
        if message.GetOptions().map_entry:
            inner = message.fields_by_name["value"].message_type
            if isinstance(value, dict) and inner is not None and not all(_prose_rules_hold(inner, v) for v in value.values()):
                return False
            continue
        items = value if field.is_repeated and isinstance(value, list) else [value]
        if not all(_prose_rules_hold(message, item) for item in items):
            return False
    return True


def _message(text: str, message_id: str) -> dict[str, Any]:
    return {"messageId": message_id, "role": "ROLE_USER", "parts": [{"text": text}]}


async def _send(client: Any, message: dict[str, Any]) -> dict[str, Any]:
    body = {"jsonrpc": "2.0", "id": 1, "method": "SendMessage", "params": {"message": message}}
    return (await client.post("/", json=body, headers=V1)).json()["result"]  # type: ignore[no-any-return]


async def corpus() -> list[tuple[str, Any]]:
    async with in_process(runner=ConformanceRunner(), coalesce_ms=0) as client:
        done = await _send(client, _message("conformance:complete", "m1"))
        asked = await _send(client, _message("conformance:input-required", "m2"))
        files = [await _send(client, _message("x", f"tck-artifact-{kind}-1")) for kind in ("file", "file-url", "data")]
        direct = await _send(client, _message("x", "tck-message-response-1"))
        sse = await stream(client, "SendStreamingMessage", {"message": _message("conformance:complete", "m3")}, version="1.0")
        listed = (await client.post("/", headers=V1, json={"jsonrpc": "2.0", "id": 2, "method": "ListTasks",
                                                           "params": {"includeArtifacts": True}})).json()["result"]
    status = next(f for f in sse.frames if "statusUpdate" in f)
    chunk = next(f for f in sse.frames if "artifactUpdate" in f)
    parts = [a["parts"][0] for t in files for a in t["task"]["artifacts"]]
    push = {"id": "c", "taskId": "t", "url": "https://h/x", "token": "t",
            "authentication": {"scheme": "Bearer", "credentials": "c"}}
    return [
        ("SendMessageResponse", done), ("Task", asked["task"]), ("SendMessageResponse", direct),
        ("Message", {**_message("x", "m"), "parts": parts}), ("StreamResponse", status),
        ("StreamResponse", chunk), ("TaskStatusUpdateEvent", status["statusUpdate"]),
        ("ListTasksResponse", listed), ("TaskPushNotificationConfig", push),
        ("ListTaskPushNotificationConfigsResponse", {"configs": [push], "nextPageToken": ""}),
        ("AgentCard", RICH_CARD),
    ]


_FLOW = {"tokenUrl": "https://id/token", "scopes": {"read": "read tasks"}}
RICH_CARD: dict[str, Any] = {
    "name": "n", "description": "d", "version": "1",
    "supportedInterfaces": [{"url": "https://a/", "protocolBinding": "JSONRPC", "protocolVersion": "1.0",
                             "tenant": "t"}],
    "provider": {"organization": "o", "url": "https://o/"},
    "documentationUrl": "https://o/docs", "iconUrl": "https://o/icon.png",
    "capabilities": {"streaming": True, "pushNotifications": False, "extendedAgentCard": True,
                     "extensions": [{"uri": "urn:x", "description": "x", "required": True, "params": {"a": 1}}]},
    "securitySchemes": {
        "bearer": {"httpAuthSecurityScheme": {"scheme": "Bearer", "bearerFormat": "JWT"}},
        "key": {"apiKeySecurityScheme": {"location": "header", "name": "X-API-Key"}},
        "oauth": {"oauth2SecurityScheme": {"flows": {"clientCredentials": _FLOW}}},
        "code": {"oauth2SecurityScheme": {"flows": {"authorizationCode": {
            **_FLOW, "authorizationUrl": "https://id/auth", "pkceRequired": True}}}},
        "oidc": {"openIdConnectSecurityScheme": {"openIdConnectUrl": "https://id/.well-known/openid-configuration"}},
        "mtls": {"mtlsSecurityScheme": {"description": "client certificates"}},
    },
    "securityRequirements": [{"schemes": {"bearer": {"list": ["read"]}}}],
    "defaultInputModes": ["text/plain"], "defaultOutputModes": ["text/plain"],
    "skills": [{"id": "s", "name": "s", "description": "d", "tags": ["t"], "examples": ["e"],
                "inputModes": ["text/plain"], "outputModes": ["text/plain"],
                "securityRequirements": [{"schemes": {"key": {}}}]}],
    "signatures": [{"protected": "eyJhbGciOiJFUzI1NiJ9", "signature": "c2ln", "header": {"kid": "k"}}],
}


async def test_v1_models_agree_with_the_proto() -> None:
    checked = 0
    for type_name, obj in await corpus():
        assert official_ok(type_name, obj), (type_name, obj)
        assert problem(type_name, obj) is None, (type_name, problem(type_name, obj))
        for label, changed in mutations(obj):
            ours = problem(type_name, changed) is None
            theirs = official_ok(type_name, changed)
            assert ours == theirs, f"{type_name}: {label}: ours says {ours}, the proto {theirs}"
            checked += 1
    assert checked > 800


@pytest.mark.parametrize(("type_name", "obj", "why"), [
    ("Task", {"id": "t", "status": {"state": "completed"}}, "a 0.3 state"),
    ("Task", {"id": "t", "kind": "task", "status": {"state": "TASK_STATE_COMPLETED"}}, "kind"),
    ("Task", {"id": "t", "status": {"state": "TASK_STATE_COMPLETED", "timestamp": "2026-01-01T00:00:00+00:00"}}, "no Z"),
    ("Task", {"id": "t", "context_id": "c", "status": {"state": "TASK_STATE_COMPLETED"}}, "snake_case"),
    ("TaskStatusUpdateEvent", {"taskId": "t", "contextId": "c", "status": {"state": "TASK_STATE_WORKING"},
                               "final": False}, "final"),
    ("Message", {"messageId": "m", "role": "ROLE_USER", "parts": [{"text": "a", "url": "https://b"}]}, "two contents"),
    ("StreamResponse", {"task": {"id": "t", "status": {"state": "TASK_STATE_WORKING"}},
                        "statusUpdate": {"taskId": "t", "contextId": "c", "status": {"state": "TASK_STATE_WORKING"}}},
     "two payloads"),
])
def test_what_a_writer_must_not_write_is_refused_by_both(type_name: str, obj: Any, why: str) -> None:
    assert problem(type_name, obj) is not None, why
    assert not official_ok(type_name, obj), why
