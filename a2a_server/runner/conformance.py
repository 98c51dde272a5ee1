"""The agent we serve to conformance suites (`--agent conformance`).

Three suites drive it, each with its own triggers:

- ours (`conformance/triggers.py`) and the 0.3 a2a-tck: a task's first turn parks it
  `working` on a deferred ticket (settled only from outside, or when the task is canceled),
  so `message/send` returns an open task that a suite can continue, resubscribe to or
  cancel; unless the message is a trigger: `conformance:complete` streams a short answer and
  completes, `conformance:input-required` asks back. Follow-ups are answered
  (`ack: <text>`) and the task stays open. A `messageId` starting with
  `test-resubscribe-message-id` streams for at least 2 x `TCK_STREAMING_TIMEOUT` seconds
  (environment, default 2.0), then completes.
- the 1.0 a2a-tck, whose every `messageId` starts `tck-` and names the scenario
  (`scenarios/*.feature` of its 1.0-dev branch): complete, an artifact of each kind, a direct
  Message instead of a task, input-required, reject, the stream scripts. A `tck-` prefix it
  does not name completes the task, as the kit's own agents do.
"""

from __future__ import annotations

import asyncio
import base64
import os
import uuid
from collections.abc import AsyncIterator, Callable

from a2a_server.model import DataPart, FilePart, Part, TextPart
from a2a_server.runner.base import Skill, Turn
from a2a_server.runner.events import (
    Completed,
    InputRequired,
    NewArtifact,
    Rejected,
    RunnerEvent,
    TextDelta,
    ToolDeferred,
    ToolStarted,
)
from conformance.triggers import COMPLETE, INPUT_REQUIRED, LONG_MESSAGE_ID

__all__ = ["RESUBSCRIBE_TRIGGER", "TCK_PREFIX", "ConformanceRunner"]

RESUBSCRIBE_TRIGGER = LONG_MESSAGE_ID
TCK_PREFIX = "tck-"

_FILE = FilePart(raw=base64.b64encode(b"tck").decode(), filename="output.txt", media_type="text/plain")
_FILE_URL = FilePart(url="https://example.com/output.txt", filename="output.txt", media_type="text/plain")

Script = Callable[[], AsyncIterator[RunnerEvent]]


def _answer(text: str) -> Script:
    async def script() -> AsyncIterator[RunnerEvent]:
        yield TextDelta(text)
        yield Completed()

    return script


def _artifact(*parts: Part) -> Script:
    async def script() -> AsyncIterator[RunnerEvent]:
        yield NewArtifact(parts, name="output")
        yield Completed()

    return script


async def _chunked() -> AsyncIterator[RunnerEvent]:
    yield TextDelta("chunk-1 ")
    await asyncio.sleep(0.01)
    yield TextDelta("chunk-2")
    yield Completed()


async def _input_required() -> AsyncIterator[RunnerEvent]:
    yield InputRequired("The TCK asks for input.")


async def _reject() -> AsyncIterator[RunnerEvent]:
    yield Rejected("rejected")


async def _complete_quietly() -> AsyncIterator[RunnerEvent]:
    yield Completed()


# the 1.0 kit's scenarios, longest prefix first (tck-artifact-file-url before tck-artifact-file)
TCK_SCENARIOS: tuple[tuple[str, Script], ...] = (
    ("tck-complete-task", _answer("Hello from TCK")),
    ("tck-artifact-text", _artifact(TextPart("Generated text content"))),
    ("tck-artifact-file-url", _artifact(_FILE_URL)),
    ("tck-artifact-file", _artifact(_FILE)),
    ("tck-artifact-data", _artifact(DataPart({"key": "value", "count": 42}))),
    ("tck-input-required", _input_required),
    ("tck-reject-task", _reject),
    ("tck-stream-001", _answer("Stream hello from TCK")),
    ("tck-stream-002", _complete_quietly),
    ("tck-stream-003", _answer("Stream task lifecycle")),
    ("tck-stream-ordering-001", _answer("Ordered output")),
    ("tck-stream-artifact-text", _answer("Streamed text content")),
    ("tck-stream-artifact-file", _artifact(_FILE)),
    ("tck-stream-artifact-chunked", _chunked),
)
TCK_MESSAGE_RESPONSE = "tck-message-response"


class ConformanceRunner:
    name = "a2a-server conformance agent"
    description = "Keeps tasks open on deferred tickets so conformance suites can test them."
    skills = (
        Skill(
            "conformance",
            "Conformance target",
            "Parks each new task on a deferred ticket; answers follow-ups; honours the "
            "triggers of the conformance suites.",
            ("conformance", "deferred"),
            ("hello",),
        ),
    )

    def __init__(self, streaming_timeout: float | None = None) -> None:
        if streaming_timeout is None:
            streaming_timeout = float(os.environ.get("TCK_STREAMING_TIMEOUT") or 2.0)
        self.streaming_timeout = streaming_timeout

    async def reply(self, turn: Turn) -> tuple[Part, ...] | None:
        """The 1.0 kit's `tck-message-response`: a Message, and no task."""
        if turn.message is not None and turn.message.message_id.startswith(TCK_MESSAGE_RESPONSE):
            return (TextPart("Direct message response"),)
        return None

    async def run(self, turn: Turn) -> AsyncIterator[RunnerEvent]:
        message_id = turn.message.message_id if turn.message is not None else ""
        text = turn.text.strip()
        if message_id.startswith(RESUBSCRIBE_TRIGGER):
            async for event in self._long_stream():
                yield event
            yield Completed()
        elif message_id.startswith(TCK_PREFIX):
            script = next((s for prefix, s in TCK_SCENARIOS if message_id.startswith(prefix)), None)
            async for event in (script or _answer(f"Unhandled messageId prefix: {message_id}"))():
                yield event
        elif text == COMPLETE and turn.new_task:
            for word in ("Done: ", "the ", "task ", "is ", "complete."):
                await asyncio.sleep(0.005)
                yield TextDelta(word)
            yield Completed()
        elif text == INPUT_REQUIRED and turn.new_task:
            yield InputRequired("What is your answer?")
        elif turn.is_resume:
            yield TextDelta(f"Ticket {turn.settled[0].ticket_id} settled: {turn.settled[0].state}.")
            yield Completed()
        elif turn.new_task:
            ticket_id = f"conformance-{uuid.uuid4().hex[:12]}"
            yield ToolStarted("hold", "call-hold")
            yield ToolDeferred("hold", "call-hold", ticket_id, "settle the ticket to finish")
            yield TextDelta(f"Received: {turn.text}")
            yield Completed()
        else:
            yield TextDelta(f"ack: {turn.text}")
            yield Completed()

    async def _long_stream(self) -> AsyncIterator[RunnerEvent]:
        total = 2 * self.streaming_timeout + 1.0
        steps = 10
        for i in range(steps):
            await asyncio.sleep(total / steps)
            yield TextDelta(f"tick {i + 1} ")
