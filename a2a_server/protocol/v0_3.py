"""The A2A 0.3.0 codec: params in (validated by pydantic models), results and frames out.

In, per the schema (`MessageSendParams`, spec §6):
- `messageId`, `role` and `parts` (non-empty) are required; a message's own `kind` may be left
  out but, if present, must be "message". `null` for an optional field means absent. Unknown
  fields are ignored.
- A part says what it is with `kind`. Be tolerant in what we accept: a part without `kind`
  but with exactly one of `text`, `file` or `data` (or 1.0's `raw` or `url`, as fasta2a's
  client sends) is read as that kind; anything still ambiguous (no content key, several, or
  a foreign `type`) is -32602 naming the field.
- `data` of a data part must be a JSON object; a file has exactly one of `bytes` or `uri`.
- `--lenient-messages`: a message without `role` or `messageId` is a user's, with a new id.

Out: plain dicts, camelCase, `kind` always set, absent fields left out, never re-validated at
run time (the test suite validates every object it sees against the official schema). A
DataPart whose data is not an object travels as {"value": ...} with
`metadata.data_part_compat` (as the 1.3.0 SDK does).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, TypeAdapter, model_validator

from a2a_server import calls, model
from a2a_server.model import (
    ArtifactUpdate,
    Frame,
    PushConfig,
    Status,
    StatusUpdate,
    Task,
)
from a2a_server.model import (
    DataPart as _DataPart,
)
from a2a_server.model import (
    FilePart as _FilePart,
)
from a2a_server.model import (
    Message as _Message,
)
from a2a_server.model import (
    Part as _Part,
)
from a2a_server.model import (
    TextPart as _TextPart,
)

if TYPE_CHECKING:
    from agent_card import AgentCard

__all__ = [
    "PROTOCOL_VERSION",
    "VERSION",
    "card_json",
    "frame_json",
    "message_json",
    "parse_get_push_config",
    "parse_get_task",
    "parse_push_config_ref",
    "parse_send",
    "parse_set_push_config",
    "parse_task_ref",
    "push_config_json",
    "push_configs_json",
    "send_result_json",
    "task_json",
]

VERSION = "0.3"
PROTOCOL_VERSION = "0.3.0"  # as the 0.3 card spells it


class _Wire(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True, strict=True)


# -- in ----------------------------------------------------------------------------------------


class TextPart(_Wire):
    kind: Literal["text"]
    text: str
    metadata: dict[str, Any] | None = None

    def to_model(self) -> _Part:
        return _TextPart(self.text, self.metadata)


class FileContent(_Wire):
    name: str | None = None
    mime_type: str | None = Field(None, alias="mimeType")
    bytes: str | None = None
    uri: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> FileContent:
        if (self.bytes is None) == (self.uri is None):
            raise ValueError("a file must have exactly one of 'bytes' or 'uri'")
        return self


class FilePart(_Wire):
    kind: Literal["file"]
    file: FileContent
    metadata: dict[str, Any] | None = None

    def to_model(self) -> _Part:
        f = self.file
        return _FilePart(f.bytes, f.uri, f.name, f.mime_type, self.metadata)


class DataPart(_Wire):
    kind: Literal["data"]
    data: dict[str, Any]
    metadata: dict[str, Any] | None = None

    def to_model(self) -> _Part:
        meta = self.metadata
        if meta and meta.get("data_part_compat") and set(self.data) == {"value"}:
            rest = {k: v for k, v in meta.items() if k != "data_part_compat"}  # see `_part`
            return _DataPart(self.data["value"], rest or None)
        return _DataPart(self.data, meta)


_CONTENT_KEYS = ("text", "file", "data", "raw", "url")


def _infer_kind(part: Any) -> Any:
    """A part without `kind` but one unambiguous content key is read as that kind; 1.0's
    flat file fields (`raw`/`url`, `filename`, `mediaType`) become a 0.3 file. A part that
    names its type some other way (`type`, as other protocols do) is not guessed at."""
    if not isinstance(part, dict) or part.get("kind") is not None or "type" in part:
        return part
    present = [k for k in _CONTENT_KEYS if part.get(k) is not None]
    if len(present) != 1:
        return part  # left to the discriminator: "kind is required"
    key = present[0]
    if key in ("raw", "url"):
        file = {"bytes" if key == "raw" else "uri": part[key]}
        if part.get("filename") is not None:
            file["name"] = part["filename"]
        if part.get("mediaType") is not None:
            file["mimeType"] = part["mediaType"]
        return {"kind": "file", "file": file, "metadata": part.get("metadata")}
    return {**part, "kind": key}


Part = Annotated[
    Annotated[TextPart | FilePart | DataPart, Field(discriminator="kind")],
    BeforeValidator(_infer_kind),
]


class Message(_Wire):
    kind: Literal["message"] = "message"
    message_id: str = Field(alias="messageId", min_length=1)
    role: Literal["user", "agent"]
    parts: list[Part] = Field(min_length=1)
    task_id: str | None = Field(None, alias="taskId")
    context_id: str | None = Field(None, alias="contextId")
    reference_task_ids: list[str] | None = Field(None, alias="referenceTaskIds")
    extensions: list[str] | None = None
    metadata: dict[str, Any] | None = None

    def to_model(self) -> _Message:
        return _Message(
            model.Role(self.role),
            tuple(p.to_model() for p in self.parts),
            self.message_id,
            self.task_id,
            self.context_id,
            tuple(self.reference_task_ids or ()),
            tuple(self.extensions or ()),
            self.metadata,
        )


class PushNotificationAuthenticationInfo(_Wire):
    schemes: list[str]
    credentials: str | None = None


class PushNotificationConfig(_Wire):
    id: str | None = None
    url: str
    token: str | None = None
    authentication: PushNotificationAuthenticationInfo | None = None

    def to_model(self) -> PushConfig:
        auth = self.authentication
        return PushConfig(
            self.id or calls.DEFAULT_PUSH_ID,
            self.url,
            self.token,
            tuple(auth.schemes) if auth else (),
            auth.credentials if auth else None,
            VERSION,
        )


class MessageSendConfiguration(_Wire):
    accepted_output_modes: list[str] | None = Field(None, alias="acceptedOutputModes")
    history_length: int | None = Field(None, alias="historyLength", ge=0)
    push_notification_config: PushNotificationConfig | None = Field(
        None, alias="pushNotificationConfig"
    )
    blocking: bool | None = None


class MessageSendParams(_Wire):
    message: Message
    configuration: MessageSendConfiguration | None = None
    metadata: dict[str, Any] | None = None


class TaskQueryParams(_Wire):
    id: str
    history_length: int | None = Field(None, alias="historyLength", ge=0)
    metadata: dict[str, Any] | None = None


class TaskIdParams(_Wire):
    id: str
    metadata: dict[str, Any] | None = None


class TaskPushNotificationConfig(_Wire):
    task_id: str = Field(alias="taskId")
    push_notification_config: PushNotificationConfig = Field(alias="pushNotificationConfig")


class GetTaskPushNotificationConfigParams(_Wire):
    id: str
    push_notification_config_id: str | None = Field(None, alias="pushNotificationConfigId")
    metadata: dict[str, Any] | None = None


class DeleteTaskPushNotificationConfigParams(_Wire):
    id: str
    push_notification_config_id: str = Field(alias="pushNotificationConfigId")
    metadata: dict[str, Any] | None = None


def _lenient(params: dict[str, Any]) -> dict[str, Any]:
    message = params.get("message")
    if not isinstance(message, dict):
        return params
    message = dict(message)
    if message.get("role") is None:
        message["role"] = "user"
    if message.get("messageId") is None:
        message["messageId"] = model.new_id()
    return {**params, "message": message}


def parse_send(params: dict[str, Any], lenient: bool = False) -> calls.SendMessage:
    p = MessageSendParams.model_validate(_lenient(params) if lenient else params)
    config = p.configuration
    if config is None:
        return calls.SendMessage(p.message.to_model(), metadata=p.metadata)
    push = config.push_notification_config
    return calls.SendMessage(
        p.message.to_model(),
        blocking=config.blocking is not False,
        history_length=config.history_length,
        push_config=None if push is None else push.to_model(),
        accepted_output_modes=tuple(config.accepted_output_modes or ()),
        metadata=p.metadata,
    )


def parse_get_task(params: dict[str, Any], lenient: bool = False) -> calls.GetTask:
    p = TaskQueryParams.model_validate(params)
    return calls.GetTask(p.id, p.history_length)


def parse_task_ref(params: dict[str, Any], lenient: bool = False) -> calls.TaskRef:
    p = TaskIdParams.model_validate(params)
    return calls.TaskRef(p.id, p.metadata)


def parse_set_push_config(params: dict[str, Any], lenient: bool = False) -> calls.SetPushConfig:
    p = TaskPushNotificationConfig.model_validate(params)
    return calls.SetPushConfig(p.task_id, p.push_notification_config.to_model())


def parse_get_push_config(params: dict[str, Any], lenient: bool = False) -> calls.GetPushConfig:
    p = GetTaskPushNotificationConfigParams.model_validate(params)
    return calls.GetPushConfig(p.id, p.push_notification_config_id)


def parse_push_config_ref(params: dict[str, Any], lenient: bool = False) -> calls.PushConfigRef:
    p = DeleteTaskPushNotificationConfigParams.model_validate(params)
    return calls.PushConfigRef(p.id, p.push_notification_config_id)


# -- out ---------------------------------------------------------------------------------------


def _part(p: _Part) -> dict[str, Any]:
    kind = type(p)
    if kind is _TextPart:
        out: dict[str, Any] = {"kind": "text", "text": p.text}  # type: ignore[union-attr]
    elif kind is _DataPart:
        data = p.data  # type: ignore[union-attr]
        if isinstance(data, dict):
            out = {"kind": "data", "data": data}
        else:  # 0.3 data is an object: carry other JSON values as the SDK's compat form does
            meta = {**(p.metadata or {}), "data_part_compat": True}
            return {"kind": "data", "data": {"value": data}, "metadata": meta}
    else:
        assert isinstance(p, _FilePart)
        file: dict[str, Any] = {}
        if p.filename is not None:
            file["name"] = p.filename
        if p.media_type is not None:
            file["mimeType"] = p.media_type
        if p.raw is not None:
            file["bytes"] = p.raw
        else:
            file["uri"] = p.url
        out = {"kind": "file", "file": file}
    if p.metadata is not None:
        out["metadata"] = p.metadata
    return out


def message_json(m: _Message) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": "message",
        "role": m.role.value,
        "messageId": m.message_id,
        "parts": [_part(p) for p in m.parts],
    }
    if m.task_id is not None:
        out["taskId"] = m.task_id
    if m.context_id is not None:
        out["contextId"] = m.context_id
    if m.reference_task_ids:
        out["referenceTaskIds"] = list(m.reference_task_ids)
    if m.extensions:
        out["extensions"] = list(m.extensions)
    if m.metadata is not None:
        out["metadata"] = m.metadata
    return out


def _status(s: Status) -> dict[str, Any]:
    out: dict[str, Any] = {"state": s.state.value, "timestamp": s.timestamp}
    if s.message is not None:
        out["message"] = message_json(s.message)
    return out


def _artifact(a: model.Artifact) -> dict[str, Any]:
    out: dict[str, Any] = {"artifactId": a.artifact_id, "parts": [_part(p) for p in a.parts]}
    if a.name is not None:
        out["name"] = a.name
    if a.description is not None:
        out["description"] = a.description
    if a.metadata is not None:
        out["metadata"] = a.metadata
    if a.extensions:
        out["extensions"] = list(a.extensions)
    return out


def task_json(t: Task) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": "task",
        "id": t.id,
        "contextId": t.context_id,
        "status": _status(t.status),
        "history": [message_json(m) for m in t.history],
        "artifacts": [_artifact(a) for a in t.artifacts],
    }
    if t.metadata is not None:
        out["metadata"] = t.metadata
    return out


def frame_json(f: Frame) -> dict[str, Any]:
    """A frame as the `result` of an SSE event (spec §7.2)."""
    kind = type(f)
    if kind is ArtifactUpdate:
        assert isinstance(f, ArtifactUpdate)
        out: dict[str, Any] = {
            "kind": "artifact-update",
            "taskId": f.task_id,
            "contextId": f.context_id,
            "artifact": _artifact(f.artifact),
            "append": f.append,
            "lastChunk": f.last_chunk,
        }
    elif kind is StatusUpdate:
        assert isinstance(f, StatusUpdate)
        out = {
            "kind": "status-update",
            "taskId": f.task_id,
            "contextId": f.context_id,
            "status": _status(f.status),
            "final": f.final,
        }
    elif kind is Task:
        assert isinstance(f, Task)
        return task_json(f)
    else:
        assert isinstance(f, _Message)
        return message_json(f)
    if f.metadata is not None:
        out["metadata"] = f.metadata
    return out


def send_result_json(result: Task | _Message) -> dict[str, Any]:
    """message/send's result: a Task or a Message, told apart by `kind`."""
    return task_json(result) if type(result) is Task else message_json(result)  # type: ignore[arg-type]


def push_config_json(task_id: str, c: PushConfig) -> dict[str, Any]:
    """A TaskPushNotificationConfig."""
    config: dict[str, Any] = {"id": c.id, "url": c.url}
    if c.token is not None:
        config["token"] = c.token
    if c.schemes or c.credentials is not None:
        auth: dict[str, Any] = {"schemes": list(c.schemes)}
        if c.credentials is not None:
            auth["credentials"] = c.credentials
        config["authentication"] = auth
    return {"taskId": task_id, "pushNotificationConfig": config}


def push_configs_json(task_id: str, configs: list[PushConfig]) -> list[dict[str, Any]]:
    return [push_config_json(task_id, c) for c in configs]


def card_json(card: AgentCard) -> dict[str, Any]:
    """The card as a 0.3.0 `AgentCard` (its JSON-RPC interface: `url`, `preferredTransport`,
    `additionalInterfaces`)."""
    ours = [i for i in card.interfaces if i.version == VERSION]
    url = ours[0].url if ours else card.url
    capabilities: dict[str, Any] = {
        "streaming": card.streaming,
        "pushNotifications": card.push_notifications,
    }
    if card.extensions:
        capabilities["extensions"] = [dict(e) for e in card.extensions]
    out: dict[str, Any] = {
        "protocolVersion": PROTOCOL_VERSION,
        "name": card.name,
        "description": card.description,
        "url": url,
        "preferredTransport": "JSONRPC",
        "additionalInterfaces": [{"url": i.url, "transport": i.binding} for i in ours or card.interfaces[:1]],
        "version": card.version,
        "capabilities": capabilities,
        "defaultInputModes": list(card.input_modes),
        "defaultOutputModes": list(card.output_modes),
        "skills": [_skill(s, card) for s in card.skills],
        "supportsAuthenticatedExtendedCard": card.extended_card,
    }
    schemes = {s.name: scheme for s in card.security_schemes if (scheme := _scheme(s)) is not None}
    if schemes:
        out["securitySchemes"] = schemes
        out["security"] = [
            {name: list(scopes) for name, scopes in r.items()} for r in card.security
            if all(name in schemes for name in r)
        ]
    return out


def _scheme(s: Any) -> dict[str, Any] | None:
    """A security scheme as 0.3 writes it (OpenAPI's form); None for one 0.3 cannot say."""
    out: dict[str, Any] = {"type": s.kind}
    if s.description:
        out["description"] = s.description
    if s.kind == "apiKey":
        out.update({"in": "header", "name": s.header})
    elif s.kind == "http":
        out["scheme"] = s.scheme
        if s.bearer_format:
            out["bearerFormat"] = s.bearer_format
    elif s.kind == "oauth2":
        flows = {f.kind: _flow(f) for f in s.flows if f.kind in ("authorizationCode", "clientCredentials")}
        if not flows:
            return None  # a device-code flow alone: 0.3 has no words for it
        out["flows"] = flows
        out["oauth2MetadataUrl"] = s.metadata_url
    else:
        out["openIdConnectUrl"] = s.metadata_url
    return out


def _flow(f: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"tokenUrl": f.token_url, "scopes": dict(f.scopes)}
    if f.authorization_url:
        out["authorizationUrl"] = f.authorization_url
    if f.refresh_url:
        out["refreshUrl"] = f.refresh_url
    return out


def _skill(skill: Any, card: AgentCard) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": skill.id,
        "name": skill.name,
        "description": skill.description,
        "tags": list(skill.tags),
    }
    if skill.examples:
        out["examples"] = list(skill.examples)
    out["inputModes"] = list(skill.input_modes or card.input_modes)
    out["outputModes"] = list(skill.output_modes or card.output_modes)
    return out


# -- reading our own 0.3 output back (the SQLite files of a2a-server 0.1.0 held it) -----------


def read_message(d: dict[str, Any]) -> _Message:
    return Message.model_validate(d).to_model()


def _read_status(d: dict[str, Any]) -> Status:
    message = d.get("message")
    return Status(
        model.TaskState(d["state"]), None if message is None else read_message(message),
        d.get("timestamp") or model.now_iso(),
    )


def _read_artifact(d: dict[str, Any]) -> model.Artifact:
    parts = tuple(_PART.validate_python(p).to_model() for p in d["parts"])
    return model.Artifact(
        d["artifactId"], parts, d.get("name"), d.get("description"), d.get("metadata"),
        tuple(d.get("extensions") or ()),
    )


def read_frame(d: dict[str, Any]) -> Frame:
    """A frame as `frame_json` wrote it."""
    kind = d["kind"]
    if kind == "task":
        return Task(
            d["id"], d["contextId"], _read_status(d["status"]),
            [read_message(m) for m in d.get("history", ())],
            [_read_artifact(a) for a in d.get("artifacts", ())], d.get("metadata"),
        )
    if kind == "status-update":
        return StatusUpdate(
            d["taskId"], d["contextId"], _read_status(d["status"]), bool(d.get("final")),
            d.get("metadata"),
        )
    if kind == "artifact-update":
        return ArtifactUpdate(
            d["taskId"], d["contextId"], _read_artifact(d["artifact"]), bool(d.get("append")),
            bool(d.get("lastChunk")), d.get("metadata"),
        )
    return read_message(d)


def read_push_config(d: dict[str, Any]) -> PushConfig:
    """A PushNotificationConfig as set by a 0.3 client (with its id)."""
    return PushNotificationConfig.model_validate(d).to_model()


_PART = TypeAdapter(Part)