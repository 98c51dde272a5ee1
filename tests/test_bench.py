"""The benchmarks run once at tiny size so they cannot rot; no timing is asserted."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from bench.__main__ import QUICK, _total_steps
from bench.frames import request, request_v1, send_result, stream_frames
from tests.proto import validate_v1
from tests.schema import validate_result


def test_bench_frames_are_valid() -> None:
    validate_result(send_result())
    for frame in stream_frames(3):
        validate_result(frame)
    assert json.loads(request("message/stream", "stream 3"))["method"] == "message/stream"
    v1 = json.loads(request_v1("message/send", "hello"))
    assert v1["method"] == "SendMessage"
    validate_v1("SendMessageRequest", v1["params"])


def test_bench_quick_run(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--loadgen", "python", "--json", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    figures = json.loads(out.read_text())["figures"]
    for key in ("W1 send c=1", "W2 stream c=1", "W2 first frame ms", "W3 many streams",
                "W5 non-blocking send under W2 c=16"):
        assert key in figures
    for server in ("ours", "sdk", "floor", "ours-1.0"):
        assert figures["W1 send c=1"][server]["rate"] > 0
        assert figures["W1 send c=1"][server]["errors"] == 0
        assert figures["W2 stream c=1"][server]["errors"] == 0
    for server in ("ours", "sdk", "floor"):
        assert figures["W3 many streams"][server]["errors"] == 0
    assert "ours/sdk" in done.stdout and "ours/floor" in done.stdout and "1.0/0.3" in done.stdout
    # progress: one plain line per measurement on stderr (no terminal here), counted right
    steps = [line for line in done.stderr.splitlines() if line.startswith("bench [")]
    total = _total_steps(QUICK)
    assert steps[0] == f"bench [1/{total}] W1 send c=1: ours" and steps[-1].startswith(f"bench [{total}/{total}] W5")
