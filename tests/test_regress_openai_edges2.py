"""More reviewer repros for runner/openai.py, with a tiny custom model server."""
from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from a2a_server.runner.openai import OpenAIRunner
from a2a_server.runner.tools import tool
from tests.client import send
from tests.conftest import LiveServer, free_port, in_process

pytestmark = pytest.mark.anyio


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
