"""Turns share the event loop with the requests it serves: `TurnShare`.

A runner that yields its events without waiting between them (an agent whose tokens are
already there, a replayed answer, the bench agent) runs its whole turn in one step of the
loop, and a short request (a send that only queues its task, a `tasks/get`) waits behind
every such turn that is ready. Slicing each turn alone does not help: asyncio runs every
ready callback once per go round the loop, so a request's next step still waits behind a
slice of every turn. The turns of a replica share one slice of `slice_seconds` each time
round the loop; a turn that finds it spent waits for a slice of its own in a later round,
in the order they came, so a request's step waits behind one slice of turns, however many
are ready.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

__all__ = ["TurnShare"]


class TurnShare:
    __slots__ = ("_queue", "_round", "_slice", "_until")

    def __init__(self, slice_seconds: float = 0.002) -> None:
        self._slice = slice_seconds
        self._until: float | None = None  # the end of this round's slice (None: not begun)
        self._round = False  # `_next_round` is due: the loop goes round
        self._queue: deque[asyncio.Future[None]] = deque()  # turns waiting for a slice, in order

    def spent(self) -> bool:
        """Whether this time round the loop's slice is spent, so the turn asking is to
        `wait` (asked between a turn's events: a call, and no coroutine, per event; a turn
        that waits between them, as a model's do, spends next to nothing of a slice)."""
        until = self._until
        if until is None:
            self._begin()
            return False
        return time.perf_counter() >= until

    async def wait(self) -> None:
        """A slice of one's own, in a later round, after the turns that waited first."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append(waiter)
        await waiter  # its own: a cancelled turn cancels only its wait
        self._begin()  # its slice starts as it goes on

    def _begin(self) -> None:
        self._until = time.perf_counter() + self._slice
        if not self._round:
            self._round = True
            asyncio.get_running_loop().call_soon(self._next_round)  # once the loop goes round

    def _next_round(self) -> None:
        """The loop went round: a new slice, and the turn that waited longest goes on."""
        self._round = False
        self._until = None
        queue = self._queue
        while queue:
            waiter = queue.popleft()
            if not waiter.done():  # its turn was cancelled
                waiter.set_result(None)
                break
        if queue and not self._round:  # the rest wait for the rounds after
            self._round = True
            asyncio.get_running_loop().call_soon(self._next_round)
