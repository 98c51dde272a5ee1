"""The suite's view of the endpoint: raw JSON-RPC and SSE over HTTP, the card, and a few
tasks shared between checks (made once, on first use).

Nothing here trusts the endpoint: replies are kept as received (status, content type, body)
for the checks to judge.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from conformance.discovery import Interfaces, find_interfaces
from conformance.model import Fail, Skip
from conformance.triggers import COMPLETE, INPUT_REQUIRED, PARK
from conformance.webhook import Webhook

__all__ = ["Event", "Probe", "Reply", "Stream"]

FINAL_STATES = {"completed", "canceled", "failed", "rejected", "input-required", "auth-required"}
TERMINAL_STATES = {"completed", "canceled", "failed", "rejected"}


@dataclass
class Reply:
    status: int
    content_type: str
    body: Any  # the parsed JSON, or None
    text: str

    @property
    def error_code(self) -> int | None:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            code = self.body["error"].get("code")
            return code if isinstance(code, int) else None
        return None

    @property
    def result(self) -> Any:
        return self.body.get("result") if isinstance(self.body, dict) else None


@dataclass
class Event:
    id: str | None
    data: str
    body: Any  # parsed JSON of `data`, or None if it is not JSON


@dataclass
class Stream:
    status: int
    content_type: str
    events: list[Event] = field(default_factory=list)
    comments: int = 0
    closed: bool = False  # the server ended the response (within the grace time after final)
    reply: Reply | None = None  # set when the answer was not SSE at all

    @property
    def frames(self) -> list[dict[str, Any]]:
        return [e.body["result"] for e in self.events if isinstance(e.body, dict) and isinstance(e.body.get("result"), dict)]


class Probe:
    def __init__(self, url: str, *, timeout: float = 15.0, close_grace: float = 2.0) -> None:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        self.base = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
        self.given_url = urlunsplit((parts.scheme, parts.netloc, parts.path or "/", "", ""))
        self.timeout = timeout
        self.close_grace = close_grace
        self.http = httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        self.card: dict[str, Any] | None = None
        self.card_path: str | None = None
        self.rpc_url = self.given_url  # of protocol 0.3
        self.interfaces = Interfaces(why="the card was not read")
        self.webhook: Webhook | None = None  # a receiver of the suite's own, when it has one
        self._ids = itertools.count(1)
        self._memo: dict[str, Any] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def aclose(self) -> None:
        await self.http.aclose()

    # -- discovery ---------------------------------------------------------------------------

    async def discover(self) -> None:
        """Fetch the card (spec 0.3 §5.3, 1.0 §8.2) and find the JSON-RPC interface of each
        protocol version it declares."""
        for path in ("/.well-known/agent-card.json", "/.well-known/agent.json"):
            try:
                response = await self.http.get(self.base + path)
            except httpx.HTTPError:
                continue
            if response.status_code == 200:
                try:
                    card = response.json()
                except ValueError:
                    continue
                if isinstance(card, dict):
                    self.card, self.card_path = card, path
                    break
        self.interfaces = find_interfaces(self.card)
        self.rpc_url = self.interfaces.v0_3 or self.given_url

    def declares(self, capability: str) -> bool:
        caps = (self.card or {}).get("capabilities") or {}
        if capability == "tickets":
            from conformance.triggers import TICKETS_EXTENSION

            return any(isinstance(e, dict) and e.get("uri") == TICKETS_EXTENSION for e in caps.get("extensions") or [])
        return caps.get(capability) is True

    # -- JSON-RPC ----------------------------------------------------------------------------

    def next_id(self) -> str:
        return f"conformance-{next(self._ids)}"

    async def post(self, body: bytes, headers: dict[str, str] | None = None, url: str | None = None) -> Reply:
        try:
            response = await self.http.post(
                url or self.rpc_url, content=body,
                headers={"Content-Type": "application/json", **(headers or {})},
            )
        except httpx.HTTPError as exc:
            raise Fail(f"the endpoint did not answer: {type(exc).__name__}") from None
        try:
            parsed = response.json()
        except ValueError:
            parsed = None
        return Reply(response.status_code, response.headers.get("content-type", ""), parsed, response.text)

    async def rpc(self, method: str, params: Any = None, *, request_id: Any = ..., **kw: Any) -> Reply:
        request: dict[str, Any] = {"jsonrpc": "2.0", "id": self.next_id() if request_id is ... else request_id, "method": method}
        if params is not None:
            request["params"] = params
        return await self.post(json.dumps(request).encode(), **kw)

    async def result(self, method: str, params: Any = None) -> Any:
        """The result of a call that must succeed; fails the check otherwise."""
        return self.result_of(await self.rpc(method, params), method)

    @staticmethod
    def result_of(reply: Reply, method: str) -> Any:
        """The result of `reply`, which must be a success; fails the check otherwise."""
        if not isinstance(reply.body, dict) or "result" not in reply.body:
            raise Fail(f"{method} failed: {describe(reply)}")
        return reply.body["result"]

    async def stream(
        self, method: str, params: Any, *, request_id: Any = ..., headers: dict[str, str] | None = None,
        max_seconds: float | None = None, on_event: Any = None, url: str | None = None,
        ends: Callable[[Event], bool] | None = None,
    ) -> Stream:
        """POST a streaming call and read it: to the final frame (`ends`; by default 0.3's
        `final:true`, a Message or an error), then up to `close_grace` more for the server to
        close; or `max_seconds`."""
        rid = self.next_id() if request_id is ... else request_id
        body = json.dumps({"jsonrpc": "2.0", "id": rid, "method": method, "params": params}).encode()
        limit = max_seconds or self.timeout
        hdrs = {"Content-Type": "application/json", "Accept": "text/event-stream", **(headers or {})}
        try:
            async with self.http.stream("POST", url or self.rpc_url, content=body, headers=hdrs, timeout=limit) as response:
                out = Stream(response.status_code, response.headers.get("content-type", ""))
                if not out.content_type.startswith("text/event-stream"):
                    raw = (await response.aread()).decode(errors="replace")
                    try:
                        parsed = json.loads(raw)
                    except ValueError:
                        parsed = None
                    out.reply = Reply(response.status_code, out.content_type, parsed, raw)
                    return out
                await self._read_events(response, out, limit, on_event, ends or _ends_0_3)
                return out
        except httpx.HTTPError as exc:
            raise Fail(f"the stream broke: {type(exc).__name__}") from None

    async def _read_events(
        self, response: httpx.Response, out: Stream, limit: float, on_event: Any, ends: Callable[[Event], bool]
    ) -> None:
        deadline = time.monotonic() + limit
        final_at: float | None = None
        buffer = ""
        chunks = response.aiter_text()
        while True:
            now = time.monotonic()
            stop = deadline if final_at is None else min(deadline, final_at + self.close_grace)
            if now >= stop:
                return
            try:
                async with asyncio.timeout(stop - now):
                    text = await anext(chunks)
            except StopAsyncIteration:
                out.closed = True
                return
            except TimeoutError:
                return
            buffer += text.replace("\r\n", "\n")
            while "\n\n" in buffer:
                block, buffer = buffer.split("\n\n", 1)
                event = _parse_block(block)
                if event is None:
                    out.comments += 1
                    continue
                out.events.append(event)
                if on_event is not None:
                    await on_event(event)
                if final_at is None and ends(event):
                    final_at = time.monotonic()

    # -- messages and shared tasks -------------------------------------------------------------

    def message(self, text: str, **extra: Any) -> dict[str, Any]:
        return {
            "kind": "message", "role": "user", "messageId": extra.pop("messageId", f"conformance-{uuid.uuid4()}"),
            "parts": [{"kind": "text", "text": text}], **extra,
        }

    async def send(self, text: str, *, configuration: dict[str, Any] | None = None, **extra: Any) -> Reply:
        params: dict[str, Any] = {"message": self.message(text, **extra)}
        if configuration:
            params["configuration"] = configuration
        return await self.rpc("message/send", params)

    async def shared(self, name: str) -> Any:
        """A task that checks only read, made once: "completed"."""
        value = await self.memo(name, lambda: self._make(name))
        if isinstance(value, Skip):
            raise value
        return value

    async def memo(self, name: str, make: Any) -> Any:
        """`await make()` once; later calls get the same value."""
        lock = self._locks.setdefault(name, asyncio.Lock())
        async with lock:
            if name not in self._memo:
                self._memo[name] = await make()
        return self._memo[name]

    async def fresh(self, name: str) -> Any:
        """A new task for a check that changes it: "open" or "input-required". Once one
        could not be made, the others are skipped at once, for the same reason."""
        known = self.known(f"fresh:{name}")
        if isinstance(known, Skip):
            raise known
        value = await self._make(name)
        if isinstance(value, Skip):
            self.remember(f"fresh:{name}", value)
            raise value
        return value

    def known(self, name: str) -> Any:
        """What `memo` or `remember` kept under `name`, or None."""
        return self._memo.get(name)

    def remember(self, name: str, value: Any) -> None:
        self._memo[name] = value

    async def _make(self, name: str) -> Any:
        maker = getattr(self, f"_make_{name.replace('-', '_')}")
        return await maker()

    async def _make_completed(self) -> Any:
        reply = await self.send(COMPLETE)
        task = reply.result
        if not isinstance(task, dict) or task.get("kind") != "task":
            return Skip("message/send did not return a Task (a stateless Message agent)")
        if task.get("status", {}).get("state") not in TERMINAL_STATES:
            task = await self.wait_for_state(task["id"], TERMINAL_STATES)
        if task is None:
            return Skip(f"the agent did not complete a task for {COMPLETE!r} in time")
        return task

    async def _make_open(self) -> Any:
        reply = await self.send(PARK, configuration={"blocking": False})
        task = reply.result
        if not isinstance(task, dict) or task.get("kind") != "task":
            return Skip("message/send did not return a Task")
        await asyncio.sleep(0.3)
        current = await self.rpc("tasks/get", {"id": task["id"]})
        state = (current.result or {}).get("status", {}).get("state")
        if state in FINAL_STATES:
            return Skip(f"the agent did not keep a task open (sent {PARK!r}; it is {state})")
        return current.result

    async def _make_input_required(self) -> Any:
        reply = await self.send(INPUT_REQUIRED)
        task = reply.result
        state = (task or {}).get("status", {}).get("state") if isinstance(task, dict) else None
        if state != "input-required":
            return Skip(f"the agent did not ask for input (sent {INPUT_REQUIRED!r}; got {state})")
        return task

    async def wait_for_state(self, task_id: str, states: set[str], seconds: float | None = None) -> dict[str, Any] | None:
        deadline = time.monotonic() + (seconds or self.timeout)
        while time.monotonic() < deadline:
            task = (await self.rpc("tasks/get", {"id": task_id})).result
            if isinstance(task, dict) and task.get("status", {}).get("state") in states:
                return task
            await asyncio.sleep(0.1)
        return None


def _ends_0_3(event: Event) -> bool:
    body = event.body if isinstance(event.body, dict) else {}
    result = body.get("result")
    return "error" in body or isinstance(result, dict) and (result.get("final") is True or result.get("kind") == "message")


def _parse_block(block: str) -> Event | None:
    event_id = None
    data: list[str] = []
    for line in block.split("\n"):
        if not line or line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "id":
            event_id = value
        elif name == "data":
            data.append(value)
    if not data and event_id is None:
        return None
    text = "\n".join(data)
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    return Event(event_id, text, body)


def describe(reply: Reply) -> str:
    """A short account of a reply, for diagnoses."""
    if isinstance(reply.body, dict) and isinstance(reply.body.get("error"), dict):
        e = reply.body["error"]
        return f"error {e.get('code')} {str(e.get('message'))[:80]!r}"
    if reply.body is None:
        return f"HTTP {reply.status} {reply.content_type or 'no content type'}, not JSON"
    return f"HTTP {reply.status}: {reply.text[:100]!r}"
