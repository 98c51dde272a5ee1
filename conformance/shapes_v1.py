"""The shapes of A2A 1.0 objects as a server must write them (ProtoJSON of `lf.a2a.v1`,
spec §4, §5.5-5.7), as the conformance suite checks them.

Our own models, written from the normative proto and proven against it by the project's tests
(`tests/test_conformance_shapes_v1.py`); the proto is not shipped, nor anything that compiles
it. Stricter than a ProtoJSON parser must be, as a writer should be:

- only the lowerCamelCase JSON names, and no field the proto does not have (so no `kind`, no
  `final`, no `mimeType`): a 1.0 object is told apart by its members, not by a tag;
- enums by name (`TASK_STATE_COMPLETED`, `ROLE_AGENT`), timestamps RFC 3339 in UTC with `Z`;
- the fields the proto marks REQUIRED are present; an optional field may be absent, not null
  (only a `google.protobuf.Value`, a part's `data`, may be null);
- every oneof holds exactly one member: a part is one of text, raw, url or data, and a
  SendMessageResponse or StreamResponse one of its payloads.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)

__all__ = ["ROLES", "SHAPES", "STATES", "TIMESTAMP", "problem"]

STATES = (
    "TASK_STATE_UNSPECIFIED", "TASK_STATE_SUBMITTED", "TASK_STATE_WORKING", "TASK_STATE_COMPLETED",
    "TASK_STATE_FAILED", "TASK_STATE_CANCELED", "TASK_STATE_INPUT_REQUIRED", "TASK_STATE_REJECTED",
    "TASK_STATE_AUTH_REQUIRED",
)
ROLES = ("ROLE_UNSPECIFIED", "ROLE_USER", "ROLE_AGENT")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")  # §5.6.1


class _Shape(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _OneOf(_Shape):
    """A message that is one oneof: exactly one of its fields is set."""

    @model_validator(mode="after")
    def _exactly_one(self) -> _OneOf:
        if len(self.model_fields_set) != 1:
            raise ValueError(f"exactly one of {', '.join(type(self).model_fields)} must be set")
        return self


def _timestamp(value: str) -> str:
    if not TIMESTAMP.match(value):
        raise ValueError("a timestamp must be RFC 3339 in UTC with a Z, such as 2026-01-31T12:00:00.000Z")
    return value


def _base64(value: str) -> str:
    padded = value + "=" * (-len(value) % 4)
    try:
        base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("bytes must be base64") from None
    return value


Timestamp = Annotated[str, AfterValidator(_timestamp)]
Bytes = Annotated[str, AfterValidator(_base64)]
Struct = dict[str, Any]


class Part(_Shape):
    text: str = None  # type: ignore[assignment]
    raw: Bytes = None  # type: ignore[assignment]
    url: str = None  # type: ignore[assignment]
    data: Any = None
    metadata: Struct = None  # type: ignore[assignment]
    filename: str = None  # type: ignore[assignment]
    mediaType: str = None  # type: ignore[assignment]

    @model_validator(mode="after")
    def _one_content(self) -> Part:
        if len(self.model_fields_set & {"text", "raw", "url", "data"}) != 1:
            raise ValueError("a part holds exactly one of text, raw, url or data")
        return self


class Message(_Shape):
    messageId: str
    role: Literal[ROLES]  # type: ignore[valid-type]
    parts: list[Part]
    contextId: str = None  # type: ignore[assignment]
    taskId: str = None  # type: ignore[assignment]
    metadata: Struct = None  # type: ignore[assignment]
    extensions: list[str] = None  # type: ignore[assignment]
    referenceTaskIds: list[str] = None  # type: ignore[assignment]


class TaskStatus(_Shape):
    state: Literal[STATES]  # type: ignore[valid-type]
    message: Message = None  # type: ignore[assignment]
    timestamp: Timestamp = None  # type: ignore[assignment]


class Artifact(_Shape):
    artifactId: str
    parts: list[Part]
    name: str = None  # type: ignore[assignment]
    description: str = None  # type: ignore[assignment]
    metadata: Struct = None  # type: ignore[assignment]
    extensions: list[str] = None  # type: ignore[assignment]


class Task(_Shape):
    id: str
    status: TaskStatus
    contextId: str = None  # type: ignore[assignment]
    artifacts: list[Artifact] = None  # type: ignore[assignment]
    history: list[Message] = None  # type: ignore[assignment]
    metadata: Struct = None  # type: ignore[assignment]


class TaskStatusUpdateEvent(_Shape):
    taskId: str
    contextId: str
    status: TaskStatus
    metadata: Struct = None  # type: ignore[assignment]


class TaskArtifactUpdateEvent(_Shape):
    taskId: str
    contextId: str
    artifact: Artifact
    append: bool = None  # type: ignore[assignment]
    lastChunk: bool = None  # type: ignore[assignment]
    metadata: Struct = None  # type: ignore[assignment]


class SendMessageResponse(_OneOf):
    task: Task = None  # type: ignore[assignment]
    message: Message = None  # type: ignore[assignment]


class StreamResponse(_OneOf):
    task: Task = None  # type: ignore[assignment]
    message: Message = None  # type: ignore[assignment]
    statusUpdate: TaskStatusUpdateEvent = None  # type: ignore[assignment]
    artifactUpdate: TaskArtifactUpdateEvent = None  # type: ignore[assignment]


class ListTasksResponse(_Shape):
    tasks: list[Task]
    nextPageToken: str
    pageSize: int
    totalSize: int


class AuthenticationInfo(_Shape):
    scheme: str
    credentials: str = None  # type: ignore[assignment]


class TaskPushNotificationConfig(_Shape):
    url: str
    tenant: str = None  # type: ignore[assignment]
    id: str = None  # type: ignore[assignment]
    taskId: str = None  # type: ignore[assignment]
    token: str = None  # type: ignore[assignment]
    authentication: AuthenticationInfo = None  # type: ignore[assignment]


class ListTaskPushNotificationConfigsResponse(_Shape):
    configs: list[TaskPushNotificationConfig] = None  # type: ignore[assignment]
    nextPageToken: str = None  # type: ignore[assignment]


# -- the agent card (§4.4, §4.5) ---------------------------------------------------------------


class AgentInterface(_Shape):
    url: str
    protocolBinding: str
    protocolVersion: str
    tenant: str = None  # type: ignore[assignment]


class AgentProvider(_Shape):
    url: str
    organization: str


class AgentExtension(_Shape):
    uri: str = None  # type: ignore[assignment]
    description: str = None  # type: ignore[assignment]
    required: bool = None  # type: ignore[assignment]
    params: Struct = None  # type: ignore[assignment]


class AgentCapabilities(_Shape):
    streaming: bool = None  # type: ignore[assignment]
    pushNotifications: bool = None  # type: ignore[assignment]
    extensions: list[AgentExtension] = None  # type: ignore[assignment]
    extendedAgentCard: bool = None  # type: ignore[assignment]


class StringList(_Shape):
    items: list[str] = Field(None, alias="list")  # type: ignore[arg-type]


class SecurityRequirement(_Shape):
    schemes: dict[str, StringList] = None  # type: ignore[assignment]


class AgentSkill(_Shape):
    id: str
    name: str
    description: str
    tags: list[str]
    examples: list[str] = None  # type: ignore[assignment]
    inputModes: list[str] = None  # type: ignore[assignment]
    outputModes: list[str] = None  # type: ignore[assignment]
    securityRequirements: list[SecurityRequirement] = None  # type: ignore[assignment]


class AgentCardSignature(_Shape):
    protected: str
    signature: str
    header: Struct = None  # type: ignore[assignment]


class APIKeySecurityScheme(_Shape):
    location: str
    name: str
    description: str = None  # type: ignore[assignment]


class HTTPAuthSecurityScheme(_Shape):
    scheme: str
    description: str = None  # type: ignore[assignment]
    bearerFormat: str = None  # type: ignore[assignment]


class AuthorizationCodeOAuthFlow(_Shape):
    authorizationUrl: str
    tokenUrl: str
    scopes: dict[str, str]
    refreshUrl: str = None  # type: ignore[assignment]
    pkceRequired: bool = None  # type: ignore[assignment]


class ClientCredentialsOAuthFlow(_Shape):
    tokenUrl: str
    scopes: dict[str, str]
    refreshUrl: str = None  # type: ignore[assignment]


class DeviceCodeOAuthFlow(_Shape):
    deviceAuthorizationUrl: str
    tokenUrl: str
    scopes: dict[str, str]
    refreshUrl: str = None  # type: ignore[assignment]


class ImplicitOAuthFlow(_Shape):  # deprecated in 1.0, still in the proto
    authorizationUrl: str = None  # type: ignore[assignment]
    refreshUrl: str = None  # type: ignore[assignment]
    scopes: dict[str, str] = None  # type: ignore[assignment]


class PasswordOAuthFlow(_Shape):  # deprecated in 1.0, still in the proto
    tokenUrl: str = None  # type: ignore[assignment]
    refreshUrl: str = None  # type: ignore[assignment]
    scopes: dict[str, str] = None  # type: ignore[assignment]


class OAuthFlows(_OneOf):
    authorizationCode: AuthorizationCodeOAuthFlow = None  # type: ignore[assignment]
    clientCredentials: ClientCredentialsOAuthFlow = None  # type: ignore[assignment]
    implicit: ImplicitOAuthFlow = None  # type: ignore[assignment]
    password: PasswordOAuthFlow = None  # type: ignore[assignment]
    deviceCode: DeviceCodeOAuthFlow = None  # type: ignore[assignment]


class OAuth2SecurityScheme(_Shape):
    flows: OAuthFlows
    description: str = None  # type: ignore[assignment]
    oauth2MetadataUrl: str = None  # type: ignore[assignment]


class OpenIdConnectSecurityScheme(_Shape):
    openIdConnectUrl: str
    description: str = None  # type: ignore[assignment]


class MutualTlsSecurityScheme(_Shape):
    description: str = None  # type: ignore[assignment]


class SecurityScheme(_OneOf):
    apiKeySecurityScheme: APIKeySecurityScheme = None  # type: ignore[assignment]
    httpAuthSecurityScheme: HTTPAuthSecurityScheme = None  # type: ignore[assignment]
    oauth2SecurityScheme: OAuth2SecurityScheme = None  # type: ignore[assignment]
    openIdConnectSecurityScheme: OpenIdConnectSecurityScheme = None  # type: ignore[assignment]
    mtlsSecurityScheme: MutualTlsSecurityScheme = None  # type: ignore[assignment]


class AgentCard(_Shape):
    name: str
    description: str
    supportedInterfaces: list[AgentInterface]
    version: str
    capabilities: AgentCapabilities
    defaultInputModes: list[str]
    defaultOutputModes: list[str]
    skills: list[AgentSkill]
    provider: AgentProvider = None  # type: ignore[assignment]
    documentationUrl: str = None  # type: ignore[assignment]
    securitySchemes: dict[str, SecurityScheme] = None  # type: ignore[assignment]
    securityRequirements: list[SecurityRequirement] = None  # type: ignore[assignment]
    signatures: list[AgentCardSignature] = None  # type: ignore[assignment]
    iconUrl: str = None  # type: ignore[assignment]


# -- JSON-RPC (§9.5): an error object holds only code, message and data ------------------------


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


class ErrorInfo(_Shape):
    """google.rpc.ErrorInfo, as an entry of a 1.0 error's `data` array."""

    type: Literal["type.googleapis.com/google.rpc.ErrorInfo"] = Field(alias="@type")
    reason: str
    domain: str
    metadata: dict[str, str] = None  # type: ignore[assignment]


SHAPES: dict[str, TypeAdapter[Any]] = {
    cls.__name__: TypeAdapter(cls)
    for cls in (
        Task, Message, Part, Artifact, TaskStatusUpdateEvent, TaskArtifactUpdateEvent,
        SendMessageResponse, StreamResponse, ListTasksResponse, TaskPushNotificationConfig,
        ListTaskPushNotificationConfigsResponse, AgentCard, JSONRPCErrorResponse,
        JSONRPCSuccessResponse, ErrorInfo,
    )
}


def problem(shape: str, obj: Any) -> str | None:
    """None if `obj` is a valid 1.0 `shape`; else a one-line description of the first problem."""
    try:
        SHAPES[shape].validate_python(obj)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "(root)"
        return f"not a valid 1.0 {shape}: {where}: {first['msg']}"
    return None
