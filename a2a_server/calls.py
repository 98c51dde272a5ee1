"""What a client asks, version-neutral: the values a codec makes of a method's params.

Each protocol version's codec (`protocol/`) parses its own params into these, and the handler
takes only these, so one handler serves both versions (design §5b).
"""

from __future__ import annotations

from a2a_server.model import Message, Metadata, PushConfig, Task, TaskState
from a2a_server.values import value

__all__ = [
    "DEFAULT_PUSH_ID",
    "GetPushConfig",
    "GetTask",
    "ListTasks",
    "PushConfigRef",
    "SendMessage",
    "SetPushConfig",
    "TaskPage",
    "TaskRef",
]

DEFAULT_PUSH_ID = "default"
"""The id of a push config set without one (as in the 0.3 SDK): the next id-less set
replaces it, so clients that use no ids have one config per task."""


@value
class SendMessage:
    """message/send, message/stream, SendMessage, SendStreamingMessage."""

    message: Message
    blocking: bool = True  # 1.0: not returnImmediately
    history_length: int | None = None
    push_config: PushConfig | None = None  # set inline with the message
    accepted_output_modes: tuple[str, ...] = ()
    metadata: Metadata | None = None


@value
class GetTask:
    id: str
    history_length: int | None = None  # the most recent N messages; None: all


@value
class TaskRef:
    """A call that names one task: cancel, resubscribe / subscribe, list push configs."""

    id: str
    metadata: Metadata | None = None


@value
class ListTasks:
    """ListTasks (1.0): a page of tasks, newest status first."""

    context_id: str | None = None
    status: TaskState | None = None
    page_size: int = 50
    page_token: str | None = None
    history_length: int | None = None
    status_timestamp_after: str | None = None  # UTC ISO-8601
    include_artifacts: bool = False


@value
class TaskPage:
    tasks: list[Task]
    next_page_token: str  # "" on the last page
    page_size: int
    total_size: int


@value
class SetPushConfig:
    task_id: str
    config: PushConfig


@value
class GetPushConfig:
    task_id: str
    config_id: str | None = None  # 0.3 allows leaving it out: the task's first config


@value
class PushConfigRef:
    task_id: str
    config_id: str
