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
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Self

__all__ = ["HOST", "RedisServer", "Server", "ours_server", "redis_missing", "servers", "start_all"]

HOST = "127.0.0.1"


@dataclass
class Server:
    name: str
    command: list[str]
    port: int = 0
    proc: subprocess.Popen[bytes] | None = None

    def spawn(self) -> None:
        self.port = _free_port()
        cmd = [c.replace("{port}", str(self.port)) for c in self.command]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def wait_ready(self, timeout: float = 30) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                socket.create_connection((HOST, self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not start: {' '.join(self.command)}")

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


def start_all(pool: dict[str, Server]) -> None:
    for s in pool.values():
        s.spawn()
    for s in pool.values():
        s.wait_ready()


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
