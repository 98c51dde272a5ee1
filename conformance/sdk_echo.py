"""A reference A2A echo server built only with the official a2a-sdk 1.3.0.

The conformance suite can be aimed at this server as well as at ours. It shows
that the suite checks the A2A protocol and is not fitted to our own server.

The SDK natively speaks A2A 1.0. Here its JSON-RPC route is mounted with
``enable_v0_3_compat=True``, so one endpoint serves both dialects. Slash-named
0.3 methods (``message/send``, ``tasks/get`` ...) go to the SDK's 0.3 adapter.
PascalCase 1.0 methods (``SendMessage`` ...) go to the 1.0 handler. Both share
one in-memory task store.

Run it::

    python -m conformance.sdk_echo --port 9998 [--host 127.0.0.1] [--push]

or in-process::

    from conformance.sdk_echo import build_app
    app = build_app("http://127.0.0.1:9998/")   # any ASGI server / httpx.ASGITransport

The agent: for a user message with text T it emits the Task (submitted), a
``working`` status update, and the artifact ``echo: T`` in two chunks (``echo: ``
with append=false, then ``T`` with append=true and lastChunk=true, both under one
artifactId). Then it emits ``completed``. If T starts with ``slow``, the agent
waits ``slow_seconds`` (default 30) after ``working`` and before the artifact.
That leaves a live task to ``tasks/cancel`` or ``tasks/resubscribe`` to.
Cancel emits ``canceled``. It honours the suite's triggers too: ``conformance:park`` is
slow in the same way, and ``conformance:input-required`` ends the first turn
``input-required`` (the next message is echoed and completes the task).

Needs ``a2a-sdk[http-server]==1.3.0`` (starlette + sse-starlette) and uvicorn.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

try:
    from a2a.server.routes import (
        create_agent_card_routes,
        create_jsonrpc_routes,
    )
    from starlette.applications import Starlette
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "conformance.sdk_echo needs the SDK HTTP server extra: "
        'pip install "a2a-sdk[http-server]==1.3.0" (starlette, sse-starlette)'
    ) from exc

from a2a.helpers.proto_helpers import new_task_from_user_message, new_text_part
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.tasks import (
    BasePushNotificationSender,
    InMemoryPushNotificationConfigStore,
    InMemoryTaskStore,
    TaskUpdater,
)
from a2a.types import (
    AgentCapabilities,
    AgentCard,
    AgentInterface,
    AgentSkill,
)
from a2a.utils.constants import (
    AGENT_CARD_WELL_KNOWN_PATH,
    PROTOCOL_VERSION_0_3,
    PROTOCOL_VERSION_1_0,
    TransportProtocol,
)

__all__ = ["EchoAgentExecutor", "build_agent_card", "build_app", "main"]

SLOW_PREFIX = "slow"
# the suite's documented triggers (conformance/triggers.py), so its checks apply here too
PARK = "conformance:park"
INPUT_REQUIRED = "conformance:input-required"


class EchoAgentExecutor(AgentExecutor):
    """Echoes the user's text back as a two-chunk artifact, then completes."""

    def __init__(self, slow_seconds: float = 30.0) -> None:
        self.slow_seconds = slow_seconds

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        """Emits Task, then working, two artifact chunks and completed."""
        task = context.current_task
        if task is None:
            # First turn: the Task must be the first event (SDK rule). The
            # RequestContext has already given the message its taskId and
            # contextId.
            if context.message is None:
                raise ValueError("execute() called without a message")
            task = new_task_from_user_message(context.message)
            await event_queue.enqueue_event(task)

        updater = TaskUpdater(event_queue, task.id, task.context_id)
        await updater.start_work()

        text = context.get_user_input()
        if text.strip() == INPUT_REQUIRED and context.current_task is None:
            await updater.requires_input(
                updater.new_agent_message([new_text_part("What is your answer?")])
            )
            return
        if text.strip().lower().startswith(SLOW_PREFIX) or text.strip() == PARK:
            # Cancellable: ActiveTask.cancel() cancels this coroutine.
            await asyncio.sleep(self.slow_seconds)

        artifact_id = str(uuid.uuid4())
        await updater.add_artifact(
            [new_text_part("echo: ")],
            artifact_id=artifact_id,
            name="echo",
            append=False,
            last_chunk=False,
        )
        await updater.add_artifact(
            [new_text_part(text)],
            artifact_id=artifact_id,
            name="echo",
            append=True,
            last_chunk=True,
        )
        await updater.complete()

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        """Emits the canceled status; the SDK then cancels execute()."""
        task_id = context.task_id
        context_id = context.context_id
        if context.current_task is not None:
            task_id = context.current_task.id
            context_id = context.current_task.context_id
        if not task_id or not context_id:
            raise ValueError("cancel() called without a task")
        await TaskUpdater(event_queue, task_id, context_id).cancel()


def build_agent_card(url: str, *, push: bool = False) -> AgentCard:
    """The card served at /.well-known/agent-card.json.

    It has two JSONRPC interfaces on the same URL, one for 1.0 and one for 0.3.
    The SDK's ``agent_card_to_dict`` merges in the 0.3 fields (``url``,
    ``preferredTransport``, ``protocolVersion``). It takes them from the first
    interface whose protocolVersion is 0.x.
    """
    return AgentCard(
        name="SDK Echo Agent",
        description=(
            "Reference echo agent served by the official a2a-sdk 1.3.0 "
            "(JSON-RPC, A2A 1.0 plus the 0.3 compatibility layer)."
        ),
        version="1.0.0",
        supported_interfaces=[
            AgentInterface(
                url=url,
                protocol_binding=TransportProtocol.JSONRPC.value,
                protocol_version=PROTOCOL_VERSION_1_0,
            ),
            AgentInterface(
                url=url,
                protocol_binding=TransportProtocol.JSONRPC.value,
                protocol_version=PROTOCOL_VERSION_0_3,
            ),
        ],
        capabilities=AgentCapabilities(
            streaming=True,
            push_notifications=push,
        ),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=[
            AgentSkill(
                id="echo",
                name="Echo",
                description=(
                    'Replies with "echo: <your text>" as a streamed artifact. '
                    'A message starting with "slow" stays working for a while '
                    "so it can be canceled or resubscribed to."
                ),
                tags=["echo", "test"],
                examples=["hi", "slow hi"],
                input_modes=["text/plain"],
                output_modes=["text/plain"],
            )
        ],
    )


def build_app(
    url: str,
    *,
    push: bool = False,
    slow_seconds: float = 30.0,
    executor: AgentExecutor | None = None,
) -> Starlette:
    """Returns the ASGI app. ``url`` is the public JSON-RPC URL.

    The card advertises ``url``. JSON-RPC is served at its path (``/`` if it
    has none). The card is at ``/.well-known/agent-card.json``.

    ``executor`` replaces the echo agent (the benchmarks give their own).
    ``push=True`` turns on the SDK's in-memory push config store and its
    ``BasePushNotificationSender``, and sets ``capabilities.pushNotifications``.
    Push is off by default because the SDK posts 1.0-shaped bodies
    (StreamResponse) even when a 0.3 client registered the config.
    """
    rpc_path = urlsplit(url).path or "/"
    card = build_agent_card(url, push=push)

    http_client = None
    push_store = None
    push_sender = None
    if push:
        import httpx  # a2a-sdk dependency

        http_client = httpx.AsyncClient(timeout=10.0)
        push_store = InMemoryPushNotificationConfigStore()
        push_sender = BasePushNotificationSender(http_client, push_store)

    handler = DefaultRequestHandler(
        agent_executor=executor or EchoAgentExecutor(slow_seconds=slow_seconds),
        task_store=InMemoryTaskStore(),
        agent_card=card,
        push_config_store=push_store,
        push_sender=push_sender,
    )

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await handler.aclose()
            if http_client is not None:
                await http_client.aclose()

    routes = [
        *create_agent_card_routes(card, card_url=AGENT_CARD_WELL_KNOWN_PATH),
        *create_jsonrpc_routes(handler, rpc_path, enable_v0_3_compat=True),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.agent_card = card
    app.state.request_handler = handler
    return app


def main(argv: list[str] | None = None) -> None:
    """Command-line entry point: serves build_app() under uvicorn."""
    parser = argparse.ArgumentParser(
        prog="python -m conformance.sdk_echo",
        description="Reference A2A echo server built with a2a-sdk 1.3.0 (JSON-RPC, 0.3 compat on).",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9998)
    parser.add_argument(
        "--url",
        help="public JSON-RPC URL to put on the card (default http://HOST:PORT/)",
    )
    parser.add_argument(
        "--push",
        action="store_true",
        help="enable the SDK in-memory push notifications",
    )
    parser.add_argument(
        "--slow-seconds",
        type=float,
        default=30.0,
        help='how long a "slow ..." message stays working (default 30)',
    )
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)

    import uvicorn

    url = args.url or f"http://{args.host}:{args.port}/"
    logging.basicConfig(level=args.log_level.upper())
    app = build_app(url, push=args.push, slow_seconds=args.slow_seconds)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        workers=1,
        access_log=False,
        log_level=args.log_level.lower(),
    )


if __name__ == "__main__":
    main()
