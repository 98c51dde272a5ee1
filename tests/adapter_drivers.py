"""Drivers of the adapter contract (tests/test_adapter_contract.py): each one serves an agent
that follows tests/adapter_script.py and says what its model saw.

A driver builds its framework's agent from `STEPS`, with the framework's own test model or
through its real HTTP client against the fake chat-completions server, serves it over real
HTTP, and reports two things the frames cannot show: whether turn 2's model call held turn 1,
and whether turn 3's model stream was closed when the client canceled.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from a2a_server.adapters import adapt
from a2a_server.runner.openai import OpenAIRunner
from a2a_server.runner.tools import tool
from tests.adapter_script import (
    FIRST,
    MODEL_ERROR,
    STEPS,
    ForecastDown,
    Step,
    fake_replies,
    forecast,
    weather,
)
from tests.conftest import LiveServer, free_port
from tests.fake_openai import FakeOpenAI
from tests.procs import ServerProcess

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Env:
    """What a driver may use: the fake model server and a way to serve a runner."""

    fake: FakeOpenAI
    fake_url: str  # .../v1
    serve: Callable[[Any], str]  # runner -> URL of a live server for it (coalescing off)
    tmp_path: Path
    cleanup: list[Callable[[], None]] = field(default_factory=list)  # run before the fake stops


@dataclass
class Served:
    url: str
    saw_first_turn: Callable[[], bool]
    stream_closed: Callable[[], bool]


@contextmanager
def environment(tmp_path: Path) -> Iterator[Env]:
    """The fake model server and live servers for runners, all stopped on the way out."""
    from a2a_server import Settings, create_app

    fake = FakeOpenAI()
    fake_server = LiveServer(fake.app, free_port())
    fake_server.start()
    servers: list[LiveServer] = []

    def serve(runner: Any) -> str:
        port = free_port()
        settings = Settings(port=port, store=f"sqlite:///{tmp_path}/tasks-{port}.db", coalesce_ms=0)
        server = LiveServer(create_app(settings, runner), port)
        server.start()
        servers.append(server)
        return server.url

    env = Env(fake, f"{fake_server.url}/v1", serve, tmp_path)
    try:
        yield env
    finally:
        for stop in env.cleanup:
            stop()
        for server in servers:
            server.stop()
        fake_server.stop()


def _client(env: Env) -> Any:
    """An `openai` client of the fake server that keeps no connection open between requests:
    the servers stop at teardown while the agent, and its client, live on."""
    import httpx
    from openai import AsyncOpenAI

    http = httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=0))
    return AsyncOpenAI(base_url=env.fake_url, api_key="k", max_retries=0, http_client=http)


def _fake_saw_first_turn(fake: FakeOpenAI) -> Callable[[], bool]:
    """Turn 2 is the third model request (turn 1 makes two)."""
    return lambda: len(fake.requests) > 2 and FIRST in json.dumps(fake.requests[2]["messages"])


def _over_fake(env: Env, runner: Any, *, whole_calls: bool = False) -> Served:
    env.fake.add(*fake_replies(whole_calls=whole_calls))
    return Served(env.serve(runner), _fake_saw_first_turn(env.fake), env.fake.disconnected.is_set)


class Script:
    """Steps (`STEPS` unless told) handed out one per model call, for a framework's test
    model; records what each call was given and whether a stream was closed before its end."""

    def __init__(self, steps: tuple[Step, ...] = STEPS) -> None:
        self.steps = list(steps)
        self.inputs: list[str] = []
        self.closed = threading.Event()

    def next(self, given: Any) -> Step:
        self.inputs.append(json.dumps(given, default=str))
        return self.steps.pop(0)

    def saw_first_turn(self) -> bool:
        return len(self.inputs) > 2 and FIRST in self.inputs[2]

    async def texts(self, step: Step) -> AsyncIterator[str]:
        """The step's text pieces, paced; marks `closed` if the consumer stops early."""
        done = False
        try:
            for piece in step.texts:
                if step.delay:
                    await asyncio.sleep(step.delay)
                yield piece
            done = True
        finally:
            if not done:
                self.closed.set()


# -- our own runner: the reference ------------------------------------------------------------


def reference(env: Env) -> Served:
    def get_forecast(city: str) -> dict[str, str]:
        """Tomorrow's weather in a city."""
        return forecast(city)

    tools = [tool(name="get_weather")(weather), tool(get_forecast)]
    runner = OpenAIRunner("fake", tools=tools, base_url=env.fake_url, api_key="k",
                          max_retries=0, system_prompt=None)
    return _over_fake(env, runner)


# -- OpenAI Agents SDK ------------------------------------------------------------------------


def _agents_tools() -> list[Any]:
    agents = pytest.importorskip("agents")
    agents.set_tracing_disabled(True)  # the SDK would export traces to OpenAI

    @agents.function_tool
    def get_weather(city: str) -> dict[str, str]:
        """The current weather in a city."""
        return weather(city)

    @agents.function_tool
    def get_forecast(city: str) -> dict[str, str]:
        """Tomorrow's weather in a city."""
        return forecast(city)

    return [get_weather, get_forecast]


def openai_agents_scripted(env: Env) -> Served:
    """`agents.testing.ScriptedModel`: each text piece is an assistant message item (the SDK
    streams one delta per item); the slow step is a stream factory of text deltas."""
    agents = pytest.importorskip("agents")
    from agents.testing import ModelStep, ScriptedModel, assistant_message, function_call
    from openai.types.responses import ResponseTextDeltaEvent

    script = Script()

    def respond(call: Any) -> Any:
        step = script.next(call.input)
        if step.fails:
            return RuntimeError(MODEL_ERROR)
        if step.delay:
            async def deltas(_: Any) -> AsyncIterator[Any]:
                async for i, piece in _numbered(script.texts(step)):
                    yield ResponseTextDeltaEvent(
                        type="response.output_text.delta", item_id="slow", output_index=0,
                        content_index=0, delta=piece, logprobs=[], sequence_number=i,
                    )
            return ModelStep.stream(deltas)
        output = [assistant_message(t, item_id=f"m{i}") for i, t in enumerate(step.texts)]
        output += [function_call(n, a, call_id=f"call_{i}") for i, (n, a) in enumerate(step.calls)]
        return output

    model = ScriptedModel([ModelStep.respond(respond) for _ in STEPS])
    agent = agents.Agent(name="weather", instructions="Answer about the weather.", model=model,
                         tools=_agents_tools())
    return Served(env.serve(adapt(agent)), script.saw_first_turn, script.closed.is_set)


def openai_agents_http(env: Env) -> Served:
    agents = pytest.importorskip("agents")
    model = agents.OpenAIChatCompletionsModel(model="fake", openai_client=_client(env))
    agent = agents.Agent(name="weather", instructions="Answer about the weather.", model=model,
                         tools=_agents_tools())
    return _over_fake(env, adapt(agent))


async def _numbered(items: AsyncIterator[str]) -> AsyncIterator[tuple[int, str]]:
    i = 0
    async for item in items:
        yield i, item
        i += 1


# -- Pydantic AI ------------------------------------------------------------------------------


def _pydantic_agent(model: Any) -> Any:
    pydantic_ai = pytest.importorskip("pydantic_ai")
    agent = pydantic_ai.Agent(model, name="weather", instructions="Answer about the weather.")

    @agent.tool_plain
    def get_weather(city: str) -> dict[str, str]:
        """The current weather in a city."""
        return weather(city)

    @agent.tool_plain
    def get_forecast(city: str) -> dict[str, str]:
        """Tomorrow's weather in a city."""
        try:
            return forecast(city)
        except ForecastDown as exc:  # Pydantic AI's way to fail a call: the run goes on
            raise pydantic_ai.ToolFailed(str(exc)) from None

    return agent


def pydantic_ai_function(env: Env) -> Served:
    """`FunctionModel(stream_function=...)`: text pieces as str, calls as `DeltaToolCall`s."""
    pytest.importorskip("pydantic_ai")
    from pydantic_ai.messages import ModelMessagesTypeAdapter
    from pydantic_ai.models.function import DeltaToolCall, FunctionModel

    script = Script()

    async def stream(messages: list[Any], info: Any) -> AsyncIterator[Any]:
        step = script.next(json.loads(ModelMessagesTypeAdapter.dump_json(messages)))
        if step.fails:
            raise RuntimeError(MODEL_ERROR)
        async for piece in script.texts(step):
            yield piece
        for i, (name, args) in enumerate(step.calls):
            yield {i: DeltaToolCall(name=name, json_args=json.dumps(args), tool_call_id=f"call_{i}")}

    agent = _pydantic_agent(FunctionModel(stream_function=stream))
    return Served(env.serve(adapt(agent)), script.saw_first_turn, script.closed.is_set)


def pydantic_ai_http(env: Env) -> Served:
    pytest.importorskip("pydantic_ai")
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    provider = OpenAIProvider(openai_client=_client(env))
    agent = _pydantic_agent(OpenAIChatModel("fake", provider=provider))
    return _over_fake(env, adapt(agent))


# -- AFK (the fake package in tests/fakes) ----------------------------------------------------

FAKES = Path(__file__).resolve().parent / "fakes"


def fake_afk() -> Any:
    """The fake `afk` package (tests/fakes/afk), put on sys.path for this test session."""
    if str(FAKES) not in sys.path:
        sys.path.insert(0, str(FAKES))
    import afk

    assert Path(afk.__file__).is_relative_to(FAKES), f"another afk is installed: {afk.__file__}"
    return afk


def afk_agent(script: Script, *extra_tools: Any) -> Any:
    """An AFK agent whose `afk.llms.LLM` plays `script`, with the script's two tools."""
    fake_afk()
    from afk.agents import Agent
    from afk.llms import (
        LLM,
        LLMCapabilities,
        LLMResponse,
        StreamCompletedEvent,
        StreamTextDeltaEvent,
        ToolCall,
    )
    from afk.tools import tool
    from pydantic import BaseModel

    class ScriptedLLM(LLM):
        provider_id = "scripted"
        capabilities = LLMCapabilities(chat=True, streaming=True, tool_calling=True)

        async def _chat_stream_core(self, request: Any) -> AsyncIterator[Any]:
            step = script.next([(m.role, m.content) for m in request.messages])
            if step.fails:
                raise RuntimeError(MODEL_ERROR)
            async for piece in script.texts(step):
                yield StreamTextDeltaEvent(piece)
            calls = [ToolCall(f"call_{i}", name, args) for i, (name, args) in enumerate(step.calls)]
            yield StreamCompletedEvent(LLMResponse("".join(step.texts), calls))

    class City(BaseModel):
        city: str

    @tool(args_model=City, name="get_weather", description="The current weather in a city.")
    def get_weather(args: City) -> dict[str, str]:
        return weather(args.city)

    @tool(args_model=City, name="get_forecast", description="Tomorrow's weather in a city.")
    def get_forecast(args: City) -> dict[str, str]:
        return forecast(args.city)

    return Agent(name="weather", model=ScriptedLLM(), instructions="Answer about the weather.",
                 tools=[get_weather, get_forecast, *extra_tools])


def afk(env: Env) -> Served:
    script = Script()
    return Served(env.serve(adapt(afk_agent(script))), script.saw_first_turn, script.closed.is_set)


# -- frameworks in venvs of their own: the server runs there, in a subprocess ----------------

VENVS = {
    "agentor": ("A2A_TEST_VENV_AGENTOR", ROOT / ".venv-agentor"),
    "10xgraph": ("A2A_TEST_VENV_10XGRAPH", ROOT / ".venv-10xgraph"),
}


def venv_python(framework: str) -> str:
    """The Python of `framework`'s venv; the test is skipped when there is none."""
    variable, default = VENVS[framework]
    python = Path(os.environ.get(variable) or default) / "bin" / "python"
    if not python.exists():
        pytest.skip(f"no {framework} venv at {python.parent.parent}: .ci/run builds it "
                    f"(or point {variable} at one with '.[{framework}]' installed)")
    return str(python)


def serve_in_venv(env: Env, framework: str, agent: str, *args: str) -> str:
    """Start `a2a-server serve --agent tests.adapter_agents.<agent>` with the venv's Python."""
    proc = ServerProcess(env.tmp_path / f"{agent}.db", "--agent", f"tests.adapter_agents.{agent}",
                         "--coalesce-ms", "0", *args, python=venv_python(framework),
                         A2A_TEST_FAKE_OPENAI_URL=env.fake_url)
    proc.start()
    env.cleanup.append(proc.stop)
    return proc.url


def agentor_http(env: Env) -> Served:
    url = serve_in_venv(env, "agentor", "agentor_agent:agent")
    env.fake.add(*fake_replies())
    return Served(url, _fake_saw_first_turn(env.fake), env.fake.disconnected.is_set)


def tenxgraph_http(env: Env) -> Served:
    """The fake sends each tool call whole: 10xGraph's OpenAI stream converter drops calls
    whose arguments arrive in fragments (tests/test_adapter_venvs.py shows it)."""
    url = serve_in_venv(env, "10xgraph", "tenxgraph_agent:agent")
    env.fake.add(*fake_replies(whole_calls=True))
    return Served(url, _fake_saw_first_turn(env.fake), env.fake.disconnected.is_set)


DRIVERS: dict[str, Callable[[Env], Served]] = {
    "reference": reference,
    "openai-agents-scripted": openai_agents_scripted,
    "openai-agents-http": openai_agents_http,
    "pydantic-ai-function": pydantic_ai_function,
    "pydantic-ai-http": pydantic_ai_http,
    "afk": afk,
    "agentor-http": agentor_http,
    "10xgraph-http": tenxgraph_http,
}
