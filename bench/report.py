"""The text report of a bench run: each figure as the median of its rounds with their range
in brackets, "823 (790-850)", so a reader sees the noise next to the ratio it bears on."""

from __future__ import annotations

from typing import Any

__all__ = ["report"]


def _spread(median: float, bounds: list[float], digits: int = 1) -> str:
    lo, hi = bounds
    return f"{median:.{digits}f} ({lo:.{digits}f}-{hi:.{digits}f})"


def _side_by_side_row(row: dict[str, Any], ratios: dict[str, Any]) -> list[str]:
    lines = []
    for name, v in row.items():
        extra = f"  cpu {_spread(v['cpu_us'], v['cpu_us_range'], digits=0):>18} us/req"
        if "frames_per_s" in v:
            extra = (f"  frames/s {_spread(v['frames_per_s'], v['frames_per_s_range'], digits=0):>22}"
                     f"  cpu {_spread(v['cpu_us_per_frame'], v['cpu_us_per_frame_range']):>18} us/frame")
        lines.append(f"  {name:<14} {_spread(v['rate'], v['rate_range']):>24}/s  p50 {v['p50_ms']:>7.2f} ms"
                     f"  p99 {v['p99_ms']:>7.2f} ms{extra}  errors {v['errors']}")
    shown = [f"{label} {r['ratio']:.2f}x ({r['range'][0]:.2f}-{r['range'][1]:.2f})" for label, r in ratios.items()]
    lines.append("  " + "   ".join(shown))
    return lines


def _growth_row(name: str, v: dict[str, Any]) -> str:
    points = "  ".join(f"{int(n):>6}: {mib:6.1f} MiB" for n, mib in v["mib_at"].items())
    counts = list(v["mib_at"])
    return (f"  {name:<14} start {v['start_mib']:.1f} MiB  {points}   {v['mib_per_1k']:.3f} MiB per 1k tasks"
            f" ({counts[0]}-{counts[-1]})  {v['rate']:.0f} req/s  errors {v['errors']}")


def report(results: Any) -> str:
    """`results` is bench.__main__.Results."""
    plan = results.plan
    head = (f"load generator: {results.loadgen}; rounds {plan.rounds} x {plan.seconds:g}s; "
            "medians (min-max of the rounds)")
    lines = [head]
    lines += [f"note: {note}" for note in results.notes]
    for key, row in results.figures.items():
        lines.append(f"\n{key}")
        if key in results.ratios:
            lines += _side_by_side_row(row, results.ratios[key])
        elif key.startswith("W2 first frame"):
            lines += [f"  {name:<14} {_spread(v['ms'], v['range'], digits=2)} ms" for name, v in row.items()]
        elif key.startswith("W3"):
            lines += [f"  {name:<14} errors {v['errors']}  {v['kib_per_stream']:.1f} KiB/stream"
                      f"  peak RSS {v['rss_peak_kib'] / 1024:.1f} MiB" for name, v in row.items()]
        elif key.startswith("W5"):
            lines += [f"  {name:<14} p50 {v['p50_ms']:.2f} ms  p99 {v['p99_ms']:.2f} ms" for name, v in row.items()]
        elif key.startswith("cross-replica"):
            lines += [f"  {name:<14} B behind A: median {v['median_ms']:.2f} ms  p90 {v['p90_ms']:.2f} ms"
                      f"  ({v['frames']} frames)" for name, v in row.items()]
        elif key.startswith("W6"):
            lines += [_growth_row(name, v) for name, v in row.items()]
        else:
            lines += [f"  {name:<14} {v}" for name, v in row.items()]
    return "\n".join(lines)
