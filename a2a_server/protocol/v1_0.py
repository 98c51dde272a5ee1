"""The A2A 1.0 codec: ProtoJSON params in, ProtoJSON results, frames, errors and pushes out.

The proto (`a2a.proto`, package `lf.a2a.v1`) is normative. In, as ProtoJSON parsers must:
field names in lowerCamelCase or as written in the proto (snake_case: the 1.0 kit sends
`context_id`, `history_length`, `page_size`), enums by name (or number), int32 as a number or
a numeric string, unknown fields ignored, "" for an id meaning unset. A Part holds exactly one
of `text`, `raw` (base64), `url`, `data`. Where a 0.3 habit is unambiguous we take it too (a
`role` of "user"); a part's `kind` is ignored.

Out: lowerCamelCase, no `kind`, enums by name (`TASK_STATE_WORKING`, `ROLE_AGENT`), flat parts,
UTC timestamps with `Z`, fields at their default (false, empty) left out as ProtoJSON does.
Results are wrapped where the proto wraps them: `SendMessageResponse` ({"task"} or
{"message"}) and `StreamResponse` ({"task"|"message"|"statusUpdate"|"artifactUpdate"}), which
is also the body of every push notification. A status update has no `final`: a stream ends by
closing after a terminal or interrupted state.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from a2a_server import calls, model
from a2a_server.errors import A2AError, InvalidParams
from a2a_server.model import (
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

if TYPE_CHECKING:
    from agent_card import AgentCard

__all__ = [
    "CONTENT_TYPE",
    "ERROR_DOMAIN",
    "VERSION",
    "card_json",
    "error_json",
    "frame_json",
    "list_tasks_json",
    "message_json",
    "parse_get_push_config",
    "parse_get_task",
    "parse_list_push_configs",
    "parse_list_tasks",
    "parse_push_config_ref",
    "parse_send",
    "parse_set_push_config",
    "parse_task_ref",
    "push_config_json",
    "push_configs_json",
    "send_result_json",
    "state_name",
    "task_json",
]

VERSION = "1.0"
CONTENT_TYPE = "application/a2a+json"  # of push notifications (and the HTTP+JSON binding)

_STATE_NAMES = {
    TaskState.SUBMITTED: "TASK_STATE_SUBMITTED",
    TaskState.WORKING: "TASK_STATE_WORKING",
    TaskState.COMPLETED: "TASK_STATE_COMPLETED",
    TaskState.FAILED: "TASK_STATE_FAILED",
    TaskState.CANCELED: "TASK_STATE_CANCELED",
    TaskState.INPUT_REQUIRED: "TASK_STATE_INPUT_REQUIRED",
    TaskState.REJECTED: "TASK_STATE_REJECTED",
    TaskState.AUTH_REQUIRED: "TASK_STATE_AUTH_REQUIRED",
    TaskState.UNKNOWN: "TASK_STATE_UNSPECIFIED",
}
_STATE_NUMBERS = {
    1: TaskState.SUBMITTED, 2: TaskState.WORKING, 3: TaskState.COMPLETED, 4: TaskState.FAILED,
    5: TaskState.CANCELED, 6: TaskState.INPUT_REQUIRED, 7: TaskState.REJECTED,
    8: TaskState.AUTH_REQUIRED,
}
_STATES = {name: state for state, name in _STATE_NAMES.items() if state is not TaskState.UNKNOWN}
_ROLE_NAMES = {Role.USER: "ROLE_USER", Role.AGENT: "ROLE_AGENT"}
_ROLES = {"ROLE_USER": Role.USER, "ROLE_AGENT": Role.AGENT, 1: Role.USER, 2: Role.AGENT,
          "user": Role.USER, "agent": Role.AGENT}


ERROR_DOMAIN = "a2a-protocol.org"
_OUR_DOMAIN = "a2a-server"  # of the codes we define (-32050...): not the protocol's


def error_json(err: A2AError) -> dict[str, Any]:
    """A JSON-RPC error object with its `google.rpc.ErrorInfo` (1.0: `data` is an array of
    google.rpc details), and a `BadRequest` naming the field of invalid params."""
    domain = ERROR_DOMAIN if err.code >= -32009 else _OUR_DOMAIN
    details: list[dict[str, Any]] = [{
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": err.reason,
        "domain": domain,
        "metadata": _metadata(err.data),
    }]
    field = getattr(err, "field", None)
    if field:
        details.append({
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [{"field": field, "description": err.message}],
        })
    return {"code": err.code, "message": err.message, "data": details}


def _metadata(data: Any) -> dict[str, str]:
    """ErrorInfo.metadata (a map of strings) from an error's data, when it is such a map
    (an InternalError's error id)."""
    if isinstance(data, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        return dict(data)
    return {}


def state_name(state: TaskState) -> str:
    return _STATE_NAMES[state]


# -- in ----------------------------------------------------------------------------------------


class _Proto(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True
    )


def _unset_if_empty(value: Any) -> Any:
    return None if value == "" else value


OptionalId = Annotated[str | None, BeforeValidator(_unset_if_empty)]


def _role(value: Any) -> Role:
    role = _ROLES.get(value) if isinstance(value, str | int) and not isinstance(value, bool) else None
    if role is None:
        raise ValueError("must be ROLE_USER or ROLE_AGENT")
    return role


def _state(value: Any) -> TaskState | None:
    if value in (None, "", 0, "TASK_STATE_UNSPECIFIED"):
        return None  # unset: no filter
    state = (
        _STATE_NUMBERS.get(value) if isinstance(value, int) and not isinstance(value, bool)
        else _STATES.get(value) if isinstance(value, str) else None
    )
    if state is None:
        raise ValueError("must be a TaskState name such as TASK_STATE_WORKING")
    return state


def _base64(value: Any) -> str:
    """ProtoJSON bytes: standard or URL-safe base64, padded or not; kept as standard base64."""
    if not isinstance(value, str):
        raise ValueError("must be a base64 string")
    padded = value + "=" * (-len(value) % 4)
    try:
        if "-" in value or "_" in value:
            raw = base64.urlsafe_b64decode(padded)
        else:
            raw = base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("must be base64") from None
    return base64.b64encode(raw).decode()


class _Part(_Proto):
    text: str | None = None
    raw: Annotated[str | None, BeforeValidator(lambda v: None if v is None else _base64(v))] = None
    url: str | None = None
    data: Any = None
    metadata: dict[str, Any] | None = None
    filename: str | None = None
    media_type: str | None = None

    @model_validator(mode="after")
    def _one_content(self) -> _Part:
        present = [k for k in ("text", "raw", "url", "data") if getattr(self, k) is not None]
        if len(present) != 1:
            raise ValueError("a part must have exactly one of text, raw, url or data")
        return self

    def to_model(self) -> Part:
        if self.text is not None:
            return TextPart(self.text, self.metadata, self.media_type)
        if self.data is not None:
            return DataPart(self.data, self.metadata, self.media_type)
        return FilePart(self.raw, self.url, self.filename, self.media_type, self.metadata)


class _Message(_Proto):
    message_id: str = Field(min_length=1)
    role: Annotated[Role, BeforeValidator(_role)]
    parts: list[_Part] = Field(min_length=1)
    context_id: OptionalId = None
    task_id: OptionalId = None
    metadata: dict[str, Any] | None = None
    extensions: list[str] | None = None
    reference_task_ids: list[str] | None = None

    def to_model(self) -> Message:
        return Message(
            self.role,
            tuple(p.to_model() for p in self.parts),
            self.message_id,
            self.task_id,
            self.context_id,
            tuple(self.reference_task_ids or ()),
            tuple(self.extensions or ()),
            self.metadata,
        )


class _Authentication(_Proto):
    scheme: str = Field(min_length=1)
    credentials: str | None = None


class _PushConfig(_Proto):
    tenant: str | None = None
    id: OptionalId = None
    task_id: OptionalId = None
    url: str = Field(min_length=1)
    token: str | None = None
    authentication: _Authentication | None = None

    def to_model(self) -> PushConfig:
        auth = self.authentication
        return PushConfig(
            self.id or calls.DEFAULT_PUSH_ID,
            self.url,
            self.token or None,
            (auth.scheme,) if auth else (),
            auth.credentials if auth else None,
            VERSION,
        )


class _Configuration(_Proto):
    accepted_output_modes: list[str] | None = None
    task_push_notification_config: _PushConfig | None = None
    history_length: int | None = Field(None, ge=0)
    return_immediately: bool = False


class _SendMessageRequest(_Proto):
    tenant: str | None = None
    message: _Message
    configuration: _Configuration | None = None
    metadata: dict[str, Any] | None = None


class _GetTaskRequest(_Proto):
    tenant: str | None = None
    id: str = Field(min_length=1)
    history_length: int | None = Field(None, ge=0)


class _TaskIdRequest(_Proto):  # CancelTaskRequest, SubscribeToTaskRequest
    tenant: str | None = None
    id: str = Field(min_length=1)
    metadata: dict[str, Any] | None = None


class _ListTasksRequest(_Proto):
    tenant: str | None = None
    context_id: OptionalId = None
    status: Annotated[TaskState | None, BeforeValidator(_state)] = None
    page_size: int = Field(50, ge=1, le=100)
    page_token: OptionalId = None
    history_length: int | None = Field(None, ge=0)
    status_timestamp_after: Annotated[str | None, BeforeValidator(lambda v: None if v is None else _utc(v))] = None
    include_artifacts: bool = False


def _utc(text: Any) -> str:
    """An RFC 3339 timestamp in our own form (UTC, milliseconds, `Z`), which sorts as it
    should against the timestamps we write."""
    if not isinstance(text, str):
        raise ValueError("must be an RFC 3339 timestamp string")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError("must be an RFC 3339 timestamp such as 2026-01-31T12:00:00Z") from None
    if moment.tzinfo is None:
        raise ValueError("must carry a time zone (Z or an offset)")
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _PushConfigRequest(_Proto):  # Get and Delete
    tenant: str | None = None
    task_id: str = Field(min_length=1)
    id: str = Field(min_length=1)


class _ListPushConfigsRequest(_Proto):
    tenant: str | None = None
    task_id: str = Field(min_length=1)
    page_size: int | None = Field(None, ge=0)
    page_token: str | None = None


def parse_send(params: dict[str, Any], lenient: bool = False) -> calls.SendMessage:
    p = _SendMessageRequest.model_validate(params)
    config = p.configuration
    if config is None:
        return calls.SendMessage(p.message.to_model(), metadata=p.metadata)
    push = config.task_push_notification_config
    return calls.SendMessage(
        p.message.to_model(),
        blocking=not config.return_immediately,
        history_length=config.history_length,
        push_config=None if push is None else push.to_model(),
        accepted_output_modes=tuple(config.accepted_output_modes or ()),
        metadata=p.metadata,
    )


def parse_get_task(params: dict[str, Any], lenient: bool = False) -> calls.GetTask:
    p = _GetTaskRequest.model_validate(params)
    return calls.GetTask(p.id, p.history_length)


def parse_task_ref(params: dict[str, Any], lenient: bool = False) -> calls.TaskRef:
    p = _TaskIdRequest.model_validate(params)
    return calls.TaskRef(p.id, p.metadata)


def parse_list_tasks(params: dict[str, Any], lenient: bool = False) -> calls.ListTasks:
    p = _ListTasksRequest.model_validate(params)
    return calls.ListTasks(
        p.context_id, p.status, p.page_size, p.page_token, p.history_length,
        p.status_timestamp_after, p.include_artifacts,
    )


def parse_set_push_config(params: dict[str, Any], lenient: bool = False) -> calls.SetPushConfig:
    p = _PushConfig.model_validate(params)
    if p.task_id is None:
        raise InvalidParams("Invalid params: taskId is required", field="taskId")
    return calls.SetPushConfig(p.task_id, p.to_model())


def parse_get_push_config(params: dict[str, Any], lenient: bool = False) -> calls.GetPushConfig:
    p = _PushConfigRequest.model_validate(params)
    return calls.GetPushConfig(p.task_id, p.id)


def parse_push_config_ref(params: dict[str, Any], lenient: bool = False) -> calls.PushConfigRef:
    p = _PushConfigRequest.model_validate(params)
    return calls.PushConfigRef(p.task_id, p.id)


def parse_list_push_configs(params: dict[str, Any], lenient: bool = False) -> calls.TaskRef:
    p = _ListPushConfigsRequest.model_validate(params)
    return calls.TaskRef(p.task_id)


# -- out ---------------------------------------------------------------------------------------


def _part(p: Part) -> dict[str, Any]:
    kind = type(p)
    if kind is TextPart:
        out: dict[str, Any] = {"text": p.text}  # type: ignore[union-attr]
    elif kind is DataPart:
        out = {"data": p.data}  # type: ignore[union-attr]
    else:
        assert isinstance(p, FilePart)
        out = {"raw": p.raw} if p.raw is not None else {"url": p.url}
        if p.filename is not None:
            out["filename"] = p.filename
    if p.media_type is not None:
        out["mediaType"] = p.media_type
    if p.metadata is not None:
        out["metadata"] = p.metadata
    return out


def message_json(m: Message) -> dict[str, Any]:
    out: dict[str, Any] = {
        "messageId": m.message_id,
        "role": _ROLE_NAMES[m.role],
        "parts": [_part(p) for p in m.parts],
    }
    if m.context_id is not None:
        out["contextId"] = m.context_id
    if m.task_id is not None:
        out["taskId"] = m.task_id
    if m.metadata is not None:
        out["metadata"] = m.metadata
    if m.extensions:
        out["extensions"] = list(m.extensions)
    if m.reference_task_ids:
        out["referenceTaskIds"] = list(m.reference_task_ids)
    return out


def _status(s: Status) -> dict[str, Any]:
    out: dict[str, Any] = {"state": _STATE_NAMES[s.state]}
    if s.message is not None:
        out["message"] = message_json(s.message)
    out["timestamp"] = s.timestamp
    return out


def _artifact(a: model.Artifact) -> dict[str, Any]:
    out: dict[str, Any] = {"artifactId": a.artifact_id}
    if a.name is not None:
        out["name"] = a.name
    if a.description is not None:
        out["description"] = a.description
    out["parts"] = [_part(p) for p in a.parts]
    if a.metadata is not None:
        out["metadata"] = a.metadata
    if a.extensions:
        out["extensions"] = list(a.extensions)
    return out


def task_json(t: Task) -> dict[str, Any]:
    out: dict[str, Any] = {"id": t.id, "contextId": t.context_id, "status": _status(t.status)}
    if t.artifacts:
        out["artifacts"] = [_artifact(a) for a in t.artifacts]
    if t.history:
        out["history"] = [message_json(m) for m in t.history]
    if t.metadata is not None:
        out["metadata"] = t.metadata
    return out


def _event(f: Frame) -> tuple[str, dict[str, Any]]:
    kind = type(f)
    if kind is ArtifactUpdate:
        assert isinstance(f, ArtifactUpdate)
        out: dict[str, Any] = {
            "taskId": f.task_id, "contextId": f.context_id, "artifact": _artifact(f.artifact)
        }
        if f.append:
            out["append"] = True
        if f.last_chunk:
            out["lastChunk"] = True
        name = "artifactUpdate"
    elif kind is StatusUpdate:
        assert isinstance(f, StatusUpdate)
        out = {"taskId": f.task_id, "contextId": f.context_id, "status": _status(f.status)}
        name = "statusUpdate"
    elif kind is Task:
        assert isinstance(f, Task)
        return "task", task_json(f)
    else:
        assert isinstance(f, Message)
        return "message", message_json(f)
    if f.metadata is not None:
        out["metadata"] = f.metadata
    return name, out


def frame_json(f: Frame) -> dict[str, Any]:
    """A frame as a `StreamResponse` (the `result` of an SSE event, and a push body)."""
    name, body = _event(f)
    return {name: body}


def send_result_json(result: Task | Message) -> dict[str, Any]:
    """A `SendMessageResponse`: {"task": ...} or {"message": ...}."""
    if type(result) is Task:
        return {"task": task_json(result)}  # type: ignore[arg-type]
    return {"message": message_json(result)}  # type: ignore[arg-type]


def list_tasks_json(page: calls.TaskPage) -> dict[str, Any]:
    """A `ListTasksResponse` (the handler has left out what the query did not ask for)."""
    return {
        "tasks": [task_json(t) for t in page.tasks],
        "nextPageToken": page.next_page_token,
        "pageSize": page.page_size,
        "totalSize": page.total_size,
    }


def push_config_json(task_id: str, c: PushConfig) -> dict[str, Any]:
    """A `TaskPushNotificationConfig` (flat in 1.0)."""
    out: dict[str, Any] = {"id": c.id, "taskId": task_id, "url": c.url}
    if c.token is not None:
        out["token"] = c.token
    if c.schemes:
        auth: dict[str, Any] = {"scheme": c.schemes[0]}
        if c.credentials is not None:
            auth["credentials"] = c.credentials
        out["authentication"] = auth
    return out


def push_configs_json(task_id: str, configs: list[PushConfig]) -> dict[str, Any]:
    """A `ListTaskPushNotificationConfigsResponse` (one page: all of a task's configs)."""
    return {"configs": [push_config_json(task_id, c) for c in configs], "nextPageToken": ""}


def card_json(card: AgentCard) -> dict[str, Any]:
    """The card as a 1.0 `AgentCard`."""
    capabilities: dict[str, Any] = {
        "streaming": card.streaming,
        "pushNotifications": card.push_notifications,
    }
    if card.extensions:
        capabilities["extensions"] = [dict(e) for e in card.extensions]
    if card.extended_card:
        capabilities["extendedAgentCard"] = True
    out: dict[str, Any] = {
        "name": card.name,
        "description": card.description,
        "supportedInterfaces": [
            {"url": i.url, "protocolBinding": i.binding, "protocolVersion": i.version}
            for i in card.interfaces
        ],
        "version": card.version,
        "capabilities": capabilities,
        "defaultInputModes": list(card.input_modes),
        "defaultOutputModes": list(card.output_modes),
        "skills": [_skill(s, card) for s in card.skills],
    }
    if card.security_schemes:
        out["securitySchemes"] = {s.name: _scheme(s) for s in card.security_schemes}
        out["securityRequirements"] = [
            {"schemes": {name: {"list": list(scopes)} for name, scopes in r.items()}} for r in card.security
        ]
    return out


_SCHEME_FIELDS = {
    "apiKey": "apiKeySecurityScheme", "http": "httpAuthSecurityScheme",
    "oauth2": "oauth2SecurityScheme", "openIdConnect": "openIdConnectSecurityScheme",
}


def _scheme(s: Any) -> dict[str, Any]:
    """A `SecurityScheme`: the oneof member of its kind."""
    inner: dict[str, Any] = {"description": s.description} if s.description else {}
    if s.kind == "apiKey":
        inner.update({"location": "header", "name": s.header})
    elif s.kind == "http":
        inner["scheme"] = s.scheme
        if s.bearer_format:
            inner["bearerFormat"] = s.bearer_format
    elif s.kind == "oauth2":
        flow = s.flows[0]  # 1.0's OAuthFlows is a oneof: the preferred flow
        inner["flows"] = {flow.kind: _flow(flow)}
        inner["oauth2MetadataUrl"] = s.metadata_url
    else:
        inner["openIdConnectUrl"] = s.metadata_url
    return {_SCHEME_FIELDS[s.kind]: inner}


def _flow(f: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"tokenUrl": f.token_url, "scopes": dict(f.scopes)}
    if f.authorization_url:
        out["authorizationUrl"] = f.authorization_url
    if f.device_authorization_url:
        out["deviceAuthorizationUrl"] = f.device_authorization_url
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
