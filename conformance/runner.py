"""Run the checks against one endpoint and collect a report."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from conformance.checks import ALL_CHECKS
from conformance.model import Check, Fail, Outcome, Result, Skip
from conformance.probe import Probe

__all__ = ["Report", "run_suite"]

_NEEDS = {
    "streaming": ("streaming", "the card does not declare streaming"),
    "push": ("pushNotifications", "the card does not declare pushNotifications"),
    "tickets": ("tickets", "the card does not declare the deferred-tickets extension"),
}


@dataclass
class Report:
    url: str
    card_name: str | None
    results: list[Result] = field(default_factory=list)

    @property
    def must_failures(self) -> list[Result]:
        return [r for r in self.results if r.outcome is Outcome.FAIL and r.check.level == "must"]

    def counts(self) -> dict[str, int]:
        return {o.value: sum(r.outcome is o for r in self.results) for o in Outcome}


async def run_suite(
    url: str,
    checks: Sequence[Check] = ALL_CHECKS,
    *,
    timeout: float = 15.0,
    progress: Callable[[int, int, Check], None] | None = None,
) -> Report:
    probe = Probe(url, timeout=timeout)
    try:
        await probe.discover()
        report = Report(probe.rpc_url, (probe.card or {}).get("name"))
        for i, c in enumerate(checks):
            if progress is not None:
                progress(i, len(checks), c)
            report.results.append(await _run(probe, c))
        return report
    finally:
        await probe.aclose()


async def _run(probe: Probe, c: Check) -> Result:
    start = time.monotonic()
    if c.needs is not None:
        capability, why = _NEEDS[c.needs]
        if not probe.declares(capability):
            return Result(c, Outcome.SKIP, why)
    try:
        await c.run(probe)
    except Fail as exc:
        return Result(c, Outcome.FAIL, str(exc), time.monotonic() - start)
    except Skip as exc:
        return Result(c, Outcome.SKIP, str(exc), time.monotonic() - start)
    except Exception as exc:  # a check that crashes on odd input is the endpoint's failure to diagnose
        return Result(c, Outcome.FAIL, f"unexpected answer ({type(exc).__name__}: {str(exc)[:100]})",
                      time.monotonic() - start)
    return Result(c, Outcome.PASS, "", time.monotonic() - start)
