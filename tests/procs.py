"""The real server as a subprocess (`python -m a2a_server serve`), to kill and restart."""

from __future__ import annotations

import os
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent  # where `python -m` finds `tests.*` agent modules


class ServerProcess:
    def __init__(
        self, db: Path, *args: str, port: int | None = None, python: str = sys.executable,
        store: str | None = None, tls: Path | None = None, **env: str,
    ) -> None:
        self.db = db  # the SQLite file, unless `store` names another store; its folder holds the log
        self.store = store or f"sqlite:///{db}"
        self.python = python  # another venv's, to serve an agent of a framework installed there
        self.port = port or free_port()
        self.tls = tls  # serving HTTPS: the certificate to trust
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.args = args
        self.env = {**os.environ, **env}
        self.log = db.with_suffix(f".{self.port}.log")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> ServerProcess:
        cmd = [self.python, "-m", "a2a_server", "serve", "--port", str(self.port),
               "--store", self.store, "--log-level", "warning", *self.args]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(cmd, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                         cwd=ROOT)
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(f"{self.url}/health", timeout=1, verify=self._verify).raise_for_status()
                return self
            except httpx.HTTPError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"server did not start:\n{self.log.read_text()}") from None
                time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()

    @property
    def _verify(self) -> ssl.SSLContext | bool:
        return ssl.create_default_context(cafile=str(self.tls)) if self.tls else True

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=self.url, timeout=30, verify=self._verify)
