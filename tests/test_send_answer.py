"""A blocking message/send answers with the task as its turn left it: the same task tasks/get
reads back from the store right after, whatever the turn did, and whichever replica ended it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from a2a_server.runner.base import Turn
from a2a_server.runner.demo import DemoRunner
from tests.client import result, user_message
from tests.conftest import _app_client, fast_demo, in_process

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("store", ["sqlite", "memory"])
async def test_the_answer_of_a_send_is_the_task_the_store_has(store: str) -> None:
    settings = {"store": "memory"} if store == "memory" else {}
    async with in_process(runner=DemoRunner(token_delay=0.0), **settings) as client:
        states = []

        async def check(message: dict[str, Any], **config: Any) -> dict[str, Any]:
            params: dict[str, Any] = {"message": message}
            if config:
                params["configuration"] = config
            answer = await result(client, "message/send", params)
            got = await result(client, "tasks/get", {"id": answer["id"], **(
                {"historyLength": config["historyLength"]} if "historyLength" in config else {})})
            assert answer == got, answer["status"]
            states.append(answer["status"]["state"])
            return answer

        for text in ("hello", "time", "calc 1/0", "broken tool", "fail", "build website", "recall"):
            await check(user_message(text))
        asked = await check(user_message("ask me"))
        await check(user_message("Ada", taskId=asked["id"], contextId=asked["contextId"]))
        await check(user_message("hello again"), historyLength=1)
        assert states == ["completed", "completed", "completed", "completed", "failed", "working",
                          "completed", "input-required", "completed", "completed"]


async def test_a_blocking_send_whose_actor_stops_answers_with_the_end_another_replica_wrote(
    tmp_path: Path,
) -> None:
    """The actor that made a task answers its blocking send itself when the turn ends; if it
    stops first (its lease lost), the send follows the log instead, and answers with the
    end that the replica which took the task over wrote."""
    running = asyncio.Event()

    class Hangs:
        name = "hangs"
        description = "a turn that never ends"
        skills = ()

        async def run(self, turn: Turn) -> AsyncIterator[Any]:
            running.set()
            await asyncio.Event().wait()
            yield None  # never reached

    url = f"sqlite:///{tmp_path}/tasks.db"
    async with _app_client(Hangs(), {"store": url}) as a, _app_client(fast_demo(), {"store": url}) as b:
        send = asyncio.create_task(result(a, "message/send", {"message": user_message("hello")}))
        await asyncio.wait_for(running.wait(), 10)
        replica_a = a.app.state.handler.replica  # type: ignore[attr-defined]
        (actor,) = replica_a._actors.values()
        await actor.stop()  # as when its lease is lost: it writes nothing more
        assert await b.app.state.handler.replica.take_over(actor.task_id, dead=replica_a.owner)  # type: ignore[attr-defined]
        answer = await asyncio.wait_for(send, 10)
        assert answer["status"]["state"] == "failed"
        assert "the turn was lost" in str(answer["status"])
        assert answer == await result(b, "tasks/get", {"id": answer["id"]})
