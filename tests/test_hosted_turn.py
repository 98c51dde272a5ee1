"""A new task's first turn runs in its actor's own task (`TaskActor._host`), not in one of
its own: what holds of a turn in a task of its own holds of it. A command that comes during
it is taken at once (the actor's life goes on in a new task); a lost lease cuts it and the
actor ends; the app stopping stops it; a cancel cuts it however the runner takes it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from a2a_server.runner.base import Turn
from a2a_server.runner.events import Completed, InputRequired, RunnerEvent, TextDelta
from tests.client import rpc, user_message
from tests.conftest import in_process, wait_for

pytestmark = pytest.mark.anyio


class Held:
    """A runner whose first turn says one word and waits to be let go (`go`), then asks
    for input; later turns answer at once. `swallow`: the first turn, cancelled while it
    waits, swallows the cancellation and ends as if let go."""

    name = "held"
    description = "a first turn that waits to be let go"
    skills = ()

    def __init__(self, swallow: bool = False) -> None:
        self.swallow = swallow
        self.waiting = asyncio.Event()
        self.go = asyncio.Event()
        self.closed = asyncio.Event()  # the first turn's generator was closed
        self.cancelled = False

    async def run(self, turn: Turn) -> AsyncIterator[RunnerEvent]:
        if not turn.new_task:
            yield TextDelta("second answer")
            yield Completed()
            return
        try:
            yield TextDelta("first ")
            self.waiting.set()
            try:
                await self.go.wait()
            except asyncio.CancelledError:
                self.cancelled = True
                if not self.swallow:
                    raise
            yield InputRequired("and then?")
        finally:
            self.closed.set()


async def _start(client: Any, runner: Held) -> str:
    reply = await rpc(client, "message/send", {
        "message": user_message("first"), "configuration": {"blocking": False},
    })
    await asyncio.wait_for(runner.waiting.wait(), 5)
    return str(reply["result"]["id"])


def _actor_tasks(task_id: str) -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t.get_name() == f"task-{task_id}" and not t.done()]


async def _count(task_id: str, n: int) -> bool:
    return len(_actor_tasks(task_id)) == n


@pytest.mark.parametrize("store", ["sqlite", "memory"])
async def test_a_message_during_the_first_turn_runs_after_it(store: str) -> None:
    runner = Held()
    settings = {"store": "memory"} if store == "memory" else {}
    async with in_process(runner=runner, **settings) as client:
        task_id = await _start(client, runner)
        second = asyncio.create_task(rpc(client, "message/send", {
            "message": user_message("second", taskId=task_id),
        }))
        await wait_for(lambda: _count(task_id, 2))  # the actor's life, gone on
        runner.go.set()
        task = (await asyncio.wait_for(second, 5))["result"]
        assert task["status"]["state"] == "completed"
        assert [m["parts"][0]["text"] for m in task["history"] if m["role"] == "user"] == ["first", "second"]
        texts = [a["parts"][0]["text"] for a in task["artifacts"]]
        assert texts == ["first ", "second answer"]
        await wait_for(lambda: _count(task_id, 0))


async def test_a_cancel_cuts_the_first_turn_and_the_actor_goes_on_to_end_it() -> None:
    runner = Held()
    async with in_process(runner=runner) as client:
        task_id = await _start(client, runner)
        reply = await asyncio.wait_for(rpc(client, "tasks/cancel", {"id": task_id}), 5)
        assert reply["result"]["status"]["state"] == "canceled"
        assert runner.cancelled and runner.closed.is_set()
        await wait_for(lambda: _count(task_id, 0))
        got = (await rpc(client, "tasks/get", {"id": task_id}))["result"]
        assert got["status"]["state"] == "canceled"
        # the cut was the turn's, not the app's: the server goes on serving
        runner.go.set()
        later = await rpc(client, "message/send", {"message": user_message("again")})
        assert later["result"]["status"]["state"] == "input-required"


async def test_a_runner_that_swallows_the_cut_leaves_no_cancellation_behind() -> None:
    runner = Held(swallow=True)
    async with in_process(runner=runner) as client:
        task_id = await _start(client, runner)
        reply = await asyncio.wait_for(rpc(client, "tasks/cancel", {"id": task_id}), 5)
        assert runner.cancelled
        # the turn ended itself (input-required) before the cancel was carried out, which
        # then ended the task all the same, and said so
        assert reply["result"]["status"]["state"] == "canceled"
        await wait_for(lambda: _count(task_id, 0))
        got = (await rpc(client, "tasks/get", {"id": task_id}))["result"]
        assert got["status"]["state"] == "canceled"
        assert [a["parts"][0]["text"] for a in got["artifacts"]] == ["first "]
        runner.go.set()
        later = await asyncio.wait_for(rpc(client, "message/send", {"message": user_message("again")}), 5)
        assert later["result"]["status"]["state"] == "input-required"


async def test_a_lost_lease_cuts_the_first_turn_and_ends_its_actor() -> None:
    runner = Held()
    async with in_process(runner=runner) as client:
        task_id = await _start(client, runner)
        replica = client.app.state.handler.replica  # type: ignore[attr-defined]
        actor = replica.actor(task_id)
        assert actor is not None
        await asyncio.wait_for(actor.stop(), 5)  # what a renewal that finds the lease gone does
        assert runner.cancelled and runner.closed.is_set()
        await wait_for(lambda: _count(task_id, 0))
        assert replica.actor(task_id) is None


async def test_the_app_stopping_stops_a_first_turn() -> None:
    runner = Held()
    async with in_process(runner=runner) as client:
        task_id = await _start(client, runner)
    assert runner.closed.is_set()
    assert not _actor_tasks(task_id)
