"""a2a-server: put any AI agent on the network as an A2A protocol JSON-RPC endpoint.

The public surface is small: build an app with `create_app`, configure it with `Settings`,
and give it a runner (anything that follows `Runner`). The names load on first use, so
importing one module of the package (a runner, the model) does not load the whole app.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from a2a_server.app import create_app
    from a2a_server.runner.base import Runner, Skill, Turn
    from a2a_server.settings import Settings

__all__ = ["Runner", "Settings", "Skill", "Turn", "create_app"]
__version__ = "0.1.0"

_WHERE = {
    "create_app": "a2a_server.app",
    "Runner": "a2a_server.runner.base",
    "Skill": "a2a_server.runner.base",
    "Turn": "a2a_server.runner.base",
    "Settings": "a2a_server.settings",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'a2a_server' has no attribute {name!r}")
