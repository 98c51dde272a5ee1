"""What a check is, and what running one gives."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from conformance.probe import Probe

__all__ = ["Check", "CheckVersion", "Fail", "Outcome", "Result", "Skip", "check"]

Level = Literal["must", "should"]
Needs = Literal["streaming", "push", "tickets"]
CheckVersion = Literal["0.3", "1.0", "any"]  # "any": about the card itself, whatever it declares


class Fail(Exception):
    """The endpoint departs from the protocol; the message is the one-line diagnosis."""


class Skip(Exception):
    """The check does not apply, or cannot be triggered here; the message says why."""


class Outcome(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class Check:
    id: str
    section: str  # of the A2A specification of `version` (1.0's for "any")
    level: Level
    title: str
    run: Callable[[Probe], Awaitable[None]]
    needs: Needs | None = None  # a capability the card must declare for the check to apply
    version: CheckVersion = "0.3"  # the protocol version the check speaks


@dataclass(frozen=True)
class Result:
    check: Check
    outcome: Outcome
    detail: str = ""
    seconds: float = 0.0


def check(
    id: str, section: str, level: Level, title: str, needs: Needs | None = None,
    version: CheckVersion = "0.3",
) -> Callable[[Callable[[Probe], Awaitable[None]]], Check]:
    """Make a Check of an async function taking the probe."""

    def make(fn: Callable[[Probe], Awaitable[None]]) -> Check:
        return Check(id, section, level, title, fn, needs, version)

    return make
