"""Pydantic models of A2A 0.3.0 request params: the only place client input is validated.

Rules worth knowing (spec §6, schema `MessageSendParams`):
- `messageId`, `role`, `parts` (non-empty) and each part's `kind` are required; a message's own
  `kind` may be omitted but, if present, must be "message".
- `data` of a data part must be a JSON object; a file has exactly one of `bytes` or `uri`.
- `null` for an optional field (`taskId`, `contextId`, `metadata`, ...) means absent.
Unknown fields are ignored, so what we store is always schema-valid.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from a2a_server import model

__all__ = [
    "DataPart",
    "DeleteTaskPushNotificationConfigParams",
    "FileContent",
    "FilePart",
    "GetTaskPushNotificationConfigParams",
    "Message",
    "MessageSendConfiguration",
    "MessageSendParams",
    "Part",
    "PushNotificationAuthenticationInfo",
    "PushNotificationConfig",
    "TaskIdParams",
    "TaskPushNotificationConfig",
    "TaskQueryParams",
    "TextPart",
]


class _Wire(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True, strict=True)

    def wire(self) -> dict[str, Any]:
        """The JSON form: camelCase, absent fields left out."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


class TextPart(_Wire):
    kind: Literal["text"]
    text: str
    metadata: dict[str, Any] | None = None

    def to_model(self) -> model.Part:
        return model.TextPart(self.text, self.metadata)


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

    def to_model(self) -> model.Part:
        f = self.file
        return model.FilePart(f.bytes, f.uri, f.name, f.mime_type, self.metadata)


class DataPart(_Wire):
    kind: Literal["data"]
    data: dict[str, Any]
    metadata: dict[str, Any] | None = None

    def to_model(self) -> model.Part:
        return model.DataPart(self.data, self.metadata)


Part = Annotated[TextPart | FilePart | DataPart, Field(discriminator="kind")]


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

    def to_model(self) -> model.Message:
        return model.Message(
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


def message_from_json(obj: dict[str, Any]) -> model.Message:
    """A 0.3 message (as stored or received) as the neutral model."""
    return Message.model_validate(obj).to_model()
