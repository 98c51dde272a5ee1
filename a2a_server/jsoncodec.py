"""JSON encoding for everything the server writes: responses, SSE frames, the store.

Compact, UTF-8 kept as is. A string with a lone surrogate (legal in JSON input as `\\ud800`,
not encodable as UTF-8) is written with ASCII escapes instead of failing, so a client's odd
input or a runner's odd output can never break a response or a write.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["dumps", "dumps_bytes"]

_compact = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_escaped = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True).encode


def dumps(obj: Any) -> str:
    """JSON text that is always valid UTF-8 when encoded."""
    text = _compact(obj)
    try:
        text.encode()
    except UnicodeEncodeError:
        return _escaped(obj)
    return text


def dumps_bytes(obj: Any) -> bytes:
    """JSON as UTF-8 bytes."""
    try:
        return _compact(obj).encode()
    except UnicodeEncodeError:
        return _escaped(obj).encode()
