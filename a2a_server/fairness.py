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

A request needs several go rounds of the loop (read, its writes, their commit, the answer),
so it waits behind a slice at each. While a request is being served (`serving`: from its
call to its answer, less any wait for a turn, `aside`) a long turn's slice is an eighth as
long: under sixteen streams a non-blocking send's median went from 18-23 ms to 12-14, its
p99 from 30-79 to 18-43. Only while such requests are in, and a stream's own request is not
one (its frames are what the slice is for); a short turn runs whole (`_LONG_TURN`).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque

__all__ = ["TurnShare"]

# events: a turn past this many is cut to the short slice while requests are served. A short
# turn (a `hello`'s two events) runs whole: cutting those, as many as there are requests,
# made every request take more rounds of the loop, and a `message/send` cost 1.11-1.14x
_LONG_TURN = 8


class TurnShare:
    __slots__ = (
        "_aside", "_queue", "_round", "_serving", "_serving_count", "_short", "_slice", "_until",
        "_until_short",
    )

    def __init__(self, slice_seconds: float = 0.002) -> None:
        self._slice = slice_seconds
        self._short = slice_seconds / 8  # the slice while requests are being served
        self._until: float | None = None  # the end of this round's slice (None: not begun)
        self._until_short = 0.0  # the end of its short form
        self._serving = 0  # requests being served (`serving`), less those aside
        self._serving_count, self._aside = _Count(self, 1), _Count(self, -1)  # reusable
        self._round = False  # `_next_round` is due: the loop goes round
        self._queue: deque[asyncio.Future[None]] = deque()  # turns waiting for a slice, in order

    def spent(self, events: int = 0) -> bool:
        """Whether this time round the loop's slice is spent, so the turn asking is to
        `wait` (asked between a turn's events: a call, and no coroutine, per event; a turn
        that waits between them, as a model's do, spends next to nothing of a slice).
        `events`: how many the turn asking has run; the short slice is for a long one."""
        until = self._until
        if until is None:
            self._begin()
            return False
        if self._serving > 0 and events > _LONG_TURN:
            until = self._until_short
        return time.perf_counter() >= until

    def serving(self) -> _Count:
        """`with share.serving():` a request's call: the slice is short meanwhile."""
        return self._serving_count

    def aside(self) -> _Count:
        """`with share.aside():` inside `serving`, a wait for a turn (a blocking send's):
        the request is not served meanwhile, and the turn it waits for runs at full slice."""
        return self._aside

    async def wait(self) -> None:
        """A slice of one's own, in a later round, after the turns that waited first."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append(waiter)
        await waiter  # its own: a cancelled turn cancels only its wait
        self._begin()  # its slice starts as it goes on

    def _begin(self) -> None:
        now = time.perf_counter()
        self._until = now + self._slice
        self._until_short = now + self._short
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


class _Count:
    """`TurnShare.serving` and `aside`: a class, not a generator context manager; one of
    each per share, entered by many requests at once (it holds no state of its own)."""

    __slots__ = ("_by", "_share")

    def __init__(self, share: TurnShare, by: int) -> None:
        self._share = share
        self._by = by

    def __enter__(self) -> None:
        self._share._serving += self._by

    def __exit__(self, *_: object) -> None:
        self._share._serving -= self._by
