"""The shapes of A2A 0.3.0 objects, as the conformance suite checks them (spec §5.5, §6, §7).

Our own models, written from the official schema and proven against it by the project's
tests (`tests/test_conformance_shapes.py`); the schema itself is not shipped. Unknown fields
are allowed, as the schema allows them; required fields, types, `kind` constants and enums
are enforced. An optional field may be absent but not `null` (the schema says so too): its
default is not validated, an explicit value is.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

__all__ = ["SHAPES", "problem"]


class _Shape(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True)


class TextPart(_Shape):
    kind: Literal["text"]
    text: str
    metadata: dict[str, Any] = None  # type: ignore[assignment]


class FileWithBytes(_Shape):
    bytes: str
    name: str = None  # type: ignore[assignment]
    mimeType: str = None  # type: ignore[assignment]


class FileWithUri(_Shape):
    uri: str
    name: str = None  # type: ignore[assignment]
    mimeType: str = None  # type: ignore[assignment]


class FilePart(_Shape):
    kind: Literal["file"]
    file: FileWithBytes | FileWithUri
    metadata: dict[str, Any] = None  # type: ignore[assignment]


class DataPart(_Shape):
    kind: Literal["data"]
    data: dict[str, Any]
    metadata: dict[str, Any] = None  # type: ignore[assignment]


Part = Annotated[TextPart | FilePart | DataPart, Field(discriminator="kind")]
TaskState = Literal[
    "submitted", "working", "input-required", "completed", "canceled", "failed", "rejected",
    "auth-required", "unknown",
]


class Message(_Shape):
    kind: Literal["message"]
    messageId: str
    role: Literal["user", "agent"]
    parts: list[Part]
    taskId: str = None  # type: ignore[assignment]
    contextId: str = None  # type: ignore[assignment]
    referenceTaskIds: list[str] = None  # type: ignore[assignment]
    extensions: list[str] = None  # type: ignore[assignment]
    metadata: dict[str, Any] = None  # type: ignore[assignment]


class TaskStatus(_Shape):
    state: TaskState
    message: Message = None  # type: ignore[assignment]
    timestamp: str = None  # type: ignore[assignment]


class Artifact(_Shape):
    artifactId: str
    parts: list[Part]
    name: str = None  # type: ignore[assignment]
    description: str = None  # type: ignore[assignment]
    metadata: dict[str, Any] = None  # type: ignore[assignment]
    extensions: list[str] = None  # type: ignore[assignment]


class Task(_Shape):
    kind: Literal["task"]
    id: str
    contextId: str
    status: TaskStatus
    history: list[Message] = None  # type: ignore[assignment]
    artifacts: list[Artifact] = None  # type: ignore[assignment]
    metadata: dict[str, Any] = None  # type: ignore[assignment]


class TaskStatusUpdateEvent(_Shape):
    kind: Literal["status-update"]
    taskId: str
    contextId: str
    status: TaskStatus
    final: bool
    metadata: dict[str, Any] = None  # type: ignore[assignment]


class TaskArtifactUpdateEvent(_Shape):
    kind: Literal["artifact-update"]
    taskId: str
    contextId: str
    artifact: Artifact
    append: bool = None  # type: ignore[assignment]
    lastChunk: bool = None  # type: ignore[assignment]
    metadata: dict[str, Any] = None  # type: ignore[assignment]


class PushNotificationAuthenticationInfo(_Shape):
    schemes: list[str]
    credentials: str = None  # type: ignore[assignment]


class PushNotificationConfig(_Shape):
    url: str
    id: str = None  # type: ignore[assignment]
    token: str = None  # type: ignore[assignment]
    authentication: PushNotificationAuthenticationInfo = None  # type: ignore[assignment]


class TaskPushNotificationConfig(_Shape):
    taskId: str
    pushNotificationConfig: PushNotificationConfig


class AgentExtension(_Shape):
    uri: str
    description: str = None  # type: ignore[assignment]
    required: bool = None  # type: ignore[assignment]
    params: dict[str, Any] = None  # type: ignore[assignment]


class AgentCapabilities(_Shape):
    streaming: bool = None  # type: ignore[assignment]
    pushNotifications: bool = None  # type: ignore[assignment]
    stateTransitionHistory: bool = None  # type: ignore[assignment]
    extensions: list[AgentExtension] = None  # type: ignore[assignment]


class AgentSkill(_Shape):
    id: str
    name: str
    description: str
    tags: list[str]
    examples: list[str] = None  # type: ignore[assignment]
    inputModes: list[str] = None  # type: ignore[assignment]
    outputModes: list[str] = None  # type: ignore[assignment]
    security: list[dict[str, list[str]]] = None  # type: ignore[assignment]


class AgentInterface(_Shape):
    url: str
    transport: str


class AgentProvider(_Shape):
    organization: str
    url: str


class AgentCard(_Shape):
    protocolVersion: str
    name: str
    description: str
    url: str
    version: str
    capabilities: AgentCapabilities
    defaultInputModes: list[str]
    defaultOutputModes: list[str]
    skills: list[AgentSkill]
    preferredTransport: str = None  # type: ignore[assignment]
    additionalInterfaces: list[AgentInterface] = None  # type: ignore[assignment]
    provider: AgentProvider = None  # type: ignore[assignment]
    iconUrl: str = None  # type: ignore[assignment]
    documentationUrl: str = None  # type: ignore[assignment]
    securitySchemes: dict[str, dict[str, Any]] = None  # type: ignore[assignment]
    security: list[dict[str, list[str]]] = None  # type: ignore[assignment]
    supportsAuthenticatedExtendedCard: bool = None  # type: ignore[assignment]
    signatures: list[dict[str, Any]] = None  # type: ignore[assignment]


class JSONRPCError(_Shape):
    code: int
    message: str
    data: Any = None


class JSONRPCErrorResponse(_Shape):
    jsonrpc: Literal["2.0"]
    id: str | int | None
    error: JSONRPCError


class JSONRPCSuccessResponse(_Shape):
    jsonrpc: Literal["2.0"]
    id: str | int | None
    result: Any


SHAPES: dict[str, TypeAdapter[Any]] = {
    cls.__name__: TypeAdapter(cls)
    for cls in (
        Task, Message, TaskStatusUpdateEvent, TaskArtifactUpdateEvent, AgentCard, Artifact,
        TaskPushNotificationConfig, PushNotificationConfig, JSONRPCErrorResponse,
        JSONRPCSuccessResponse,
    )
}
KINDS = {
    "task": "Task",
    "message": "Message",
    "status-update": "TaskStatusUpdateEvent",
    "artifact-update": "TaskArtifactUpdateEvent",
}


def problem(shape: str, obj: Any) -> str | None:
    """None if `obj` is a valid `shape` (or, for "Result", a Task/Message/event by its kind);
    else a one-line description of the first problem."""
    if shape == "Result":
        kind = obj.get("kind") if isinstance(obj, dict) else None
        if kind not in KINDS:
            return f"result has no known kind ({kind!r})"
        shape = KINDS[kind]
    try:
        SHAPES[shape].validate_python(obj)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "(root)"
        return f"not a valid {shape}: {where}: {first['msg']}"
    return None
