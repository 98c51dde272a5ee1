"""The push notification config methods (spec §7.5-7.8): set, get, list, delete.

Configs live in the task store. A config set without an `id` gets the id `default`: clients
that use no ids have one config per task, which the next id-less set replaces (as in the 0.3
SDK); clients that want several give ids. Its URL passes the SSRF guard (`push_guard`) or the call fails with -32602 saying why; an unknown task is -32001, an
unknown config -32052.
"""

from __future__ import annotations

from typing import Any

from a2a_server.errors import InvalidParams, PushConfigNotFound, TaskNotFound
from a2a_server.handler import CallContext, RequestHandler
from a2a_server.protocol.v0_3 import (
    DeleteTaskPushNotificationConfigParams,
    GetTaskPushNotificationConfigParams,
    PushNotificationConfig,
    TaskIdParams,
    TaskPushNotificationConfig,
)
from a2a_server.push_guard import BlockedURL, check_url

DEFAULT_ID = "default"

__all__ = ["DEFAULT_ID", "delete_config", "get_config", "list_configs", "save_config", "set_config"]


async def save_config(
    handler: RequestHandler, task_id: str, config: PushNotificationConfig
) -> dict[str, Any]:
    """Check and store a config for a task that exists; returns it, with its id."""
    stored = await checked(handler, config)
    await handler.store.put_push_config(task_id, stored)
    return stored


async def checked(handler: RequestHandler, config: PushNotificationConfig) -> dict[str, Any]:
    """The config as it will be stored, once its URL has passed the guard."""
    try:
        await check_url(
            config.url, handler.push_allow_hosts, resolve=handler.resolve, unresolved_ok=True
        )
    except BlockedURL as exc:
        raise InvalidParams(f"pushNotificationConfig.url: {exc}") from None
    for name, value in (
        ("token", config.token),
        ("authentication.credentials", config.authentication.credentials if config.authentication else None),
    ):
        if value is not None and not _header_safe(value):
            raise InvalidParams(f"pushNotificationConfig.{name} must be printable ASCII (it is sent as a header)")
    stored = config.wire()
    stored.setdefault("id", DEFAULT_ID)
    return stored


def _header_safe(value: str) -> bool:
    return value.isascii() and value.isprintable()


async def _known(handler: RequestHandler, task_id: str) -> None:
    if await handler.store.get_task(task_id) is None:
        raise TaskNotFound(f"Task {task_id} not found")


def _pair(task_id: str, config: dict[str, Any]) -> dict[str, Any]:
    return {"taskId": task_id, "pushNotificationConfig": config}


async def set_config(handler: RequestHandler, params: TaskPushNotificationConfig, ctx: CallContext) -> Any:
    await _known(handler, params.task_id)
    return _pair(params.task_id, await save_config(handler, params.task_id, params.push_notification_config))


async def get_config(
    handler: RequestHandler, params: GetTaskPushNotificationConfigParams, ctx: CallContext
) -> Any:
    await _known(handler, params.id)
    configs = await handler.store.push_configs(params.id)
    wanted = params.push_notification_config_id
    for config in configs:
        if wanted is None or config["id"] == wanted:
            return _pair(params.id, config)
    raise PushConfigNotFound(f"Push notification config not found for task {params.id}")


async def list_configs(handler: RequestHandler, params: TaskIdParams, ctx: CallContext) -> Any:
    await _known(handler, params.id)
    return [_pair(params.id, c) for c in await handler.store.push_configs(params.id)]


async def delete_config(
    handler: RequestHandler, params: DeleteTaskPushNotificationConfigParams, ctx: CallContext
) -> Any:
    await _known(handler, params.id)
    if not await handler.store.delete_push_config(params.id, params.push_notification_config_id):
        raise PushConfigNotFound(
            f"Push notification config {params.push_notification_config_id} not found"
        )
    return None
