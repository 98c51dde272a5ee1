"""A framework's failure as one readable line for the client; the details go to the log.

A framework's exception can hold a traceback's worth of text, a request body or a key. The
client is told what failed in one line: the model server's HTTP status, or that it could not
be reached or did not answer in time (looked up through the exception's causes, by duck
typing, so no HTTP client is imported here); else the exception's first line, cut short and
scrubbed of anything that looks like a credential. A failed tool call's error text, which
the frameworks word themselves, is scrubbed the same way.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

__all__ = ["describe", "explain", "scrub", "tool_error"]

log = logging.getLogger("a2a_server")

_SECRET = re.compile(r"sk-[A-Za-z0-9_-]{6,}|Bearer\s+\S+|(?<=://)[^/\s:@]+:[^/\s@]+(?=@)")
_LIMIT = 200


def explain(exc: BaseException, framework: str) -> str:
    """The client's message for a run of `framework` that raised `exc` (logged in full)."""
    log.warning("%s run failed: %r", framework, exc, exc_info=exc)
    for cause in _causes(exc):
        status = getattr(cause, "status_code", None)
        if isinstance(status, int):
            return f"The model server answered HTTP {status}."
        name = type(cause).__name__
        if "Timeout" in name:
            return "The model server did not answer in time."
        if "Connect" in name:
            return "Could not reach the model server."
    return describe(str(exc) or type(exc).__name__, framework)


def describe(text: str, framework: str) -> str:
    """The client's message for a failure `framework` reported as text."""
    return f"The {framework} agent failed: {scrub(text) or 'the run failed'}"


def scrub(text: str) -> str:
    """A framework's error text as the client may see it (a run's, or a tool's): its first
    line, credentials redacted, cut short."""
    lines = text.strip().splitlines()
    first = _SECRET.sub("[redacted]", lines[0].strip() if lines else "")
    return first if len(first) <= _LIMIT else first[: _LIMIT - 3] + "..."


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def tool_error(text: object, default: str = "the tool failed") -> str:
    """A failed tool call's error as the client may see it (`default` when it says nothing)."""
    return scrub(str(text or "")) or default
