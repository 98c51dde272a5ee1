"""A real `redis-server` for the tests, on a free loopback port, started once per session.

Each test gets a database of its own (`redis_url`), so tests never see each other's keys.
`.ci/run` installs Debian's redis-server when it is missing; without one, the Redis tests
are skipped with that reason.
"""

from __future__ import annotations

import atexit
import itertools
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

_DATABASES = 4096
_server: tuple[subprocess.Popen[bytes], int] | None = None
_next_db = itertools.count(1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start() -> tuple[subprocess.Popen[bytes], int]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (.ci/run installs it)")
    port = _free_port()
    folder = tempfile.mkdtemp(prefix="a2a-redis-")
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--databases", str(_DATABASES), "--dir", folder],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("redis-server did not start") from None
            time.sleep(0.02)
    atexit.register(proc.terminate)
    return proc, port


def redis_port() -> int:
    global _server
    if _server is None:
        _server = _start()
    return _server[1]


def redis_url(_name: str = "") -> str:
    """A URL of a fresh database on the session's redis-server."""
    return f"redis://127.0.0.1:{redis_port()}/{next(_next_db) % _DATABASES}"
