"""The benchmarks run once at tiny size so they cannot rot; no timing is asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import anyio
import httpx
import pytest

from bench.__main__ import QUICK, _total_steps
from bench.fasta2a_server import build_app
from bench.frames import request, request_v1, send_result, stream_frames
from bench.servers import redis_missing
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


@pytest.mark.anyio
async def test_fasta2a_anchor_answers_as_the_bench_agent() -> None:
    """Its send answers `submitted` (fasta2a never blocks); the task completes after, with the
    bench agent's artifact; `stream 3` is the Task, working, three chunks, completed."""
    app = build_app("http://testserver/")
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            sent = (await client.post("/", content=request("message/send", "hello"))).json()
            task = sent["result"]["task"]
            assert task["status"]["state"] == "submitted"
            get = {"jsonrpc": "2.0", "id": 2, "method": "tasks/get", "params": {"id": task["id"]}}
            for _ in range(100):
                got = (await client.post("/", json=get)).json()["result"]
                if got["status"]["state"] == "completed":
                    break
                await anyio.sleep(0.01)
            assert got["status"]["state"] == "completed"
            assert got["artifacts"][0]["parts"] == [{"text": "echo: hello"}]
            assert got["artifacts"][0]["name"] == "answer"

            streamed = await client.post("/", content=request("message/stream", "stream 3"))
            events = [json.loads(line[6:])["result"] for line in streamed.text.splitlines()
                      if line.startswith("data: ")]
    assert [next(iter(e)) for e in events] == ["task", "statusUpdate", *["artifactUpdate"] * 3, "statusUpdate"]
    assert [e["statusUpdate"]["status"]["state"] for e in (events[1], events[-1])] == ["working", "completed"]
    chunks = [e["artifactUpdate"] for e in events[2:5]]
    assert [(c["append"], c["lastChunk"]) for c in chunks] == [(False, False), (True, False), (True, True)]


def test_bench_quick_run(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--loadgen", "python", "--json", str(out)],
        check=False, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    written = json.loads(out.read_text())
    figures, ratios = written["figures"], written["ratios"]
    for key in ("W1 send c=1", "W2 stream c=1", "W2 first frame ms", "W3 many streams",
                "W5 non-blocking send under W2 c=16", "W6 RSS after finished tasks"):
        assert key in figures
    for server in ("ours", "sdk", "fasta2a", "floor", "ours-1.0"):
        assert figures["W1 send c=1"][server]["rate"] > 0
        assert figures["W1 send c=1"][server]["errors"] == 0
        assert figures["W2 stream c=1"][server]["errors"] == 0
    for server in ("ours", "sdk", "fasta2a", "floor"):
        assert figures["W3 many streams"][server]["errors"] == 0
    # the noise: every round kept, the median inside their range
    row = figures["W1 send c=4"]["ours"]
    assert len(row["rounds"]) == QUICK.rounds
    assert row["rate_range"][0] <= row["rate"] <= row["rate_range"][1]
    assert set(ratios["W1 send c=4"]) >= {"ours/sdk", "ours/fasta2a", "ours/floor", "ours-nb/fasta2a"}
    assert figures["W1 send c=4"]["ours-nb"]["errors"] == 0
    # W6: a fresh server per store, read at each checkpoint
    for server in ("ours", "ours-memory"):
        growth = figures["W6 RSS after finished tasks"][server]
        assert list(growth["mib_at"]) == [str(n) for n in QUICK.w6_checkpoints] and growth["errors"] == 0
    redis = redis_missing() is None
    assert ("ours-redis" in figures["W2 stream c=1"]) == redis
    if redis:
        assert figures["W1 send c=4"]["ours-redis"]["errors"] == 0
        assert figures["W2 stream c=2"]["ours-redis"]["errors"] == 0
    else:
        assert any(note.startswith("ours-redis skipped") for note in written["notes"])
    assert "ours/sdk" in done.stdout and "ours/floor" in done.stdout and "1.0/0.3" in done.stdout
    assert "ours/fasta2a" in done.stdout
    # progress: one plain line per measurement on stderr (no terminal here), counted right
    steps = [line for line in done.stderr.splitlines() if line.startswith("bench [")]
    total = _total_steps(QUICK, redis)
    assert steps[0] == f"bench [1/{total}] W1 send c=1: ours" and steps[-1].startswith(f"bench [{total}/{total}] W6")


@pytest.mark.parametrize(("store", "text", "frames"), [("sqlite", "hello", 6), ("memory", "stream 3", 36)])
def test_inprocess_driver_checks_every_answer(store: str, text: str, frames: int) -> None:
    """`bench.instructions` counts what this driver runs; here it runs plainly, its own
    checks (a send completed, a stream ended with `final`) on every answer."""
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, str(root / "bench" / "inprocess.py"), "--requests", "6", "--concurrency", "3",
         "--warm", "2", "--store", store, "--text", text],
        check=False, capture_output=True, text=True, timeout=120, cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["requests", "6", "frames", str(frames)]
