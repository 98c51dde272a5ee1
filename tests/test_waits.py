"""`waits.first_done`: the actor's wait for its doorbell or its turn, and every SQLite
write's wait for its batch's commit, both futures that others await too."""

from __future__ import annotations

import asyncio

import pytest

from a2a_server.waits import first_done

pytestmark = pytest.mark.anyio


async def test_it_returns_once_either_is_done_and_leaves_no_callback() -> None:
    loop = asyncio.get_running_loop()
    a, b = loop.create_future(), loop.create_future()
    waiting = asyncio.ensure_future(first_done(a, b))
    await asyncio.sleep(0)
    assert not waiting.done()
    b.set_result("turn over")
    await asyncio.wait_for(waiting, 1)
    assert not a.done() and not a._callbacks  # type: ignore[attr-defined]
    await first_done(a, b)  # one of them is done already: at once
    a.set_result(None)
    await first_done(a)


async def test_a_cancelled_wait_cancels_neither_future() -> None:
    """A writer cancelled while it waits for its batch's commit stops waiting; the batch
    (the other writers') commits all the same."""
    loop = asyncio.get_running_loop()
    batch, other = loop.create_future(), loop.create_future()
    waiting = asyncio.ensure_future(first_done(batch, other))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert not batch.cancelled() and not other.cancelled()
    assert not batch._callbacks and not other._callbacks  # type: ignore[attr-defined]
    batch.set_result(None)  # and it still completes for whoever else waits
    await first_done(batch)
