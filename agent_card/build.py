"""Build the public agent card from settings and the runner: the version-neutral `AgentCard`.

The card is honest: it declares exactly what the server does (streaming and push
notifications yes; an extended card only when one is configured; the security schemes it
enforces, `security.py`), names the JSON-RPC
endpoint once per protocol version it serves (1.0 first: clients take the first interface
they can speak), and lists the runner's skills, each with its input and output modes (some
clients, fasta2a's among them, require them on every skill). The codecs in
`a2a_server/protocol/` write it out as 0.3 and 1.0 JSON, and `protocol.card_json` merges the
two into the one card served at the well-known paths.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from a2a_server.runner.base import Skill
from a2a_server.settings import Settings
from agent_card.security import Requirement, SecurityScheme, security_of

__all__ = ["CARD_PATHS", "INPUT_MODES", "OUTPUT_MODES", "AgentCard", "Interface", "build_card"]

CARD_PATHS = ("/.well-known/agent-card.json", "/.well-known/agent.json")
"""The 0.3.0 path first; the pre-0.3 path is served too, for older clients."""

INPUT_MODES = ("text/plain", "application/json")
OUTPUT_MODES = ("text/plain", "application/json")


@dataclass(frozen=True, slots=True)
class Interface:
    """One way to reach the agent: a URL, a binding, a protocol version."""

    url: str
    version: str
    binding: str = "JSONRPC"


@dataclass(frozen=True, slots=True)
class AgentCard:
    name: str
    description: str
    version: str  # the agent's own version
    interfaces: tuple[Interface, ...]  # in order of preference
    skills: tuple[Skill, ...]
    streaming: bool = True
    push_notifications: bool = True
    extended_card: bool = False
    extensions: tuple[Mapping[str, Any], ...] = ()
    security_schemes: tuple[SecurityScheme, ...] = ()
    security: tuple[Requirement, ...] = ()  # alternatives: any one will do
    input_modes: tuple[str, ...] = INPUT_MODES
    output_modes: tuple[str, ...] = OUTPUT_MODES

    @property
    def url(self) -> str:
        """The JSON-RPC endpoint (the same for every version we serve)."""
        return self.interfaces[0].url


def build_card(
    settings: Settings,
    *,
    name: str,
    description: str,
    skills: Sequence[Skill],
    extensions: Sequence[Mapping[str, Any]] = (),
    versions: Sequence[str] = ("1.0", "0.3"),
) -> AgentCard:
    url = settings.rpc_url
    schemes, requirements = security_of(settings)
    return AgentCard(
        name=settings.agent_name or name,
        description=settings.agent_description or description,
        version=settings.agent_version,
        interfaces=tuple(Interface(url, v) for v in versions),
        skills=tuple(skills),
        extended_card=bool(settings.extended_card),
        extensions=tuple(extensions),
        security_schemes=schemes,
        security=requirements,
    )
