"""The one exception hierarchy of the server.

    A2AError                      code, fixed default message, optional safe `data`
    ├── ParseError                -32700  body is not JSON
    ├── InvalidRequest            -32600  not a JSON-RPC 2.0 request object
    ├── MethodNotFound            -32601
    ├── InvalidParams             -32602  params missing, mistyped or invalid
    ├── InternalError             -32603  anything unexpected (details go to the log only)
    ├── TaskNotFound              -32001
    ├── TaskNotCancelable         -32002
    ├── PushNotificationNotSupported  -32003
    ├── UnsupportedOperation      -32004
    ├── ContentTypeNotSupported   -32005
    ├── InvalidAgentResponse      -32006
    ├── AuthenticatedExtendedCardNotConfigured  -32007
    ├── ExtensionSupportRequired  -32008  (1.0: a required extension was not declared)
    ├── VersionNotSupported       -32009  (1.0: the A2A-Version is not served)
    ├── TicketNotFound            -32050  (server-defined: the deferred-tickets extension)
    ├── TicketConflict            -32051  (server-defined: settled already, differently)
    ├── PushConfigNotFound        -32052  (server-defined: no such push notification config)
    └── TooManyPendingTasks       -32053  (server-defined: --max-pending-tasks reached)

Only `jsonrpc.py` turns these into wire errors (on the 1.0 path with a google.rpc.ErrorInfo
whose `reason` each class names). The message given to the constructor must be safe to show
a client: never pass `str(exception)` here.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "A2AError",
    "AuthenticatedExtendedCardNotConfigured",
    "ContentTypeNotSupported",
    "ExtensionSupportRequired",
    "InternalError",
    "InvalidAgentResponse",
    "InvalidParams",
    "InvalidRequest",
    "MethodNotFound",
    "ParseError",
    "PushConfigNotFound",
    "PushNotificationNotSupported",
    "TaskNotCancelable",
    "TaskNotFound",
    "TicketConflict",
    "TicketNotFound",
    "TooManyPendingTasks",
    "UnsupportedOperation",
    "VersionNotSupported",
]


class A2AError(Exception):
    """Base of every error the server reports to a client."""

    code: ClassVar[int] = -32603
    reason: ClassVar[str] = "INTERNAL_ERROR"
    default_message: ClassVar[str] = "Internal error"

    def __init__(self, message: str | None = None, data: Any = None) -> None:
        self.message = message or self.default_message
        self.data = data
        super().__init__(self.message)


class ParseError(A2AError):
    code = -32700
    reason = "PARSE_ERROR"
    default_message = "Invalid JSON payload"


class InvalidRequest(A2AError):
    code = -32600
    reason = "INVALID_REQUEST"
    default_message = "Request payload validation error"


class MethodNotFound(A2AError):
    code = -32601
    reason = "METHOD_NOT_FOUND"
    default_message = "Method not found"


class InvalidParams(A2AError):
    code = -32602
    reason = "INVALID_PARAMS"
    default_message = "Invalid parameters"

    def __init__(self, message: str | None = None, data: Any = None, *, field: str | None = None):
        super().__init__(message, data)
        self.field = field  # the invalid field's path, as the client wrote it, when known


class InternalError(A2AError):
    code = -32603
    reason = "INTERNAL_ERROR"
    default_message = "Internal error"

    @classmethod
    def logged(cls, error_id: str) -> InternalError:
        """The error of a failure logged with `error_id` (`logs.failure`): the client gets
        the id, to quote, and nothing of the exception."""
        return cls(
            f"Internal error (error id {error_id}); the server's log has the details.",
            {"errorId": error_id},
        )


class TaskNotFound(A2AError):
    code = -32001
    reason = "TASK_NOT_FOUND"
    default_message = "Task not found"


class TaskNotCancelable(A2AError):
    code = -32002
    reason = "TASK_NOT_CANCELABLE"
    default_message = "Task cannot be canceled"


class PushNotificationNotSupported(A2AError):
    code = -32003
    reason = "PUSH_NOTIFICATION_NOT_SUPPORTED"
    default_message = "Push Notification is not supported"


class UnsupportedOperation(A2AError):
    code = -32004
    reason = "UNSUPPORTED_OPERATION"
    default_message = "This operation is not supported"


class ContentTypeNotSupported(A2AError):
    code = -32005
    reason = "CONTENT_TYPE_NOT_SUPPORTED"
    default_message = "Incompatible content types"


class InvalidAgentResponse(A2AError):
    code = -32006
    reason = "INVALID_AGENT_RESPONSE"
    default_message = "Invalid agent response"


class AuthenticatedExtendedCardNotConfigured(A2AError):
    code = -32007
    reason = "EXTENDED_AGENT_CARD_NOT_CONFIGURED"
    default_message = "Authenticated Extended Card is not configured"


class ExtensionSupportRequired(A2AError):
    code = -32008
    reason = "EXTENSION_SUPPORT_REQUIRED"
    default_message = "A required extension was not declared"


class VersionNotSupported(A2AError):
    code = -32009
    reason = "VERSION_NOT_SUPPORTED"
    default_message = "This A2A version is not supported"


class TicketNotFound(A2AError):
    code = -32050
    reason = "TICKET_NOT_FOUND"
    default_message = "Ticket not found"


class TicketConflict(A2AError):
    code = -32051
    reason = "TICKET_CONFLICT"
    default_message = "Ticket already settled with a different result"


class PushConfigNotFound(A2AError):
    code = -32052
    reason = "PUSH_CONFIG_NOT_FOUND"
    default_message = "Push notification config not found"


class TooManyPendingTasks(A2AError):
    code = -32053
    reason = "TOO_MANY_PENDING_TASKS"
    default_message = "Too many tasks not yet ended; wait for some to end, or cancel some"
