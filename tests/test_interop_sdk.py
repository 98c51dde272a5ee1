"""Interoperability: the official a2a-sdk 1.3.0 client against our server over real HTTP,
in both protocol versions.

a2a-sdk 1.3.0 is 1.0-native: from our card's `supportedInterfaces` (1.0 first, then 0.3, one
URL) its client factory picks the 1.0 JSON-RPC transport (`SendMessage`... with
`A2A-Version: 1.0`). Given the same card with only its 0.3 interface, it picks its 0.3
compat transport (`message/send`... with `A2A-Version: 0.3`): every test runs both ways
against the same kind of server. Only the SDK's public client API is used: `A2ACardResolver`,
`ClientFactory`, `ClientConfig` (its `httpx_client` carries an event hook that records what
the SDK puts on the wire) and the `a2a.types` messages.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
import pytest
from a2a.client import A2ACardResolver, Client, ClientConfig, ClientFactory
from a2a.types import (
    AgentCard,
    CancelTaskRequest,
    GetTaskRequest,
    Message,
    Part,
    Role,
    SendMessageConfiguration,
    SendMessageRequest,
    StreamResponse,
    Task,
    TaskNotCancelableError,
    TaskNotFoundError,
    TaskState,
)

from a2a_server.runner.conformance import ConformanceRunner
from a2a_server.runner.demo import DemoRunner
from tests.conftest import LiveServer

pytestmark = pytest.mark.anyio

ANSWER = "2+3*4 = 14"


@dataclass
class Wire:
    """What the SDK sent: one (method, A2A-Version header, JSON-RPC method) per request, and
    the JSON-RPC bodies."""

    requests: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)

    async def hook(self, request: httpx.Request) -> None:
        rpc_method = None
        if request.method == "POST":
            body = json.loads(request.content)
            self.bodies.append(body)
            rpc_method = body.get("method")
        self.requests.append((request.method, request.headers.get("A2A-Version"), rpc_method))

    @property
    def rpc_methods(self) -> list[str | None]:
        return [m for verb, _, m in self.requests if verb == "POST"]


VERSIONS = ["1.0", "0.3"]

NAMES = {  # our 0.3 method -> its 1.0 name
    "message/send": "SendMessage",
    "message/stream": "SendStreamingMessage",
    "tasks/get": "GetTask",
    "tasks/cancel": "CancelTask",
    "tasks/resubscribe": "SubscribeToTask",
}


def method_names(version: str, *methods: str) -> list[str]:
    """The wire names of these methods (written in 0.3) in `version`."""
    return [NAMES[m] if version == "1.0" else m for m in methods]


@asynccontextmanager
async def sdk_client(
    server: LiveServer, *, streaming: bool, version: str = "1.0"
) -> AsyncIterator[tuple[Client, Wire]]:
    """Resolve the card from the server's base URL, then build a client with the factory;
    for "0.3", from the card with its 1.0 interface left out."""
    wire = Wire()
    async with httpx.AsyncClient(timeout=30, event_hooks={"request": [wire.hook]}) as http:
        card = await A2ACardResolver(http, server.url).get_agent_card()
        if version == "0.3":
            kept = [i for i in card.supported_interfaces if i.protocol_version == "0.3"]
            del card.supported_interfaces[:]
            card.supported_interfaces.extend(kept)
        factory = ClientFactory(ClientConfig(streaming=streaming, httpx_client=http))
        async with factory.create(card) as client:
            yield client, wire


def user_request(text: str, **config: Any) -> SendMessageRequest:
    request = SendMessageRequest(
        message=Message(
            message_id=str(uuid.uuid4()), role=Role.ROLE_USER, parts=[Part(text=text)]
        )
    )
    if config:
        request.configuration.CopyFrom(SendMessageConfiguration(**config))
    return request


async def collect(client: Client, request: SendMessageRequest) -> list[StreamResponse]:
    return [event async for event in client.send_message(request)]


async def send_for_task(client: Client, request: SendMessageRequest) -> Task:
    """A non-streaming send: the SDK yields exactly one StreamResponse holding the Task."""
    events = await collect(client, request)
    assert [e.WhichOneof("payload") for e in events] == ["task"], events
    return events[0].task


def answer_of(task: Task) -> str:
    for artifact in task.artifacts:
        if artifact.name == "answer":
            return "".join(p.text for p in artifact.parts if p.WhichOneof("content") == "text")
    return ""


def state_name(state: int) -> str:
    return TaskState.Name(state)


async def test_card_lists_both_interfaces_1_0_first(
    live_server: Callable[..., LiveServer],
) -> None:
    server = live_server()
    async with httpx.AsyncClient(timeout=30) as http:
        card: AgentCard = await A2ACardResolver(http, server.url).get_agent_card()
    assert card.name == "a2a-server demo agent"
    assert card.capabilities.streaming is True
    assert [(i.protocol_binding, i.protocol_version, i.url) for i in card.supported_interfaces] == [
        ("JSONRPC", "1.0", server.url + "/"), ("JSONRPC", "0.3", server.url + "/")
    ]
    assert {s.id for s in card.skills} >= {"calculator", "clock", "echo"}
    assert all(s.input_modes and s.output_modes for s in card.skills)


@pytest.mark.parametrize("version", VERSIONS)
async def test_send_message_non_streaming(live_server: Callable[..., LiveServer], version: str) -> None:
    server = live_server()
    async with sdk_client(server, streaming=False, version=version) as (client, wire):
        request = user_request("calc 2+3*4")
        task = await send_for_task(client, request)

    assert state_name(task.status.state) == "TASK_STATE_COMPLETED"
    assert task.id and task.context_id
    assert answer_of(task) == ANSWER
    assert [a.name for a in task.artifacts] == ["answer"]
    # The user's message is in the history, tied to the task the server created.
    sent = [m for m in task.history if m.message_id == request.message.message_id]
    assert len(sent) == 1 and sent[0].role == Role.ROLE_USER
    assert sent[0].task_id == task.id and sent[0].parts[0].text == "calc 2+3*4"
    # The factory picked the transport of that version: its method names, its header.
    assert wire.requests[0][:1] == ("GET",)
    assert wire.requests[1:] == [("POST", version, *method_names(version, "message/send"))]


@pytest.mark.parametrize("version", VERSIONS)
async def test_send_message_streaming(live_server: Callable[..., LiveServer], version: str) -> None:
    # coalesce_ms=0: every text delta is its own artifact chunk, so the answer arrives in pieces.
    server = live_server(coalesce_ms=0)
    async with sdk_client(server, streaming=True, version=version) as (client, wire):
        events = await collect(client, user_request("calc 2+3*4"))
        kinds = [e.WhichOneof("payload") for e in events]

        # Task first, then only status/artifact updates of that task, closing on completed.
        assert kinds[0] == "task", kinds
        first = events[0].task
        assert state_name(first.status.state) in ("TASK_STATE_SUBMITTED", "TASK_STATE_WORKING")
        assert set(kinds[1:]) <= {"status_update", "artifact_update"}, kinds
        assert "artifact_update" in kinds
        assert kinds[-1] == "status_update", kinds
        last = events[-1].status_update
        assert state_name(last.status.state) == "TASK_STATE_COMPLETED"
        for event in events[1:]:
            update = getattr(event, event.WhichOneof("payload"))
            assert (update.task_id, update.context_id) == (first.id, first.context_id)
        # Every status update before the last one is an in-progress state.
        middle = [e.status_update.status.state for e in events[1:-1] if e.HasField("status_update")]
        assert {state_name(s) for s in middle} <= {"TASK_STATE_WORKING"}, middle

        # The answer's chunks: one artifact id, append false then true, lastChunk on the last.
        chunks = [e.artifact_update for e in events if e.HasField("artifact_update")]
        answer_chunks = [c for c in chunks if c.artifact.name == "answer"]
        assert len(answer_chunks) > 1, answer_chunks
        assert len({c.artifact.artifact_id for c in answer_chunks}) == 1
        assert [c.append for c in answer_chunks] == [False] + [True] * (len(answer_chunks) - 1)
        assert [c.last_chunk for c in answer_chunks] == [False] * (len(answer_chunks) - 1) + [True]
        assert "".join(p.text for c in answer_chunks for p in c.artifact.parts) == ANSWER

        # The stored task agrees with what was streamed.
        stored = await client.get_task(GetTaskRequest(id=first.id))
        assert state_name(stored.status.state) == "TASK_STATE_COMPLETED"
        assert answer_of(stored) == ANSWER
        assert [a.artifact_id for a in stored.artifacts] == [answer_chunks[0].artifact.artifact_id]

    assert wire.rpc_methods == method_names(version, "message/stream", "tasks/get")
    assert {header for verb, header, _ in wire.requests if verb == "POST"} == {version}


@pytest.mark.parametrize("version", VERSIONS)
async def test_get_task_matches_the_sent_task(live_server: Callable[..., LiveServer], version: str) -> None:
    server = live_server()
    async with sdk_client(server, streaming=False, version=version) as (client, wire):
        sent = await send_for_task(client, user_request("calc 2+3*4"))
        fetched = await client.get_task(GetTaskRequest(id=sent.id))
        assert fetched.id == sent.id
        assert fetched.context_id == sent.context_id
        assert fetched.status == sent.status
        assert list(fetched.artifacts) == list(sent.artifacts)
        assert answer_of(fetched) == ANSWER
        assert [m.message_id for m in sent.history] == [
            m.message_id for m in fetched.history[: len(sent.history)]
        ]

        # historyLength is honoured through the SDK's request conversion.
        short = await client.get_task(GetTaskRequest(id=sent.id, history_length=1))
        assert len(short.history) == 1
        assert short.history[0] == fetched.history[-1]

        # An unknown id comes back as -32001, which the SDK raises as TaskNotFoundError.
        with pytest.raises(TaskNotFoundError):
            await client.get_task(GetTaskRequest(id=str(uuid.uuid4())))
    assert wire.rpc_methods == method_names(version, "message/send", "tasks/get", "tasks/get", "tasks/get")


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("return_immediately", [False, True], ids=["blocking", "non-blocking"])
async def test_cancel_open_task(
    live_server: Callable[..., LiveServer], return_immediately: bool, version: str
) -> None:
    # The conformance agent parks a new task `working` on a deferred ticket, so a blocking send
    # returns with the task still open, as does a non-blocking one.
    server = live_server(runner=ConformanceRunner())
    async with sdk_client(server, streaming=False, version=version) as (client, wire):
        request = user_request("hello", return_immediately=return_immediately)
        task = await send_for_task(client, request)
        assert state_name(task.status.state) in ("TASK_STATE_SUBMITTED", "TASK_STATE_WORKING")

        canceled = await client.cancel_task(CancelTaskRequest(id=task.id))
        assert canceled.id == task.id and canceled.context_id == task.context_id
        assert state_name(canceled.status.state) == "TASK_STATE_CANCELED"

        fetched = await client.get_task(GetTaskRequest(id=task.id))
        assert state_name(fetched.status.state) == "TASK_STATE_CANCELED"

        # A second cancel of the now-terminal task is -32002, TaskNotCancelableError in the SDK.
        with pytest.raises(TaskNotCancelableError):
            await client.cancel_task(CancelTaskRequest(id=task.id))
        with pytest.raises(TaskNotFoundError):
            await client.cancel_task(CancelTaskRequest(id=str(uuid.uuid4())))
    assert wire.rpc_methods == method_names(
        version, "message/send", "tasks/cancel", "tasks/get", "tasks/cancel", "tasks/cancel"
    )
    configuration = wire.bodies[0]["params"]["configuration"]
    if version == "0.3":  # returnImmediately is mapped to the 0.3 `blocking` flag
        assert configuration["blocking"] is (not return_immediately)
    else:
        assert configuration.get("returnImmediately", False) is return_immediately


@pytest.mark.parametrize("version", VERSIONS)
async def test_cancel_closes_an_open_stream(live_server: Callable[..., LiveServer], version: str) -> None:
    # A streamed first turn on the conformance agent stays open (working on its ticket); a
    # cancel from a second SDK client ends that stream with a canceled status update.
    server = live_server(runner=ConformanceRunner())
    async with (
        sdk_client(server, streaming=True, version=version) as (streamer, _),
        sdk_client(server, streaming=False, version=version) as (canceller, _),
    ):
        events: list[StreamResponse] = []
        with anyio.fail_after(10):
            async for event in streamer.send_message(user_request("hello")):
                events.append(event)
                if event.HasField("artifact_update"):
                    # The agent has spoken ("Received: hello"); the task is parked and open.
                    task_id = event.artifact_update.task_id
                    canceled = await canceller.cancel_task(CancelTaskRequest(id=task_id))
                    assert state_name(canceled.status.state) == "TASK_STATE_CANCELED"
        kinds = [e.WhichOneof("payload") for e in events]
        assert kinds[0] == "task" and "artifact_update" in kinds, kinds
        assert kinds[-1] == "status_update", kinds
        assert state_name(events[-1].status_update.status.state) == "TASK_STATE_CANCELED"
        chunks = [e.artifact_update for e in events if e.HasField("artifact_update")]
        assert "".join(p.text for c in chunks for p in c.artifact.parts) == "Received: hello"


async def test_v1_tool_events_list_push_and_subscribe(live_server: Callable[..., LiveServer]) -> None:
    """What 1.0 adds for the SDK's client: tool calls as status updates it parses, ListTasks
    paging, push config round trips, SubscribeToTask (the current Task first, then live)."""
    from a2a.types import (
        AuthenticationInfo,
        DeleteTaskPushNotificationConfigRequest,
        GetTaskPushNotificationConfigRequest,
        ListTaskPushNotificationConfigsRequest,
        ListTasksRequest,
        SubscribeToTaskRequest,
        TaskPushNotificationConfig,
    )

    server = live_server(runner=DemoRunner(token_delay=0.001, build_seconds=60), push_allow_hosts="example.com")
    async with sdk_client(server, streaming=True) as (client, wire):
        events = await collect(client, user_request("time"))
        tools = [
            part.data for e in events if e.HasField("status_update")
            for part in e.status_update.status.message.parts if part.WhichOneof("content") == "data"
        ]
        kinds = [t.struct_value["type"] for t in tools]
        assert [k for k in kinds if k.startswith("tool_")] == ["tool_started", "tool_completed"]
        first_id = events[0].task.id

        second = (await collect(client, user_request("calc 1+1")))[0].task.id
        page = await client.list_tasks(ListTasksRequest(page_size=1))
        assert [t.id for t in page.tasks] == [second] and page.next_page_token and page.total_size == 2
        rest = await client.list_tasks(ListTasksRequest(page_size=1, page_token=page.next_page_token))
        assert [t.id for t in rest.tasks] == [first_id] and rest.next_page_token == ""

        # a task that stays working (a build deferred for a minute): push config, subscribe
        parked = None
        async for event in client.send_message(user_request("build site")):
            if event.HasField("status_update") and event.status_update.status.message.parts:
                data = event.status_update.status.message.parts[0].data.struct_value
                if "type" in data and data["type"] == "tool_deferred":
                    parked = event.status_update.task_id
                    break
        assert parked is not None
        config = TaskPushNotificationConfig(
            task_id=parked, id="sdk", url="https://example.com/hook", token="t",
            authentication=AuthenticationInfo(scheme="Bearer", credentials="c"),
        )
        made = await client.create_task_push_notification_config(config)
        assert made == config
        got = await client.get_task_push_notification_config(
            GetTaskPushNotificationConfigRequest(task_id=parked, id="sdk"))
        assert got == config
        listed = await client.list_task_push_notification_configs(
            ListTaskPushNotificationConfigsRequest(task_id=parked))
        assert [c.id for c in listed.configs] == ["sdk"]
        await client.delete_task_push_notification_config(
            DeleteTaskPushNotificationConfigRequest(task_id=parked, id="sdk"))

        seen: list[StreamResponse] = []
        with anyio.fail_after(10):
            async for event in client.subscribe(SubscribeToTaskRequest(id=parked)):
                seen.append(event)
                if len(seen) == 1:
                    assert event.HasField("task") and event.task.id == parked
                    await client.cancel_task(CancelTaskRequest(id=parked))
        assert state_name(seen[-1].status_update.status.state) == "TASK_STATE_CANCELED"
    assert {header for verb, header, _ in wire.requests if verb == "POST"} == {"1.0"}
