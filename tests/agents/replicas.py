"""The agent of the replica tests: turns that take a while, so a replica can die in them.

    talk N            N words, 50 ms apart, then completes
    ask N             N words, then asks back (input-required); the answer completes it
    defer N           defers a ticket `ticket-<task id>` (settled only from outside), then N
                      words; its resume turn says whether the earlier turn was cut
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from a2a_server.runner.base import Skill, Turn
from a2a_server.runner.events import Completed, InputRequired, RunnerEvent, TextDelta, ToolDeferred


class ReplicaAgent:
    name = "replica test agent"
    description = "slow turns, to kill replicas in"
    skills = (Skill("slow", "Slow", "Takes its time.", ("test",), ("talk 10",)),)

    async def run(self, turn: Turn) -> AsyncIterator[RunnerEvent]:
        if turn.is_resume:
            yield TextDelta(f"resumed (cut: {turn.cut}) with {turn.settled[0].output}")
            yield Completed()
            return
        words = turn.text.split()
        if not turn.new_task:
            yield TextDelta(f"answered: {turn.text}")
            yield Completed()
            return
        kind, count = words[0], int(words[1]) if len(words) > 1 else 10
        if kind == "defer":
            yield ToolDeferred("approve", "call-1", f"ticket-{turn.task_id}")
        for i in range(count):
            await asyncio.sleep(0.05)
            yield TextDelta(f"w{i} ")
        if kind == "ask":
            yield InputRequired("Go on?")
            return
        yield Completed()


agent = ReplicaAgent()
