"""Task stores: where tasks, their event logs, tickets and conversation memory live."""

from a2a_server.store.base import TaskStore
from a2a_server.store.memory import MemoryStore

__all__ = ["MemoryStore", "TaskStore"]
