"""The report as a table grouped by protocol version and spec section, or as JSON."""

from __future__ import annotations

from typing import Any

from conformance.model import Result
from conformance.runner import Report

__all__ = ["as_json", "as_table"]

_VERSION_ORDER = {"any": 0, "0.3": 1, "1.0": 2}


def _order(r: Result) -> tuple[int, tuple[int, ...]]:
    return _VERSION_ORDER[r.check.version], tuple(int(x) for x in r.check.section.split(".") if x.isdigit())


def _served(report: Report) -> str:
    i = report.interfaces
    served = [f"{v} at {u}" for v, u in (("0.3", i.v0_3), ("1.0", i.v1_0)) if u]
    return "; ".join(served) or i.why


def as_table(report: Report) -> str:
    lines = [f"A2A conformance of {report.url}" + (f" ({report.card_name})" if report.card_name else ""),
             f"JSON-RPC: {_served(report)}"]
    width = max((len(r.check.id) for r in report.results), default=10)
    group = None
    for r in sorted(report.results, key=_order):
        if (r.check.version, r.check.section) != group:
            group = (r.check.version, r.check.section)
            name = "0.3 and 1.0" if r.check.version == "any" else r.check.version
            lines.append(f"\n{name} §{r.check.section}")
        mark = {"pass": "pass", "fail": "FAIL", "skip": "skip"}[r.outcome.value]
        line = f"  {r.check.id:<{width}}  {r.check.version:<3}  {r.check.level:<6}  {mark:<4}  {r.check.title}"
        if r.detail:
            line += f"\n  {'':<{width}}                       -> {r.detail}"
        lines.append(line)
    lines.append("")
    for version in ("0.3", "1.0"):
        c = report.counts(version)
        if sum(c.values()):
            lines.append(f"{version}: {c['pass']} passed, {c['fail']} failed, {c['skip']} skipped")
    counts = report.counts()
    lines.append(
        f"{counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped; "
        f"{len(report.must_failures)} must-level failure(s)"
    )
    return "\n".join(lines)


def as_json(report: Report) -> dict[str, Any]:
    return {
        "url": report.url,
        "card": report.card_name,
        "interfaces": {"0.3": report.interfaces.v0_3, "1.0": report.interfaces.v1_0},
        "summary": {**report.counts(), "mustFailures": len(report.must_failures),
                    "byVersion": {v: report.counts(v) for v in ("any", "0.3", "1.0")}},
        "results": [
            {
                "id": r.check.id, "version": r.check.version, "section": r.check.section,
                "level": r.check.level, "title": r.check.title, "result": r.outcome.value,
                "detail": r.detail, "seconds": round(r.seconds, 3),
            }
            for r in report.results
        ],
    }
