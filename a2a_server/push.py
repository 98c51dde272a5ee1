"""Push notification delivery: at least once, in order per config, never in the frame path.

A frame that a webhook cares about (design: `working` after `submitted`, every ticket
settlement, `input-required`, `auth-required`, every terminal state) queues the Task as it is
then, for each of the task's push configs, in the store's outbox, in the same transaction
as the frame. This worker, on every replica, sends them: for each config only its oldest
delivery, claimed in the store for the length of one attempt (so exactly one replica makes
each attempt, and a replica that dies leaves its claims to lapse into another's hands), so
notifications arrive in order; each POST in a task of its own with a timeout, so a slow or
dead webhook holds up only its own config. A failure (an error or a non-2xx answer) is retried
with exponential backoff (capped at `push_backoff_max_seconds`) and jitter, in order, for
`push_retry_window` (a day: a receiver down for hours loses nothing), then dropped with a
log line.

Each POST carries the Task in the protocol version of the client that set the config
(`protocol.push_body`), `X-A2A-Notification-Token` when the config has a token,
`Authorization` from its `authentication` (Bearer or Basic), and, with a signing secret,
`X-A2A-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import random
import time
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from a2a_server.metrics import Metrics
from a2a_server.model import PushConfig
from a2a_server.protocol import push_body
from a2a_server.push_guard import (
    BlockedURL,
    Resolver,
    check_url,
    parse_allow_hosts,
    system_resolver,
)
from a2a_server.settings import Settings
from a2a_server.store.base import Delivery, TaskStore
from a2a_server.store.codec import load_task
from a2a_server.supervisor import Supervisor

__all__ = ["PushSender", "auth_header", "retry_delay", "shown_url", "sign"]

log = logging.getLogger("a2a_server")

_BATCH = 64
_CONCURRENT = 32  # webhook POSTs at once
_POLL_SECONDS = 1.0  # also picks up deliveries another process queued


def sign(secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def retry_delay(attempts: int, settings: Settings) -> float:
    """After `attempts` failed attempts: the backoff doubles from `push_backoff_seconds`, up
    to `push_backoff_max_seconds`, with 50-100 % jitter (webhooks that come back are not all
    hit at once)."""
    base = settings.push_backoff_seconds * 2.0 ** min(attempts - 1, 60)
    return min(base, settings.push_backoff_max_seconds) * (0.5 + random.random() / 2)


def shown_url(url: str) -> str:
    """A webhook URL as a log line may show it: without its query, fragment and user info,
    where clients put tokens."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def auth_header(config: PushConfig) -> str | None:
    """`Authorization` from a config's `authentication`: Bearer <credentials>, or Basic with
    `user:password` credentials (base64-encoded here unless they already are)."""
    if not config.credentials:
        return None
    credentials = config.credentials
    schemes = [s.lower() for s in config.schemes]
    if "basic" in schemes and "bearer" not in schemes:
        if ":" in credentials:
            credentials = base64.b64encode(credentials.encode()).decode()
        return f"Basic {credentials}"
    return f"Bearer {credentials}"


class PushSender:
    def __init__(
        self,
        store: TaskStore,
        settings: Settings,
        supervisor: Supervisor,
        resolve: Resolver = system_resolver,
        metrics: Metrics | None = None,
    ) -> None:
        self._store = store
        self._settings = settings
        self._counted = (metrics or Metrics()).push
        self._supervisor = supervisor
        self._resolve = resolve
        self._allow = parse_allow_hosts(settings.push_allow_hosts)
        self._wake = asyncio.Event()
        self._sending: dict[tuple[str, str], int] = {}  # (task, config) -> the delivery in flight
        self._slots = asyncio.Semaphore(_CONCURRENT)
        # no proxies from the environment: a proxy would resolve the host itself
        self._client = httpx.AsyncClient(
            timeout=settings.push_timeout_seconds, follow_redirects=False, trust_env=False
        )

    @property
    def allow_hosts(self) -> frozenset[str]:
        return self._allow

    def poke(self) -> None:
        """New deliveries were queued: look now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        try:
            while True:
                self._wake.clear()
                try:
                    await self._drain()
                except Exception:
                    log.exception("push delivery pass failed; trying again")
                try:
                    async with asyncio.timeout(_POLL_SECONDS):
                        await self._wake.wait()
                except TimeoutError:
                    pass
        finally:
            await self._client.aclose()

    async def _drain(self) -> None:
        """Take the due head delivery of each config (claimed for as long as one attempt can
        take, so another replica takes it over only if this one dies) and send each."""
        now = time.time()
        hold = self._settings.push_timeout_seconds + 5.0
        for delivery in await self._store.take_deliveries(now, hold, _BATCH):
            key = (delivery.task_id, delivery.config_id)
            if self._sending.get(key) == delivery.id:  # our claim expired while its POST hung
                continue
            # (a different id is the next in line: the one in flight finished, and is gone)
            self._sending[key] = delivery.id
            self._supervisor.spawn(self._deliver(delivery), f"push-{delivery.id}")

    async def _deliver(self, delivery: Delivery) -> None:
        key = (delivery.task_id, delivery.config_id)
        try:
            configs = {c.id: c for c in await self._store.push_configs(delivery.task_id)}
            config = configs.get(delivery.config_id)
            if config is None:  # deleted meanwhile: nobody wants it any more
                await self._store.finish_delivery(delivery, None)
                return
            async with self._slots:
                body, content_type = push_body(config.protocol, load_task(delivery.body))
                problem = await self._post(config, body, content_type)
            if problem is None:
                await self._store.finish_delivery(delivery, None)
                self._counted.labels("delivered").inc()
                return
            now = time.time()
            if now - delivery.created_at >= self._settings.push_retry_window:
                log.warning(
                    "push to %s for task %s dropped after %d attempts over %.0fs: %s",
                    shown_url(config.url), delivery.task_id, delivery.attempts + 1, now - delivery.created_at,
                    problem,
                )
                await self._store.finish_delivery(delivery, None)
                self._counted.labels("dropped").inc()
                return
            delay = retry_delay(delivery.attempts + 1, self._settings)
            log.info("push to %s failed (%s); retry %d in %.1fs", shown_url(config.url), problem,
                     delivery.attempts + 1, delay)
            await self._store.finish_delivery(delivery, now + delay)
            self._counted.labels("retried").inc()
        finally:
            if self._sending.get(key) == delivery.id:
                del self._sending[key]
            self.poke()  # this config's next delivery may be due now

    async def _post(self, config: PushConfig, body: bytes, content_type: str) -> str | None:
        """Send one notification; None when it was accepted, else why not. Any failure is
        an attempt that counts: a webhook can never block its config for good."""
        try:
            async with asyncio.timeout(self._settings.push_timeout_seconds):
                return await self._post_once(config, body, content_type)
        except TimeoutError:
            return "timed out"
        except Exception as exc:
            log.warning("push to %s failed: %s", shown_url(config.url), type(exc).__name__)
            return type(exc).__name__

    async def _post_once(self, config: PushConfig, body: bytes, content_type: str) -> str | None:
        try:
            address = await check_url(config.url, self._allow, resolve=self._resolve, unresolved_ok=False)
        except BlockedURL as exc:
            return str(exc)
        url, extensions, host_header = _pinned(config.url, address)
        headers = {"Content-Type": content_type}
        if host_header:
            headers["Host"] = host_header
        if config.token:
            headers["X-A2A-Notification-Token"] = config.token
        authorization = auth_header(config)
        if authorization:
            headers["Authorization"] = authorization
        if self._settings.push_signing_secret:
            headers["X-A2A-Signature"] = sign(self._settings.push_signing_secret, body, int(time.time()))
        request = self._client.build_request("POST", url, content=body, headers=headers, extensions=extensions)
        response = await self._client.send(request, stream=True)  # the body is never read
        await response.aclose()
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}"


def _pinned(url: str, address: str | None) -> tuple[str, dict[str, Any], str | None]:
    """The URL with its host replaced by the checked address, the TLS server name and the
    Host header that keep the request addressed to the name."""
    if address is None:
        return url, {}, None
    parts = urlsplit(url)
    host = parts.hostname or ""
    literal = f"[{address}]" if ":" in address else address
    netloc = literal + (f":{parts.port}" if parts.port else "")
    host_header = (f"[{host}]" if ":" in host else host) + (f":{parts.port}" if parts.port else "")
    extensions = {"sni_hostname": host} if parts.scheme == "https" else {}
    return urlunsplit(parts._replace(netloc=netloc)), extensions, host_header
