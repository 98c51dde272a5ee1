"""What only the frameworks in venvs of their own show, served from those venvs (.ci/run builds
them; skipped without): a 10xGraph interrupt asks and resumes; 10xGraph's OpenAI stream
converter drops tool calls whose arguments come in fragments (an upstream limit, shown so
the README stays true); Agentor's guide's A2A client works against us; an Agentor without
its engine streams through `stream_chat`."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.adapter_drivers import ROOT, Env, environment, serve_in_venv, venv_python
from tests.client import answer_text, chunks_text, send, stream, user_message
from tests.fake_openai import Calls, Text

pytestmark = pytest.mark.anyio


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    with environment(tmp_path) as e:
        yield e


def _events(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [p["data"] for f in frames if f["kind"] == "status-update"
            for p in f["status"].get("message", {}).get("parts", []) if p["kind"] == "data"]


async def test_10xgraph_interrupt_asks_then_resumes_with_the_answer(env: Env) -> None:
    url = serve_in_venv(env, "10xgraph", "tenxgraph_agent:agent")
    env.fake.add(Calls([("refund", '{"amount": 5}')], whole=True), Text(["Refund ", "done."]))
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        task = await send(client, "refund 5")
        assert task["status"]["state"] == "input-required"
        text, data = (p.get("text") or p.get("data") for p in task["status"]["message"]["parts"])
        assert text == "Refund 5?"
        assert data["type"] == "interrupt" and data["value"] == {"amount": 5}
        assert data["node"] == "TOOL" and data["tool_call_id"] == "call_1_0"
        resumed = await stream(client, "message/stream", {"message": user_message("yes", taskId=task["id"])})
    frames = resumed.frames
    assert frames[-1]["status"]["state"] == "completed" and chunks_text(frames) == "Refund done."
    done = [e for e in _events(frames) if e["type"] == "tool_completed"]
    assert done == [{"type": "tool_completed", "toolName": "refund", "toolCallId": "call_1_0",
                     "success": True, "output": "refunded"}]
    tool_message = env.fake.messages(1)[-1]
    assert tool_message["role"] == "tool" and "refunded" in tool_message["content"]


async def test_10xgraph_drops_tool_calls_whose_arguments_come_in_fragments(env: Env) -> None:
    """Upstream: its OpenAI stream converter counts a call only when one chunk holds its id,
    name and whole arguments. Real OpenAI fragments them; the call is lost without a word."""
    url = serve_in_venv(env, "10xgraph", "tenxgraph_agent:agent")
    env.fake.add(Calls([("get_weather", '{"city": "Paris"}')], text="Checking. "))
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        sse = await stream(client, "message/stream", {"message": user_message("weather?")})
    frames = sse.frames
    assert frames[-1]["status"]["state"] == "completed" and chunks_text(frames) == "Checking. "
    assert not [e for e in _events(frames) if e["type"].startswith("tool_")]
    assert len(env.fake.requests) == 1, "the tool never ran, the model was not called again"


@pytest.mark.parametrize(("framework", "agent"), [("10xgraph", "tenxgraph_agent:agent"),
                                                  ("agentor", "agentor_agent:agent")])
async def test_reasoning_goes_to_metadata(env: Env, framework: str, agent: str) -> None:
    """The model's `reasoning_content` (vLLM, DeepSeek) reaches the client in frame metadata,
    never in the answer: 10xGraph streams it as deltas, Agentor once per model call."""
    url = serve_in_venv(env, framework, agent)
    env.fake.add(Text(["The answer."], reasoning=["Think ", "first."]))
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        sse = await stream(client, "message/stream", {"message": user_message("why?")})
    reasoning = "".join(f.get("metadata", {}).get("a2aServer", {}).get("reasoning", "")
                        for f in sse.frames if f["kind"] == "status-update")
    assert reasoning == "Think first." and chunks_text(sse.frames) == "The answer."


async def test_agentor_guides_a2a_client_prints_task_text_and_state(env: Env) -> None:
    url = serve_in_venv(env, "agentor", "agentor_agent:agent", "--lenient-messages")
    env.fake.add(Text(["Machine learning ", "is learning ", "from data."]))
    client = ROOT / "tests" / "adapter_agents" / "a2a_stream_client.py"
    run = [venv_python("agentor"), str(client), f"{url}/"]
    done = await asyncio.to_thread(subprocess.run, run, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    lines = out.splitlines()
    assert lines[0].startswith("Task created: ") and len(lines[0]) > len("Task created: ")
    assert "Machine learning is learning from data." in out
    assert lines[-1] == "Completed with status: completed"


async def test_agentor_without_its_engine_streams_through_stream_chat(env: Env) -> None:
    url = serve_in_venv(env, "agentor", "agentor_legacy:agent")
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        sse = await stream(client, "message/stream", {"message": user_message("weather?")})
        task = await send(client, "again")
    frames = sse.frames
    assert frames[-1]["status"]["state"] == "completed" and chunks_text(frames) == "Paris is sunny."
    tools = [(e["type"], e["toolCallId"], e.get("success")) for e in _events(frames)]
    assert tools == [("tool_started", "get_weather-1", None), ("tool_completed", "get_weather-1", True)]
    assert answer_text(task) == "Paris is sunny."
    assert json.dumps(task).count("Paris is sunny.") == 1, "the final message is not sent twice"
