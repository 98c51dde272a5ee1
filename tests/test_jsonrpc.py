"""The bad-input table: every malformed request gets its exact code, the server stays up, no
exception text leaks and no task is left half-written."""

from __future__ import annotations

import json
from typing import Any

import httpx

from a2a_server.calls import ListTasks
import pytest

from a2a_server.runner.events import Completed, TextDelta
from tests.client import check_response, rpc, send, user_message
from tests.conftest import in_process

pytestmark = pytest.mark.anyio

GOOD = {"role": "user", "messageId": "m-1", "kind": "message", "parts": [{"kind": "text", "text": "hi"}]}


def message(**changes: Any) -> dict[str, Any]:
    msg = {**GOOD, **changes}
    return {k: v for k, v in msg.items() if v is not ...}


def send_req(msg: Any, request_id: Any = 7, **extra: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": "message/send", "params": {"message": msg, **extra}}


# (name, raw body, expected code, expected id, words the message must contain)
ENVELOPE_CASES: list[tuple[str, bytes, int, Any, str]] = [
    ("not json", b'{"jsonrpc": "2.0", "method": "message/send"', -32700, None, ""),
    ("not utf-8", b'{"jsonrpc":"2.0","id":1,"method":"\xff"}', -32700, None, ""),
    ("empty body", b"", -32700, None, ""),
    ("batch", b'[{"jsonrpc":"2.0","id":1,"method":"tasks/get","params":{"id":"x"}}]', -32600, None, "Batch"),
    ("empty batch", b"[]", -32600, None, "Batch"),
    ("scalar", b"42", -32600, None, ""),
    ("wrong jsonrpc", b'{"jsonrpc":"1.0","id":3,"method":"tasks/get","params":{"id":"x"}}', -32600, 3, "jsonrpc"),
    ("missing jsonrpc", b'{"id":"a","method":"tasks/get","params":{"id":"x"}}', -32600, "a", "jsonrpc"),
    ("missing method", b'{"jsonrpc":"2.0","id":4,"params":{}}', -32600, 4, "method"),
    ("method not a string", b'{"jsonrpc":"2.0","id":4,"method":5}', -32600, 4, "method"),
    ("id is an object", b'{"jsonrpc":"2.0","id":{"bad":1},"method":"tasks/get"}', -32600, None, "id"),
    ("id is a float", b'{"jsonrpc":"2.0","id":1.5,"method":"tasks/get"}', -32600, None, "id"),
    ("id is a bool", b'{"jsonrpc":"2.0","id":true,"method":"tasks/get"}', -32600, None, "id"),
    ("unknown method", b'{"jsonrpc":"2.0","id":5,"method":"message/ssend","params":{}}', -32601, 5, "message/ssend"),
    ("1.0 method, no A2A-Version", b'{"jsonrpc":"2.0","id":5,"method":"SendMessage","params":{}}', -32009, 5, "A2A-Version: 1.0"),
    ("params is an array", b'{"jsonrpc":"2.0","id":6,"method":"tasks/get","params":["x"]}', -32602, 6, "params"),
    ("params is a string", b'{"jsonrpc":"2.0","id":6,"method":"tasks/get","params":"x"}', -32602, 6, "params"),
    ("no id, bad params", b'{"jsonrpc":"2.0","method":"message/send","params":{"":"x"}}', -32602, None, "message"),
]


@pytest.mark.parametrize(("name", "body", "code", "request_id", "words"), ENVELOPE_CASES, ids=[c[0] for c in ENVELOPE_CASES])
async def test_envelope_errors(client: httpx.AsyncClient, name: str, body: bytes, code: int, request_id: Any, words: str) -> None:
    response = await client.post("/", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 200
    reply = check_response(response.json(), request_id)
    assert reply["error"]["code"] == code, reply
    assert words in reply["error"]["message"]


# (name, message or params, expected code, the field the message must name)
PARAM_CASES: list[tuple[str, dict[str, Any], int, str]] = [
    ("no message", {}, -32602, "message"),
    ("message not an object", {"message": "hi"}, -32602, "message"),
    ("no messageId", {"message": message(messageId=...)}, -32602, "messageId"),
    ("empty messageId", {"message": message(messageId="")}, -32602, "messageId"),
    ("no role", {"message": message(role=...)}, -32602, "role"),
    ("bad role", {"message": message(role="system")}, -32602, "role"),
    ("no parts", {"message": message(parts=...)}, -32602, "parts"),
    ("empty parts", {"message": message(parts=[])}, -32602, "parts"),
    ("parts not a list", {"message": message(parts="invalid")}, -32602, "parts"),
    ("part without kind, two contents", {"message": message(parts=[{"text": "hi", "data": {}}])}, -32602, "kind"),
    ("part without kind or content", {"message": message(parts=[{"metadata": {}}])}, -32602, "kind"),
    ("part with a foreign type", {"message": message(parts=[{"type": "image", "text": "x"}])}, -32602, "kind"),
    ("unknown part kind", {"message": message(parts=[{"kind": "video", "url": "x"}])}, -32602, "kind"),
    ("text not a string", {"message": message(parts=[{"kind": "text", "text": 5}])}, -32602, "text"),
    ("data not an object", {"message": message(parts=[{"kind": "data", "data": [1, 2]}])}, -32602, "data"),
    ("data a string", {"message": message(parts=[{"kind": "data", "data": "x"}])}, -32602, "data"),
    ("file with both", {"message": message(parts=[{"kind": "file", "file": {"bytes": "aGk=", "uri": "http://x/y"}}])}, -32602, "file"),
    ("file with neither", {"message": message(parts=[{"kind": "file", "file": {"name": "x"}}])}, -32602, "file"),
    ("wrong message kind", {"message": message(kind="task")}, -32602, "kind"),
    ("blocking not a bool", {"message": message(), "configuration": {"blocking": "yes"}}, -32602, "blocking"),
    ("negative historyLength", {"message": message(), "configuration": {"historyLength": -1}}, -32602, "historyLength"),
    ("taskId not a string", {"message": message(taskId=5)}, -32602, "taskId"),
]


@pytest.mark.parametrize(("name", "params", "code", "field"), PARAM_CASES, ids=[c[0] for c in PARAM_CASES])
async def test_send_param_errors(client: httpx.AsyncClient, name: str, params: dict[str, Any], code: int, field: str) -> None:
    for method in ("message/send", "message/stream"):
        reply = await rpc(client, method, params, request_id=11)
        assert reply["error"]["code"] == code, reply
        assert field in reply["error"]["message"], reply
    handler = client.app.state.handler  # type: ignore[attr-defined]
    assert (await handler.store.list_tasks(ListTasks(), "")).total_size == 0  # nothing was made


@pytest.mark.parametrize(
    ("method", "params", "code"),
    [
        ("tasks/get", {}, -32602),
        ("tasks/get", {"id": 5}, -32602),
        ("tasks/get", {"id": "nope"}, -32001),
        ("tasks/get", {"id": "nope", "historyLength": -1}, -32602),
        ("tasks/cancel", {"id": "nope"}, -32001),
        ("tasks/cancel", {}, -32602),
        ("tasks/resubscribe", {"id": "nope"}, -32001),
        ("message/send", {"message": message(taskId="nope")}, -32001),
        ("message/stream", {"message": message(taskId="nope")}, -32001),
        ("tasks/pushNotificationConfig/set", {"taskId": "t", "pushNotificationConfig": {"url": "https://x.example"}}, -32001),
        ("tasks/pushNotificationConfig/set", {"taskId": "t"}, -32602),
        ("tasks/pushNotificationConfig/set", {"taskId": "t", "pushNotificationConfig": {"token": "x"}}, -32602),
        ("tasks/pushNotificationConfig/get", {"id": "t"}, -32001),
        ("tasks/pushNotificationConfig/list", {"id": "t"}, -32001),
        ("tasks/pushNotificationConfig/delete", {"id": "t", "pushNotificationConfigId": "c"}, -32001),
        ("tasks/pushNotificationConfig/delete", {"id": "t"}, -32602),
        ("message/send", {"message": message(), "configuration": {"pushNotificationConfig": {"url": "http://10.0.0.1/hook"}}}, -32602),
        ("message/send", {"message": message(), "configuration": {"pushNotificationConfig": {"url": 5}}}, -32602),
        ("agent/getAuthenticatedExtendedCard", None, -32007),
    ],
)
async def test_a2a_errors(client: httpx.AsyncClient, method: str, params: Any, code: int) -> None:
    reply = await rpc(client, method, params, request_id="e")
    assert reply["error"]["code"] == code, reply


async def test_message_to_ended_task_and_context_mismatch(client: httpx.AsyncClient) -> None:
    task = await send(client, "hello")
    assert task["status"]["state"] == "completed"
    ended = await rpc(client, "message/send", {"message": user_message("again", taskId=task["id"])})
    assert ended["error"]["code"] == -32004
    ended = await rpc(client, "message/stream", {"message": user_message("again", taskId=task["id"])})
    assert ended["error"]["code"] == -32004
    resub = await rpc(client, "tasks/resubscribe", {"id": task["id"]})
    assert resub["error"]["code"] == -32004
    cancel = await rpc(client, "tasks/cancel", {"id": task["id"]})
    assert cancel["error"]["code"] == -32002

    open_task = await send(client, "ask me")
    assert open_task["status"]["state"] == "input-required"
    mismatch = await rpc(
        client, "message/send",
        {"message": user_message("Ada", taskId=open_task["id"], contextId="another-context")},
    )
    assert mismatch["error"]["code"] == -32602
    assert "contextId" in mismatch["error"]["message"]
    after = await rpc(client, "tasks/get", {"id": open_task["id"]})
    assert after["result"]["status"]["state"] == "input-required"
    assert len(after["result"]["history"]) == len(open_task["history"])  # nothing half-written


async def test_nulls_are_absent(client: httpx.AsyncClient) -> None:
    reply = await rpc(client, "message/send", {"message": message(taskId=None, contextId=None, metadata=None), "metadata": None, "configuration": None})
    assert reply["result"]["status"]["state"] == "completed"
    reply = await rpc(client, "tasks/get", {"id": reply["result"]["id"], "historyLength": None, "metadata": None})
    assert "result" in reply


async def test_params_may_be_null_or_absent_for_card_method(client: httpx.AsyncClient) -> None:
    for body in (
        {"jsonrpc": "2.0", "id": 1, "method": "agent/getAuthenticatedExtendedCard"},
        {"jsonrpc": "2.0", "id": 1, "method": "agent/getAuthenticatedExtendedCard", "params": None},
    ):
        response = await client.post("/", json=body)
        assert response.json()["error"]["code"] == -32007


async def test_lenient_messages() -> None:
    bare = {"parts": [{"kind": "text", "text": "hello"}]}
    async with in_process() as strict:
        reply = await rpc(strict, "message/send", {"message": bare})
        assert reply["error"]["code"] == -32602
    async with in_process(lenient_messages=True) as lenient:
        reply = await rpc(lenient, "message/send", {"message": bare})
        task = reply["result"]
        assert task["status"]["state"] == "completed"
        assert task["history"][0]["role"] == "user"
        assert task["history"][0]["messageId"]
        still_bad = await rpc(lenient, "message/send", {"message": {"parts": []}})
        assert still_bad["error"]["code"] == -32602


async def test_oversized_body_gets_413_and_server_stays_up() -> None:
    async with in_process(max_body_bytes=1024) as client:
        big = json.dumps(send_req(message(parts=[{"kind": "text", "text": "x" * 5000}]))).encode()
        response = await client.post("/", content=big)
        assert response.status_code == 413

        async def chunks():  # no Content-Length: the limit holds while streaming the body in
            for _ in range(10):
                yield b" " * 512

        response = await client.post("/", content=chunks())
        assert response.status_code == 413
        assert (await send(client, "hello"))["status"]["state"] == "completed"


class Exploding:
    name = "exploding"
    description = "raises inside run"
    skills = ()

    async def run(self, turn):  # type: ignore[no-untyped-def]
        yield TextDelta("partial ")
        raise RuntimeError("secret-internal-detail /etc/passwd")


async def test_runner_exception_fails_task_without_leaking() -> None:
    async with in_process(runner=Exploding()) as client:
        reply = await rpc(client, "message/send", {"message": message()})
        task = reply["result"]
        assert task["status"]["state"] == "failed"
        text = json.dumps(reply)
        assert "secret-internal-detail" not in text and "RuntimeError" not in text
        assert task["status"]["message"]["parts"][0]["text"]


class BrokenHandlerRunner:
    """A runner whose `run` is not even an async iterator: the server must cope."""

    name = "broken"
    description = "run returns None"
    skills = ()

    def run(self, turn):  # type: ignore[no-untyped-def]
        return None


async def test_broken_runner_fails_task_cleanly() -> None:
    async with in_process(runner=BrokenHandlerRunner()) as client:
        reply = await rpc(client, "message/send", {"message": message()})
        assert reply["result"]["status"]["state"] == "failed"


async def test_version_header() -> None:
    async with in_process() as client:
        ok = await client.post("/", json=send_req(message()), headers={"A2A-Version": "0.3"})
        assert ok.json()["result"]["status"]["state"] == "completed"
        ok = await client.post("/", json=send_req(message(messageId="m2")), headers={"A2A-Version": ""})
        assert "result" in ok.json()
        ok = await client.post("/", json=send_req(message(messageId="m4")), headers={"A2A-Version": "0.3.7"})
        assert "result" in ok.json()  # the patch is ignored
        # a 1.0 client calling a 0.3 method: that method does not exist in 1.0
        refused = await client.post("/", json=send_req(message(messageId="m3")), headers={"A2A-Version": "1.0"})
        body = check_response(refused.json(), 7)
        assert body["error"]["code"] == -32601 and "0.3 method" in body["error"]["message"]
        for version in ("2.0", "1.1", "banana", "1"):  # versions we do not serve: -32009
            refused = await client.post("/", json=send_req(message(messageId="m5")), headers={"A2A-Version": version})
            assert refused.json()["error"]["code"] == -32009, version


async def test_completed_runner_without_text() -> None:
    class Quiet:
        name = "quiet"
        description = "says nothing"
        skills = ()

        async def run(self, turn):  # type: ignore[no-untyped-def]
            yield Completed(final_text="done")

    async with in_process(runner=Quiet()) as client:
        task = (await rpc(client, "message/send", {"message": message()}))["result"]
        assert task["artifacts"][0]["parts"] == [{"kind": "text", "text": "done"}]


@pytest.mark.parametrize(
    ("accept", "sse"),
    [
        (None, False),
        ("*/*", False),
        ("application/json", False),
        ("text/event-stream, application/json", False),
        ("text/event-stream", True),
        ("text/event-stream; q=1.0", True),
    ],
)
async def test_streaming_method_errors_follow_accept(client: httpx.AsyncClient, accept: str | None, sse: bool) -> None:
    """Errors before a stream's first frame: plain JSON, unless the client reads only SSE."""
    headers = {"accept": accept} if accept else {}
    for method, params in [
        ("tasks/resubscribe", {"id": "nope"}),
        ("message/stream", {"message": message(taskId="nope")}),
        ("message/stream", {"message": message(parts=[])}),
    ]:
        body = {"jsonrpc": "2.0", "id": "x", "method": method, "params": params}
        response = await client.post("/", json=body, headers=headers)
        assert response.status_code == 200
        if sse:
            assert response.headers["content-type"].startswith("text/event-stream")
            (event,) = [b for b in response.text.split("\n\n") if b]
            assert event.startswith("data: ")
            reply = check_response(json.loads(event[6:]), "x")
        else:
            assert response.headers["content-type"].startswith("application/json")
            reply = check_response(response.json(), "x")
        assert reply["error"]["code"] in (-32001, -32602)
    unary = await client.post("/", json={"jsonrpc": "2.0", "id": 1, "method": "tasks/get", "params": {"id": "x"}}, headers=headers)
    assert unary.headers["content-type"].startswith("application/json")


async def test_parts_without_kind_are_read_by_their_content(client: httpx.AsyncClient) -> None:
    """Tolerant in what we accept (fasta2a's client sends 1.0-style parts under 0.3 methods):
    a part with no `kind` but one unambiguous content is that kind; what we send back always
    carries `kind`, checked against the official schema."""
    parts = [
        {"text": "hello"},
        {"data": {"n": 1}},
        {"file": {"uri": "https://example.com/a.txt"}},
        {"raw": "aGk=", "filename": "hi.txt", "mediaType": "text/plain"},
        {"url": "https://example.com/b.png", "mediaType": "image/png"},
    ]
    reply = await rpc(client, "message/send", {"message": message(parts=parts)})
    history = reply["result"]["history"][0]["parts"]
    assert [p["kind"] for p in history] == ["text", "data", "file", "file", "file"]
    assert history[3]["file"] == {"name": "hi.txt", "mimeType": "text/plain", "bytes": "aGk="}
    assert history[4]["file"] == {"mimeType": "image/png", "uri": "https://example.com/b.png"}
