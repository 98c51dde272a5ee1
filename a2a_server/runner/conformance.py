"""The agent we serve to conformance suites (`--agent conformance`).

- A task's first turn parks it `working` on a deferred ticket (settled only from outside, or
  when the task is canceled), so `message/send` returns an open task that a suite can
  continue, resubscribe to or cancel; unless the message is one of the conformance suite's
  triggers (`conformance/triggers.py`): `conformance:complete` streams a short answer and
  completes, `conformance:input-required` asks back.
- Follow-up messages on the task are answered (`ack: <text>`); the task stays open.
- A message whose `messageId` starts with `test-resubscribe-message-id` (the a2a-tck's
  trigger) instead streams for at least 2 x `TCK_STREAMING_TIMEOUT` seconds (environment,
  default 2.0), then completes.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

from a2a_server.runner.base import Skill, Turn
from a2a_server.runner.events import (
    Completed,
    InputRequired,
    RunnerEvent,
    TextDelta,
    ToolDeferred,
    ToolStarted,
)
from conformance.triggers import COMPLETE, INPUT_REQUIRED, LONG_MESSAGE_ID

__all__ = ["RESUBSCRIBE_TRIGGER", "ConformanceRunner"]

RESUBSCRIBE_TRIGGER = LONG_MESSAGE_ID


class ConformanceRunner:
    name = "a2a-server conformance agent"
    description = "Keeps tasks open on deferred tickets so conformance suites can test them."
    skills = (
        Skill(
            "conformance",
            "Conformance target",
            "Parks each new task on a deferred ticket; answers follow-ups.",
            ("conformance", "deferred"),
            ("hello",),
        ),
    )

    def __init__(self, streaming_timeout: float | None = None) -> None:
        if streaming_timeout is None:
            streaming_timeout = float(os.environ.get("TCK_STREAMING_TIMEOUT") or 2.0)
        self.streaming_timeout = streaming_timeout

    async def run(self, turn: Turn) -> AsyncIterator[RunnerEvent]:
        message_id = turn.message.message_id if turn.message is not None else ""
        text = turn.text.strip()
        if message_id.startswith(RESUBSCRIBE_TRIGGER):
            async for event in self._long_stream():
                yield event
        elif text == COMPLETE and turn.new_task:
            for word in ("Done: ", "the ", "task ", "is ", "complete."):
                await asyncio.sleep(0.005)
                yield TextDelta(word)
        elif text == INPUT_REQUIRED and turn.new_task:
            yield InputRequired("What is your answer?")
            return
        elif turn.is_resume:
            yield TextDelta(f"Ticket {turn.settled[0].ticket_id} settled: {turn.settled[0].state}.")
        elif turn.new_task:
            ticket_id = f"conformance-{uuid.uuid4().hex[:12]}"
            yield ToolStarted("hold", "call-hold")
            yield ToolDeferred("hold", "call-hold", ticket_id, "settle the ticket to finish")
            yield TextDelta(f"Received: {turn.text}")
        else:
            yield TextDelta(f"ack: {turn.text}")
        yield Completed()

    async def _long_stream(self) -> AsyncIterator[RunnerEvent]:
        total = 2 * self.streaming_timeout + 1.0
        steps = 10
        for i in range(steps):
            await asyncio.sleep(total / steps)
            yield TextDelta(f"tick {i + 1} ")
