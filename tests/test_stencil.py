"""A stencil's bytes are the encoder's bytes: for every codec, every text, every change of
the chunk's ids and flags, and past the stencils it keeps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from a2a_server.jsoncodec import dumps_bytes, loads
from a2a_server.model import (
    Artifact,
    ArtifactUpdate,
    DataPart,
    Frame,
    Status,
    StatusUpdate,
    TaskState,
    TextPart,
)
from a2a_server.protocol import draft, v0_3, v1_0
from a2a_server.stencil import Stencil
from a2a_server.store import codec

TEXTS = [
    "hello", "", " ", 'say "hi"\\', "line\nbreak\ttab", "\x00\x01\x1f", "ünïcødé ✓ 🎉", "</script>",
    "\ud800 lone", "x" * 5000,
]


def _envelope(frame_json: Callable[[Frame], Any]) -> Callable[[Frame], Any]:
    return lambda frame: {"jsonrpc": "2.0", "id": "req-7", "result": frame_json(frame)}


ENCODERS = {
    "store": codec.frame_json,
    "0.3": _envelope(v0_3.frame_json),
    "1.0": _envelope(v1_0.frame_json),
    "draft": _envelope(draft.frame_json),
}


def _chunk(text: str, *, artifact: str = "a-1", task: str = "t-1", append: bool = True,
           last: bool = False, name: str | None = "answer", **more: Any) -> ArtifactUpdate:
    part = TextPart(text, **more.pop("part", {}))
    return ArtifactUpdate(task, "c-1", Artifact(artifact, (part,), name=name, **more), append, last)


@pytest.mark.parametrize("encoder", ENCODERS)
def test_each_text_is_encoded_as_the_codec_encodes_it(encoder: str) -> None:
    to_json = ENCODERS[encoder]
    stencil = Stencil(to_json)
    for text in TEXTS:
        frame = _chunk(text)
        assert stencil(frame) == dumps_bytes(to_json(frame))
        assert loads(stencil(frame)) == loads(dumps_bytes(to_json(frame)))


@pytest.mark.parametrize("encoder", ENCODERS)
def test_a_chunk_unlike_the_last_gets_a_stencil_of_its_own(encoder: str) -> None:
    to_json = ENCODERS[encoder]
    stencil = Stencil(to_json, slots=2)
    frames = [
        _chunk("first", append=False), _chunk("more"), _chunk("end", last=True),
        _chunk("other artifact", artifact="a-2"), _chunk("other task", task="t-2"),
        _chunk("no name", name=None), _chunk("described", description="the answer"),
        _chunk("more"),  # its stencil was let go (two kept): cut again
    ]
    for frame in frames:
        assert stencil(frame) == dumps_bytes(to_json(frame))


@pytest.mark.parametrize("encoder", ENCODERS)
def test_frames_a_stencil_cannot_hold_are_encoded_whole(encoder: str) -> None:
    to_json = ENCODERS[encoder]
    stencil = Stencil(to_json)
    two_parts = ArtifactUpdate("t-1", "c-1", Artifact("a-1", (TextPart("a"), TextPart("b"))), True)
    data = ArtifactUpdate("t-1", "c-1", Artifact("a-1", (DataPart({"k": 1}),)), True)
    status = StatusUpdate("t-1", "c-1", Status(TaskState.WORKING, None, "2026-12-04T00:00:00Z"))
    frames: list[Frame] = [
        two_parts, data, status,
        _chunk("part metadata", part={"metadata": {"k": "v"}}),
        _chunk("media type", part={"media_type": "text/markdown"}),
        _chunk("artifact metadata", metadata={"k": "v"}),
        _chunk("extensions", extensions=("urn:x",)),
        ArtifactUpdate("t-1", "c-1", Artifact("a-1", (TextPart("framed"),)), True, metadata={"k": 1}),
    ]
    for frame in frames:
        assert stencil(frame) == dumps_bytes(to_json(frame))


def test_an_id_holding_the_marker_is_encoded_whole() -> None:
    stencil = Stencil(codec.frame_json)
    for text in ("first seen", "cut: the marker twice", "encoded whole since", "again"):
        frame = _chunk(text, task="\x00a2a-server stencil\x00")
        assert stencil(frame) == dumps_bytes(codec.frame_json(frame))
        assert codec.load_frame(stencil(frame)) == frame
