"""The suite's view of an endpoint's 1.0 interface: the probe's HTTP, aimed at the card's 1.0
JSON-RPC URL with `A2A-Version: 1.0` (spec 1.0 §3.6.1), messages in 1.0's form (`ROLE_USER`,
flat parts), and the tasks the 1.0 checks share, made with the suite's triggers.

A `V1Probe` is a thin view of a `Probe`: what it makes is kept in the probe (under "v1:"
names), so every 1.0 check of one run sees the same shared tasks.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from conformance.model import Check, Level, Needs, Skip
from conformance.probe import Event, Probe, Reply, Stream, describe
from conformance.triggers import COMPLETE, INPUT_REQUIRED, PARK

__all__ = ["INTERRUPTED", "TERMINAL", "V1Probe", "v1_check"]

TERMINAL = frozenset({"TASK_STATE_COMPLETED", "TASK_STATE_CANCELED", "TASK_STATE_FAILED", "TASK_STATE_REJECTED"})
INTERRUPTED = frozenset({"TASK_STATE_INPUT_REQUIRED", "TASK_STATE_AUTH_REQUIRED"})
VERSION_HEADER = {"A2A-Version": "1.0"}


def v1_check(
    id: str, section: str, level: Level, title: str, needs: Needs | None = None
) -> Callable[[Callable[[V1Probe], Awaitable[None]]], Check]:
    """Make a 1.0 Check of an async function taking the 1.0 view of the probe; `section` is
    of the 1.0 specification."""

    def make(fn: Callable[[V1Probe], Awaitable[None]]) -> Check:
        return Check(id, section, level, title, lambda probe: fn(V1Probe(probe)), needs, "1.0")

    return make


def ends(event: Event) -> bool:
    """A 1.0 stream has no `final`: it ends after an error, a Message, or a status update
    in a terminal or interrupted state (spec 1.0 §3.1.2)."""
    body = event.body if isinstance(event.body, dict) else {}
    result = body.get("result")
    if "error" in body or isinstance(result, dict) and "message" in result:
        return True
    update = result.get("statusUpdate") if isinstance(result, dict) else None
    return state_of(update) in TERMINAL | INTERRUPTED


def state_of(task: Any) -> Any:
    status = task.get("status") if isinstance(task, dict) else None
    return status.get("state") if isinstance(status, dict) else None


class V1Probe:
    def __init__(self, probe: Probe) -> None:
        self.probe = probe
        url = probe.interfaces.v1_0
        if url is None:
            raise Skip("the card declares no JSON-RPC interface for protocol 1.0")
        self.url = url

    @property
    def card(self) -> dict[str, Any]:
        return self.probe.card or {}

    def declares(self, capability: str) -> bool:
        return self.probe.declares(capability)

    # -- calls -----------------------------------------------------------------------------------

    async def rpc(self, method: str, params: Any = None, *, request_id: Any = ...,
                  headers: dict[str, str | None] | None = None, url: str | None = None) -> Reply:
        """A 1.0 call; `headers` may replace or (with a value of None) drop A2A-Version."""
        merged = {**VERSION_HEADER, **(headers or {})}
        sent = {k: v for k, v in merged.items() if v is not None}
        return await self.probe.rpc(method, params, request_id=request_id, headers=sent, url=url or self.url)

    async def result(self, method: str, params: Any = None) -> Any:
        """The result of a call that must succeed; fails the check otherwise."""
        return self.probe.result_of(await self.rpc(method, params), method)

    async def stream(self, method: str, params: Any, *, request_id: Any = ...,
                     max_seconds: float | None = None, on_event: Any = None) -> Stream:
        return await self.probe.stream(method, params, request_id=request_id, headers=VERSION_HEADER,
                                       max_seconds=max_seconds, on_event=on_event, url=self.url, ends=ends)

    def message(self, text: str, **extra: Any) -> dict[str, Any]:
        return {"messageId": extra.pop("messageId", f"conformance-{uuid.uuid4()}"), "role": "ROLE_USER",
                "parts": [{"text": text}], **extra}

    async def send(self, text: str, *, configuration: dict[str, Any] | None = None, **extra: Any) -> Reply:
        params: dict[str, Any] = {"message": self.message(text, **extra)}
        if configuration:
            params["configuration"] = configuration
        return await self.rpc("SendMessage", params)

    # -- shared tasks ----------------------------------------------------------------------------

    async def shared(self, name: str) -> dict[str, Any]:
        """A task that checks only read, made once: "completed"."""
        value = await self.probe.memo(f"v1:{name}", lambda: self._make(name))
        if isinstance(value, Skip):
            raise value
        return value  # type: ignore[no-any-return]

    async def fresh(self, name: str) -> dict[str, Any]:
        """A new task for a check that changes it: "open" or "input-required". Once one could
        not be made, the others are skipped at once, for the same reason."""
        known = self.probe.known(f"v1:fresh:{name}")
        if isinstance(known, Skip):
            raise known
        value = await self._make(name)
        if isinstance(value, Skip):
            self.probe.remember(f"v1:fresh:{name}", value)
            raise value
        return value  # type: ignore[no-any-return]

    async def _make(self, name: str) -> Any:
        if name == "completed":
            return await self._make_completed()
        if name == "open":
            return await self._make_open()
        return await self._make_input_required()

    async def _make_completed(self) -> Any:
        task = _task_of(await self.send(COMPLETE))
        if task is None:
            return Skip("SendMessage did not return a Task (a stateless Message agent)")
        if state_of(task) not in TERMINAL:
            task = await self.wait_for_state(task["id"], TERMINAL)
        if task is None:
            return Skip(f"the agent did not complete a task for {COMPLETE!r} in time")
        return task

    async def _make_open(self) -> Any:
        task = _task_of(await self.send(PARK, configuration={"returnImmediately": True}))
        if task is None:
            return Skip("SendMessage did not return a Task")
        await asyncio.sleep(0.3)
        current = (await self.rpc("GetTask", {"id": task["id"]})).result
        if state_of(current) in TERMINAL | INTERRUPTED or not isinstance(current, dict):
            return Skip(f"the agent did not keep a task open (sent {PARK!r}; it is {state_of(current)})")
        return current

    async def _make_input_required(self) -> Any:
        reply = await self.send(INPUT_REQUIRED)
        task = _task_of(reply)
        if state_of(task) != "TASK_STATE_INPUT_REQUIRED":
            got = state_of(task) if task is not None else describe(reply)
            return Skip(f"the agent did not ask for input (sent {INPUT_REQUIRED!r}; got {got})")
        return task

    async def wait_for_state(self, task_id: str, states: frozenset[str], seconds: float | None = None) -> dict[str, Any] | None:
        deadline = time.monotonic() + (seconds or self.probe.timeout)
        while time.monotonic() < deadline:
            task = (await self.rpc("GetTask", {"id": task_id})).result
            if state_of(task) in states:
                return task  # type: ignore[no-any-return]
            await asyncio.sleep(0.1)
        return None


def _task_of(reply: Reply) -> dict[str, Any] | None:
    result = reply.result
    task = result.get("task") if isinstance(result, dict) else None
    return task if isinstance(task, dict) and isinstance(task.get("id"), str) else None
