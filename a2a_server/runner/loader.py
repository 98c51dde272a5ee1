"""Find the runner named by `--agent`: a built-in name or `MODULE:ATTR`.

`MODULE:ATTR` may name an object that follows the `Runner` protocol, or a factory (a class or
a function taking no arguments) that returns one.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from a2a_server.runner.base import Runner

__all__ = ["BUILTIN_AGENTS", "RunnerLoadError", "load_runner"]


class RunnerLoadError(Exception):
    """`--agent` names nothing usable; the message says why."""


def _demo() -> Runner:
    from a2a_server.runner.demo import DemoRunner

    return DemoRunner()


def _conformance() -> Runner:
    from a2a_server.runner.conformance import ConformanceRunner

    return ConformanceRunner()


BUILTIN_AGENTS: dict[str, Callable[[], Runner]] = {"demo": _demo, "conformance": _conformance}


def load_runner(spec: str) -> Runner:
    if spec in BUILTIN_AGENTS:
        return BUILTIN_AGENTS[spec]()
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        names = ", ".join(BUILTIN_AGENTS)
        raise RunnerLoadError(f"--agent must be one of {names}, or MODULE:ATTR (got {spec!r})")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise RunnerLoadError(f"cannot import {module_name!r}: {exc}") from exc
    try:
        target = getattr(module, attr)
    except AttributeError:
        raise RunnerLoadError(f"{module_name!r} has no attribute {attr!r}") from None
    if not _is_runner(target) and callable(target):
        target = target()
    if not _is_runner(target):
        raise RunnerLoadError(
            f"{spec} is not a runner: it needs name, description, skills and run(turn)"
        )
    return target  # type: ignore[no-any-return]


def _is_runner(obj: object) -> bool:
    return not isinstance(obj, type) and isinstance(obj, Runner)
