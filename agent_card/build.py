"""Build the public agent card (A2A 0.3.0 `AgentCard`).

The card is honest: it declares exactly what the server does (streaming and push
notifications yes; an authenticated extended card not yet), names the JSON-RPC endpoint as `url` with
`preferredTransport` JSONRPC, and lists the runner's skills.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from a2a_server.runner.base import Skill
from a2a_server.settings import Settings

__all__ = ["CARD_PATHS", "PROTOCOL_VERSION", "build_card"]

PROTOCOL_VERSION = "0.3.0"
CARD_PATHS = ("/.well-known/agent-card.json", "/.well-known/agent.json")
"""The 0.3.0 path first; the pre-0.3 path is served too, for older clients."""

INPUT_MODES = ["text/plain", "application/json"]
OUTPUT_MODES = ["text/plain", "application/json"]


def build_card(
    settings: Settings,
    *,
    name: str,
    description: str,
    skills: Sequence[Skill],
    extensions: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The card as JSON, ready to serve."""
    url = settings.rpc_url
    capabilities: dict[str, Any] = {
        "streaming": True,
        "pushNotifications": True,
        "stateTransitionHistory": False,
    }
    if extensions:
        capabilities["extensions"] = list(extensions)
    return {
        "protocolVersion": PROTOCOL_VERSION,
        "name": settings.agent_name or name,
        "description": settings.agent_description or description,
        "url": url,
        "preferredTransport": "JSONRPC",
        "additionalInterfaces": [{"url": url, "transport": "JSONRPC"}],
        "version": settings.agent_version,
        "capabilities": capabilities,
        "defaultInputModes": INPUT_MODES,
        "defaultOutputModes": OUTPUT_MODES,
        "skills": [_skill(s) for s in skills],
        "supportsAuthenticatedExtendedCard": False,
    }


def _skill(skill: Skill) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": skill.id,
        "name": skill.name,
        "description": skill.description,
        "tags": list(skill.tags),
    }
    if skill.examples:
        out["examples"] = list(skill.examples)
    return out
