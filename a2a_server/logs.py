"""Logs: plain text (the default) or one JSON object per line (`--log-format json`).

Each request gets one access line when it ends (a stream's when it closes), on the logger
`a2a_server.access`: its method, protocol version, result code, duration, and the task,
context and principal it concerned. Every line logged while a request runs, or while a
task's actor works, carries that context too (a contextvar, `current`): the JSON form has it
as fields, so one task can be followed through the log (`jq 'select(.task_id == "...")'`).

An unhandled exception is logged once, with its traceback and an error id (`failure`); the
client's error carries the same id, never the exception's text.
"""

from __future__ import annotations

import logging
import sys
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from a2a_server.jsoncodec import dumps

__all__ = ["LogContext", "access", "configure", "current", "failure", "note"]

log = logging.getLogger("a2a_server")
access_log = logging.getLogger("a2a_server.access")

_FORMATS = ("text", "json")


@dataclass(slots=True)
class LogContext:
    """What the lines logged within a request (or a task's actor) are about."""

    request_id: str | None = None
    method: str | None = None
    version: str | None = None
    principal: str | None = None  # None when no auth is configured
    task_id: str | None = None
    context_id: str | None = None
    started: float = field(default_factory=time.monotonic)


current: ContextVar[LogContext | None] = ContextVar("a2a_log_context", default=None)


def note(task_id: str | None = None, context_id: str | None = None) -> None:
    """Tell the running request's log context which task (and context) it concerns."""
    ctx = current.get()
    if ctx is not None:
        if task_id is not None:
            ctx.task_id = task_id
        if context_id is not None:
            ctx.context_id = context_id


def failure(logger: logging.Logger, what: str, *args: Any) -> str:
    """Log an unhandled exception (call it in an `except`) once, with its traceback and a
    new error id; returns the id, for the client's error."""
    error_id = uuid.uuid4().hex[:12]
    logger.error(f"{what} (error id %s)", *args, error_id, exc_info=True, extra={"error_id": error_id})  # noqa: LOG014
    return error_id


def access(code: str, status: int) -> None:
    """The running request's access line: it ended with `code` (ok, a JSON-RPC error code,
    or the HTTP status of a refusal)."""
    ctx = current.get()
    if ctx is None or not access_log.isEnabledFor(logging.INFO):
        return
    duration_ms = (time.monotonic() - ctx.started) * 1000
    access_log.info(
        "%s %s -> %s (HTTP %d) in %.1f ms%s", ctx.method or "-", ctx.version or "-", code, status,
        duration_ms, f" task {ctx.task_id}" if ctx.task_id else "",
        extra={"code": code, "status": status, "duration_ms": round(duration_ms, 2)},
    )


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the log context, and what
    the record adds (code, status, duration_ms, error_id, the traceback as `exc`)."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        ctx = current.get()
        if ctx is not None:
            for key in ("request_id", "method", "version", "principal", "task_id", "context_id"):
                value = getattr(ctx, key)
                if value is not None:
                    out[key] = value
        for key in ("code", "status", "duration_ms", "error_id"):
            if hasattr(record, key):
                out[key] = getattr(record, key)
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return dumps(out)


JsonFormatter.converter = time.gmtime  # type: ignore[assignment]


def configure(level: str, form: str) -> None:
    """Set up the process's logging (the CLI calls it; an app embedded elsewhere leaves
    logging to its host)."""
    if form not in _FORMATS:
        raise ValueError(f"--log-format must be text or json, not {form!r}")
    handler = logging.StreamHandler(sys.stderr)
    if form == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for chatty in ("httpx", "httpcore"):  # they log every request's full URL, query and all
        logging.getLogger(chatty).setLevel(logging.WARNING)
    if form == "json":  # uvicorn's own lines, in the same form
        for name in ("uvicorn", "uvicorn.error"):
            logging.getLogger(name).handlers[:] = []
            logging.getLogger(name).propagate = True
