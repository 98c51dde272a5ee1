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
from a2a_server.errors import AuthenticatedExtendedCardNotConfigured
from a2a_server.handler import CallContext, RequestHandler
from a2a_server.model import Frame
from a2a_server.protocol import tickets, v0_3

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

    @property
    def streaming(self) -> bool:
        return self.frame is not None


async def _extended_card(handler: RequestHandler, params: Any, ctx: CallContext) -> Any:
    raise AuthenticatedExtendedCardNotConfigured()


def _pair(result: tuple[str, Any]) -> Any:
    return v0_3.push_config_json(*result)


def _pairs(result: tuple[str, Any]) -> Any:
    return v0_3.push_configs_json(*result)


_V03 = v0_3.VERSION

METHODS: dict[str, MethodSpec] = {
    "message/send": MethodSpec(
        _V03, v0_3.parse_send, RequestHandler.send_message, v0_3.send_result_json
    ),
    "message/stream": MethodSpec(
        _V03, v0_3.parse_send, RequestHandler.stream_message, frame=v0_3.frame_json
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
    "agent/getAuthenticatedExtendedCard": MethodSpec(_V03, None, _extended_card),
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
