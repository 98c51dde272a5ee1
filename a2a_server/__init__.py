"""a2a-server: put any AI agent on the network as an A2A protocol JSON-RPC endpoint.

The public surface is small: build an app with `create_app`, configure it with `Settings`,
and give it a runner (anything that follows `Runner`).
"""

from a2a_server.app import create_app
from a2a_server.runner.base import Runner, Skill, Turn
from a2a_server.settings import Settings

__all__ = ["Runner", "Settings", "Skill", "Turn", "create_app"]
__version__ = "0.1.0"
