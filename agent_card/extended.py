"""The authenticated extended card: `--extended-card FILE`, a partial card merged over the
public one (issue 13 §3), served by `agent/getAuthenticatedExtendedCard` (0.3) and
`GetExtendedAgentCard` (1.0) to authenticated callers.

The file is a JSON object with any of:

    name, description, version   replace the public card's
    skills                       added to the public card's skills; a skill with the id of
                                 a public one replaces it

A skill is written as in a card: `id`, `name`, `description`, `tags` (required), `examples`,
`inputModes`, `outputModes`. The file is read and checked at start-up: a key or a field it
does not know is an error then, never a broken card later.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from a2a_server.runner.base import Skill
from agent_card.build import AgentCard

__all__ = ["BadExtendedCard", "extended_card", "read_extension"]

_KEYS = frozenset({"name", "description", "version", "skills"})
_SKILL_KEYS = frozenset({"id", "name", "description", "tags", "examples", "inputModes", "outputModes"})


class BadExtendedCard(ValueError):
    """The file is not a partial card this server can merge."""


def read_extension(path: str) -> dict[str, Any]:
    """The partial card in `path`, checked."""
    try:
        with open(path, encoding="utf-8") as f:
            partial = json.load(f)
    except OSError as exc:
        raise BadExtendedCard(f"--extended-card {path}: cannot be read ({exc.strerror})") from None
    except ValueError:
        raise BadExtendedCard(f"--extended-card {path}: not JSON") from None
    if not isinstance(partial, dict):
        raise BadExtendedCard(f"--extended-card {path}: must be a JSON object")
    unknown = sorted(set(partial) - _KEYS)
    if unknown:
        raise BadExtendedCard(
            f"--extended-card {path}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(_KEYS))})"
        )
    for key in ("name", "description", "version"):
        if key in partial and not (isinstance(partial[key], str) and partial[key]):
            raise BadExtendedCard(f"--extended-card {path}: {key} must be a non-empty string")
    skills = partial.get("skills", [])
    if not isinstance(skills, list):
        raise BadExtendedCard(f"--extended-card {path}: skills must be a list")
    partial["skills"] = [_skill(path, i, s) for i, s in enumerate(skills)]
    return partial


def extended_card(public: AgentCard, partial: dict[str, Any]) -> AgentCard:
    """The public card with the partial merged over it."""
    added = {s.id: s for s in partial.get("skills", ())}
    skills = [added.pop(s.id, s) for s in public.skills] + list(added.values())
    return dataclasses.replace(
        public,
        name=partial.get("name", public.name),
        description=partial.get("description", public.description),
        version=partial.get("version", public.version),
        skills=tuple(skills),
    )


def _skill(path: str, index: int, raw: Any) -> Skill:
    where = f"--extended-card {path}: skills[{index}]"
    if not isinstance(raw, dict):
        raise BadExtendedCard(f"{where} must be an object")
    unknown = sorted(set(raw) - _SKILL_KEYS)
    if unknown:
        raise BadExtendedCard(f"{where}: unknown key(s) {', '.join(unknown)}")
    for key in ("id", "name", "description"):
        if not (isinstance(raw.get(key), str) and raw[key]):
            raise BadExtendedCard(f"{where}.{key} must be a non-empty string")
    lists = {}
    for key in ("tags", "examples", "inputModes", "outputModes"):
        value = raw.get(key, [])
        if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            raise BadExtendedCard(f"{where}.{key} must be a list of strings")
        lists[key] = tuple(value)
    if "tags" not in raw:
        raise BadExtendedCard(f"{where}.tags is required (a list of strings)")
    return Skill(
        raw["id"], raw["name"], raw["description"], lists["tags"], lists["examples"],
        lists["inputModes"], lists["outputModes"],
    )
