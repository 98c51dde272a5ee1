"""The adapter contract's conversation, written once and framework-neutral.

Four turns in one context:
1. a new task: the model streams two chunks, calls `get_weather` (succeeds) and
   `get_forecast` (fails), then streams two more chunks and completes;
2. a follow-up task in the same context, whose model call must see turn 1;
3. a slow answer the client cancels mid-stream (the model's stream must close);
4. the model fails: the task fails once, readably.

`STEPS` is what the model does on each of its calls, in order; each framework's driver
turns it into that framework's own test model, and `fake_replies` into the fake
chat-completions server's script (tests/fake_openai.py), so the same conversation also runs
through each framework's real HTTP client.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.fake_openai import Calls, Reply, Text

FIRST = "What is the weather in Paris?"
BEFORE = ("Let me ", "check. ")
CALLS: tuple[tuple[str, dict[str, Any]], ...] = (
    ("get_weather", {"city": "Paris"}),
    ("get_forecast", {"city": "Paris"}),
)
WEATHER = {"city": "Paris", "sky": "sunny"}
AFTER = ("Paris is ", "sunny.")
FOLLOW_UP = "Which city did I ask about?"
RECALL = ("You asked ", "about Paris.")
LONG = "Tell me a long story."
SLOW = tuple(f"w{i} " for i in range(500))
SLOW_DELAY = 0.02
BROKEN = "One more thing?"
MODEL_ERROR = "model exploded"  # what a framework's own test model raises in turn 4


class ForecastDown(Exception):
    """What `forecast` raises: the failing tool of turn 1."""


def weather(city: str) -> dict[str, str]:
    """The current weather in a city."""
    return {"city": city, "sky": "sunny"}


def forecast(city: str) -> dict[str, str]:
    """Tomorrow's weather in a city."""
    raise ForecastDown(f"the forecast service is down for {city}")


@dataclass(frozen=True)
class Step:
    """One model call: text pieces, then tool calls; or a failure."""

    texts: tuple[str, ...] = ()
    calls: tuple[tuple[str, dict[str, Any]], ...] = ()
    delay: float = 0.0
    fails: bool = False


STEPS = (
    Step(BEFORE, CALLS),
    Step(AFTER),
    Step(RECALL),
    Step(SLOW, delay=SLOW_DELAY),
    Step(fails=True),
)


def fake_replies(*, whole_calls: bool = False) -> list[Reply]:
    """`STEPS` as the fake server's script. The failing step is left out: once the script is
    exhausted the fake answers HTTP 500 to every request, retries included."""
    import json

    replies: list[Reply] = []
    for step in STEPS:
        if step.fails:
            continue
        if step.calls:
            calls = [(name, json.dumps(args)) for name, args in step.calls]
            replies.append(Calls(calls, text=list(step.texts), whole=whole_calls))
        else:
            replies.append(Text(list(step.texts), delay=step.delay))
    return replies
