"""A 10xGraph agent on the fake server: the model node (10xGraph's OpenAI provider) and a
tool node, compiled with an in-memory checkpointer (the thread: memory and interrupts).
`refund` pauses the graph with `interrupt()` until the user answers."""

from tenxgraph.core.graph import Agent, StateGraph, ToolNode
from tenxgraph.storage.checkpointer import InMemoryCheckpointer
from tenxgraph.utils.constants import END
from tenxgraph.utils.interrupt import interrupt

from tests.adapter_agents import fake_url
from tests.adapter_script import forecast, weather


def get_weather(city: str) -> dict:
    """The current weather in a city."""
    return weather(city)


def get_forecast(city: str) -> dict:
    """Tomorrow's weather in a city."""
    return forecast(city)


def refund(amount: float) -> str:
    """Refund an amount to the customer, once a human approved it."""
    answer = interrupt({"amount": amount}, message=f"Refund {amount}?")
    return "refunded" if str(answer).lower().startswith("yes") else "declined"


def _route(state):  # the model asked for tools: run them, then back to the model
    last = state.context[-1] if state.context else None
    if last is not None and last.role == "assistant" and last.tools_calls:
        return "TOOL"
    return END


_graph = StateGraph()
_graph.add_node("MAIN", Agent(model="fake", provider="openai", base_url=fake_url(), api_key="k",
                              tool_node="TOOL", reasoning_config=None, retry_config=False))
_graph.add_node("TOOL", ToolNode([get_weather, get_forecast, refund]))
_graph.add_conditional_edges("MAIN", _route, {"TOOL": "TOOL", END: END})
_graph.add_edge("TOOL", "MAIN")
_graph.set_entry_point("MAIN")
agent = _graph.compile(checkpointer=InMemoryCheckpointer())
