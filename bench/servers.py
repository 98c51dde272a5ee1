"""The servers under test, each its own process on a free loopback port, and the private
redis-server that `ours-redis` stores its tasks in.

All of them are started at once and then waited for, so a run pays the slowest start, not
the sum of them.
"""

from __future__ import annotations

import importlib.util
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Self

__all__ = ["HOST", "RedisServer", "Server", "StartError", "ours_server", "redis_missing", "servers", "start_all"]

HOST = "127.0.0.1"


class StartError(RuntimeError):
    """A server exited or did not listen in time; the message ends with its stderr's tail."""


@dataclass
class Server:
    name: str
    command: list[str]
    port: int = 0
    cwd: str | None = None  # where it runs (`python -m` imports from there first)
    proc: subprocess.Popen[bytes] | None = None
    _stderr: IO[bytes] | None = field(default=None, repr=False)

    def spawn(self) -> None:
        self.port = _free_port()
        cmd = [c.replace("{port}", str(self.port)) for c in self.command]
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop(); read if it fails to start
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self._stderr, cwd=self.cwd)

    def wait_ready(self, timeout: float = 30) -> None:
        assert self.proc is not None and self._stderr is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                socket.create_connection((HOST, self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        command = " ".join(map(str, self.proc.args))  # type: ignore[arg-type]
        self._stderr.seek(0)
        tail = self._stderr.read().decode(errors="replace").strip().splitlines()[-5:]
        self.stop()
        raise StartError(f"{self.name} did not start: {command}" + "".join(f"\n  {line}" for line in tail))

    def start(self) -> None:
        self.spawn()
        self.wait_ready()

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None

    def rss_kib(self) -> int:
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def cpu_ticks(self) -> int:
        """User plus system clock ticks the process has used (from /proc/PID/stat)."""
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def start_all(pool: dict[str, Server], optional: tuple[str, ...] = ()) -> dict[str, str]:
    """Start every server of `pool`; one named in `optional` that fails is dropped from it.
    Returns why each dropped one failed."""
    for s in pool.values():
        s.spawn()
    dropped: dict[str, str] = {}
    for name, s in list(pool.items()):
        try:
            s.wait_ready()
        except StartError as e:
            if name not in optional:
                raise
            dropped[name] = str(e)
            del pool[name]
    return dropped


def ours_server(name: str, store: str, *extra: str) -> Server:
    """`a2a-server serve --agent bench` on `store`, with `extra` flags."""
    py = sys.executable
    return Server(name, [py, "-m", "a2a_server", "serve", "--agent", "bench", "--port", "{port}",
                         "--log-level", "warning", "--store", store, *extra])


def servers(folder: str, redis_url: str | None = None) -> dict[str, Server]:
    py = sys.executable
    pool = {
        "ours": ours_server("ours", f"sqlite:///{folder}/ours.db", "--coalesce-ms", "0"),
        "ours-coalesce": ours_server("ours-coalesce", f"sqlite:///{folder}/coalesce.db"),
        "ours-memory": ours_server("ours-memory", "memory", "--coalesce-ms", "0"),
        "sdk": Server("sdk", [py, "-m", "bench.sdk_server", "--port", "{port}"]),
        "fasta2a": Server("fasta2a", [py, "-m", "bench.fasta2a_server", "--port", "{port}"]),
        "floor": Server("floor", [py, "-m", "bench.floor", "--port", "{port}"]),
    }
    if redis_url is not None:
        pool["ours-redis"] = ours_server("ours-redis", redis_url, "--coalesce-ms", "0")
    return pool


def redis_missing() -> str | None:
    """Why `ours-redis` cannot run here, or None when it can."""
    if shutil.which("redis-server") is None:
        return "no redis-server on PATH"
    if importlib.util.find_spec("redis") is None:
        return "the redis package is not installed"
    if importlib.util.find_spec("a2a_server.store.redis") is None:
        return "a2a_server/store/redis.py is not in this tree (the RedisStore is not merged yet)"
    return None


class RedisServer:
    """A private redis-server on a free port, keeping nothing on disk (its folder the bench's)."""

    def __init__(self, folder: str) -> None:
        self.server = Server("redis", [
            shutil.which("redis-server") or "redis-server", "--port", "{port}", "--bind", HOST,
            "--save", "", "--appendonly", "no", "--dir", folder,
        ])

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.server.port}/0"

    def __enter__(self) -> Self:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
