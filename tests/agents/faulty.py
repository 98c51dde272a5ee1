"""An agent with bugs on purpose, for the tests of error ids: the server must log each
unhandled exception once, with its traceback and an id, and give the client that id.

    crash     the turn raises (the task fails, its status message carries the error id)
    explode   the direct-reply hook raises (the JSON-RPC call gets -32603 with the id)
Anything else is answered "fine".
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

from a2a_server.model import Part
from a2a_server.runner.base import Skill, Turn
from a2a_server.runner.events import Completed, RunnerEvent, TextDelta


class Kaboom(RuntimeError):
    pass


class FaultyAgent:
    name = "faulty test agent"
    description = "raises where it is asked to"
    skills = (Skill("faults", "Faults", "Crashes on request.", ("test",), ("crash",)),)

    async def reply(self, turn: Turn) -> Sequence[Part] | None:
        if turn.text == "explode":
            raise Kaboom("secret detail that must stay in the log")
        return None

    async def run(self, turn: Turn) -> AsyncIterator[RunnerEvent]:
        if turn.text == "crash":
            raise Kaboom("secret detail that must stay in the log")
        yield TextDelta("fine")
        yield Completed()


agent = FaultyAgent()
