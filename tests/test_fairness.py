"""Turns that never wait share the loop: a short request's step waits behind one slice of
them, not behind every turn's whole answer; waiting turns go on in order; a cancelled one
is skipped."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time

import pytest

from a2a_server.fairness import TurnShare

pytestmark = pytest.mark.anyio


def _busy(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


async def _turn(
    share: TurnShare | None, events: int, log: list[str], name: str, *, each: bool = False
) -> None:
    """A turn that never waits between its events (as run_turn asks `share`); its name
    logged as it ends, or at every event (`each`)."""
    for _ in range(events):
        if share is not None and share.spent():
            await share.wait()
        if each:
            log.append(name)
        _busy(0.0005)  # an event's work, with no wait between events
    if not each:
        log.append(name)


async def _probe_wait(share: TurnShare | None) -> float:
    """How long a short request's next step waits while four such turns run."""
    log: list[str] = []
    turns = [asyncio.ensure_future(_turn(share, 40, log, f"t{i}")) for i in range(4)]
    started = time.perf_counter()
    await asyncio.sleep(0)  # a request's next step, ready after the turns' first
    waited = time.perf_counter() - started
    await asyncio.gather(*turns)
    assert sorted(log) == ["t0", "t1", "t2", "t3"]  # every turn ran to its end
    return waited


async def test_a_request_waits_behind_one_slice_not_every_turn() -> None:
    alone = await _probe_wait(None)
    shared = await _probe_wait(TurnShare(slice_seconds=0.002))
    assert alone > 0.05  # four turns of 20 ms, all before the request's step
    assert shared < 0.015  # one slice (2 ms, and an event past it)


async def test_turns_that_wait_go_on_in_the_order_they_came() -> None:
    share = TurnShare(slice_seconds=0.001)
    order: list[str] = []
    await asyncio.gather(*(_turn(share, 6, order, name, each=True) for name in "abc"))
    assert sorted(order) == sorted("abc" * 6)
    assert order[-3:] != ["a", "a", "a"]  # no turn runs out the others: they alternate
    assert len({order[i] for i in range(3, 9)}) == 3


async def test_a_cancelled_waiting_turn_is_skipped() -> None:
    share = TurnShare(slice_seconds=0.001)
    done: list[str] = []
    a, b, c = (asyncio.ensure_future(_turn(share, 10, done, name)) for name in "abc")
    await asyncio.sleep(0.003)
    b.cancel()
    await asyncio.gather(a, c)
    with pytest.raises(asyncio.CancelledError):
        await b
    assert sorted(done) == ["a", "c"]


async def _rounds_seen(share: TurnShare, events: int, serving: bool, work: float = 0.0005) -> list[int]:
    """A turn of `events` events (each `work` seconds of work, passing its count as `run_turn`
    does), and a request going round the loop beside it (served, or not): how many of the
    turn's events had run at each of the request's steps."""
    ran: list[int] = []

    async def turn() -> None:
        for count in range(1, events + 1):
            if share.spent(count):
                await share.wait()
            _busy(work)
            ran.append(count)

    running = asyncio.ensure_future(turn())
    seen: list[int] = []
    with share.serving() if serving else contextlib.nullcontext():
        while not running.done():
            await asyncio.sleep(0)
            seen.append(len(ran))
    await running
    return seen


async def test_a_long_turn_gives_way_sooner_while_a_request_is_served() -> None:
    # the slice 16 ms: 32 events a round; its short form 2 ms: 4 a round
    served = await _rounds_seen(TurnShare(slice_seconds=0.016), 60, serving=True)
    alone = await _rounds_seen(TurnShare(slice_seconds=0.016), 60, serving=False)
    steps = [b - a for a, b in itertools.pairwise(served) if a > 8]
    assert steps and max(steps) <= 8  # past its first events, a short slice at a time
    assert max(b - a for a, b in itertools.pairwise(alone)) >= 12  # the whole slice


async def test_a_short_turn_runs_whole_while_a_request_is_served() -> None:
    # eight events of 5 ms: past the short slice (25 ms), not cut by it (a `hello`'s turn)
    served = await _rounds_seen(TurnShare(slice_seconds=0.2), 8, serving=True, work=0.005)
    assert served[0] == 8


async def test_a_wait_aside_is_not_served() -> None:
    share = TurnShare(slice_seconds=0.016)
    with share.serving(), share.aside():  # a blocking send waiting for its turn
        seen = await _rounds_seen(share, 60, serving=False)
    assert max(b - a for a, b in itertools.pairwise(seen)) >= 12
