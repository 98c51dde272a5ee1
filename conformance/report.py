"""The report as a table grouped by spec section, or as JSON."""

from __future__ import annotations

from typing import Any

from conformance.runner import Report

__all__ = ["as_json", "as_table"]


def _section_key(section: str) -> tuple[int, ...]:
    return tuple(int(x) for x in section.split(".") if x.isdigit())


def as_table(report: Report) -> str:
    lines = [f"A2A 0.3 conformance of {report.url}" + (f" ({report.card_name})" if report.card_name else "")]
    width = max((len(r.check.id) for r in report.results), default=10)
    section = None
    for r in sorted(report.results, key=lambda r: _section_key(r.check.section)):
        if r.check.section != section:
            section = r.check.section
            lines.append(f"\n§{section}")
        mark = {"pass": "pass", "fail": "FAIL", "skip": "skip"}[r.outcome.value]
        line = f"  {r.check.id:<{width}}  {r.check.level:<6}  {mark:<4}  {r.check.title}"
        if r.detail:
            line += f"\n  {'':<{width}}                  -> {r.detail}"
        lines.append(line)
    counts = report.counts()
    lines.append(
        f"\n{counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped; "
        f"{len(report.must_failures)} must-level failure(s)"
    )
    return "\n".join(lines)


def as_json(report: Report) -> dict[str, Any]:
    return {
        "url": report.url,
        "card": report.card_name,
        "summary": {**report.counts(), "mustFailures": len(report.must_failures)},
        "results": [
            {
                "id": r.check.id, "section": r.check.section, "level": r.check.level,
                "title": r.check.title, "result": r.outcome.value, "detail": r.detail,
                "seconds": round(r.seconds, 3),
            }
            for r in report.results
        ],
    }
