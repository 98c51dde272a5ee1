"""Tools for model runners: declared as plain Python functions, described by JSON schema.

    @tool
    def get_weather(city: str, unit: Literal["c", "f"] = "c") -> dict:
        '''The current weather in a city.'''
        ...

The function's type hints become the tool's JSON schema (through pydantic), its docstring the
description; it may be sync (run in a thread) or async. A call's arguments are validated
against the schema first; a tool that raises, or arguments that don't fit, make an error the
model sees and can recover from.

A tool that hands its work to the background returns `Deferred`: the server records a ticket,
tells the model the work is pending, and the task waits for it (see `ToolDeferred`).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, get_type_hints, overload

from pydantic import BaseModel, ValidationError, create_model

from a2a_server.runner.events import BackgroundWork

log = logging.getLogger("a2a_server")

__all__ = ["Deferred", "Tool", "ToolCallError", "ToolError", "background", "tool"]


@dataclass(frozen=True)
class Deferred:
    """A tool's answer when the work goes on in the background.

    `work` (optional) finishes it beside the task: an async function returning the output
    (raising makes the ticket fail). Without it the ticket is settled from outside, through
    `a2aserver.tickets/resolve`.
    """

    work: Callable[[], Any] | None = None
    resume_hint: str | None = None
    deadline_seconds: float | None = None


class ToolError(Exception):
    """Raised by a tool to fail with a message meant to be seen (by the model and the client).
    Any other exception is shown to the model only; the client sees that the tool failed."""


class ToolCallError(ToolError):
    """A call the model made wrong: unknown tool, or arguments that don't fit."""


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    fn: Callable[..., Any]
    params: type[BaseModel] = field(repr=False)

    @property
    def schema(self) -> dict[str, Any]:
        """The chat-completions `tools` entry."""
        parameters = self.params.model_json_schema()
        parameters.pop("title", None)
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": parameters},
        }

    async def call(self, arguments: str) -> Any:
        """Run the tool with the model's JSON arguments; returns its output (or `Deferred`)."""
        try:
            raw = json.loads(arguments or "{}")
        except ValueError:
            raise ToolCallError("the arguments are not valid JSON") from None
        if not isinstance(raw, dict):
            raise ToolCallError("the arguments must be a JSON object")
        try:
            args = self.params.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors(include_url=False, include_input=False)[0]
            where = ".".join(str(p) for p in first["loc"]) or "arguments"
            raise ToolCallError(f"{where}: {first['msg']}") from None
        kwargs = {name: getattr(args, name) for name in self.params.model_fields}
        if inspect.iscoroutinefunction(self.fn):
            return await self.fn(**kwargs)
        return await asyncio.to_thread(self.fn, **kwargs)


@overload
def tool(fn: Callable[..., Any]) -> Tool: ...
@overload
def tool(*, name: str | None = None, description: str | None = None) -> Callable[[Callable[..., Any]], Tool]: ...


def tool(
    fn: Callable[..., Any] | None = None, *, name: str | None = None, description: str | None = None
) -> Any:
    """Declare a function as a tool (usable bare, `@tool`, or with a name/description)."""

    def make(f: Callable[..., Any]) -> Tool:
        hints = get_type_hints(f)
        fields: dict[str, Any] = {}
        for pname, param in inspect.signature(f).parameters.items():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                raise TypeError(f"tool {f.__name__}: *args and **kwargs cannot be described")
            default = ... if param.default is param.empty else param.default
            fields[pname] = (hints.get(pname, Any), default)
        params = create_model(f"{f.__name__}_arguments", **fields)
        doc = inspect.getdoc(f) or ""
        return Tool(name or f.__name__, description or doc or f.__name__, f, params)

    return make(fn) if fn is not None else make


def background(work: Callable[[], Any], tool_name: str, ticket_id: str) -> BackgroundWork:
    """A tool's `Deferred.work` as the runner-event form the server runs."""
    from a2a_server.runner.events import ToolBackgroundFailed, ToolBackgroundResolved

    async def run() -> AsyncIterator[ToolBackgroundResolved | ToolBackgroundFailed]:
        try:
            result = work()
            if inspect.isawaitable(result):
                result = await result
        except ToolError as exc:
            yield ToolBackgroundFailed(tool_name, ticket_id, str(exc))
        except Exception:
            log.exception("background work of tool %s failed", tool_name)
            yield ToolBackgroundFailed(tool_name, ticket_id, "the background tool failed")
        else:
            yield ToolBackgroundResolved(tool_name, ticket_id, result)

    return run
