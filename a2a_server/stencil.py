"""The bytes of a turn's text chunks, from a stencil cut once per artifact.

A streamed answer is a run of artifact updates alike but for their text: the same task,
context, artifact and name, appended, not the last chunk. Encoded one by one, each builds the same
dicts and encodes the same keys and ids again. `Stencil` encodes the first of a run with a
marker string in place of its text, cuts the bytes around the marker, and gives each next
chunk as `head + its text encoded + tail`: the very bytes `dumps_bytes(to_json(frame))`
gives (orjson's escaping of the text included), with a fraction of the work. It knows no
wire format: `to_json` is a codec's (the store's, or a protocol's with its envelope).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

from a2a_server.jsoncodec import dumps_bytes
from a2a_server.model import ArtifactUpdate, Frame, TextPart
from a2a_server.values import replace

__all__ = ["Stencil"]

_MARK = "\x00a2a-server stencil\x00"  # no id, name or text of a frame holds it
_MARK_JSON = orjson.dumps(_MARK)
_FIRST: Any = object()  # a chunk not seen before
_WHOLE: Any = object()  # a run no stencil can be cut for (an id holding the marker): encoded whole


class Stencil:
    """`dumps_bytes(to_json(frame))`, cut once for each run of alike text chunks. It keeps
    the last `slots` stencils, each a few hundred bytes: one for a batch of a stream's
    frames (made for the batch, let go with it: an open stream holds none), a store's a
    few, for the streams that take turns writing."""

    __slots__ = ("_cuts", "_slots", "_to_json")

    def __init__(self, to_json: Callable[[Frame], Any], slots: int = 1) -> None:
        self._to_json = to_json
        self._slots = slots
        # a run's stencil; None for a chunk seen once; _WHOLE for a run that has none
        self._cuts: dict[tuple[Any, ...], Any] = {}

    def __call__(self, frame: Frame) -> bytes:
        # a run is the chunks between an artifact's first and its last (which are one each)
        if (type(frame) is ArtifactUpdate and frame.append and not frame.last_chunk
                and frame.metadata is None):
            artifact = frame.artifact
            parts = artifact.parts
            if (len(parts) == 1 and type(part := parts[0]) is TextPart and part.metadata is None
                    and part.media_type is None and artifact.metadata is None and not artifact.extensions):
                key = (frame.task_id, frame.context_id, artifact.artifact_id, artifact.name,
                       artifact.description)
                cut = self._cuts.get(key, _FIRST)
                if cut is _FIRST:  # seen once (all of a short answer): encoded whole
                    self._keep(key, None)
                elif cut is None:  # the second of a run: cut
                    cut = self._cut(frame, key)
                if type(cut) is tuple:
                    try:
                        return cut[0] + orjson.dumps(part.text) + cut[1]
                    except TypeError:  # a lone surrogate: the standard library's escaping, whole
                        pass
        return dumps_bytes(self._to_json(frame))

    def _cut(self, frame: ArtifactUpdate, key: tuple[Any, ...]) -> Any:
        """The run's stencil, kept; or _WHOLE, kept too (it is not tried again)."""
        marked = replace(frame, artifact=replace(frame.artifact, parts=(TextPart(_MARK),)))
        try:
            whole = orjson.dumps(self._to_json(marked))
        except TypeError:
            whole = b""
        at = whole.find(_MARK_JSON)
        if at < 0 or whole.find(_MARK_JSON, at + 1) >= 0:
            cut: Any = _WHOLE
        else:
            cut = whole[:at], whole[at + len(_MARK_JSON):]
        self._keep(key, cut)
        return cut

    def _keep(self, key: tuple[Any, ...], cut: Any) -> None:
        cuts = self._cuts
        if key not in cuts and len(cuts) >= self._slots:
            del cuts[next(iter(cuts))]  # the oldest
        cuts[key] = cut
