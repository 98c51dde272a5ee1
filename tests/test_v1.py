"""Protocol 1.0 on the same endpoint as 0.3: every method, ProtoJSON in (camelCase and
snake_case) and out (checked against the normative proto by tests/client.py), ListTasks,
errors with ErrorInfo, versions and extensions, the merged card, push bodies in the
creator's version, and one store for both versions."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from a2a_server.runner.conformance import ConformanceRunner
from tests.client import V1, rpc, send, stream, user_message
from tests.conftest import in_process, wait_for
from tests.proto import validate_stream_response, validate_v1, validate_v1_error
from tests.receiver import Receiver
from tests.schema import validate

pytestmark = pytest.mark.anyio

_counter = iter(range(1, 1_000_000))


def message(text: str, **extra: Any) -> dict[str, Any]:
    return {"messageId": f"m-{next(_counter)}", "role": "ROLE_USER", "parts": [{"text": text}], **extra}


async def send_v1(client: httpx.AsyncClient, text: str, **config: Any) -> dict[str, Any]:
    params: dict[str, Any] = {"message": message(text, **config.pop("message", {}))}
    if config:
        params["configuration"] = config
    reply = await rpc(client, "SendMessage", params, version="1.0")
    assert "result" in reply, reply
    return reply["result"]  # type: ignore[no-any-return]


def texts(task: dict[str, Any]) -> str:
    return "".join(p.get("text", "") for a in task.get("artifacts", []) for p in a["parts"])


async def test_send_message_blocking_and_immediately() -> None:
    async with in_process() as client:
        done = await send_v1(client, "calc 2+3*4")
        assert set(done) == {"task"}
        task = done["task"]
        assert task["status"]["state"] == "TASK_STATE_COMPLETED"
        assert task["status"]["timestamp"].endswith("Z")
        assert texts(task) == "2+3*4 = 14"
        assert task["history"][0]["role"] == "ROLE_USER" and task["history"][0]["taskId"] == task["id"]
        assert "kind" not in str(task)

        # snake_case names are ProtoJSON too (the 1.0 kit sends them)
        params = {"message": {"message_id": "snake", "role": "ROLE_USER", "parts": [{"text": "hello"}],
                              "context_id": task["contextId"]},
                  "configuration": {"return_immediately": True, "history_length": 0}}
        quick = (await rpc(client, "SendMessage", params, version="1.0"))["result"]["task"]
        assert quick["contextId"] == task["contextId"]
        assert quick["status"]["state"] in ("TASK_STATE_SUBMITTED", "TASK_STATE_WORKING")
        assert "history" not in quick  # historyLength 0: none


async def test_stream_ends_by_closing_and_carries_tool_events() -> None:
    async with in_process(coalesce_ms=0) as client:
        sse = await stream(client, "SendStreamingMessage", {"message": message("time")}, version="1.0")
        kinds = [next(iter(f)) for f in sse.frames]
        assert kinds[0] == "task" and kinds[1] == "statusUpdate", kinds
        assert "artifactUpdate" in kinds and kinds[-1] == "statusUpdate"
        assert sse.frames[-1]["statusUpdate"]["status"]["state"] == "TASK_STATE_COMPLETED"
        assert all("final" not in f.get("statusUpdate", {}) for f in sse.frames)
        tools = [
            p["data"] for f in sse.frames if "statusUpdate" in f
            for p in f["statusUpdate"]["status"].get("message", {}).get("parts", []) if "data" in p
        ]
        assert [t["type"] for t in tools if t["type"].startswith("tool")] == ["tool_started", "tool_completed"]
        assert tools[-1]["toolName"] == "clock" and tools[-1]["success"] is True and "utc" in tools[-1]["output"]
        chunks = [f["artifactUpdate"] for f in sse.frames if "artifactUpdate" in f]
        assert "append" not in chunks[0] and all(c["append"] for c in chunks[1:])  # false is left out
        assert chunks[-1]["lastChunk"] is True


async def test_get_task_and_history_length() -> None:
    async with in_process() as client:
        first = (await send_v1(client, "ask me"))["task"]
        assert first["status"]["state"] == "TASK_STATE_INPUT_REQUIRED"
        tid = first["id"]
        await send_v1(client, "Ada", message={"taskId": tid})
        full = (await rpc(client, "GetTask", {"id": tid}, version="1.0"))["result"]
        assert [m["role"] for m in full["history"]] == ["ROLE_USER", "ROLE_AGENT", "ROLE_USER"]
        one = (await rpc(client, "GetTask", {"id": tid, "historyLength": 1}, version="1.0"))["result"]
        assert len(one["history"]) == 1 and one["history"][0]["parts"][0]["text"] == "Ada"
        none = (await rpc(client, "GetTask", {"id": tid, "history_length": 0}, version="1.0"))["result"]
        assert "history" not in none
        missing = await rpc(client, "GetTask", {"id": "nope"}, version="1.0")
        info = validate_v1_error(missing["error"])
        assert missing["error"]["code"] == -32001
        assert (info["reason"], info["domain"]) == ("TASK_NOT_FOUND", "a2a-protocol.org")


async def test_list_tasks_pages_filters_and_validation() -> None:
    async with in_process() as client:
        context = "ctx-list"
        made = [(await send_v1(client, f"hello {i}", message={"contextId": context}))["task"] for i in range(5)]
        await send_v1(client, "elsewhere")
        parked = (await send_v1(client, "ask me", message={"contextId": context}))["task"]
        assert parked["status"]["state"] == "TASK_STATE_INPUT_REQUIRED"

        seen: list[dict[str, Any]] = []
        token, pages = "", 0
        while True:
            params: dict[str, Any] = {"contextId": context, "pageSize": 2}
            if token:
                params["pageToken"] = token
            page = (await rpc(client, "ListTasks", params, version="1.0"))["result"]
            assert page["pageSize"] == 2 and page["totalSize"] == 6
            seen += page["tasks"]
            pages += 1
            token = page["nextPageToken"]
            if not token:
                break
        assert pages == 3
        assert {t["id"] for t in seen} == {t["id"] for t in made} | {parked["id"]}
        stamps = [t["status"]["timestamp"] for t in seen]
        assert stamps == sorted(stamps, reverse=True)  # newest status first
        assert all("artifacts" not in t for t in seen)  # unless asked for

        done = (await rpc(client, "ListTasks", {"context_id": context, "status": "TASK_STATE_COMPLETED",
                                                "include_artifacts": True, "history_length": 0}, version="1.0"))["result"]
        assert done["totalSize"] == 5 and all(texts(t).startswith("You said: hello") for t in done["tasks"])
        assert all("history" not in t for t in done["tasks"])
        later = (await rpc(client, "ListTasks", {"contextId": context,
                                                 "statusTimestampAfter": parked["status"]["timestamp"]}, version="1.0"))["result"]
        assert [t["id"] for t in later["tasks"]] == [parked["id"]]
        everything = (await rpc(client, "ListTasks", {}, version="1.0"))["result"]
        assert everything["totalSize"] == 7 and everything["nextPageToken"] == ""

        for bad, field in [({"pageSize": 0}, "pageSize"), ({"pageSize": 101}, "pageSize"),
                           ({"pageToken": "garbage"}, "pageToken"), ({"status": "DONE"}, "status"),
                           ({"statusTimestampAfter": "yesterday"}, "statusTimestampAfter")]:
            reply = await rpc(client, "ListTasks", bad, version="1.0")
            assert reply["error"]["code"] == -32602, (bad, reply)
            assert validate_v1_error(reply["error"])["reason"] == "INVALID_PARAMS"
            violations = [d for d in reply["error"]["data"] if d["@type"].endswith("BadRequest")]
            assert violations and violations[0]["fieldViolations"][0]["field"] == field, reply


async def test_cancel_and_subscribe() -> None:
    async with in_process(runner=ConformanceRunner(), keepalive_seconds=0.05) as client:
        task = (await send_v1(client, "hold"))["task"]  # parked working on a ticket
        assert task["status"]["state"] == "TASK_STATE_WORKING"
        reader = asyncio.create_task(stream(client, "SubscribeToTask", {"id": task["id"]}, version="1.0"))
        await asyncio.sleep(0.2)
        canceled = (await rpc(client, "CancelTask", {"id": task["id"]}, version="1.0"))["result"]
        assert canceled["status"]["state"] == "TASK_STATE_CANCELED"
        sse = await asyncio.wait_for(reader, 5)
        assert next(iter(sse.frames[0])) == "task"
        assert sse.frames[-1]["statusUpdate"]["status"]["state"] == "TASK_STATE_CANCELED"

        again = await rpc(client, "CancelTask", {"id": task["id"]}, version="1.0")
        assert validate_v1_error(again["error"])["reason"] == "TASK_NOT_CANCELABLE"
        # an ended task: a plain JSON error, not a stream (1.0 -32004)
        ended = await stream(client, "SubscribeToTask", {"id": task["id"]}, version="1.0",
                             headers={"Accept": "text/event-stream"})
        (only,) = ended.events
        assert only.seq is None and only.body["error"]["code"] == -32004
        unknown = await stream(client, "SubscribeToTask", {"id": "nope"}, version="1.0")
        assert unknown.events[0].body["error"]["code"] == -32001


async def test_push_configs_and_bodies_in_the_creators_version(receiver: tuple[Receiver, str]) -> None:
    r, url = receiver
    async with in_process(runner=ConformanceRunner(), push_allow_hosts="127.0.0.1",
                          push_backoff_seconds=0.05) as client:
        tid = (await send_v1(client, "hold"))["task"]["id"]
        made = (await rpc(client, "CreateTaskPushNotificationConfig", {
            "task_id": tid, "id": "v1", "url": f"{url}/v1", "token": "tok",
            "authentication": {"scheme": "Bearer", "credentials": "secret"},
        }, version="1.0"))["result"]
        assert made == {"id": "v1", "taskId": tid, "url": f"{url}/v1", "token": "tok",
                        "authentication": {"scheme": "Bearer", "credentials": "secret"}}
        await rpc(client, "tasks/pushNotificationConfig/set",
                  {"taskId": tid, "pushNotificationConfig": {"id": "old", "url": f"{url}/old"}})
        got = (await rpc(client, "GetTaskPushNotificationConfig", {"taskId": tid, "id": "v1"}, version="1.0"))["result"]
        assert got == made
        listed = (await rpc(client, "ListTaskPushNotificationConfigs", {"taskId": tid}, version="1.0"))["result"]
        assert [c["id"] for c in listed["configs"]] == ["v1", "old"] and listed["nextPageToken"] == ""

        await rpc(client, "CancelTask", {"id": tid}, version="1.0")  # a final state: notified
        await wait_for(lambda: _received(r, "/v1", "/old"))
        new = r.at("/v1")[-1]
        assert new.headers["content-type"] == "application/a2a+json"
        assert new.headers["authorization"] == "Bearer secret"
        assert new.headers["x-a2a-notification-token"] == "tok"
        body = new.task  # the parsed JSON body
        validate_stream_response(body)
        assert body["task"]["status"]["state"] == "TASK_STATE_CANCELED"
        old = r.at("/old")[-1]
        assert old.headers["content-type"] == "application/json"
        validate("Task", old.task)
        assert old.task["status"]["state"] == "canceled"  # the 0.3 config: a 0.3 Task

        for _ in range(2):  # idempotent
            deleted = await rpc(client, "DeleteTaskPushNotificationConfig", {"taskId": tid, "id": "v1"}, version="1.0")
            assert deleted["result"] is None
        gone = await rpc(client, "GetTaskPushNotificationConfig", {"taskId": tid, "id": "v1"}, version="1.0")
        assert gone["error"]["code"] == -32052 and validate_v1_error(gone["error"])["domain"] == "a2a-server"


async def _received(r: Receiver, *paths: str) -> bool:
    return all(r.at(p) for p in paths)


async def test_versions_extensions_and_content_type() -> None:
    async with in_process() as client:
        body = {"jsonrpc": "2.0", "id": 1, "method": "GetTask", "params": {"id": "nope"}}
        for headers in ({}, {"A2A-Version": ""}, {"A2A-Version": "0.3"}, {"A2A-Version": "2.0"}):
            reply = (await client.post("/", json=body, headers=headers)).json()
            assert reply["error"]["code"] == -32009, headers
            assert validate_v1_error(reply["error"])["reason"] == "VERSION_NOT_SUPPORTED"
        for headers, url in (({"A2A-Version": "1.0.3"}, "/"), ({}, "/?A2A-Version=1.0")):
            reply = (await client.post(url, json=body, headers=headers)).json()
            assert reply["error"]["code"] == -32001, (headers, url)  # served: the task is unknown
        text = await client.post("/", content=b"{'not': json}", headers={**V1, "Content-Type": "text/plain"})
        assert text.json()["error"]["code"] == -32005
        assert validate_v1_error(text.json()["error"])["reason"] == "CONTENT_TYPE_NOT_SUPPORTED"
        form = await client.post("/", content=b'{"jsonrpc":"2.0","id":3,"method":"tasks/get","params":{"id":"x"}}',
                                 headers={"Content-Type": "application/x-www-form-urlencoded"})  # curl -d
        assert form.json()["error"]["code"] == -32001

    async with in_process(required_extensions="urn:example:needed") as client:
        send_body = {"jsonrpc": "2.0", "id": 2, "method": "SendMessage", "params": {"message": message("hello")}}
        refused = (await client.post("/", json=send_body, headers=V1)).json()
        assert refused["error"]["code"] == -32008
        assert validate_v1_error(refused["error"])["reason"] == "EXTENSION_SUPPORT_REQUIRED"
        for header in ("A2A-Extensions", "X-A2A-Extensions"):
            ok = await client.post("/", json=send_body, headers={**V1, header: "urn:example:needed"})
            assert "result" in ok.json() and ok.headers["a2a-extensions"] == "urn:example:needed"
        card = (await client.get("/.well-known/agent-card.json")).json()
        assert {"uri": "urn:example:needed", "required": True} in card["capabilities"]["extensions"]


_ONLY_0_3 = frozenset({"protocolVersion", "url", "preferredTransport", "additionalInterfaces",
                       "supportsAuthenticatedExtendedCard"})


async def test_one_card_for_both_versions() -> None:
    async with in_process(port=8124) as client:
        card = (await client.get("/.well-known/agent-card.json")).json()
        validate("AgentCard", card)  # the 0.3 schema
        validate_v1("AgentCard", card, extra_keys=_ONLY_0_3)  # the 1.0 proto, 0.3 fields aside
        assert card["supportedInterfaces"] == [
            {"url": "http://127.0.0.1:8124/", "protocolBinding": "JSONRPC", "protocolVersion": "1.0"},
            {"url": "http://127.0.0.1:8124/", "protocolBinding": "JSONRPC", "protocolVersion": "0.3"},
        ]
        assert card["url"] == "http://127.0.0.1:8124/" and card["protocolVersion"] == "0.3.0"
        assert all(s["inputModes"] and s["outputModes"] for s in card["skills"])
        cached = await client.get("/.well-known/agent-card.json", headers={"If-None-Match": "x"})
        assert "max-age" in cached.headers["cache-control"] and cached.headers["last-modified"]
        again = await client.get("/.well-known/agent-card.json",
                                 headers={"If-None-Match": cached.headers["etag"]})
        assert again.status_code == 304
    async with in_process(card_format="1.0") as client:
        strict = (await client.get("/.well-known/agent-card.json")).json()
        validate_v1("AgentCard", strict)
        assert not set(strict) & _ONLY_0_3
    async with in_process(card_format="0.3") as client:
        old = (await client.get("/.well-known/agent-card.json")).json()
        validate("AgentCard", old)
        assert "supportedInterfaces" not in old


async def test_direct_message_reply_makes_no_task() -> None:
    async with in_process(runner=ConformanceRunner()) as client:
        reply = (await send_v1(client, "hi", message={"messageId": "tck-message-response-1"}))
        assert set(reply) == {"message"}
        assert reply["message"]["role"] == "ROLE_AGENT"
        assert reply["message"]["parts"] == [{"text": "Direct message response"}]
        assert "taskId" not in reply["message"] and reply["message"]["contextId"]
        sse = await stream(client, "SendStreamingMessage",
                           {"message": message("hi", messageId="tck-message-response-2")}, version="1.0")
        assert [next(iter(f)) for f in sse.frames] == ["message"]
        listed = (await rpc(client, "ListTasks", {}, version="1.0"))["result"]
        assert listed["totalSize"] == 0


@pytest.mark.parametrize("prefix, check", [
    ("tck-artifact-text", lambda part: part == {"text": "Generated text content"}),
    ("tck-artifact-file-url", lambda part: part == {"url": "https://example.com/output.txt",
                                                    "filename": "output.txt", "mediaType": "text/plain"}),
    ("tck-artifact-file", lambda part: part == {"raw": "dGNr", "filename": "output.txt", "mediaType": "text/plain"}),
    ("tck-artifact-data", lambda part: part == {"data": {"key": "value", "count": 42}}),
])
async def test_artifacts_of_each_kind(prefix: str, check: Any) -> None:
    async with in_process(runner=ConformanceRunner()) as client:
        task = (await send_v1(client, "make it", message={"messageId": f"{prefix}-1"}))["task"]
        assert task["status"]["state"] == "TASK_STATE_COMPLETED"
        assert check(task["artifacts"][0]["parts"][0]), task["artifacts"]
    # the same artifact read by a 0.3 client, in 0.3's shape
        old = (await rpc(client, "tasks/get", {"id": task["id"]}))["result"]
        assert old["artifacts"][0]["parts"][0]["kind"] in ("text", "file", "data")


async def test_one_store_for_both_versions() -> None:
    async with in_process() as client:
        old = await send(client, "my name is Ada")
        new = (await rpc(client, "GetTask", {"id": old["id"]}, version="1.0"))["result"]
        assert new["id"] == old["id"] and new["status"]["state"] == "TASK_STATE_COMPLETED"
        # a 1.0 follow-up in the 0.3 task's context remembers it
        follow = (await send_v1(client, "what is my name", message={"contextId": old["contextId"]}))["task"]
        assert texts(follow) == "Your name is Ada."
        back = (await rpc(client, "tasks/get", {"id": follow["id"]}))["result"]
        assert back["kind"] == "task" and back["history"][0]["role"] == "user"
        # a 0.3 client cannot call 1.0 methods by mistake, nor the reverse
        mixed = await rpc(client, "tasks/get", {"id": old["id"]}, version="1.0")
        assert mixed["error"]["code"] == -32601
        assert (await rpc(client, "message/send", {"message": user_message("x")}))["result"]["kind"] == "task"
