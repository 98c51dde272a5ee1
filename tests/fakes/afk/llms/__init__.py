"""`afk.llms`: the `LLM` base class a provider subclasses, and the request/response types."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class LLMCapabilities:
    chat: bool = True
    streaming: bool = False
    tool_calling: bool = False


@dataclass(frozen=True)
class Message:
    role: str  # system | user | assistant | tool
    content: str
    name: str | None = None


@dataclass(frozen=True)
class ToolCall:
    id: str
    tool_name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class LLMResponse:
    text: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)


@dataclass(frozen=True)
class LLMRequest:
    messages: list[Message]
    tools: list[dict[str, Any]]


@dataclass(frozen=True)
class StreamTextDeltaEvent:
    delta: str
    type: str = "text_delta"


@dataclass(frozen=True)
class StreamCompletedEvent:
    response: LLMResponse
    type: str = "completed"


class LLM:
    """A model provider: subclasses set `provider_id` and `capabilities` and implement
    `_chat_core`, `_chat_stream_core` (when streaming) and `_embed_core`."""

    provider_id = "base"
    capabilities = LLMCapabilities()

    async def _chat_core(self, request: LLMRequest) -> LLMResponse:
        raise NotImplementedError

    def _chat_stream_core(
        self, request: LLMRequest
    ) -> AsyncIterator[StreamTextDeltaEvent | StreamCompletedEvent]:
        raise NotImplementedError

    async def _embed_core(self, texts: list[str]) -> list[list[float]]:
        raise NotImplementedError
