"""The benchmark agent (`--agent bench`): fixed, cheap answers, so a benchmark measures the
server and not the agent.

    hello          completes with one artifact, `echo: hello`
    stream N       N text deltas `tok ` on one artifact, then completes
    stream N D     the same, pausing D milliseconds after each delta
Anything else is echoed like `hello`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from a2a_server.runner.base import Skill, Turn
from a2a_server.runner.events import Completed, RunnerEvent, TextDelta

__all__ = ["BenchRunner"]


class BenchRunner:
    name = "a2a-server bench agent"
    description = "Answers `hello` and `stream N [D]` for benchmarks."
    skills = (Skill("bench", "Bench", "Fixed answers for benchmarks.", ("bench",), ("hello", "stream 100")),)

    async def run(self, turn: Turn) -> AsyncIterator[RunnerEvent]:
        words = turn.text.split()
        if len(words) in (2, 3) and words[0] == "stream" and all(w.isdigit() for w in words[1:]):
            count = int(words[1])
            pause = int(words[2]) / 1000 if len(words) == 3 else 0.0
            for _ in range(count):
                yield TextDelta("tok ")
                if pause:
                    await asyncio.sleep(pause)
            yield Completed()
        else:
            yield Completed(final_text=f"echo: {turn.text}")
