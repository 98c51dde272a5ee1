"""The OpenAI-compatible runner against a fake chat-completions server over real HTTP,
through the `openai` client: streaming, usage, tools, deferred tools, memory, input-required,
limits, retries, errors and cancel."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any, Literal

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from a2a_server.cli import main
from a2a_server.runner.openai import OpenAIRunner
from a2a_server.runner.tools import Deferred, ToolError, tool
from tests.client import (
    answer_text,
    assert_stream_rules,
    chunks_text,
    rpc,
    send,
    stream,
    user_message,
)
from tests.conftest import LiveServer, free_port, in_process, wait_for
from tests.fake_openai import Calls, FakeOpenAI, Status, Text

pytestmark = pytest.mark.anyio


@pytest.fixture
def fake() -> Iterator[tuple[FakeOpenAI, str]]:
    server = FakeOpenAI()
    live = LiveServer(server.app, free_port())
    live.start()
    yield server, f"{live.url}/v1"
    live.stop()


def runner(base_url: str, tools: Any = (), **kw: Any) -> OpenAIRunner:
    return OpenAIRunner("fake-model", tools=tools, base_url=base_url, api_key="test-key", max_retries=kw.pop("max_retries", 2), **kw)


def data_events(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p["data"] for f in frames if f["kind"] == "status-update" and "message" in f["status"]
            for p in f["status"]["message"]["parts"] if p["kind"] == "data"]


@tool
def get_weather(city: str, unit: Literal["c", "f"] = "c") -> dict[str, Any]:
    """The current weather in a city."""
    if city == "Atlantis":
        raise ValueError("no such city: Atlantis")
    return {"city": city, "temperature": 21, "unit": unit}


async def test_streams_text_and_records_usage(fake: tuple[FakeOpenAI, str]) -> None:
    server, url = fake
    server.add(Text(["Hel", "lo ", "there", "!"], usage={"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16}))
    async with in_process(runner=runner(url, system_prompt="Be brief."), coalesce_ms=0) as client:
        sse = await stream(client, "message/stream", {"message": user_message("hi")})
        assert_stream_rules(sse.frames)
        assert chunks_text(sse.frames) == "Hello there!"
        assert len([f for f in sse.frames if f["kind"] == "artifact-update"]) == 4
        task = (await rpc(client, "tasks/get", {"id": sse.frames[0]["id"]}))["result"]
        assert task["metadata"]["a2aServer"]["usage"] == {"prompt_tokens": 12, "completion_tokens": 4, "total_tokens": 16}
    sent = server.requests[0]
    assert sent["model"] == "fake-model" and sent["stream"] is True
    assert sent["stream_options"] == {"include_usage": True}
    assert sent["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]
    assert {t["function"]["name"] for t in sent["tools"]} == {"ask_user"}


async def test_tool_calls_split_across_chunks_run_and_errors_go_back_to_the_model(fake: tuple[FakeOpenAI, str]) -> None:
    server, url = fake
    server.add(
        Calls([("get_weather", '{"city": "Paris", "unit": "f"}'), ("get_weather", '{"city": "Atlantis"}'),
               ("no_such_tool", "{}"), ("get_weather", '{"town": "x"}')]),
        Text(["Paris is 21F; the rest failed."]),
    )
    async with in_process(runner=runner(url, [get_weather])) as client:
        sse = await stream(client, "message/stream", {"message": user_message("weather?")})
        assert_stream_rules(sse.frames)
        assert sse.frames[-1]["status"]["state"] == "completed"
        events = data_events(sse.frames)
        done = {e["toolCallId"]: e for e in events if e["type"] == "tool_completed"}
        assert [e["success"] for e in done.values()] == [True, False, False, False] or len(done) == 4
        assert done["call_1_0"]["success"] is True
        assert done["call_1_1"] == {"type": "tool_completed", "toolName": "get_weather", "toolCallId": "call_1_1", "success": False, "error": "the tool failed"}
        assert "no tool named" in done["call_1_2"]["error"]
        assert "city" in done["call_1_3"]["error"]
        assert "Atlantis" not in json.dumps(sse.frames), "a tool's exception text never reaches the client"
        assert chunks_text(sse.frames) == "Paris is 21F; the rest failed."
    followup = server.messages(1)
    assistant = followup[-5]
    assert [c["function"]["arguments"] for c in assistant["tool_calls"]][0] == '{"city": "Paris", "unit": "f"}'
    results = {m["tool_call_id"]: m["content"] for m in followup[-4:]}
    assert json.loads(results["call_1_0"]) == {"city": "Paris", "temperature": 21, "unit": "f"}
    assert results["call_1_1"] == "Error: ValueError: no such city: Atlantis"
    assert results["call_1_2"].startswith("Error: there is no tool named")


async def test_tool_calls_of_one_step_run_concurrently(fake: tuple[FakeOpenAI, str]) -> None:
    server, url = fake
    both = asyncio.Event()
    arrived: list[str] = []

    @tool
    async def meet(name: str) -> str:
        """Waits until both calls are running."""
        arrived.append(name)
        if len(arrived) == 2:
            both.set()
        await asyncio.wait_for(both.wait(), 5)  # only ends if the other call runs meanwhile
        return f"met {name}"

    server.add(Calls([("meet", '{"name": "a"}'), ("meet", '{"name": "b"}')]), Text(["done"]))
    async with in_process(runner=runner(url, [meet])) as client:
        task = await send(client, "go")
        assert task["status"]["state"] == "completed" and answer_text(task) == "done"


async def test_deferred_tool_parks_then_resumes_with_the_result(fake: tuple[FakeOpenAI, str]) -> None:
    server, url = fake
    release = asyncio.Event()

    @tool
    def start_build(target: str) -> Deferred:
        """Starts a build in the background."""
        async def work() -> dict[str, Any]:
            await release.wait()
            return {"target": target, "status": "green"}
        return Deferred(work=work, resume_hint="the build reports back")

    server.add(
        Calls([("start_build", '{"target": "docs"}')], text="Starting. "),
        Text(["The build is running."]),
        Text(["The build of docs is green."]),
    )
    async with in_process(runner=runner(url, [start_build])) as client:
        task = await send(client, "build docs")
        assert task["status"]["state"] == "working"
        (pending,) = task["metadata"]["a2aServer"]["pendingTickets"]
        assert pending["toolName"] == "start_build" and pending["resumeHint"] == "the build reports back"
        told = server.messages(1)[-1]
        assert told["role"] == "tool" and pending["ticketId"] in told["content"] and "background" in told["content"]
        release.set()

        async def done() -> Any:
            t = (await rpc(client, "tasks/get", {"id": task["id"]}))["result"]
            return t if t["status"]["state"] == "completed" else None

        final = await wait_for(done)
        assert answer_text(final) == "Starting. The build is running.The build of docs is green."
    resumed = server.messages(2)
    assert resumed[-1]["role"] == "tool", "the model goes on from where its tool answered"
    assert json.loads(resumed[-1]["content"]) == {"target": "docs", "status": "green"}
    assert resumed[-2]["tool_calls"][0]["function"]["name"] == "start_build"


async def test_memory_input_required_and_usage_across_turns(fake: tuple[FakeOpenAI, str]) -> None:
    server, url = fake
    usage = {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10}
    server.add(
        Text(["Hi Ada."], usage=usage),
        Calls([("ask_user", '{"question": "Which city?"}')], usage=usage),
        Text(["Paris it is."], usage=usage),
    )
    async with in_process(runner=runner(url, system_prompt=None)) as client:
        first = await send(client, "I am Ada")
        ctx = first["contextId"]
        second = await send(client, "weather please", message={"contextId": ctx})
        assert second["status"]["state"] == "input-required"
        assert second["status"]["message"]["parts"][0]["text"] == "Which city?"
        third = await send(client, "Paris", message={"taskId": second["id"]})
        assert third["status"]["state"] == "completed" and answer_text(third) == "Paris it is."
        assert third["metadata"]["a2aServer"]["usage"]["total_tokens"] == 20  # both turns of the task
    assert server.messages(1) == [
        {"role": "user", "content": "I am Ada"}, {"role": "assistant", "content": "Hi Ada."},
        {"role": "user", "content": "weather please"},
    ]
    assert server.messages(2)[-3:] == [
        {"role": "user", "content": "weather please"}, {"role": "assistant", "content": "Which city?"},
        {"role": "user", "content": "Paris"},
    ]


async def test_memory_is_bounded_oldest_first(fake: tuple[FakeOpenAI, str]) -> None:
    server, url = fake
    server.add(*(Text([f"a{i}"]) for i in range(4)))
    async with in_process(runner=runner(url, system_prompt=None), memory_messages=4) as client:
        ctx = None
        for i in range(4):
            task = await send(client, f"q{i}", message={"contextId": ctx} if ctx else {})
            ctx = task["contextId"]
    assert [m["content"] for m in server.messages(3)] == ["q1", "a1", "q2", "a2", "q3"]


async def test_limits_fail_the_task_saying_which(fake: tuple[FakeOpenAI, str]) -> None:
    server, url = fake
    server.add(*(Calls([("get_weather", '{"city": "Paris"}')]) for _ in range(3)))
    async with in_process(runner=runner(url, [get_weather], max_steps=3)) as client:
        task = await send(client, "loop")
        assert task["status"]["state"] == "failed"
        assert "max_steps" in task["status"]["message"]["parts"][0]["text"]
    server.add(Text(["long answer"], usage={"prompt_tokens": 900, "completion_tokens": 200, "total_tokens": 1100}))
    async with in_process(runner=runner(url, max_tokens_per_task=1000)) as client:
        task = await send(client, "talk")
        assert task["status"]["state"] == "failed"
        assert "max_tokens_per_task" in task["status"]["message"]["parts"][0]["text"]


async def test_retries_429_then_succeeds_and_reports_errors_readably(fake: tuple[FakeOpenAI, str]) -> None:
    server, url = fake
    server.add(Status(429, {"retry-after-ms": "20"}), Status(503, {"retry-after-ms": "20"}), Text(["ok"]))
    async with in_process(runner=runner(url)) as client:
        task = await send(client, "hi")
        assert task["status"]["state"] == "completed" and answer_text(task) == "ok"
    assert len(server.requests) == 3

    for status, words in [(500, "HTTP 500"), (401, "API key"), (404, "fake-model"), (429, "rate limiting")]:
        server.add(*(Status(status, {"retry-after-ms": "5"}) for _ in range(2)))
        async with in_process(runner=runner(url, max_retries=1)) as client:
            task = await send(client, "hi")
            assert task["status"]["state"] == "failed"
            text = task["status"]["message"]["parts"][0]["text"]
            assert words in text, text
            assert "Traceback" not in text and "fake" != text
        server.script.clear()


async def test_unreachable_server_fails_the_task_readably() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    async with in_process(runner=runner(url, max_retries=0)) as client:
        task = await send(client, "hi")
        assert task["status"]["state"] == "failed"
        assert task["status"]["message"]["parts"][0]["text"] == f"Could not reach the model server at {url}/."


async def test_cancel_closes_the_stream_to_the_model_at_once(fake: tuple[FakeOpenAI, str]) -> None:
    server, url = fake
    server.add(Text([f"w{i} " for i in range(500)], delay=0.02))
    async with in_process(runner=runner(url)) as client:
        task = await send(client, "talk", blocking=False)
        await wait_for(lambda: _has_requests(server))
        await asyncio.sleep(0.2)
        assert not server.disconnected.is_set()
        canceled = (await rpc(client, "tasks/cancel", {"id": task["id"]}))["result"]
        assert canceled["status"]["state"] == "canceled"
        start = time.monotonic()
        while not server.disconnected.is_set() and time.monotonic() - start < 5:
            await asyncio.sleep(0.01)
        assert server.disconnected.is_set(), "the model server saw the stream closed"


async def _has_requests(server: FakeOpenAI) -> bool:
    return bool(server.requests)


def test_start_up_errors_are_clear(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    assert main(["card", "--agent", "openai"]) == 2
    assert "--model" in capsys.readouterr().err
    assert main(["card", "--agent", "openai", "--model", "m"]) == 2
    assert "OPENAI_API_KEY" in capsys.readouterr().err
    assert main(["card", "--agent", "openai", "--model", "m", "--openai-base-url", "http://127.0.0.1:1/v1",
                 "--tools", "tests.test_openai_runner:TOOLS"]) == 0
    card = json.loads(capsys.readouterr().out)
    assert [s["id"] for s in card["skills"]] == ["chat", "get_weather"]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    assert main(["card", "--agent", "openai", "--model", "m"]) == 0


TOOLS = [get_weather]


async def test_end_to_end_stream_tools_deferred_settled_from_outside_and_memory(fake: tuple[FakeOpenAI, str], live_server) -> None:
    """message/stream over real HTTP: a tool call, a deferred tool settled later through the
    tickets API, then a follow-up in the same context that relies on the memory."""
    server, url = fake

    @tool
    def request_approval(amount: int) -> Deferred:
        """Asks a human to approve a payment; they answer later."""
        if amount <= 0:
            raise ToolError("the amount must be positive")
        return Deferred(resume_hint="a human approves through a2aserver.tickets/resolve")

    server.add(
        Calls([("get_weather", '{"city": "Oslo"}')]),
        Calls([("request_approval", '{"amount": 120}')], text="Oslo is 21C. "),
        Text(["Waiting for approval."]),
        Text(["Approved by Kim."]),
        lambda body: Text([f"You asked about {body['messages'][0]['content']}"]),
    )
    live = live_server(runner=runner(url, [get_weather, request_approval], system_prompt=None), keepalive_seconds=0.2)
    async with live.client() as client:
        first: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()

        def on_event(event: Any) -> None:
            ticket = event.result.get("metadata", {}).get("a2aServer", {}).get("tickets", [{}])[0]
            if ticket.get("state") == "pending" and not first.done():
                first.set_result(ticket)

        reader = asyncio.create_task(stream(client, "message/stream", {"message": user_message("weather in Oslo, then pay 120")}, on_event=on_event))
        ticket = await asyncio.wait_for(first, 10)
        assert ticket["toolName"] == "request_approval"
        await asyncio.sleep(0.3)
        await rpc(client, "a2aserver.tickets/resolve", {"ticketId": ticket["ticketId"], "output": "approved by Kim"})
        sse = await asyncio.wait_for(reader, 10)
        frames = sse.frames
        assert_stream_rules(frames)
        assert frames[-1]["status"]["state"] == "completed"
        assert chunks_text(frames) == "Oslo is 21C. Waiting for approval.Approved by Kim."
        kinds = [e["type"] for e in data_events(frames)]
        assert kinds.count("tool_completed") == 1 and "tool_deferred" in kinds and "tool_background_resolved" in kinds
        assert sse.comments >= 1, "keep-alives while parked"

        follow = await send(client, "what did I ask first?", message={"contextId": frames[0]["contextId"]})
        assert answer_text(follow) == "You asked about weather in Oslo, then pay 120"


# -- regressions found in review of runner/openai.py ---------------------------------------


def _check_openai_transcript(messages: list[dict[str, Any]]) -> None:
    """OpenAI's rule: an assistant message with tool_calls must be followed by one tool
    message per tool_call_id before anything else."""
    for i, m in enumerate(messages):
        if m.get("role") == "assistant" and m.get("tool_calls"):
            want = {c["id"] for c in m["tool_calls"]}
            got = set()
            j = i + 1
            while j < len(messages) and messages[j].get("role") == "tool":
                got.add(messages[j]["tool_call_id"])
                j += 1
            assert got == want, f"assistant tool_calls {sorted(want)} answered by {sorted(got)}"


async def test_resume_after_deferred_keeps_every_tool_message(fake) -> None:
    server, url = fake
    release = asyncio.Event()

    @tool
    def start_build(target: str) -> Deferred:
        """Starts a build."""
        async def work() -> str:
            await release.wait()
            return "green"
        return Deferred(work=work)

    @tool
    def lookup(q: str) -> str:
        """Looks something up."""
        return f"found {q}"

    server.add(
        # the deferred call comes first, an ordinary call second, in one step
        Calls([("start_build", '{"target": "docs"}'), ("lookup", '{"q": "x"}')]),
        Text(["Building."]),
        Text(["Green."]),
    )
    async with in_process(runner=runner(url, [start_build, lookup])) as client:
        task = await send(client, "build and look up")
        assert task["status"]["state"] == "working"
        _check_openai_transcript(server.messages(1))  # the step after the tools: fine
        release.set()

        async def done() -> Any:
            t = (await rpc(client, "tasks/get", {"id": task["id"]}))["result"]
            return t if t["status"]["state"] in ("completed", "failed") else None

        await wait_for(done)
    print(json.dumps(server.messages(2)[-3:], indent=1))
    _check_openai_transcript(server.messages(2))  # the resume turn's request


async def test_parked_transcript_is_forgotten_when_the_task_ends(fake) -> None:
    server, url = fake

    @tool
    def approve(amount: int) -> Deferred:
        """Ask a human."""
        return Deferred()

    r = runner(url, [approve])
    server.add(Calls([("approve", '{"amount": 1}')]), Text(["Waiting."]))
    async with in_process(runner=r) as client:
        task = await send(client, "pay")
        assert task["status"]["state"] == "working"
        canceled = (await rpc(client, "tasks/cancel", {"id": task["id"]}))["result"]
        assert canceled["status"]["state"] == "canceled"
    print("parked after cancel:", list(r._parked))
    assert task["id"] not in r._parked, "the canceled task's transcript stays in memory forever"


# -- more of them, with a tiny custom model server ---------------------------------------


def chunk(delta: dict[str, Any] | None, finish: str | None = None) -> bytes:
    body = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m",
            "choices": [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return b"data: " + json.dumps(body).encode() + b"\n\n"


def serve(script: list) -> tuple[LiveServer, list]:
    requests: list = []

    async def complete(request: Request):
        requests.append(await request.json())
        gen = script.pop(0)
        return StreamingResponse(gen(), media_type="text/event-stream")

    live = LiveServer(Starlette(routes=[Route("/v1/chat/completions", complete, methods=["POST"])]), free_port())
    live.start()
    return live, requests


async def test_a_model_stream_dropped_midway_fails_readably() -> None:
    async def dropped() -> AsyncIterator[bytes]:
        yield chunk({"role": "assistant", "content": "Hel"})
        raise RuntimeError("connection lost")  # uvicorn aborts the chunked body

    live, _ = serve([dropped])
    try:
        r = OpenAIRunner("m", base_url=f"{live.url}/v1", api_key="k", max_retries=0)
        async with in_process(runner=r) as client:
            task = await send(client, "hi")
    finally:
        live.stop()
    text = task["status"]["message"]["parts"][0]["text"]
    print("state:", task["status"]["state"], "| message:", text)
    assert "model server" in text, "an httpx error mid-stream is not translated by the runner"


@dataclasses.dataclass
class Report:
    when: str


@tool
def report() -> Report:
    """Returns a dataclass (not JSON)."""
    return Report("now")


async def test_tool_output_that_is_not_json_goes_back_to_the_model_as_an_error() -> None:
    async def call_tool() -> AsyncIterator[bytes]:
        yield chunk({"role": "assistant", "tool_calls": [{"index": 0, "id": "a", "type": "function", "function": {"name": "report", "arguments": "{}"}}]})
        yield chunk({}, "tool_calls")
        yield b"data: [DONE]\n\n"

    async def answer() -> AsyncIterator[bytes]:
        yield chunk({"role": "assistant", "content": "ok"})
        yield chunk({}, "stop")
        yield b"data: [DONE]\n\n"

    live, _ = serve([call_tool, answer])
    try:
        r = OpenAIRunner("m", tools=[report], base_url=f"{live.url}/v1", api_key="k", max_retries=0)
        async with in_process(runner=r) as client:
            task = await send(client, "hi")
    finally:
        live.stop()
    print("state:", task["status"]["state"], task["status"].get("message"))
    assert task["status"]["state"] == "completed", "one odd tool output kills the whole task"


async def test_two_calls_sharing_index_0_stay_apart() -> None:
    """Some servers (older Ollama / llama.cpp builds) send each parallel call as a complete
    delta with its own id but index 0."""
    async def calls() -> AsyncIterator[bytes]:
        yield chunk({"role": "assistant", "tool_calls": [{"index": 0, "id": "a", "type": "function", "function": {"name": "echo", "arguments": '{"x": 1}'}}]})
        yield chunk({"tool_calls": [{"index": 0, "id": "b", "type": "function", "function": {"name": "echo", "arguments": '{"x": 2}'}}]})
        yield chunk({}, "tool_calls")
        yield b"data: [DONE]\n\n"

    async def answer() -> AsyncIterator[bytes]:
        yield chunk({"role": "assistant", "content": "ok"})
        yield chunk({}, "stop")
        yield b"data: [DONE]\n\n"

    @tool
    def echo(x: int) -> int:
        """echo"""
        return x

    live, requests = serve([calls, answer])
    try:
        r = OpenAIRunner("m", tools=[echo], base_url=f"{live.url}/v1", api_key="k", max_retries=0)
        async with in_process(runner=r) as client:
            await send(client, "hi")
    finally:
        live.stop()
    sent = requests[1]["messages"]
    print(json.dumps(sent[-3:]))
    assistant = next(m for m in sent if m.get("tool_calls"))
    assert len(assistant["tool_calls"]) == 2, assistant["tool_calls"]


async def test_a_tool_call_delta_without_index_is_a_call() -> None:
    """Gemini's and some Ollama versions' OpenAI endpoints omit `index` on tool-call deltas."""
    async def calls() -> AsyncIterator[bytes]:
        yield chunk({"role": "assistant", "tool_calls": [{"id": "a", "type": "function", "function": {"name": "echo", "arguments": '{"x": 1}'}}]})
        yield chunk({}, "tool_calls")
        yield b"data: [DONE]\n\n"

    async def answer() -> AsyncIterator[bytes]:
        yield chunk({"role": "assistant", "content": "ok"})
        yield chunk({}, "stop")
        yield b"data: [DONE]\n\n"

    @tool
    def echo(x: int) -> int:
        """echo"""
        return x

    live, requests = serve([calls, answer])
    try:
        r = OpenAIRunner("m", tools=[echo], base_url=f"{live.url}/v1", api_key="k", max_retries=0)
        async with in_process(runner=r) as client:
            task = await send(client, "hi")
    finally:
        live.stop()
    print("state:", task["status"]["state"], task["status"].get("message", {}).get("parts"))
    assert task["status"]["state"] == "completed"


# -- the model server's credentials never reach a client -------------------------------------


async def test_failure_messages_never_show_model_server_credentials() -> None:
    url = f"http://svc-account:s3cr3t@127.0.0.1:{free_port()}/v1"
    r = OpenAIRunner("m", base_url=url, api_key="k", max_retries=0)
    async with in_process(runner=r) as client:
        task = await send(client, "hi")
    text = task["status"]["message"]["parts"][0]["text"]
    print("client sees:", text)
    assert "s3cr3t" not in text
