"""Progress of a long run (the conformance suite, the benchmark), on stderr: a rich progress
bar on a terminal, one plain line per step elsewhere (a log or a test reads those).

It is drawn on stderr, so the decision is stderr's: `a2a-server conformance URL > report.txt`
still shows its bar to the person watching, and stdout keeps only the report.
"""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any, Self, TextIO

__all__ = ["Progress"]


class Progress:
    """`with Progress(total, "conformance") as p: p.update(done, "check id")`."""

    def __init__(self, total: int, title: str, *, file: TextIO | None = None, live: bool | None = None) -> None:
        self.total = total
        self.title = title
        self.file = file or sys.stderr
        self._live = live
        self._bar: Any = None
        self._task: Any = None

    def __enter__(self) -> Self:
        from rich.console import Console

        console = Console(file=self.file, highlight=False)
        if self._live if self._live is not None else console.is_terminal:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )
            from rich.progress import (
                Progress as Bar,
            )

            self._bar = Bar(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                            MofNCompleteColumn(), TimeElapsedColumn(),
                            TextColumn("[dim]{task.fields[label]}"), console=console, transient=True)
            self._bar.start()
            self._task = self._bar.add_task(self.title, total=self.total, label="")
        return self

    def update(self, done: int, label: str) -> None:
        """`done` steps are over; the next is `label`."""
        if self._bar is not None:
            self._bar.update(self._task, completed=done, label=label)
        else:
            print(f"{self.title} [{done + 1}/{self.total}] {label}", file=self.file, flush=True)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=self.total)
            self._bar.stop()
