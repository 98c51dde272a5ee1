"""The method table: every JSON-RPC method the server answers, in one place.

name -> its protocol version, how its params are parsed (into a request of `calls.py`), the
handler that answers, and how the result goes out (or, for a streaming method, each frame).
`jsonrpc.py` dispatches from this table alone; nothing registers a method anywhere else.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from a2a_server import push_api, ticket_api
from a2a_server.errors import AuthenticatedExtendedCardNotConfigured, UnsupportedOperation
from a2a_server.handler import CallContext, RequestHandler
from a2a_server.model import Frame
from a2a_server.protocol import draft, tickets, v0_3, v1_0

__all__ = ["EXTENSION", "METHODS", "MethodSpec"]

Call = Callable[[RequestHandler, Any, CallContext], Awaitable[Any]]
Parse = Callable[[dict[str, Any], bool], Any]  # (params, lenient) -> request

EXTENSION = "ext"
"""The `version` of our extension methods: the same wire whichever version the client speaks."""


@dataclass(frozen=True, slots=True)
class MethodSpec:
    version: str  # "0.3", "1.0", or EXTENSION
    parse: Parse | None  # None: the method takes no params
    call: Call
    encode: Callable[[Any], Any] = lambda result: result
    frame: Callable[[Frame], Any] | None = None  # streaming methods: one frame's JSON
    # a dialect some clients speak on this method: (does this call speak it?, its output)
    dialect: tuple[Callable[[dict[str, Any], str | None], bool], MethodSpec] | None = None

    @property
    def streaming(self) -> bool:
        return self.frame is not None


async def _extended_card(handler: RequestHandler, params: Any, ctx: CallContext) -> Any:
    """The extended card, to a caller the edge authenticated (every caller that gets here)."""
    if handler.extended_card is None:
        raise AuthenticatedExtendedCardNotConfigured()
    return handler.extended_card


async def _extended_card_v1(handler: RequestHandler, params: Any, ctx: CallContext) -> Any:
    if handler.extended_card is None:
        # 1.0 §3.1.11: not declared in the card (capabilities.extendedAgentCard) is -32004
        raise UnsupportedOperation("This agent does not declare an extended agent card.")
    return handler.extended_card


def _pair(result: tuple[str, Any]) -> Any:
    return v0_3.push_config_json(*result)


def _pairs(result: tuple[str, Any]) -> Any:
    return v0_3.push_configs_json(*result)


def _pair_v1(result: tuple[str, Any]) -> Any:
    return v1_0.push_config_json(*result)


def _pairs_v1(result: tuple[str, Any]) -> Any:
    return v1_0.push_configs_json(*result)


def _none(params: dict[str, Any], lenient: bool = False) -> None:
    return None


_V03 = v0_3.VERSION
_V10 = v1_0.VERSION

METHODS: dict[str, MethodSpec] = {
    "message/send": MethodSpec(
        _V03, v0_3.parse_send, RequestHandler.send_message, v0_3.send_result_json,
        dialect=(draft.speaks, MethodSpec(
            _V03, v0_3.parse_send, RequestHandler.send_message, draft.send_result_json
        )),
    ),
    "message/stream": MethodSpec(
        _V03, v0_3.parse_send, RequestHandler.stream_message, frame=v0_3.frame_json,
        dialect=(draft.speaks, MethodSpec(
            _V03, v0_3.parse_send, RequestHandler.stream_message, frame=draft.frame_json
        )),
    ),
    "tasks/get": MethodSpec(_V03, v0_3.parse_get_task, RequestHandler.get_task, v0_3.task_json),
    "tasks/cancel": MethodSpec(
        _V03, v0_3.parse_task_ref, RequestHandler.cancel_task, v0_3.task_json
    ),
    "tasks/resubscribe": MethodSpec(
        _V03, v0_3.parse_task_ref, RequestHandler.resubscribe, frame=v0_3.frame_json
    ),
    "tasks/pushNotificationConfig/set": MethodSpec(
        _V03, v0_3.parse_set_push_config, push_api.set_config, _pair
    ),
    "tasks/pushNotificationConfig/get": MethodSpec(
        _V03, v0_3.parse_get_push_config, push_api.get_config, _pair
    ),
    "tasks/pushNotificationConfig/list": MethodSpec(
        _V03, v0_3.parse_task_ref, push_api.list_configs, _pairs
    ),
    "tasks/pushNotificationConfig/delete": MethodSpec(
        _V03, v0_3.parse_push_config_ref, push_api.delete_config
    ),
    "agent/getAuthenticatedExtendedCard": MethodSpec(_V03, None, _extended_card, v0_3.card_json),
    # protocol 1.0 (PascalCase, ProtoJSON)
    "SendMessage": MethodSpec(
        _V10, v1_0.parse_send, RequestHandler.send_message, v1_0.send_result_json
    ),
    "SendStreamingMessage": MethodSpec(
        _V10, v1_0.parse_send, RequestHandler.stream_message, frame=v1_0.frame_json
    ),
    "GetTask": MethodSpec(_V10, v1_0.parse_get_task, RequestHandler.get_task, v1_0.task_json),
    "ListTasks": MethodSpec(
        _V10, v1_0.parse_list_tasks, RequestHandler.list_tasks, v1_0.list_tasks_json
    ),
    "CancelTask": MethodSpec(
        _V10, v1_0.parse_task_ref, RequestHandler.cancel_task, v1_0.task_json
    ),
    "SubscribeToTask": MethodSpec(
        _V10, v1_0.parse_task_ref, RequestHandler.resubscribe, frame=v1_0.frame_json
    ),
    "CreateTaskPushNotificationConfig": MethodSpec(
        _V10, v1_0.parse_set_push_config, push_api.set_config, _pair_v1
    ),
    "GetTaskPushNotificationConfig": MethodSpec(
        _V10, v1_0.parse_get_push_config, push_api.get_config, _pair_v1
    ),
    "ListTaskPushNotificationConfigs": MethodSpec(
        _V10, v1_0.parse_list_push_configs, push_api.list_configs, _pairs_v1
    ),
    "DeleteTaskPushNotificationConfig": MethodSpec(
        _V10, v1_0.parse_push_config_ref, push_api.delete_config
    ),
    "GetExtendedAgentCard": MethodSpec(_V10, _none, _extended_card_v1, v1_0.card_json),
    # the deferred-tickets extension (extensions.TICKETS_EXTENSION)
    "a2aserver.tickets/list": MethodSpec(
        EXTENSION, tickets.parse_list, ticket_api.list_tickets, tickets.tickets_json
    ),
    "a2aserver.tickets/get": MethodSpec(
        EXTENSION, tickets.parse_get, ticket_api.get_ticket, tickets.ticket_json
    ),
    "a2aserver.tickets/resolve": MethodSpec(
        EXTENSION, tickets.parse_resolve, ticket_api.resolve_ticket, tickets.ticket_json
    ),
    "a2aserver.tickets/fail": MethodSpec(
        EXTENSION, tickets.parse_fail, ticket_api.fail_ticket, tickets.ticket_json
    ),
}
