"""Serve an agent built with another framework: find its adapter by the object's type.

`adapt(obj)` returns a `Runner` wrapping `obj` when it is one of the framework objects below,
or None. Detection reads the names in `type(obj).__mro__` (module and class), so it never
imports a framework: a server without, say, pydantic-ai installed still checks every other
kind, and a framework is imported only by its own adapter module, once its object matched.

| framework | object | adapter |
|---|---|---|
| AFK | `afk.agents.Agent` | `afk.py` (duck-typed: AFK is not on a registry) |
| OpenAI Agents SDK | `agents.Agent` | `openai_agents.py` |
| 10xGraph / AgentFlow | a compiled graph (`CompiledGraph`) | `agentflow.py` |
| Agentor | `agentor.Agentor` | `agentor.py` |
| Pydantic AI | `pydantic_ai.Agent` | `pydantic_ai.py` |
"""

from __future__ import annotations

import importlib
from typing import Protocol, cast

from a2a_server.runner.base import Runner

__all__ = ["ACCEPTED", "adapt"]

ACCEPTED = (
    "an AFK afk.agents.Agent",
    "an OpenAI Agents SDK agents.Agent",
    "a 10xGraph/AgentFlow compiled graph",
    "an Agentor Agentor",
    "a Pydantic AI pydantic_ai.Agent",
)
"""What `--agent MODULE:ATTR` accepts besides a `Runner`, as the loader's error lists it."""

_MODULES = ("afk", "openai_agents", "agentflow", "agentor", "pydantic_ai")


class _Adapter(Protocol):
    def matches(self, obj: object) -> bool: ...
    def wrap(self, obj: object) -> Runner: ...


def adapt(obj: object) -> Runner | None:
    """A runner for `obj` if it is an agent of a framework we serve, else None."""
    for name in _MODULES:
        adapter = cast(_Adapter, importlib.import_module(f"{__name__}.{name}"))
        if adapter.matches(obj):
            return adapter.wrap(obj)
    return None
