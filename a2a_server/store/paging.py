"""Page tokens of ListTasks: an opaque cursor, the (status timestamp, task id) of the last
task of a page, in the order every store lists tasks (newest status first, then id)."""

from __future__ import annotations

import base64
import binascii

from a2a_server.jsoncodec import dumps_bytes, loads

__all__ = ["BadPageToken", "page_token", "read_page_token"]


class BadPageToken(ValueError):
    """A page token this server did not make (or one mangled on the way)."""


def page_token(status_at: str, task_id: str) -> str:
    return base64.urlsafe_b64encode(dumps_bytes([status_at, task_id])).decode().rstrip("=")


def read_page_token(token: str) -> tuple[str, str]:
    try:
        value = loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, RecursionError):
        raise BadPageToken("pageToken is not a token this server made") from None
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        raise BadPageToken("pageToken is not a token this server made")
    return value[0], value[1]
