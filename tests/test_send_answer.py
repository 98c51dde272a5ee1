"""A blocking message/send answers with the task folded from the frames its turn wrote: the
same task tasks/get reads back from the store right after, whatever the turn did."""

from __future__ import annotations

from typing import Any

import pytest

from a2a_server.runner.demo import DemoRunner
from tests.client import result, user_message
from tests.conftest import in_process

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
