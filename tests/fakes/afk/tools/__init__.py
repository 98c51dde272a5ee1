"""`afk.tools`: tools from functions with a pydantic arguments model; results that may be
deferred to the background under a ticket."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel


@dataclass(frozen=True)
class ToolDeferredHandle:
    ticket_id: str
    status: str = "pending"
    summary: str | None = None
    resume_hint: str | None = None


@dataclass(frozen=True)
class ToolResult:
    output: Any = None
    success: bool = True
    error_message: str | None = None
    deferred: ToolDeferredHandle | None = None
    metadata: dict[str, Any] = field(default_factory=dict)  # "background_future": an awaitable


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    args_model: type[BaseModel]
    fn: Callable[[Any], Any]


def tool(*, args_model: type[BaseModel], name: str | None = None,
         description: str | None = None) -> Callable[[Callable[[Any], Any]], Tool]:
    def make(fn: Callable[[Any], Any]) -> Tool:
        return Tool(name or fn.__name__, description or fn.__doc__ or "", args_model, fn)

    return make
