"""Several replicas on one store, as separate server processes: any replica serves any task,
and no crash loses a turn's promises (issue 12).

Each test runs on a SQLite file shared by the processes of one machine and on a real
redis-server. Three replicas (A, B, C) run tests/agents/replicas.py, with short leases so a
dead replica's tasks are taken over within about a second.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.client import assert_stream_rules, chunks_text, rpc, send, stream, user_message
from tests.conftest import wait_for
from tests.procs import ServerProcess
from tests.receiver import Receiver
from tests.redis_server import redis_url

pytestmark = pytest.mark.anyio

AGENT = "tests.agents.replicas:agent"
FAST = ("--lease-seconds", "1", "--sweep-seconds", "0.2", "--keepalive-seconds", "0.5",
        "--push-allow-hosts", "127.0.0.1", "--push-backoff-seconds", "0.1",
        "--push-backoff-max-seconds", "0.5", "--push-timeout-seconds", "1")

Replicas = Callable[..., list[ServerProcess]]


@pytest.fixture(params=["sqlite", "redis"])
def replicas(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Replicas]:
    """Start N replicas of one store: `replicas(3)`; all stop at teardown."""
    store = f"sqlite:///{tmp_path}/tasks.db" if request.param == "sqlite" else redis_url()
    started: list[ServerProcess] = []

    def start(n: int, *args: str) -> list[ServerProcess]:
        made = [ServerProcess(tmp_path / f"r{i}.db", "--agent", AGENT, *FAST, *args, store=store)
                for i in range(n)]
        for r in made:
            r.start()
        started.extend(made)
        return made

    yield start
    for r in started:
        r.stop()


def _seqs(events: list[Any]) -> list[int]:
    return [e.seq for e in events]


async def full_log(client: Any, task_id: str) -> list[tuple[int | None, dict[str, Any]]]:
    sse = await stream(client, "tasks/resubscribe", {"id": task_id}, headers={"Last-Event-ID": "0"})
    return [(e.seq, e.result) for e in sse.events]


async def test_a_stream_started_on_a_is_resumed_on_b(replicas: Replicas) -> None:
    a, b, _ = replicas(3)
    async with a.client() as ca, b.client() as cb:
        before = await stream(ca, "message/stream", {"message": user_message("talk 40")}, stop_after=6)
        task_id = before.frames[0]["id"]
        rest = await stream(cb, "tasks/resubscribe", {"id": task_id},
                            headers={"Last-Event-ID": str(before.events[-1].seq)})
        events = before.events + rest.events
        assert _seqs(events) == list(range(1, len(events) + 1)), "nothing lost, nothing twice"
        frames = [e.result for e in events]
        assert_stream_rules(frames)
        assert chunks_text(frames) == "".join(f"w{i} " for i in range(40))
        assert [(e.seq, e.result) for e in events] == await full_log(ca, task_id)


async def test_b_follows_a_turn_on_a_live(replicas: Replicas) -> None:
    """Frames A writes reach a subscriber on B as they are written: the extra delay is
    printed here, measured in the benchmark (never a timed assertion)."""
    a, b, _ = replicas(3)
    async with a.client() as ca, b.client() as cb:
        first = await send(ca, "talk 30", blocking=False)
        arrived: dict[str, dict[int, float]] = {"a": {}, "b": {}}

        def on(side: str) -> Callable[[Any], None]:
            return lambda event: arrived[side].setdefault(event.seq, time.monotonic())

        on_a = stream(ca, "tasks/resubscribe", {"id": first["id"]}, on_event=on("a"))
        on_b = stream(cb, "SubscribeToTask", {"id": first["id"]}, on_event=on("b"), version="1.0")
        got_a, got_b = await asyncio.gather(on_a, on_b)
    assert got_b.frames[-1]["statusUpdate"]["status"]["state"] == "TASK_STATE_COMPLETED"
    both = sorted(set(arrived["a"]) & set(arrived["b"]))[1:]  # past the Task each gets first
    delays = sorted(arrived["b"][s] - arrived["a"][s] for s in both)
    assert len(both) >= 25
    print(f"\nB's extra delay behind A, median of {len(delays)} frames: "
          f"{1000 * delays[len(delays) // 2]:.1f} ms")


async def test_a_follow_up_to_b_while_a_runs_the_turn_is_queued(replicas: Replicas) -> None:
    a, b, _ = replicas(3)
    async with a.client() as ca, b.client() as cb:
        first = await send(ca, "ask 20", blocking=False)  # A talks for a second, then asks
        await asyncio.sleep(0.3)
        answer = await send(cb, "yes", message={"taskId": first["id"]})  # to B: never "busy"
        assert answer["status"]["state"] == "completed", answer
        texts = [p["text"] for m in answer["history"] for p in m["parts"] if p["kind"] == "text"]
        assert texts == ["ask 20", "Go on?", "yes"]
        assert chunks_text([f for _, f in await full_log(cb, first["id"])]).endswith("answered: yes")


async def test_a_cancel_through_c_stops_the_turn_on_a(replicas: Replicas) -> None:
    a, _, c = replicas(3)
    async with a.client() as ca, c.client() as cc:
        reader = asyncio.create_task(stream(ca, "message/stream", {"message": user_message("talk 200")}))
        await asyncio.sleep(0.5)
        listed = (await rpc(cc, "ListTasks", {}, version="1.0"))["result"]
        (task_id,) = [t["id"] for t in listed["tasks"]]
        canceled = (await rpc(cc, "tasks/cancel", {"id": task_id}))["result"]
        assert canceled["status"]["state"] == "canceled"
        sse = await asyncio.wait_for(reader, 10)
        assert_stream_rules(sse.frames)
        assert sse.frames[-1]["status"]["state"] == "canceled"
        assert len(chunks_text(sse.frames).split()) < 100  # stopped early, on A


async def test_a_killed_mid_turn_and_mid_ticket_then_settled_through_c(replicas: Replicas) -> None:
    """A dies while its turn streams after deferring a ticket; the ticket, which the client
    was told of, stays pending; settled through C, the task goes on on a survivor."""
    a, b, c = replicas(3)
    async with a.client() as ca:
        before = await stream(ca, "message/stream", {"message": user_message("defer 100")}, stop_after=8)
    task_id = before.frames[0]["id"]
    a.kill()
    async with b.client() as cb, c.client() as cc:
        async def parked() -> Any:
            t = (await rpc(cb, "tasks/get", {"id": task_id}))["result"]
            return t if (t.get("metadata") or {}).get("a2aServer", {}).get("turnCut") else None

        task = await wait_for(parked)  # taken over once A's lease lapsed
        assert task["status"]["state"] == "working"
        settled = await rpc(cc, "a2aserver.tickets/resolve", {"ticketId": f"ticket-{task_id}", "output": "ok"})
        assert settled["result"]["state"] == "resolved"

        async def done() -> Any:
            t = (await rpc(cc, "tasks/get", {"id": task_id}))["result"]
            return t if t["status"]["state"] == "completed" else None

        await wait_for(done)
        frames = [f for _, f in await full_log(cb, task_id)]
        assert_stream_rules(frames)
        assert chunks_text(frames).endswith("resumed (cut: True) with ok")


def _in_order(states: list[str]) -> bool:
    """Push notifications of one task, at least once each: never back to an earlier one."""
    rank = {"working": 1, "input-required": 2, "completed": 3, "canceled": 3}
    return all(rank[x] <= rank[y] for x, y in zip(states, states[1:], strict=False))


async def test_push_deliveries_survive_a_killed_replica(
    replicas: Replicas, receiver: tuple[Receiver, str]
) -> None:
    r, url = receiver
    r.delay = 0.3  # POSTs take a while: some are in flight on A when it dies
    a, b, _ = replicas(3)
    async with a.client() as ca:
        tasks = [await send(ca, "ask 2", pushNotificationConfig={"url": f"{url}/t{i}"}, blocking=False)
                 for i in range(6)]
        await asyncio.sleep(0.5)
    a.kill()
    async with b.client() as cb:
        for i, t in enumerate(tasks):
            await send(cb, "yes", message={"taskId": t["id"]})
        await wait_for(lambda: _all_got(r, [f"/t{i}" for i in range(6)], "completed"), timeout=30)
    for i in range(6):
        states = [x.task["status"]["state"] for x in r.at(f"/t{i}")]
        assert {"working", "input-required", "completed"} <= set(states), states
        assert _in_order(states), states


async def test_a_webhook_down_for_a_while_loses_nothing(
    replicas: Replicas, receiver: tuple[Receiver, str]
) -> None:
    """Refused for 3 s (scaled down from the minutes of the issue: the backoff caps at 0.5 s),
    then accepted: every notification arrives, in order."""
    r, url = receiver
    r.refuse_until = time.monotonic() + 3.0
    (a,) = replicas(1)
    async with a.client() as ca:
        task = await send(ca, "ask 2", pushNotificationConfig={"url": f"{url}/down"}, blocking=False)
        await asyncio.sleep(0.5)
        await send(ca, "yes", message={"taskId": task["id"]})
        await wait_for(lambda: _all_got(r, ["/down"], "completed"), timeout=30)
    states = [x.task["status"]["state"] for x in r.at("/down")]
    assert states == ["working", "input-required", "completed"], states
    assert r.attempts["/down"] > len(states), "some were refused, and retried"


async def _all_got(r: Receiver, paths: list[str], state: str) -> bool:
    return all(any(x.task["status"]["state"] == state for x in r.at(p)) for p in paths)


async def test_workers_on_one_port_share_the_store(tmp_path: Path) -> None:
    """`--workers 3`: uvicorn's worker processes behind one port, replicas of one store.
    Every client connection may land on any of them."""
    server = ServerProcess(tmp_path / "w.db", "--agent", AGENT, "--workers", "3", *FAST).start()
    try:
        clients = [server.client() for _ in range(6)]
        try:
            tasks = await asyncio.gather(*(send(c, "ask 3") for c in clients))
            answers = await asyncio.gather(*(
                send(clients[(i + 1) % 6], "yes", message={"taskId": t["id"]}) for i, t in enumerate(tasks)
            ))
            assert [a["status"]["state"] for a in answers] == ["completed"] * 6
            streamed = await stream(clients[0], "message/stream", {"message": user_message("talk 30")}, stop_after=5)
            rest = await stream(clients[3], "tasks/resubscribe", {"id": streamed.frames[0]["id"]},
                                headers={"Last-Event-ID": str(streamed.events[-1].seq)})
            events = streamed.events + rest.events
            assert _seqs(events) == list(range(1, len(events) + 1))
            assert chunks_text([e.result for e in events]) == "".join(f"w{i} " for i in range(30))
        finally:
            for c in clients:
                await c.aclose()
    finally:
        server.stop()
