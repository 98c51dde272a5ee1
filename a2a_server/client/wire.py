"""Both protocol versions' requests, and their frames read into a few neutral events.

0.3 results carry `kind` ("task", "status-update", ...), parts are `{kind, text|file|data}`
and states are lower case; 1.0 results are wrapped (`{"task"}`, `{"statusUpdate"}`, ...),
parts are flat and states are `TASK_STATE_*`. `Reader` turns either into `Event`s, which is
all the renderer sees:

- `Ids`: the task and context ids, as soon as they are known;
- `Text`: new answer text (only what was not shown yet: a server that re-sends a whole Task
  or artifact, as some do, is not printed twice);
- `Activity`: a progress DataPart of a status message (`{"type": "tool_started", ...}`, as
  our server sends: steps, tool calls, tickets, hand-offs);
- `Note`: another status message text while the task works (other servers' progress);
- `Attachment`: a part of an artifact that is not text (a file, data);
- `State`: the task's state, with its message's text (the question of input-required, the
  reason of a failure);
- `Reply`: a bare Message answering instead of a Task.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "FINAL", "INTERRUPTED", "TERMINAL", "Activity", "Attachment", "Event", "Ids", "Note",
    "Reader", "Reply", "State", "Text", "Wire", "wire_for",
]

TERMINAL = frozenset({"completed", "canceled", "failed", "rejected"})
INTERRUPTED = frozenset({"input-required", "auth-required"})
FINAL = TERMINAL | INTERRUPTED


@dataclass(frozen=True)
class Ids:
    task_id: str | None
    context_id: str | None


@dataclass(frozen=True)
class Text:
    text: str
    artifact: str  # its name, or its id
    last: bool = False  # the artifact's last chunk


@dataclass(frozen=True)
class Activity:
    data: dict[str, Any]

    @property
    def type(self) -> str:
        return str(self.data.get("type"))


@dataclass(frozen=True)
class Note:
    text: str


@dataclass(frozen=True)
class Attachment:
    artifact: str
    summary: str


@dataclass(frozen=True)
class State:
    state: str  # 0.3 spelling: "working", "input-required", ...
    text: str = ""
    data: dict[str, Any] | None = None  # a DataPart of the status message (an approval, ...)


@dataclass(frozen=True)
class Reply:
    text: str
    context_id: str | None = None


Event = Ids | Text | Activity | Note | Attachment | State | Reply


class Wire:
    """One version's method names, headers and shapes."""

    version = "0.3"
    headers: ClassVar[dict[str, str]] = {}
    methods: ClassVar[dict[str, str]] = {"send": "message/send", "stream": "message/stream", "get": "tasks/get",
               "cancel": "tasks/cancel"}

    def message(self, text: str, task_id: str | None, context_id: str | None) -> dict[str, Any]:
        m: dict[str, Any] = {"kind": "message", "role": "user", "messageId": str(uuid.uuid4()),
                             "parts": [{"kind": "text", "text": text}]}
        return _with_ids(m, task_id, context_id)

    def send_params(self, message: dict[str, Any]) -> dict[str, Any]:
        return {"message": message, "configuration": {"blocking": True}}

    def stream_params(self, message: dict[str, Any]) -> dict[str, Any]:
        return {"message": message}

    def unwrap(self, result: Any) -> tuple[str, dict[str, Any]]:
        """(kind, object): kind one of task, message, status, artifact."""
        if not isinstance(result, dict):
            return "", {}
        kind = {"task": "task", "message": "message", "status-update": "status",
                "artifact-update": "artifact"}.get(str(result.get("kind")), "")
        return kind, result

    def state(self, status: dict[str, Any]) -> str:
        return str(status.get("state", "unknown"))

    def part(self, p: dict[str, Any]) -> tuple[str, Any]:
        """("text", str) | ("data", value) | ("file", description)."""
        kind = p.get("kind") or next((k for k in ("text", "data", "file") if k in p), "")
        if kind == "text":
            return "text", str(p.get("text", ""))
        if kind == "data":
            return "data", p.get("data")
        f = p.get("file") or {}
        return "file", f.get("name") or f.get("uri") or f.get("mimeType") or "a file"


class WireV1(Wire):
    version = "1.0"
    headers: ClassVar[dict[str, str]] = {"A2A-Version": "1.0"}
    methods: ClassVar[dict[str, str]] = {"send": "SendMessage", "stream": "SendStreamingMessage", "get": "GetTask",
               "cancel": "CancelTask"}

    def message(self, text: str, task_id: str | None, context_id: str | None) -> dict[str, Any]:
        m: dict[str, Any] = {"role": "ROLE_USER", "messageId": str(uuid.uuid4()),
                             "parts": [{"text": text}]}
        return _with_ids(m, task_id, context_id)

    def send_params(self, message: dict[str, Any]) -> dict[str, Any]:
        return {"message": message}  # blocking is the default (returnImmediately false)

    def unwrap(self, result: Any) -> tuple[str, dict[str, Any]]:
        if not isinstance(result, dict):
            return "", {}
        for key, kind in (("task", "task"), ("message", "message"), ("statusUpdate", "status"),
                          ("artifactUpdate", "artifact")):
            if isinstance(result.get(key), dict):
                return kind, result[key]
        if "status" in result and "id" in result:  # GetTask and CancelTask: a bare Task
            return "task", result
        return "", {}

    def state(self, status: dict[str, Any]) -> str:
        name = str(status.get("state", "TASK_STATE_UNSPECIFIED"))
        state = name.removeprefix("TASK_STATE_").lower().replace("_", "-")
        return "unknown" if state == "unspecified" else state

    def part(self, p: dict[str, Any]) -> tuple[str, Any]:
        if "text" in p:
            return "text", str(p["text"])
        if "data" in p:
            return "data", p["data"]
        return "file", p.get("filename") or p.get("url") or p.get("mediaType") or "a file"


def wire_for(version: str) -> Wire:
    return WireV1() if version == "1.0" else Wire()


def _with_ids(m: dict[str, Any], task_id: str | None, context_id: str | None) -> dict[str, Any]:
    if task_id:
        m["taskId"] = task_id
    if context_id:
        m["contextId"] = context_id
    return m


class Reader:
    """Reads one turn's results, in order, into events; remembers what it has shown."""

    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        self.task_id: str | None = None
        self.context_id: str | None = None
        self.state: str | None = None
        self.status_text = ""
        self._shown: dict[str, str] = {}  # artifactId -> the text shown of it
        self._attached: set[tuple[str, str]] = set()  # (artifactId, summary) shown

    def read(self, result: Any, *, seen: bool = False) -> list[Event]:
        """The events of one result. `seen`: a Task whose artifacts and status were shown
        before this turn (the first frame of a turn on an existing task carries them): only
        its ids come out, the rest is remembered as shown."""
        kind, obj = self.wire.unwrap(result)
        if seen and kind == "task":
            return [e for e in self.read(result) if isinstance(e, Ids)]
        events: list[Event] = []
        if kind == "message":
            text = "".join(v for k, v in map(self.wire.part, obj.get("parts") or []) if k == "text")
            self.context_id = obj.get("contextId") or self.context_id
            return [Reply(text, obj.get("contextId"))]
        if kind == "":
            return []
        task_id = obj.get("id") if kind == "task" else obj.get("taskId")
        if (task_id, obj.get("contextId")) != (self.task_id, self.context_id):
            self.task_id = task_id or self.task_id
            self.context_id = obj.get("contextId") or self.context_id
            events.append(Ids(self.task_id, self.context_id))
        if kind == "artifact":
            events += self._artifact(obj.get("artifact") or {}, bool(obj.get("append")), bool(obj.get("lastChunk")))
        elif kind == "task":
            for artifact in obj.get("artifacts") or []:
                events += self._artifact(artifact, False, True)
            events += self._status(obj.get("status") or {}, snapshot=True)
        else:
            events += self._status(obj.get("status") or {}, snapshot=False)
        return events

    def _artifact(self, artifact: dict[str, Any], append: bool, last: bool) -> list[Event]:
        aid = str(artifact.get("artifactId", ""))
        label = str(artifact.get("name") or aid)
        events: list[Event] = []
        text = ""
        for k, v in map(self.wire.part, artifact.get("parts") or []):
            if k == "text":
                text += v
                continue
            summary = v if k == "file" else json.dumps(v, ensure_ascii=False)
            if (aid, summary) not in self._attached:
                self._attached.add((aid, summary))
                events.append(Attachment(label, summary))
        shown = self._shown.get(aid)
        if append or shown is None:
            new, self._shown[aid] = text, (shown or "") + text
        elif text.startswith(shown):
            new, self._shown[aid] = text[len(shown):], text  # re-sent whole: only what is new
        else:
            new, self._shown[aid] = text, text  # replaced
        if new or last:
            events.append(Text(new, label, last))
        return events

    def _status(self, status: dict[str, Any], snapshot: bool) -> list[Event]:
        state = self.wire.state(status)
        message = status.get("message") or {}
        texts: list[str] = []
        data: dict[str, Any] | None = None
        events: list[Event] = []
        for k, v in map(self.wire.part, message.get("parts") or []):
            if k == "text":
                texts.append(v)
            elif k == "data" and isinstance(v, dict):
                if state == "working" and "type" in v and not snapshot:
                    events.append(Activity(v))
                else:
                    data = v
        text = "".join(texts)
        if state == "working" and text and not snapshot:
            events.append(Note(text))
        if state != self.state or (state in FINAL and text != self.status_text):
            self.state, self.status_text = state, text
            events.append(State(state, text if state != "working" else "", data))
        return events
