"""The pre-1.0 draft dialect that some clients speak (fasta2a 2.1.1's, Pydantic's A2A client):
0.3 method names and spellings, but kind-less parts in (`{"text": "hello"}`), and results
expected in 1.0's wrappers (`{"task": ...}`, `{"statusUpdate": ...}`).

A conforming 0.3 client always puts `kind` on its parts, so a `message/send` or
`message/stream` without `A2A-Version` whose parts all lack it is this dialect. Its params are
0.3's (the 0.3 codec reads kind-less parts anyway); its results are the 0.3 objects, which it
reads, inside the 1.0 wrappers it looks for. Anything else is answered as 0.3, unchanged.
"""

from __future__ import annotations

from typing import Any

from a2a_server.model import ArtifactUpdate, Frame, Message, StatusUpdate, Task
from a2a_server.protocol import v0_3

__all__ = ["frame_json", "send_result_json", "speaks"]

_WRAPPERS = {Task: "task", Message: "message", StatusUpdate: "statusUpdate", ArtifactUpdate: "artifactUpdate"}


def speaks(params: dict[str, Any], declared_version: str | None) -> bool:
    """Whether a message/send or message/stream call is in this dialect."""
    if declared_version:
        return False
    message = params.get("message")
    parts = message.get("parts") if isinstance(message, dict) else None
    return (
        isinstance(parts, list) and bool(parts)
        and all(isinstance(p, dict) and "kind" not in p for p in parts)
        and "kind" not in message  # type: ignore[operator]
    )


def send_result_json(result: Task | Message) -> dict[str, Any]:
    return {_WRAPPERS[type(result)]: v0_3.send_result_json(result)}


def frame_json(f: Frame) -> dict[str, Any]:
    return {_WRAPPERS[type(f)]: v0_3.frame_json(f)}
