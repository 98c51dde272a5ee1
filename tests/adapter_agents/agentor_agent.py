"""An Agentor agent on the fake server, through Agentor's own chat-completions model."""

import httpx
from agentor import Agentor, function_tool
from agentor.engine.models import ChatCompletionsModel
from openai import AsyncOpenAI

from tests.adapter_agents import fake_url
from tests.adapter_script import forecast, weather


@function_tool
def get_weather(city: str) -> dict:
    """The current weather in a city."""
    return weather(city)


@function_tool
def get_forecast(city: str) -> dict:
    """Tomorrow's weather in a city."""
    return forecast(city)


_client = AsyncOpenAI(
    base_url=fake_url(), api_key="k", max_retries=0,
    http_client=httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=0)),
)
agent = Agentor(
    name="weather",
    instructions="Answer about the weather.",
    model=ChatCompletionsModel("fake", client=_client),
    tools=[get_weather, get_forecast],
)
