"""Limits per principal: requests per second, open streams (issue 13 §6).

    RateLimiter    a token bucket per principal: `rate` requests a second on average, in
                   bursts of up to `BURST_SECONDS` seconds' worth (clients send in bursts:
                   a page of calls, a conformance kit); a request over it is refused with
                   how long to wait
    StreamSlots    open streams per principal; a stream holds its slot until it ends
                   (its client went away, or its last frame went out)

Both count in this server process: with `--workers N` or several replicas each process
counts alone, so a principal's effective limit is N times the setting. The tables forget
principals that have been idle (a bucket full again, no stream open), so they stay as small
as the set of active callers. The third limit, tasks not yet ended, is counted by the store
across replicas (`TaskStore.open_tasks`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["BURST_SECONDS", "RateLimiter", "StreamClaim", "StreamSlots"]

_FORGET_AT = 10_000  # buckets kept before the full ones are dropped
BURST_SECONDS = 4.0


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    def __init__(self, rate: float, clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("the rate must be positive")
        self.rate = rate
        self.burst = max(1.0, rate * BURST_SECONDS)
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def admit(self, principal: str) -> int | None:
        """None if `principal` may make a request now (it is counted); else the seconds to
        wait (for `Retry-After`, at least 1)."""
        now = self._clock()
        bucket = self._buckets.get(principal)
        if bucket is None:
            if len(self._buckets) >= _FORGET_AT:
                self._forget_full(now)
            bucket = self._buckets[principal] = _Bucket(self.burst, now)
        else:
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
            bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return None
        return max(1, math.ceil((1.0 - bucket.tokens) / self.rate))

    def _forget_full(self, now: float) -> None:
        for principal, b in list(self._buckets.items()):
            if b.tokens + (now - b.at) * self.rate >= self.burst:
                del self._buckets[principal]


class StreamSlots:
    def __init__(self, limit: int) -> None:
        if limit <= 0:
            raise ValueError("the limit must be positive")
        self.limit = limit
        self._open: dict[str, int] = {}

    def take(self, principal: str) -> bool:
        held = self._open.get(principal, 0)
        if held >= self.limit:
            return False
        self._open[principal] = held + 1
        return True

    def give_back(self, principal: str) -> None:
        held = self._open.get(principal, 0) - 1
        if held > 0:
            self._open[principal] = held
        else:
            self._open.pop(principal, None)

    def open_streams(self, principal: str) -> int:
        return self._open.get(principal, 0)


class StreamClaim:
    """One request's claim on a stream slot: taken only if the request turns out to be a
    stream (`take`, called by the dispatcher), given back once (`release`) however the
    request ends."""

    __slots__ = ("_held", "_principal", "_slots")

    def __init__(self, slots: StreamSlots | None, principal: str) -> None:
        self._slots = slots
        self._principal = principal
        self._held = False

    def take(self) -> bool:
        if self._slots is None or self._held:
            return True
        self._held = self._slots.take(self._principal)
        return self._held

    def release(self) -> None:
        if self._held and self._slots is not None:
            self._held = False
            self._slots.give_back(self._principal)
