"""The method table: every JSON-RPC method the server answers, in one place.

name -> params model, handler, streaming or not. `jsonrpc.py` dispatches from this table
alone; the agent card and the docs read it too. Nothing registers a method anywhere else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from a2a_server import push_api, ticket_api
from a2a_server.errors import AuthenticatedExtendedCardNotConfigured
from a2a_server.handler import CallContext, RequestHandler
from a2a_server.protocol.v0_3 import (
    DeleteTaskPushNotificationConfigParams,
    GetTaskPushNotificationConfigParams,
    MessageSendParams,
    TaskIdParams,
    TaskPushNotificationConfig,
    TaskQueryParams,
)

__all__ = ["METHODS", "MethodSpec"]

Call = Callable[[RequestHandler, Any, CallContext], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class MethodSpec:
    params: type[BaseModel] | None
    call: Call
    streaming: bool = False
    takes_message: bool = False  # params carry a `message` (lenient mode may fill it in)


async def _extended_card(handler: RequestHandler, params: Any, ctx: CallContext) -> Any:
    raise AuthenticatedExtendedCardNotConfigured()


METHODS: dict[str, MethodSpec] = {
    "message/send": MethodSpec(
        MessageSendParams, RequestHandler.send_message, takes_message=True
    ),
    "message/stream": MethodSpec(
        MessageSendParams, RequestHandler.stream_message, streaming=True, takes_message=True
    ),
    "tasks/get": MethodSpec(TaskQueryParams, RequestHandler.get_task),
    "tasks/cancel": MethodSpec(TaskIdParams, RequestHandler.cancel_task),
    "tasks/resubscribe": MethodSpec(TaskIdParams, RequestHandler.resubscribe, streaming=True),
    "tasks/pushNotificationConfig/set": MethodSpec(TaskPushNotificationConfig, push_api.set_config),
    "tasks/pushNotificationConfig/get": MethodSpec(
        GetTaskPushNotificationConfigParams, push_api.get_config
    ),
    "tasks/pushNotificationConfig/list": MethodSpec(TaskIdParams, push_api.list_configs),
    "tasks/pushNotificationConfig/delete": MethodSpec(
        DeleteTaskPushNotificationConfigParams, push_api.delete_config
    ),
    "agent/getAuthenticatedExtendedCard": MethodSpec(None, _extended_card),
    # the deferred-tickets extension (ticket_api.TICKETS_EXTENSION)
    "a2aserver.tickets/list": MethodSpec(ticket_api.ListParams, ticket_api.list_tickets),
    "a2aserver.tickets/get": MethodSpec(ticket_api.GetParams, ticket_api.get_ticket),
    "a2aserver.tickets/resolve": MethodSpec(ticket_api.ResolveParams, ticket_api.resolve_ticket),
    "a2aserver.tickets/fail": MethodSpec(ticket_api.FailParams, ticket_api.fail_ticket),
}
