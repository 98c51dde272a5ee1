"""Runner events -> frames: flags, held-back last chunk, coalescing, and the Task fold."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from a2a_server.mapping import LiveFold, TurnMapper, apply, merged_parts, new_task
from a2a_server.model import (
    Artifact,
    ArtifactUpdate,
    DataPart,
    Frame,
    Message,
    Role,
    TaskState,
    TextPart,
)
from a2a_server.protocol import v0_3
from a2a_server.runner.base import Turn
from a2a_server.runner.events import (
    Completed,
    RunnerEvent,
    StepStarted,
    TextDelta,
    ToolCompleted,
    ToolStarted,
)
from tests.client import assert_stream_rules, chunks_text, send, stream, user_message
from tests.conftest import in_process
from tests.schema import validate_result

pytestmark = pytest.mark.anyio


def _wire(frame: Frame) -> dict[str, Any]:
    """A frame as a 0.3 client gets it, checked against the official schema."""
    out = v0_3.frame_json(frame)
    validate_result(out)
    return out


def test_mapper_holds_back_the_newest_delta() -> None:
    m = TurnMapper("t", "c")
    m.add_text("a")
    assert m.flush() == []  # "a" might be the last chunk
    m.add_text("b")
    m.add_text("")  # empty deltas are dropped
    m.add_text("c")
    (chunk,) = m.flush()
    assert isinstance(chunk, ArtifactUpdate)
    assert chunk.artifact.parts == (TextPart("ab"),)
    assert chunk.append is False and chunk.last_chunk is False
    (last,) = m.finish()
    assert isinstance(last, ArtifactUpdate)
    assert last.artifact.parts == (TextPart("c"),)
    assert last.append is True and last.last_chunk is True
    assert last.artifact.artifact_id == chunk.artifact.artifact_id
    assert m.finish() == []
    assert _wire(last)["lastChunk"] is True and _wire(chunk)["append"] is False


def test_flush_before_event_keeps_one_character() -> None:
    m = TurnMapper("t", "c")
    m.add_text("Let me check. ")
    (chunk,) = m.flush_before_event()
    assert _wire(chunk)["artifact"]["parts"][0]["text"] == "Let me check."
    assert m.flush_before_event() == []
    (last,) = m.finish()
    assert _wire(last)["artifact"]["parts"][0]["text"] == " " and _wire(last)["lastChunk"] is True


def test_mapper_final_text_only_when_nothing_streamed() -> None:
    m = TurnMapper("t", "c")
    (only,) = m.finish("whole answer")
    assert _wire(only)["append"] is False and _wire(only)["lastChunk"] is True
    m2 = TurnMapper("t", "c")
    m2.add_text("streamed")
    (last,) = m2.finish("ignored")
    assert _wire(last)["artifact"]["parts"][0]["text"] == "streamed"
    assert TurnMapper("t", "c").finish() == []


def test_progress_frames_are_valid_and_describe_the_call() -> None:
    """A tool call's status-updates carry its name, call id, arguments and output or error
    (issue 10: nothing the framework streamed is lost), in a DataPart, never in the answer."""
    m = TurnMapper("t", "c")
    frames = [
        _wire(m.progress(StepStarted(2))),
        _wire(m.progress(ToolStarted("clock", "c1", {"x": 1}))),
        _wire(m.progress(ToolCompleted("clock", "c1", True, {"utc": "noon"}))),
        _wire(m.progress(ToolCompleted("clock", "c2", False, None, "boom"))),
        _wire(m.progress(ToolCompleted("clock", "c3", True, object()))),  # not JSON: left out
    ]
    for f in frames:
        assert f["status"]["state"] == "working" and f["final"] is False
    data = [f["status"]["message"]["parts"][0]["data"] for f in frames]
    assert data[1] == {"type": "tool_started", "toolName": "clock", "toolCallId": "c1", "arguments": {"x": 1}}
    assert data[2]["output"] == {"utc": "noon"} and data[2]["success"] is True
    assert data[3] == {
        "type": "tool_completed", "toolName": "clock", "toolCallId": "c2", "success": False, "error": "boom"
    }
    assert "output" not in data[4]
    assert m.finish() == []  # nothing of it went into the answer


def test_fold_merges_chunks_and_tracks_state() -> None:
    user = Message(Role.USER, (TextPart("hi"),), "m1", "t", "c")
    task = apply(None, new_task("t", "c", user))
    m = TurnMapper("t", "c")
    for piece in ("Hel", "lo ", "wor", "ld"):
        m.add_text(piece)
        for f in m.flush():
            apply(task, f)
    for f in m.finish():
        apply(task, f)
    apply(task, m.end(TaskState.COMPLETED))
    assert task.status.state is TaskState.COMPLETED
    assert task.artifacts[0].parts == (TextPart("Hello world"),)
    validate_result(v0_3.task_json(task))


def test_the_live_fold_is_the_fold_frame_by_frame_whenever_it_is_read() -> None:
    """Chunks kept as strings, joined on a read, over artifacts that change, non-text parts,
    tagged text, a status between, and more strings than it keeps before joining."""
    user = Message(Role.USER, (TextPart("hi"),), "m1", "t", "c")
    first = new_task("t", "c", user)

    def chunk(artifact: str, *parts: Any, append: bool = True, last: bool = False) -> ArtifactUpdate:
        return ArtifactUpdate("t", "c", Artifact(artifact, tuple(parts), name="answer"), append, last)

    frames: list[Frame] = [
        chunk("a", TextPart("He"), append=False), *(chunk("a", TextPart(c)) for c in "llo there, "),
        chunk("a", DataPart({"k": 1})), chunk("a", TextPart("after data")),
        chunk("a", TextPart("tagged", {"x": 1})), chunk("a", TextPart(" plain")),
        chunk("b", TextPart("other"), append=False), chunk("b", TextPart(" artifact")),
        chunk("a", TextPart(" back to a")), chunk("c", TextPart("never made")),
        *(chunk("a", TextPart(str(i))) for i in range(40)), chunk("a", TextPart("."), last=True),
    ]
    status = TurnMapper("t", "c").working()
    for read_every in (1, 3, 7, 1000):
        expected = apply(None, first)
        live = LiveFold(apply(None, first))
        for i, frame in enumerate(frames):
            expected = apply(expected, frame)
            live.add_chunks([frame])
            if i % read_every == read_every - 1:
                assert live.task == expected
            if i == 20:  # a status between chunks: folded as `_write` does
                expected = apply(expected, status)
                live.task = apply(live.task, status)
        assert live.task == expected
        assert live.state is expected.status.state


def test_merged_parts_keeps_non_text_apart() -> None:
    a = TextPart("a")
    d = DataPart({})
    assert merged_parts([a], [TextPart("b"), d]) == (TextPart("ab"), d)
    tagged = TextPart("c", {"x": 1})
    assert merged_parts([a], [tagged]) == (a, tagged)


class Scripted:
    """A runner that yields a script: strings are deltas, numbers are pauses (seconds)."""

    name = "scripted"
    description = "plays a script"
    skills = ()

    def __init__(self, script: list[Any]) -> None:
        self.script = script

    async def run(self, turn: Turn) -> AsyncIterator[RunnerEvent]:
        for item in self.script:
            if isinstance(item, str):
                yield TextDelta(item)
            elif isinstance(item, (int, float)):
                await asyncio.sleep(item)
            else:
                yield item
        yield Completed()


async def _stream_frames(runner: Any, **settings: Any) -> list[dict[str, Any]]:
    async with in_process(runner=runner, **settings) as client:
        sse = await stream(client, "message/stream", {"message": user_message("go")})
        assert_stream_rules(sse.frames)
        task = await send(client, "go again")  # message/send builds the same Task, merged
        assert task["status"]["state"] == "completed"
        return sse.frames


async def test_no_coalescing_is_one_frame_per_delta() -> None:
    deltas = [f"tok{i} " for i in range(50)]
    frames = await _stream_frames(Scripted(deltas), coalesce_ms=0)
    chunks = [f for f in frames if f["kind"] == "artifact-update"]
    assert len(chunks) == 50
    assert [c["append"] for c in chunks] == [False] + [True] * 49
    assert [c["lastChunk"] for c in chunks] == [False] * 49 + [True]
    assert chunks_text(frames) == "".join(deltas)
    assert [f["kind"] for f in frames[:2]] == ["task", "status-update"]
    assert frames[1]["status"]["state"] == "working"


async def test_coalescing_merges_bursts_and_keeps_text_exact() -> None:
    burst = [f"w{i} " for i in range(200)]
    script: list[Any] = [*burst, 0.05, "after pause ", 0.05, "end"]
    frames = await _stream_frames(Scripted(script), coalesce_ms=20)
    chunks = [f for f in frames if f["kind"] == "artifact-update"]
    assert len(chunks) < 20
    assert chunks_text(frames) == "".join(burst) + "after pause end"


async def test_text_around_tools_is_one_artifact_and_tools_never_in_it() -> None:
    script = ["Let me check. ", ToolStarted("clock", "c1"), 0.01,
              ToolCompleted("clock", "c1", True, {"utc": "SECRET-OUTPUT"}), "It is noon."]
    for coalesce in (0, 5):
        frames = await _stream_frames(Scripted(script), coalesce_ms=coalesce)
        assert chunks_text(frames) == "Let me check. It is noon."
        ids = {f["artifact"]["artifactId"] for f in frames if f["kind"] == "artifact-update"}
        assert len(ids) == 1
        answer = [f for f in frames if f["kind"] == "artifact-update"]
        assert "SECRET-OUTPUT" not in str(answer)  # the output is in the tool's status-update only
        kinds = [f["kind"] for f in frames]
        first_tool = next(i for i, f in enumerate(frames) if f["kind"] == "status-update" and f["status"].get("message"))
        assert "artifact-update" in kinds[:first_tool], "text before a tool call is sent before it"


def test_new_ids_are_uuid7_that_sort_by_time() -> None:
    """Task and context ids: RFC 9562 version 7, their text as `uuid` writes it, later ones
    sorting later (by millisecond), none repeated."""
    import os
    import time
    import uuid

    from a2a_server.model import new_id

    first = [new_id() for _ in range(2000)]
    time.sleep(0.002)
    later = new_id()
    for text in [*first, later]:
        parsed = uuid.UUID(text)
        assert (parsed.version, parsed.variant, str(parsed)) == (7, uuid.RFC_4122, text)
    assert len(set(first)) == len(first)
    assert later > max(first)
    assert uuid.UUID(later).int >> 80 <= time.time_ns() // 1_000_000
    # a forked worker does not draw the random bits its parent would draw next
    read, write = os.pipe()
    child = os.fork()
    if child == 0:
        os.write(write, new_id()[15:].encode())
        os._exit(0)
    os.waitpid(child, 0)
    assert os.read(read, 64).decode() != new_id()[15:]


def test_timestamps_are_what_datetime_writes_across_seconds() -> None:
    """`now_iso` makes each second's text once: what it gives, through more than one second,
    lies between what `datetime` writes just before and just after (UTC, milliseconds
    truncated, `Z`)."""
    import time
    from datetime import UTC, datetime

    from a2a_server.model import now_iso

    def iso() -> str:
        return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")

    seconds = set()
    deadline = time.monotonic() + 1.2
    while time.monotonic() < deadline:
        before, ours, after = iso(), now_iso(), iso()
        assert before <= ours <= after, (before, ours, after)
        assert len(ours) == len("2026-12-02T16:39:46.848Z")
        seconds.add(ours[:19])
        time.sleep(0.01)
    assert len(seconds) >= 2
