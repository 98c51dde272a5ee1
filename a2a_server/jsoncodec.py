"""JSON for everything the server reads and writes: requests, responses, SSE frames, the store.

orjson, for speed (a frame is encoded once per write and once per send; a request parsed
once), with the standard library behind it for the rare values orjson refuses: a string with
a lone surrogate (legal in JSON input as `\\ud800`, not encodable as UTF-8) is written with
ASCII escapes instead of failing, and integers beyond 64 bits are kept. So a client's odd
input or a runner's odd output can never break a response or a write.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

__all__ = ["copy", "dumps", "dumps_bytes", "loads"]

_escaped = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True).encode


def dumps_bytes(obj: Any) -> bytes:
    """JSON as UTF-8 bytes."""
    try:
        return orjson.dumps(obj)
    except TypeError:
        return _escaped(obj).encode()  # raises TypeError itself for what is not JSON at all


def dumps(obj: Any) -> str:
    """JSON text that is always valid UTF-8 when encoded."""
    return dumps_bytes(obj).decode()


def loads(data: bytes | str) -> Any:
    """Parse JSON; ValueError (or RecursionError) when it is not JSON."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)  # lone surrogates and deep nesting: the standard library decides


def copy(obj: Any) -> Any:
    """A deep copy of a JSON value (much faster than copy.deepcopy)."""
    return loads(dumps_bytes(obj))
