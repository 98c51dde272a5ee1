"""Which server process is this, and is another one still alive?

A running turn is recorded in the store with its process's `owner()` id. After a crash, the
next process fails the turns whose owner is gone, and leaves alone those of processes that
still run (several processes may share one SQLite file). The id holds the host, the pid and
the process's start time, so a recycled pid is not mistaken for the process that died.
"""

from __future__ import annotations

import os
import socket
import uuid

__all__ = ["instance", "is_alive", "owner"]


def _start_time(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "0"


_owner: tuple[int, str] | None = None


def owner() -> str:
    """This process's id (computed per pid, so a forked child gets its own)."""
    global _owner
    pid = os.getpid()
    if _owner is None or _owner[0] != pid:
        _owner = (pid, f"{socket.gethostname()}:{pid}:{_start_time(pid)}")
    return _owner[1]


def instance() -> str:
    """A new id for one app in this process: its process's id and a random suffix, so two
    apps sharing a store in one process (tests, embedding) are told apart too."""
    return f"{owner()}:{uuid.uuid4().hex[:8]}"


def is_alive(owner_id: str) -> bool:
    """Whether the process that wrote `owner_id` still runs (only this host's can be checked)."""
    host, _, rest = owner_id.partition(":")
    pid_text, _, rest = rest.partition(":")
    started = rest.split(":", 1)[0]
    if f"{host}:{pid_text}:{started}" == owner():
        return True
    if host != socket.gethostname() or not pid_text.isdigit():
        return True  # another host's process: assume alive rather than steal its task
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return _start_time(pid) == started
