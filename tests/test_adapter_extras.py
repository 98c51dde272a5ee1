"""What some frameworks stream beyond the contract's script: reasoning (kept in frame
metadata, never in the answer), hand-offs (a status-update naming the new agent), and the
tools the model provider runs (the OpenAI Agents SDK's hosted tools: a call item with no
output item after it; Pydantic AI's native tools: a call part and a return part)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from a2a_server.adapters import adapt
from tests.client import chunks_text, stream, user_message

pytestmark = pytest.mark.anyio

agents = pytest.importorskip("agents")
pydantic_ai = pytest.importorskip("pydantic_ai")
agents.set_tracing_disabled(True)


def _reasoning(frames: list[dict[str, Any]]) -> str:
    return "".join(f.get("metadata", {}).get("a2aServer", {}).get("reasoning", "")
                   for f in frames if f["kind"] == "status-update")


def _agent_updates(frames: list[dict[str, Any]]) -> list[str]:
    return [p["data"]["agentName"] for f in frames if f["kind"] == "status-update"
            for p in f["status"].get("message", {}).get("parts", [])
            if p["kind"] == "data" and p["data"]["type"] == "agent_updated"]


async def _streamed(live_server: Any, runner: Any, text: str) -> list[dict[str, Any]]:
    server = live_server(runner=runner, coalesce_ms=0)
    async with server.client() as client:
        return (await stream(client, "message/stream", {"message": user_message(text)})).frames


async def test_openai_agents_reasoning_goes_to_metadata(live_server: Any) -> None:
    from agents.testing import ScriptedModel, assistant_message
    from openai.types.responses.response_reasoning_item import Content, ResponseReasoningItem

    thought = ResponseReasoningItem(id="r", type="reasoning", summary=[],
                                    content=[Content(type="reasoning_text", text="Think first.")])
    model = ScriptedModel([[thought, assistant_message("The answer.")]])
    frames = await _streamed(live_server, adapt(agents.Agent(name="thinker", model=model)), "why?")
    assert _reasoning(frames) == "Think first."
    assert chunks_text(frames) == "The answer."


async def test_pydantic_ai_thinking_goes_to_metadata(live_server: Any) -> None:
    from pydantic_ai.models.function import DeltaThinkingPart, FunctionModel

    async def think(messages: list[Any], info: Any) -> AsyncIterator[Any]:
        yield {0: DeltaThinkingPart(content="Think ")}
        yield {0: DeltaThinkingPart(content="first.")}
        yield "The answer."

    agent = pydantic_ai.Agent(FunctionModel(stream_function=think), name="thinker")
    frames = await _streamed(live_server, adapt(agent), "why?")
    assert _reasoning(frames) == "Think first."
    assert chunks_text(frames) == "The answer."


async def test_openai_agents_hand_off_names_the_new_agent(live_server: Any) -> None:
    from agents.testing import ScriptedModel, assistant_message, function_call

    model = ScriptedModel([[function_call("transfer_to_billing", {}, call_id="h1")],
                           [assistant_message("Billing here.")]])
    billing = agents.Agent(name="billing", model=model)
    triage = agents.Agent(name="triage", model=model, handoffs=[billing])
    frames = await _streamed(live_server, adapt(triage), "my invoice")
    assert _agent_updates(frames) == ["triage", "billing"]
    assert chunks_text(frames) == "Billing here."


async def test_openai_agents_hosted_tool_call_starts_and_ends(live_server: Any) -> None:
    from agents.testing import ModelStep, ScriptedModel, assistant_message
    from openai.types.responses import Response, ResponseCompletedEvent, ResponseCreatedEvent
    from openai.types.responses import ResponseFunctionWebSearch
    from openai.types.responses.response_function_web_search import ActionSearch

    search = ResponseFunctionWebSearch(id="ws1", type="web_search_call", status="completed",
                                       action=ActionSearch(type="search", query="paris weather"))
    done = Response(id="r", created_at=0, model="m", object="response", status="completed",
                    output=[search, assistant_message("Sunny.")], parallel_tool_calls=False,
                    tool_choice="auto", tools=[])
    started = done.model_copy(update={"output": [], "status": "in_progress"})
    model = ScriptedModel([ModelStep.stream([
        ResponseCreatedEvent(type="response.created", response=started, sequence_number=0),
        ResponseCompletedEvent(type="response.completed", response=done, sequence_number=1),
    ])])
    agent = agents.Agent(name="w", model=model, tools=[agents.WebSearchTool()])
    frames = await _streamed(live_server, adapt(agent), "weather?")
    tools = [p["data"] for f in frames if f["kind"] == "status-update"
             for p in f["status"].get("message", {}).get("parts", [])
             if p["kind"] == "data" and p["data"]["type"].startswith("tool_")]
    assert tools == [
        {"type": "tool_started", "toolName": "web_search_call", "toolCallId": "ws1",
         "arguments": {"action": {"type": "search", "query": "paris weather"}}},
        {"type": "tool_completed", "toolName": "web_search_call", "toolCallId": "ws1", "success": True},
    ]
    assert chunks_text(frames) == "Sunny."


async def test_pydantic_ai_native_tool_call_starts_and_ends(live_server: Any) -> None:
    from pydantic_ai.messages import NativeToolCallPart, NativeToolReturnPart
    from pydantic_ai.models.function import FunctionModel

    async def search(messages: list[Any], info: Any) -> AsyncIterator[Any]:
        yield {0: NativeToolCallPart(tool_name="web_search", args={"query": "paris"}, tool_call_id="w1")}
        yield {1: NativeToolReturnPart(tool_name="web_search", content={"hits": 1}, tool_call_id="w1")}
        yield "Sunny."

    agent = pydantic_ai.Agent(FunctionModel(stream_function=search), name="w")
    frames = await _streamed(live_server, adapt(agent), "weather?")
    tools = [p["data"] for f in frames if f["kind"] == "status-update"
             for p in f["status"].get("message", {}).get("parts", [])
             if p["kind"] == "data" and p["data"]["type"].startswith("tool_")]
    assert tools == [
        {"type": "tool_started", "toolName": "web_search", "toolCallId": "w1", "arguments": {"query": "paris"}},
        {"type": "tool_completed", "toolName": "web_search", "toolCallId": "w1", "success": True,
         "output": {"hits": 1}},
    ]
    assert chunks_text(frames) == "Sunny."
