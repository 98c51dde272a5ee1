"""Waiting for futures that others wait for too: the waiter's cancellation stops its wait,
never the futures (what `asyncio.shield` and `asyncio.wait` give, without the futures,
callbacks, sets and checks they make per call: the actor waits once per turn, and every
write of the SQLite store waits for its batch's commit)."""

from __future__ import annotations

import asyncio
from typing import Any

__all__ = ["first_done"]


async def first_done(a: asyncio.Future[Any], b: asyncio.Future[Any] | None = None) -> None:
    """Until `a` or `b` (if given) is done; neither is cancelled if this wait is."""
    if a.done() or (b is not None and b.done()):
        return
    waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def woken(_: object) -> None:
        if not waiter.done():
            waiter.set_result(None)

    a.add_done_callback(woken)
    if b is not None:
        b.add_done_callback(woken)
    try:
        await waiter
    finally:
        a.remove_done_callback(woken)
        if b is not None:
            b.remove_done_callback(woken)
