"""`afk.agents`: the agent definition, and the result of a run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class FailSafeConfig:
    max_steps: int = 20
    max_total_cost_usd: float | None = None


@dataclass
class Agent:
    name: str
    model: Any = "gpt-4.1-mini"  # a model name, or an `afk.llms.LLM`
    instructions: str | None = None
    tools: list[Any] = field(default_factory=list)
    fail_safe: FailSafeConfig = field(default_factory=FailSafeConfig)


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    total_tokens: int = 0


@dataclass(frozen=True)
class AgentResult:
    state: str  # completed | failed | cancelled | ...
    final_text: str
    run_id: str
    thread_id: str
    usage: Usage = Usage()
    tool_executions: tuple[Any, ...] = ()
