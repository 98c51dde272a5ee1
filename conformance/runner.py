"""Run the checks against one endpoint and collect a report.

The card says which protocol versions the endpoint speaks (`conformance/discovery.py`): the
checks of a version it does not declare are skipped with that reason; the checks of version
"any" (the card itself) always run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from conformance.checks import ALL_CHECKS
from conformance.discovery import Interfaces, Version
from conformance.model import Check, Fail, Outcome, Result, Skip
from conformance.probe import Probe
from conformance.webhook import Webhook

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
    interfaces: Interfaces = field(default_factory=Interfaces)
    results: list[Result] = field(default_factory=list)

    @property
    def must_failures(self) -> list[Result]:
        return [r for r in self.results if r.outcome is Outcome.FAIL and r.check.level == "must"]

    def counts(self, version: str | None = None) -> dict[str, int]:
        """Outcomes of all checks, or of one version's."""
        results = [r for r in self.results if version is None or r.check.version == version]
        return {o.value: sum(r.outcome is o for r in results) for o in Outcome}


async def run_suite(
    url: str,
    checks: Sequence[Check] = ALL_CHECKS,
    *,
    timeout: float = 15.0,
    progress: Callable[[int, int, Check], None] | None = None,
    versions: Collection[Version] | None = None,
    webhook_host: str | None = None,
) -> Report:
    """Run `checks` (those of `versions` and "any", when given) against the endpoint at
    `url`; with `webhook_host`, the suite listens there for push deliveries."""
    chosen = [c for c in checks if versions is None or c.version == "any" or c.version in versions]
    probe = Probe(url, timeout=timeout)
    webhook = Webhook(webhook_host) if webhook_host else None
    try:
        if webhook is not None:
            await webhook.start()
            probe.webhook = webhook
        await probe.discover()
        report = Report(probe.given_url, (probe.card or {}).get("name"), probe.interfaces)
        for i, c in enumerate(chosen):
            if progress is not None:
                progress(i, len(chosen), c)
            report.results.append(await _run(probe, c))
        return report
    finally:
        await probe.aclose()
        if webhook is not None:
            await webhook.aclose()


def _skip_reason(probe: Probe, c: Check) -> str | None:
    if c.version != "any" and probe.interfaces.url(c.version) is None:
        return probe.interfaces.why or f"the card declares no JSON-RPC interface for protocol {c.version}"
    if c.needs is not None:
        capability, why = _NEEDS[c.needs]
        if not probe.declares(capability):
            return why
    return None


async def _run(probe: Probe, c: Check) -> Result:
    start = time.monotonic()
    why = _skip_reason(probe, c)
    if why is not None:
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
