"""A program on a pseudo-terminal, as a person runs it: what it writes arrives as it is
written (read incrementally), and what the test types goes to its standard input."""

from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import time
from collections.abc import Sequence

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")


class Terminal:
    def __init__(self, argv: Sequence[str], *, columns: int = 120, env: dict[str, str] | None = None) -> None:
        primary, secondary = os.openpty()
        os.set_blocking(primary, False)
        import fcntl
        import struct
        import termios

        fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
        environment = {**os.environ, "TERM": "xterm-256color", "COLUMNS": str(columns), **(env or {})}
        for name in ("NO_COLOR", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
            environment.pop(name, None)
        self.proc = subprocess.Popen(list(argv), stdin=secondary, stdout=secondary, stderr=secondary,
                                     env=environment, start_new_session=True)
        os.close(secondary)
        self.fd = primary
        self.raw = ""

    @property
    def text(self) -> str:
        """What was written so far, without terminal escape codes."""
        return ANSI.sub("", self.raw)

    def read(self, timeout: float = 0.1) -> str:
        """Read what is there (waiting up to `timeout` for something)."""
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if ready:
            try:
                chunk = os.read(self.fd, 65536)
            except OSError:  # the program closed the terminal
                chunk = b""
            self.raw += chunk.decode("utf-8", "replace")
        return self.text

    def expect(self, pattern: str, timeout: float = 15.0) -> re.Match[str]:
        """Read until `pattern` (a regex) appears in the text; fail with the screen if not."""
        deadline = time.monotonic() + timeout
        while True:
            match = re.search(pattern, self.text)
            if match:
                return match
            if time.monotonic() > deadline:
                raise AssertionError(f"{pattern!r} did not appear; the terminal shows:\n{self.text[-3000:]}")
            self.read()

    def type(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def interrupt(self) -> None:
        """Ctrl-C, as the terminal driver sends it: SIGINT to the program."""
        self.proc.send_signal(signal.SIGINT)

    def wait(self, timeout: float = 30.0) -> int:
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                self.proc.kill()
                raise AssertionError(f"the program did not end; the terminal shows:\n{self.text[-3000:]}")
            self.read(0.05)
        for _ in range(20):  # what it wrote last
            before = len(self.raw)
            self.read(0.02)
            if len(self.raw) == before:
                break
        return self.proc.returncode

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.fd)
