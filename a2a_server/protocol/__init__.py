"""The wire, per protocol version: the only place that knows what either version's JSON
looks like (design §5b). `v0_3` and `v1_0` are codecs: params in (to the version-neutral
requests of `calls.py`), results, stream frames, errors, push bodies and the card out (from
`model.py`). Everything below the edge sees only the neutral model.
"""

from __future__ import annotations

from a2a_server.jsoncodec import dumps_bytes
from a2a_server.model import Task
from a2a_server.protocol import v0_3

__all__ = ["push_body"]


def push_body(version: str, task: Task) -> tuple[bytes, str]:
    """A push notification about `task` for a config set over `version`: body, content type."""
    return dumps_bytes(v0_3.task_json(task)), "application/json"
