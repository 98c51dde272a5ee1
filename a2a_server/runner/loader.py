"""Find the runner named by `--agent`: a built-in name (demo, conformance, openai) or
`MODULE:ATTR`.

`MODULE:ATTR` may name an object that follows the `Runner` protocol, an agent of a framework
we serve (`a2a_server.adapters`: AFK, OpenAI Agents SDK, 10xGraph/AgentFlow, Agentor,
Pydantic AI), or a factory (a class or a function taking no arguments) that returns either.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable

from a2a_server.adapters import ACCEPTED, adapt
from a2a_server.runner.base import Runner
from a2a_server.settings import Settings

__all__ = ["BUILTIN_AGENTS", "RunnerLoadError", "load_runner"]


class RunnerLoadError(Exception):
    """`--agent` names nothing usable; the message says why."""


def _demo(settings: Settings) -> Runner:
    from a2a_server.runner.demo import DemoRunner

    return DemoRunner()


def _conformance(settings: Settings) -> Runner:
    from a2a_server.runner.conformance import ConformanceRunner

    return ConformanceRunner()


def _openai(settings: Settings) -> Runner:
    from a2a_server.runner.openai import OpenAIRunner

    if not settings.model:
        raise RunnerLoadError("--agent openai needs --model NAME (or A2A_SERVER_MODEL)")
    api_key = settings.openai_api_key or os.environ.get("OPENAI_API_KEY")
    base_url = settings.openai_base_url or os.environ.get("OPENAI_BASE_URL")
    if not api_key and not base_url:
        raise RunnerLoadError(
            "--agent openai needs an API key: set OPENAI_API_KEY (or --openai-api-key), or point "
            "--openai-base-url at a local OpenAI-compatible server that needs none"
        )
    tools = _load(settings.tools, "--tools") if settings.tools else ()
    if not isinstance(tools, list | tuple):
        raise RunnerLoadError(f"--tools {settings.tools} is not a list of tools")
    return OpenAIRunner(
        settings.model,
        tools=tools,
        system_prompt=settings.system_prompt,
        api_key=api_key,
        base_url=base_url,
        max_steps=settings.max_steps,
        max_tokens_per_task=settings.max_tokens_per_task,
        max_retries=settings.model_retries,
    )


def _bench(settings: Settings) -> Runner:
    from a2a_server.runner.bench import BenchRunner

    return BenchRunner()


BUILTIN_AGENTS: dict[str, Callable[[Settings], Runner]] = {
    "demo": _demo,
    "conformance": _conformance,
    "openai": _openai,
    "bench": _bench,
}


def load_runner(spec: str, settings: Settings | None = None) -> Runner:
    if spec in BUILTIN_AGENTS:
        return BUILTIN_AGENTS[spec](settings or Settings())
    target = _load(spec, "--agent")
    runner = _as_runner(target)
    if runner is None and callable(target):
        runner = _as_runner(target())
    if runner is None:
        accepted = "; ".join(("a runner (name, description, skills and run(turn))", *ACCEPTED))
        raise RunnerLoadError(
            f"{spec} is not a runner nor an agent this server can serve. --agent MODULE:ATTR "
            f"accepts {accepted}; or a factory taking no arguments that returns one of them"
        )
    return runner


def _as_runner(obj: object) -> Runner | None:
    """`obj` itself when it is a runner, else its framework's adapter (None: neither)."""
    if _is_runner(obj):
        return obj  # type: ignore[return-value]
    return adapt(obj)


def _load(spec: str, flag: str) -> object:
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        names = ", ".join(BUILTIN_AGENTS)
        if flag == "--agent":
            raise RunnerLoadError(f"--agent must be one of {names}, or MODULE:ATTR (got {spec!r})")
        raise RunnerLoadError(f"{flag} must be MODULE:ATTR (got {spec!r})")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise RunnerLoadError(f"cannot import {module_name!r}: {exc}") from exc
    try:
        return getattr(module, attr)  # type: ignore[no-any-return]
    except AttributeError:
        raise RunnerLoadError(f"{module_name!r} has no attribute {attr!r}") from None


def _is_runner(obj: object) -> bool:
    return not isinstance(obj, type) and isinstance(obj, Runner)
