"""The agent card: built from settings and the runner's skills, served at the well-known
paths (spec §5.3), and valid against the official 0.3.0 schema."""

from agent_card.build import CARD_PATHS, build_card

__all__ = ["CARD_PATHS", "build_card"]
