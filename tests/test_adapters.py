"""Finding a framework's adapter: by the object's type, without importing frameworks, through
`--agent MODULE:ATTR` (an object or a factory), with a start-up error that lists what is
accepted; the card each adapter publishes; an adapter's own options."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

from a2a_server.adapters import ACCEPTED, adapt
from a2a_server.adapters.afk import AFKRunner
from a2a_server.adapters.openai_agents import OpenAIAgentsRunner
from a2a_server.adapters.pydantic_ai import PydanticAIRunner
from a2a_server.cli import main
from a2a_server.runner.loader import RunnerLoadError, load_runner
from tests.adapter_drivers import Script, afk_agent

pytestmark = pytest.mark.anyio

agents = pytest.importorskip("agents")
pydantic_ai = pytest.importorskip("pydantic_ai")


@agents.function_tool
def get_weather(city: str) -> dict[str, str]:
    """The current weather in a city."""
    return {"city": city}


weather_agent = agents.Agent(name="weather", instructions="Answers about the weather.",
                             tools=[get_weather])


def make_pydantic_agent() -> Any:
    from pydantic_ai.models.test import TestModel

    agent = pydantic_ai.Agent(TestModel(), name="helper")

    @agent.tool_plain
    def lookup(term: str) -> str:
        """Looks a term up."""
        return term

    return agent


class NotAnAgent:
    name = "nope"


def test_each_framework_object_gets_its_adapter() -> None:
    assert isinstance(adapt(weather_agent), OpenAIAgentsRunner)
    assert isinstance(adapt(make_pydantic_agent()), PydanticAIRunner)
    assert isinstance(adapt(afk_agent(Script())), AFKRunner)
    assert adapt(NotAnAgent()) is None
    assert adapt(agents.Agent) is None, "a framework's class is no agent; its instance is"


def test_detection_imports_no_framework() -> None:
    code = (
        "import sys; from a2a_server.adapters import adapt; "
        "assert adapt(object()) is None; "
        "print([m for m in ('agents', 'pydantic_ai', 'agentor', 'tenxgraph', 'agentflow', 'afk')"
        " if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_agent_flag_takes_an_agent_or_a_factory_of_one() -> None:
    assert isinstance(load_runner("tests.test_adapters:weather_agent"), OpenAIAgentsRunner)
    assert isinstance(load_runner("tests.test_adapters:make_pydantic_agent"), PydanticAIRunner)
    with pytest.raises(RunnerLoadError) as caught:
        load_runner("tests.test_adapters:NotAnAgent")
    message = str(caught.value)
    assert "not a runner" in message
    for accepted in ACCEPTED:
        assert accepted in message


def test_the_card_comes_from_the_agent(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["card", "--agent", "tests.test_adapters:weather_agent"]) == 0
    card = json.loads(capsys.readouterr().out)
    assert card["name"] == "weather" and card["description"] == "Answers about the weather."
    assert [s["id"] for s in card["skills"]] == ["chat", "get_weather"]
    assert main(["card", "--agent", "tests.test_adapters:make_pydantic_agent"]) == 0
    card = json.loads(capsys.readouterr().out)
    assert card["name"] == "helper"
    assert [(s["id"], s["description"]) for s in card["skills"]][1:] == [("lookup", "Looks a term up.")]


async def test_openai_agents_run_config_keeps_its_own_tool_error_formatter() -> None:
    from agents.testing import ScriptedModel, assistant_message, function_call

    from tests.client import send
    from tests.conftest import in_process

    @agents.function_tool
    def broken(city: str) -> str:
        """Always fails."""
        raise RuntimeError("down")

    model = ScriptedModel([[function_call("broken", {"city": "x"}, call_id="b1")],
                           [assistant_message("Sorry.")]])
    agent = agents.Agent(name="w", model=model, tools=[broken])
    config = agents.RunConfig(tracing_disabled=True,
                              tool_error_formatter=lambda args: f"{args.tool_name} is down")
    async with in_process(runner=OpenAIAgentsRunner(agent, run_config=config)) as client:
        task = await send(client, "go")
    assert task["status"]["state"] == "completed"
    (output,) = [i["output"] for i in model.calls[1].input if i.get("type") == "function_call_output"]
    assert output == "broken is down"
