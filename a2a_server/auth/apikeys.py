"""API keys from a file: a line `PRINCIPAL KEY` each (blank lines and `#` comments skipped).

The file is read again when it changes (its modification time or size, looked at no more than
once a second), so keys can be added and revoked without a restart. Keys are kept only as
SHA-256 digests: a lookup compares digests, which leaks nothing of a key through timing, and
no key is ever held, logged or shown.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time

__all__ = ["ApiKeys"]

log = logging.getLogger("a2a_server")

_LOOK_EVERY = 1.0  # seconds between looks at the file


class ApiKeys:
    def __init__(self, path: str) -> None:
        self.path = path
        self._digests: dict[bytes, str] = {}
        self._seen: tuple[float, int] | None = None
        self._looked = 0.0
        try:
            self._reload()
        except (OSError, UnicodeDecodeError):  # a start-up error
            raise ValueError(f"--api-keys {path}: cannot be read") from None
        if not self._digests:
            log.warning("the API keys file %s holds no keys: every call will be refused", path)

    def principal(self, key: str) -> str | None:
        """Whose key this is, or None."""
        now = time.monotonic()
        if now - self._looked >= _LOOK_EVERY:
            self._looked = now
            try:
                self._reload()
            except OSError:
                log.warning("the API keys file %s cannot be read; keeping the keys read before", self.path)
        return self._digests.get(_digest(key))

    def _reload(self) -> None:
        stat = os.stat(self.path)
        seen = (stat.st_mtime, stat.st_size)
        if seen == self._seen:
            return
        digests: dict[bytes, str] = {}
        with open(self.path, encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                line = line.strip()
                if not line or line.startswith("#"):
                    continue
                fields = line.split()
                if len(fields) != 2:
                    log.warning("%s line %d: not `PRINCIPAL KEY`; skipped", self.path, number)
                    continue
                digests[_digest(fields[1])] = fields[0]
        self._digests, self._seen = digests, seen
        log.info("read %d API key(s) from %s", len(digests), self.path)


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()
