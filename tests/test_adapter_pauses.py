"""Runs that pause: approvals (OpenAI Agents SDK `needs_approval`, Pydantic AI
`requires_approval`) end the turn `input-required` with a DataPart and the next message
resumes them; deferred tools (Pydantic AI `CallDeferred`, AFK's background tools) are our
tickets, settled by the framework or through `a2aserver.tickets/*`, across a restart too."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from a2a_server.adapters import adapt
from a2a_server.adapters.afk import AFKRunner
from a2a_server.adapters.openai_agents import LOST
from tests.adapter_drivers import Script, afk_agent, fake_afk
from tests.adapter_script import Step
from tests.client import answer_text, rpc, send
from tests.conftest import in_process, wait_for

pytestmark = pytest.mark.anyio

agents = pytest.importorskip("agents")
pydantic_ai = pytest.importorskip("pydantic_ai")
agents.set_tracing_disabled(True)

REFUND = [{"toolName": "refund", "toolCallId": "r1", "arguments": {"amount": 5}}]


def _asked(task: dict[str, Any]) -> tuple[str, Any]:
    """An input-required Task's question: its text, and its DataPart."""
    assert task["status"]["state"] == "input-required", task["status"]
    parts = task["status"]["message"]["parts"]
    return parts[0]["text"], next(p["data"] for p in parts if p["kind"] == "data")


def _openai_agent() -> tuple[Any, Any]:
    from agents.testing import ScriptedModel, assistant_message, function_call

    @agents.function_tool(needs_approval=True)
    def refund(amount: int) -> str:
        """Refund an amount to the customer."""
        return f"refunded {amount}"

    model = ScriptedModel([[function_call("refund", {"amount": 5}, call_id="r1")],
                           [assistant_message("Done.")]])
    return agents.Agent(name="shop", model=model, tools=[refund]), model


@pytest.mark.parametrize(("answer", "tool_said"), [("yes", "refunded 5"), ("No, thanks", "not approved")])
async def test_openai_agents_approval_asks_then_resumes(answer: str, tool_said: str) -> None:
    agent, model = _openai_agent()
    async with in_process(runner=adapt(agent)) as client:
        task = await send(client, "refund 5")
        text, data = _asked(task)
        assert text == 'Approve refund({"amount": 5})? Answer yes or no.'
        assert data == {"type": "approval", "calls": REFUND}
        unclear = await send(client, "what?", message={"taskId": task["id"]})
        assert _asked(unclear)[1] == data, "neither yes nor no: asked again"
        done = await send(client, answer, message={"taskId": task["id"]})
        assert done["status"]["state"] == "completed" and answer_text(done) == "Done."
    (output,) = [i["output"] for i in model.calls[1].input if i.get("type") == "function_call_output"]
    assert tool_said in output


async def test_openai_agents_approval_lost_in_a_restart_fails_readably(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path}/tasks.db"
    async with in_process(runner=adapt(_openai_agent()[0]), store=store) as client:
        task = await send(client, "refund 5")
        _asked(task)
    async with in_process(runner=adapt(_openai_agent()[0]), store=store) as client:  # restarted
        after = await send(client, "yes", message={"taskId": task["id"]})
    assert after["status"]["state"] == "failed"
    assert after["status"]["message"]["parts"][0]["text"] == LOST


def _pydantic_agent(*steps: Any, ran: list[str]) -> tuple[Any, list[str]]:
    """A Pydantic AI agent whose FunctionModel plays `steps` (text, or a tool call)."""
    from pydantic_ai.messages import ModelMessagesTypeAdapter
    from pydantic_ai.models.function import DeltaToolCall, FunctionModel

    seen: list[str] = []
    queue = list(steps)

    async def stream(messages: list[Any], info: Any) -> AsyncIterator[Any]:
        seen.append(ModelMessagesTypeAdapter.dump_json(messages).decode())
        step = queue.pop(0)
        if isinstance(step, str):
            yield step
        else:
            name, args, call_id = step
            yield {0: DeltaToolCall(name=name, json_args=json.dumps(args), tool_call_id=call_id)}

    agent = pydantic_ai.Agent(FunctionModel(stream_function=stream), name="shop")

    @agent.tool_plain(requires_approval=True)
    def refund(amount: int) -> str:
        """Refund an amount to the customer."""
        ran.append("refund")
        return f"refunded {amount}"

    @agent.tool_plain
    def build(target: str) -> str:
        """Build a target; the build reports back later."""
        raise pydantic_ai.CallDeferred(metadata={"target": target})

    return agent, seen


async def test_pydantic_ai_approval_asks_then_resumes() -> None:
    ran: list[str] = []
    agent, seen = _pydantic_agent(("refund", {"amount": 5}, "r1"), "Done.", ran=ran)
    async with in_process(runner=adapt(agent)) as client:
        task = await send(client, "refund 5")
        assert _asked(task)[1] == {"type": "approval", "calls": REFUND}
        done = await send(client, "approve", message={"taskId": task["id"]})
    assert done["status"]["state"] == "completed" and answer_text(done) == "Done."
    assert ran == ["refund"] and "refunded 5" in seen[-1]


async def test_pydantic_ai_approval_answered_after_a_restart_reaches_the_model(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path}/tasks.db"
    agent, _ = _pydantic_agent(("refund", {"amount": 5}, "r1"), ran=[])
    async with in_process(runner=adapt(agent), store=store) as client:
        task = await send(client, "refund 5")
        _asked(task)
    ran: list[str] = []
    again, seen = _pydantic_agent(("refund", {"amount": 5}, "r2"), ran=ran)
    async with in_process(runner=adapt(again), store=store) as client:  # restarted
        after = await send(client, "yes", message={"taskId": task["id"]})
    assert _asked(after)[1]["calls"][0]["toolCallId"] == "r2", "a fresh run, which asks again"
    assert ran == [] and '"yes"' in seen[0] and "refund 5" in seen[0]


@pytest.mark.parametrize("restart", [False, True])
async def test_pydantic_ai_deferred_call_is_a_ticket(tmp_path: Path, restart: bool) -> None:
    """A call that raised `CallDeferred` parks the task on a ticket; settled through the
    tickets API, it resumes the run, or after a restart a fresh one told the result."""
    store = f"sqlite:///{tmp_path}/tasks.db"
    agent, seen = _pydantic_agent(("build", {"target": "docs"}, "b1"), "Docs are built.", ran=[])
    async with in_process(runner=adapt(agent), store=store) as client:
        task = await send(client, "build the docs")
        assert task["status"]["state"] == "working"
        (ticket,) = task["metadata"]["a2aServer"]["pendingTickets"]
        assert ticket["toolName"] == "build" and ticket["toolCallId"] == "b1"
        assert json.loads(ticket["resumeHint"]) == {"target": "docs"}
    runner = adapt(_pydantic_agent("Docs are built.", ran=[])[0]) if restart else adapt(agent)
    async with in_process(runner=runner, store=store) as client:
        await rpc(client, "a2aserver.tickets/resolve", {"ticketId": ticket["ticketId"], "output": "build green"})

        async def completed() -> Any:
            t = (await rpc(client, "tasks/get", {"id": task["id"]}))["result"]
            return t if t["status"]["state"] == "completed" else None

        done = await wait_for(completed)
    assert answer_text(done) == "Docs are built."
    if not restart:
        assert "build green" in seen[-1], "the paused run went on with the ticket's output"


def _afk_build_agent(script: Script, future: asyncio.Future[Any]) -> Any:
    """An AFK agent with a `build` tool whose work goes on in the background as ticket T-1."""
    fake_afk()
    from afk.tools import ToolDeferredHandle, ToolResult, tool
    from pydantic import BaseModel

    class Target(BaseModel):
        target: str

    @tool(args_model=Target, name="build", description="Build a target in the background.")
    def build(args: Target) -> ToolResult:
        handle = ToolDeferredHandle("T-1", resume_hint="the build reports back")
        return ToolResult(deferred=handle, metadata={"background_future": future})

    return afk_agent(script, build)


def _afk_runner(agent: Any, grace: float) -> AFKRunner:
    fake_afk()
    from afk.core import Runner, RunnerConfig

    config = RunnerConfig(background_tool_default_grace_s=grace)
    return AFKRunner(agent, new_runner=lambda: Runner(config))


async def test_afk_background_tool_settled_within_its_run() -> None:
    loop = asyncio.get_running_loop()
    future = loop.create_future()
    loop.call_later(0.05, future.set_result, {"status": "green"})
    script = Script((Step(calls=(("build", {"target": "docs"}),)), Step(("Built: ", "green."))))
    async with in_process(runner=_afk_runner(_afk_build_agent(script, future), grace=0.2)) as client:
        task = await send(client, "build the docs")
        assert task["status"]["state"] == "completed" and answer_text(task) == "Built: green."
        ticket = (await rpc(client, "a2aserver.tickets/get", {"ticketId": "T-1"}))["result"]
    assert ticket["state"] == "resolved" and ticket["output"] == {"status": "green"}
    assert ticket["resumeHint"] == "the build reports back"
    assert "green" in script.inputs[1], "AFK's run went on with the result"


async def test_afk_ticket_pending_at_the_runs_end_is_settled_from_outside_after_a_restart(tmp_path: Path) -> None:
    store = f"sqlite:///{tmp_path}/tasks.db"
    never: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    script = Script((Step(calls=(("build", {"target": "docs"}),)), Step(("Build queued.",)),
                     Step(("The build ", "is green."))))
    agent = _afk_build_agent(script, never)
    async with in_process(runner=_afk_runner(agent, grace=0), store=store) as client:
        task = await send(client, "build the docs")
        assert task["status"]["state"] == "working" and answer_text(task) == "Build queued."
        assert [t["ticketId"] for t in task["metadata"]["a2aServer"]["pendingTickets"]] == ["T-1"]
    async with in_process(runner=_afk_runner(agent, grace=0), store=store) as client:  # restarted
        await rpc(client, "a2aserver.tickets/resolve", {"ticketId": "T-1", "output": {"status": "green"}})

        async def completed() -> Any:
            t = (await rpc(client, "tasks/get", {"id": task["id"]}))["result"]
            return t if t["status"]["state"] == "completed" else None

        done = await wait_for(completed)
    assert answer_text(done) == "Build queued.The build is green."
    told = script.inputs[2]
    assert "Background tools finished: build (ticket T-1) finished" in told and "green" in told
    assert "build the docs" in told, "the new run is on the same AFK thread"
