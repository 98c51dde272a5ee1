"""An Agentor from before its own engine (0.0.x, on the OpenAI Agents SDK): it has no
`_loop`, and its `stream_chat(serialize=False)` streams `AgentOutput`s with text chunks and
tool actions by name. Stands in for that release, which cannot be installed beside 0.1.1:
the adapter must fall back to `stream_chat` for it."""

from agentor import Agentor
from agentor.output_text_formatter import AgentOutput, ToolAction

_STREAM = [
    AgentOutput(type="run_item_stream_event", tool_action=ToolAction(name="get_weather", type="tool_called")),
    AgentOutput(type="run_item_stream_event", message="{'city': 'Paris', 'sky': 'sunny'}",
                tool_action=ToolAction(name="get_weather", type="tool_output")),
    AgentOutput(type="run_item_stream_event", chunk="Paris is "),
    AgentOutput(type="run_item_stream_event", chunk="sunny."),
    AgentOutput(type="run_item_stream_event", message="Paris is sunny."),
]


class LegacyAgentor(Agentor):
    def __init__(self) -> None:  # no engine: what the adapter sees in an Agentor 0.0.x
        self.name = "legacy"
        self.instructions = "Answer about the weather."
        self.tools = []

    async def stream_chat(self, input, serialize=True, tracing=None):
        for output in _STREAM:
            yield output.serialize(dump_json=True) if serialize else output


agent = LegacyAgentor()
