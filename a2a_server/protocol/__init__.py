"""The wire, per protocol version: the only place that knows what either version's JSON
looks like (design §5b). `v0_3` and `v1_0` are codecs: params in (to the version-neutral
requests of `calls.py`), results, stream frames, errors, push bodies and the card out (from
`model.py`). Everything below the edge sees only the neutral model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from a2a_server.jsoncodec import dumps_bytes
from a2a_server.model import Task
from a2a_server.protocol import v0_3, v1_0

if TYPE_CHECKING:
    from agent_card import AgentCard

__all__ = ["CARD_FORMATS", "card_json", "push_body", "refusal_json"]

CARD_FORMATS = ("merged", "1.0", "0.3")

_ONLY_0_3 = ("protocolVersion", "url", "preferredTransport", "additionalInterfaces",
             "supportsAuthenticatedExtendedCard")


_STATUS_NAMES = {
    401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 413: "INVALID_ARGUMENT", 429: "RESOURCE_EXHAUSTED",
}


def refusal_json(status: int, message: str) -> dict[str, Any]:
    """The body of a request refused at the HTTP level, before any JSON-RPC (401, 403, 413,
    429): JSON, so every client can read it, in the `google.rpc.Status` form 1.0's HTTP
    binding uses for errors (AIP-193)."""
    return {"error": {"code": status, "status": _STATUS_NAMES[status], "message": message}}


def push_body(version: str, task: Task) -> tuple[bytes, str]:
    """A push notification about `task` for a config set over `version`: body, content type.
    0.3: the Task (spec §9.5); 1.0: a StreamResponse holding it, as application/a2a+json."""
    if version == v1_0.VERSION:
        return dumps_bytes(v1_0.frame_json(task)), v1_0.CONTENT_TYPE
    return dumps_bytes(v0_3.task_json(task)), "application/json"


def card_json(card: AgentCard, form: str = "merged") -> dict[str, Any]:
    """The card as served. "merged" (the default): one card for both versions, the 1.0 card
    plus the 0.3 fields 0.3 clients read (1.0 parsers ignore them, as a2a-sdk 1.3.0's
    merged card does; `securitySchemes` is written in 0.3's form); "1.0" and "0.3": one version's card alone,
    for validators that reject the other's fields (the 1.0 conformance kit does)."""
    if form == "1.0":
        return v1_0.card_json(card)
    if form == "0.3":
        return v0_3.card_json(card)
    merged = v1_0.card_json(card)
    old = v0_3.card_json(card)
    for key in _ONLY_0_3:
        merged[key] = old[key]
    if "securitySchemes" in old:
        # the one key both versions use, each in its own form: 0.3 clients cannot read the
        # 1.0 form, while 1.0 clients (a2a-sdk 1.3.0's card resolver) turn the 0.3 form
        # into theirs; `security` (0.3) and `securityRequirements` (1.0) sit side by side
        merged["securitySchemes"] = old["securitySchemes"]
        merged["security"] = old["security"]
    return merged
