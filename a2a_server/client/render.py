"""What `call` shows: the answer as it streams, a line per tool call, step and ticket, a
spinner while a ticket is pending, and the task's state and ids at the end.

Three renderers with one interface. `RichRenderer` draws on a terminal through rich (colour,
symbols, a spinner); `PlainRenderer` writes the same content as plain lines, for pipes and
files (`[tool] calc ...`, no escape codes); `JsonRenderer` prints each JSON-RPC response as
received, one per line, and nothing else. Answer text goes out as it arrives, flushed, never
buffered to a line: that is what streaming is for.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any, TextIO

from a2a_server.client.wire import (
    INTERRUPTED,
    Activity,
    Attachment,
    Event,
    Ids,
    Note,
    Reply,
    State,
    Text,
)

__all__ = ["JsonRenderer", "Outcome", "PlainRenderer", "Renderer", "RichRenderer", "activity_line", "make_renderer"]


@dataclass(frozen=True)
class Outcome:
    """How a turn ended: the task's state (None for a bare Message reply) and ids."""

    state: str | None
    task_id: str | None = None
    context_id: str | None = None
    text: str = ""


@dataclass(frozen=True)
class Line:
    tag: str  # the plain form's [tag]
    symbol: str  # the terminal's
    text: str
    style: str


def _short(value: Any, limit: int = 100) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def activity_line(data: dict[str, Any]) -> Line:
    """The line of one progress DataPart (see a2a_server/mapping.py `progress`, `ticket_event`)."""
    kind = data.get("type")
    tool = str(data.get("toolName", "tool"))
    ticket = data.get("ticketId", "")
    if kind == "step_started":
        return Line("step", "·", f"step {data.get('step', '')}", "dim")
    if kind == "tool_started":
        args = data.get("arguments")
        return Line("tool", "⚙", f"{tool} {_short(args)}" if args else tool, "cyan")
    if kind == "tool_completed":
        if data.get("success"):
            out = data.get("output")
            return Line("tool", "✓", f"{tool} ok" + (f" → {_short(out)}" if out is not None else ""), "green")
        return Line("tool", "✗", f"{tool} failed: {_short(data.get('error', ''))}", "red")
    if kind == "tool_deferred":
        hint = data.get("resumeHint")
        return Line("ticket", "⏳", f"{ticket} pending ({tool}{': ' + str(hint) if hint else ''})", "yellow")
    if kind == "tool_background_resolved":
        return Line("ticket", "✓", f"{ticket} resolved ({tool})", "green")
    if kind == "tool_background_failed":
        why = data.get("error") or data.get("state", "failed")
        return Line("ticket", "✗", f"{ticket} {data.get('state', 'failed')} ({tool}): {_short(why)}", "red")
    if kind == "agent_updated":
        return Line("agent", "→", f"agent {data.get('agentName', '')}", "magenta")
    rest = {k: v for k, v in data.items() if k != "type"}
    return Line(str(kind), "·", _short(rest) if rest else str(kind), "dim")


_STATE_STYLE = {"completed": "bold green", "failed": "bold red", "rejected": "bold red",
                "canceled": "bold yellow", "input-required": "bold blue", "auth-required": "bold blue"}


class Renderer:
    """The interface; this base shows nothing (the JSON renderer builds on it)."""

    def raw(self, body: dict[str, Any]) -> None:
        """A JSON-RPC response as received."""

    def event(self, event: Event) -> None:
        """One event of the turn."""

    def waiting(self, what: str | None) -> None:
        """Something is pending (a ticket, a non-blocking task), or no longer (None)."""

    def end(self, outcome: Outcome, hint: str = "") -> None:
        """The turn is over."""

    def info(self, text: str) -> None:
        """A remark of the client's own (to stderr)."""
        print(text, file=sys.stderr, flush=True)

    def error(self, text: str) -> None:
        print(f"a2a-server call: {text}", file=sys.stderr, flush=True)

    def prompt(self) -> str:
        return input("you> ")


class JsonRenderer(Renderer):
    def __init__(self, out: TextIO | None = None) -> None:
        self.out = out or sys.stdout

    def raw(self, body: dict[str, Any]) -> None:
        self.out.write(json.dumps(body, ensure_ascii=False, separators=(",", ":")) + "\n")
        self.out.flush()


class _Streaming(Renderer):
    """Shared by the plain and rich renderers: where the cursor is, what is pending."""

    def __init__(self) -> None:
        self.mid_line = False
        self.tickets: dict[str, str] = {}  # pending ticket id -> tool name

    def event(self, event: Event) -> None:
        if isinstance(event, Text):
            if event.text:
                self._write(event.text)
                self.mid_line = not event.text.endswith("\n")
            if event.last:
                self._break()
        elif isinstance(event, Activity):
            self._track(event.data)
            self._line(activity_line(event.data))
        elif isinstance(event, Note):
            self._line(Line("status", "·", event.text, "italic"))
        elif isinstance(event, Attachment):
            self._line(Line("artifact", "▸", f"{event.artifact}: {_short(event.summary, 200)}", "cyan"))
        elif isinstance(event, Reply):
            self._write(event.text)
            self.mid_line = not event.text.endswith("\n")
            self._break()
        elif isinstance(event, State) and event.text and event.state != "working":
            symbol = "?" if event.state in INTERRUPTED else "✗" if event.state in ("failed", "rejected") else "·"
            self._line(Line(event.state, symbol, event.text, _STATE_STYLE.get(event.state, "")))
        elif isinstance(event, State | Ids):
            pass
        self._pending()

    def _track(self, data: dict[str, Any]) -> None:
        ticket = str(data.get("ticketId", ""))
        if data.get("type") == "tool_deferred":
            self.tickets[ticket] = str(data.get("toolName", "tool"))
        elif data.get("type") in ("tool_background_resolved", "tool_background_failed"):
            self.tickets.pop(ticket, None)

    def _pending(self) -> None:
        if self.tickets and not self.mid_line:
            names = ", ".join(f"{tool} ({ticket})" for ticket, tool in self.tickets.items())
            self.waiting(f"waiting for {names}")
        else:
            self.waiting(None)

    def _break(self) -> None:
        if self.mid_line:
            self._write("\n")
            self.mid_line = False

    def end(self, outcome: Outcome, hint: str = "") -> None:
        self.waiting(None)
        self._break()
        self._summary(outcome, hint)

    def _write(self, text: str) -> None:
        raise NotImplementedError

    def _line(self, line: Line) -> None:
        raise NotImplementedError

    def _summary(self, outcome: Outcome, hint: str) -> None:
        raise NotImplementedError


def _summary_parts(outcome: Outcome) -> list[str]:
    parts = [outcome.state or "message (no task)"]
    if outcome.task_id:
        parts.append(f"task {outcome.task_id}")
    if outcome.context_id:
        parts.append(f"context {outcome.context_id}")
    return parts


class PlainRenderer(_Streaming):
    def __init__(self, out: TextIO | None = None) -> None:
        super().__init__()
        self.out = out or sys.stdout

    def _write(self, text: str) -> None:
        self.out.write(text)
        self.out.flush()

    def _line(self, line: Line) -> None:
        self.waiting(None)
        self._break()
        self._write(f"[{line.tag}] {line.text.removeprefix(line.tag + ' ')}\n")

    def _summary(self, outcome: Outcome, hint: str) -> None:
        state, *ids = _summary_parts(outcome)
        self._write(f"[{state}] {' '.join(ids)}".rstrip() + "\n")
        if hint:
            self._write(hint + "\n")


class RichRenderer(_Streaming):
    def __init__(self, console: Any) -> None:
        super().__init__()
        self.console = console
        self._status: Any = None
        self._status_text: str | None = None

    def _write(self, text: str) -> None:
        self.waiting(None)
        self.console.print(text, end="", markup=False, highlight=False, soft_wrap=True)

    def _line(self, line: Line) -> None:
        from rich.text import Text as RichText

        self.waiting(None)
        self._break()
        self.console.print(RichText(f"  {line.symbol} {line.text}", style=line.style), soft_wrap=True)

    def waiting(self, what: str | None) -> None:
        if what == self._status_text:
            return
        if self._status is not None:
            self._status.stop()
            self._status = None
        self._status_text = what
        if what is not None:
            self._status = self.console.status(what, spinner="dots")
            self._status.start()

    def _summary(self, outcome: Outcome, hint: str) -> None:
        from rich.text import Text as RichText

        state, *ids = _summary_parts(outcome)
        line = RichText("● ", style=_STATE_STYLE.get(state, "bold"))
        line.append(state, style=_STATE_STYLE.get(state, "bold"))
        for part in ids:
            line.append("  " + part, style="dim")
        self.console.print(line, soft_wrap=True)
        if hint:
            self.console.print(RichText(hint, style="dim"), soft_wrap=True)

    def info(self, text: str) -> None:
        from rich.text import Text as RichText

        self.waiting(None)
        self._break()
        self.console.print(RichText(text, style="dim"), soft_wrap=True)

    def error(self, text: str) -> None:
        from rich.text import Text as RichText

        self.waiting(None)
        self._break()
        self.console.print(RichText(f"✗ {text}", style="bold red"), soft_wrap=True)

    def prompt(self) -> str:
        from rich.text import Text as RichText

        return str(self.console.input(RichText("you› ", style="bold cyan")))


def make_renderer(json_frames: bool = False) -> Renderer:
    """JSON frames if asked; else rich on a terminal, plain lines elsewhere."""
    if json_frames:
        return JsonRenderer()
    from rich.console import Console

    console = Console(highlight=False)
    return RichRenderer(console) if console.is_terminal else PlainRenderer()
