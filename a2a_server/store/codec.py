"""How the stores keep the model: compact JSON of our own, the same for every backend.

Not a wire format (clients never see it): a store must be able to read back everything it
wrote, whichever protocol version the clients speak, so it keeps the version-neutral model
and nothing of either wire. Keys are short and absent values left out (a log holds many
small frames); each object says what it is with `k` (frames) or by its one content key
(parts: `t` text, `d` data, `f` file).

`dumps`/`loads` below are the only way into and out of this form.
"""

from __future__ import annotations

from typing import Any

from a2a_server.jsoncodec import dumps_bytes, loads
from a2a_server.model import (
    Artifact,
    ArtifactUpdate,
    DataPart,
    FilePart,
    Frame,
    Message,
    Part,
    PushConfig,
    Role,
    Status,
    StatusUpdate,
    Task,
    TaskState,
    TextPart,
)
from a2a_server.stencil import Stencil
from a2a_server.store.base import CancelCommand, Command, MessageCommand, SettleCommand

__all__ = [
    "dump_command",
    "dump_config",
    "dump_frame",
    "dump_message",
    "dump_task",
    "frame_json",
    "load_command",
    "load_config",
    "load_frame",
    "load_message",
    "load_task",
    "task_json",
]


# -- parts -------------------------------------------------------------------------------------


def _part(p: Part) -> dict[str, Any]:
    if type(p) is TextPart:
        out: dict[str, Any] = {"t": p.text}
    elif type(p) is DataPart:
        out = {"d": p.data}
    else:
        assert isinstance(p, FilePart)
        file = {k: v for k, v in (("raw", p.raw), ("url", p.url), ("name", p.filename)) if v is not None}
        out = {"f": file}
    if p.media_type is not None:
        out["mt"] = p.media_type
    if p.metadata is not None:
        out["m"] = p.metadata
    return out


def _load_part(d: dict[str, Any]) -> Part:
    meta, media = d.get("m"), d.get("mt")
    if "t" in d:
        return TextPart(d["t"], meta, media)
    if "d" in d:
        return DataPart(d["d"], meta, media)
    file = d["f"]
    return FilePart(file.get("raw"), file.get("url"), file.get("name"), media, meta)


# -- messages, statuses, artifacts, tasks ------------------------------------------------------


def _message(m: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"r": m.role.value, "p": [_part(p) for p in m.parts], "id": m.message_id}
    if m.task_id is not None:
        out["task"] = m.task_id
    if m.context_id is not None:
        out["ctx"] = m.context_id
    if m.reference_task_ids:
        out["refs"] = list(m.reference_task_ids)
    if m.extensions:
        out["ext"] = list(m.extensions)
    if m.metadata is not None:
        out["m"] = m.metadata
    return out


def _load_message(d: dict[str, Any]) -> Message:
    return Message(
        Role(d["r"]),
        tuple(_load_part(p) for p in d["p"]),
        d["id"],
        d.get("task"),
        d.get("ctx"),
        tuple(d.get("refs", ())),
        tuple(d.get("ext", ())),
        d.get("m"),
    )


def _status(s: Status) -> dict[str, Any]:
    out: dict[str, Any] = {"s": s.state.value, "ts": s.timestamp}
    if s.message is not None:
        out["msg"] = _message(s.message)
    return out


def _load_status(d: dict[str, Any]) -> Status:
    message = d.get("msg")
    return Status(TaskState(d["s"]), None if message is None else _load_message(message), d["ts"])


def _artifact(a: Artifact) -> dict[str, Any]:
    out: dict[str, Any] = {"id": a.artifact_id, "p": [_part(p) for p in a.parts]}
    if a.name is not None:
        out["n"] = a.name
    if a.description is not None:
        out["desc"] = a.description
    if a.metadata is not None:
        out["m"] = a.metadata
    if a.extensions:
        out["ext"] = list(a.extensions)
    return out


def _load_artifact(d: dict[str, Any]) -> Artifact:
    return Artifact(
        d["id"],
        tuple(_load_part(p) for p in d["p"]),
        d.get("n"),
        d.get("desc"),
        d.get("m"),
        tuple(d.get("ext", ())),
    )


def task_json(t: Task) -> dict[str, Any]:
    out: dict[str, Any] = {
        "k": "task",
        "id": t.id,
        "ctx": t.context_id,
        "st": _status(t.status),
        "h": [_message(m) for m in t.history],
        "a": [_artifact(a) for a in t.artifacts],
    }
    if t.metadata is not None:
        out["m"] = t.metadata
    return out


def _load_task(d: dict[str, Any]) -> Task:
    return Task(
        d["id"],
        d["ctx"],
        _load_status(d["st"]),
        [_load_message(m) for m in d["h"]],
        [_load_artifact(a) for a in d["a"]],
        d.get("m"),
    )


# -- frames ------------------------------------------------------------------------------------


def frame_json(f: Frame) -> dict[str, Any]:
    kind = type(f)
    if kind is ArtifactUpdate:
        assert isinstance(f, ArtifactUpdate)
        out: dict[str, Any] = {"k": "art", "task": f.task_id, "ctx": f.context_id, "a": _artifact(f.artifact)}
        if f.append:
            out["ap"] = True
        if f.last_chunk:
            out["last"] = True
    elif kind is StatusUpdate:
        assert isinstance(f, StatusUpdate)
        out = {"k": "st", "task": f.task_id, "ctx": f.context_id, "st": _status(f.status)}
        if f.final:
            out["fin"] = True
    elif kind is Task:
        assert isinstance(f, Task)
        return task_json(f)
    else:
        assert isinstance(f, Message)
        return {"k": "msg", **_message(f)}
    if f.metadata is not None:
        out["m"] = f.metadata
    return out


def _load_frame(d: dict[str, Any]) -> Frame:
    kind = d["k"]
    if kind == "art":
        return ArtifactUpdate(
            d["task"], d["ctx"], _load_artifact(d["a"]), d.get("ap", False), d.get("last", False),
            d.get("m"),
        )
    if kind == "st":
        return StatusUpdate(d["task"], d["ctx"], _load_status(d["st"]), d.get("fin", False), d.get("m"))
    if kind == "task":
        return _load_task(d)
    if kind == "msg":
        return _load_message(d)
    raise ValueError(f"not a stored frame: {kind!r}")


# -- bytes in and out --------------------------------------------------------------------------


# a store's frames are mostly its streams' text chunks: encoded from stencils, one for each
# of the streams that wrote last
dump_frame = Stencil(frame_json, slots=64)


def load_frame(data: bytes | str) -> Frame:
    return _load_frame(loads(data))


def dump_task(t: Task) -> bytes:
    return dumps_bytes(task_json(t))


def load_task(data: bytes | str) -> Task:
    return _load_task(loads(data))


def dump_message(m: Message) -> bytes:
    return dumps_bytes(_message(m))


def load_message(data: bytes | str) -> Message:
    return _load_message(loads(data))


def dump_config(c: PushConfig) -> bytes:
    out: dict[str, Any] = {"id": c.id, "url": c.url, "v": c.protocol}
    if c.token is not None:
        out["token"] = c.token
    if c.schemes:
        out["schemes"] = list(c.schemes)
    if c.credentials is not None:
        out["cred"] = c.credentials
    return dumps_bytes(out)


def load_config(data: bytes | str) -> PushConfig:
    d = loads(data)
    return PushConfig(
        d["id"], d["url"], d.get("token"), tuple(d.get("schemes", ())), d.get("cred"), d["v"]
    )


def dump_command(c: Command) -> bytes:
    """An inbox command (`store.base.Command`)."""
    if isinstance(c, MessageCommand):
        return dumps_bytes({"k": "message", "msg": _message(c.message)})
    if isinstance(c, SettleCommand):
        return dumps_bytes({"k": "settle", "ticket": c.ticket_id, "s": c.state, "out": c.output, "err": c.error})
    assert isinstance(c, CancelCommand)
    return dumps_bytes({"k": "cancel"})


def load_command(data: bytes | str) -> Command:
    d = loads(data)
    if d["k"] == "message":
        return MessageCommand(_load_message(d["msg"]))
    if d["k"] == "settle":
        return SettleCommand(d["ticket"], d["s"], d.get("out"), d.get("err"))
    return CancelCommand()
