"""The push notification config methods (spec §7.5-7.8): set, get, list, delete.

Configs live in the task store. A config set without an `id` gets the id `default`
(`calls.DEFAULT_PUSH_ID`, filled in by the codecs): clients that use no ids have one config
per task, which the next id-less set replaces (as in the 0.3 SDK); clients that want several
give ids. Its URL passes the SSRF guard (`push_guard`) or the call fails with -32602 saying
why; an unknown task is -32001, getting an unknown config -32052. Deleting is idempotent: a
config that is not there (any more) is deleted already.
"""

from __future__ import annotations

from a2a_server import calls
from a2a_server.errors import InvalidParams, PushConfigNotFound
from a2a_server.handler import CallContext, RequestHandler
from a2a_server.model import PushConfig
from a2a_server.push_guard import BlockedURL, check_url

__all__ = ["checked", "delete_config", "get_config", "list_configs", "set_config"]

PushResult = tuple[str, PushConfig]
"""A task id and one of its configs: what set and get answer (the codec shapes it)."""


async def checked(handler: RequestHandler, config: PushConfig) -> PushConfig:
    """The config as it will be stored, once its URL has passed the guard."""
    try:
        await check_url(
            config.url, handler.push_allow_hosts, resolve=handler.resolve, unresolved_ok=True
        )
    except BlockedURL as exc:
        raise InvalidParams(f"pushNotificationConfig.url: {exc}") from None
    for name, value in (("token", config.token), ("authentication.credentials", config.credentials)):
        if value is not None and not _header_safe(value):
            raise InvalidParams(
                f"pushNotificationConfig.{name} must be printable ASCII (it is sent as a header)"
            )
    return config


def _header_safe(value: str) -> bool:
    return value.isascii() and value.isprintable()


async def _known(handler: RequestHandler, task_id: str, ctx: CallContext) -> None:
    await handler.task_of(task_id, ctx)  # TaskNotFound: unknown, or another caller's


async def set_config(handler: RequestHandler, req: calls.SetPushConfig, ctx: CallContext) -> PushResult:
    await _known(handler, req.task_id, ctx)
    config = await checked(handler, req.config)
    await handler.store.put_push_config(req.task_id, config)
    return req.task_id, config


async def get_config(handler: RequestHandler, req: calls.GetPushConfig, ctx: CallContext) -> PushResult:
    await _known(handler, req.task_id, ctx)
    for config in await handler.store.push_configs(req.task_id):
        if req.config_id is None or config.id == req.config_id:
            return req.task_id, config
    raise PushConfigNotFound(f"Push notification config not found for task {req.task_id}")


async def list_configs(
    handler: RequestHandler, req: calls.TaskRef, ctx: CallContext
) -> tuple[str, list[PushConfig]]:
    await _known(handler, req.id, ctx)
    return req.id, await handler.store.push_configs(req.id)


async def delete_config(handler: RequestHandler, req: calls.PushConfigRef, ctx: CallContext) -> None:
    await _known(handler, req.task_id, ctx)
    await handler.store.delete_push_config(req.task_id, req.config_id)
