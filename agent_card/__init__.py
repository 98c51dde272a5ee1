"""The agent card: built from settings and the runner's skills (version-neutral), written
out by the protocol codecs, served at the well-known paths (spec §5.3)."""

from agent_card.build import CARD_PATHS, AgentCard, Interface, build_card

__all__ = ["CARD_PATHS", "AgentCard", "Interface", "build_card"]
