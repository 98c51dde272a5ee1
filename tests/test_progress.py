"""Progress of long runs (a2a_server/client/progress.py): a rich bar on a terminal, one plain
line per step elsewhere; the conformance CLI shows it, and its report stays on stdout."""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Callable

from a2a_server.client.progress import Progress
from a2a_server.runner.demo import DemoRunner
from tests.conftest import LiveServer
from tests.terminal import Terminal


def test_plain_lines_off_a_terminal() -> None:
    out = io.StringIO()
    with Progress(3, "work", file=out) as bar:
        for i, label in enumerate(("a", "b", "c")):
            bar.update(i, label)
    assert out.getvalue().splitlines() == ["work [1/3] a", "work [2/3] b", "work [3/3] c"]


def test_a_bar_on_a_terminal() -> None:
    script = ("import time\nfrom a2a_server.client.progress import Progress\n"
              "with Progress(4, 'work') as bar:\n"
              "    for i in range(4):\n        bar.update(i, f'step-{i}'); time.sleep(0.3)\n"
              "print('done')\n")
    term = Terminal([sys.executable, "-c", script])
    try:
        assert term.wait() == 0
        assert re.search(r"work .*━.* 2/4", term.text), term.text
        assert "step-3" in term.text and "work [1/4]" not in term.text
        assert term.text.rstrip().endswith("done")
    finally:
        term.close()


def test_conformance_shows_progress_on_a_terminal(live_server: Callable[..., LiveServer]) -> None:
    server = live_server(runner=DemoRunner(token_delay=0, build_seconds=0.2))
    term = Terminal([sys.executable, "-m", "conformance", server.url, "--version", "1.0", "--timeout", "10"],
                    columns=140)
    try:
        assert term.wait(timeout=240) == 0
        assert re.search(r"conformance .*━.* \d+/\d+", term.text), term.text[-2000:]
        assert re.search(r"1\.0 v1\.\S+", term.text), "the check being run is named"
        assert "A2A conformance of" in term.text and "must-level failure(s)" in term.text
    finally:
        term.close()
