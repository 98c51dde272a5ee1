"""One turn with an agent, a chat of turns, and the exit codes of `a2a-server call`.

A turn streams (`message/stream` or `SendStreamingMessage`) unless asked to send, or unless
the card declares no streaming; a sent turn whose task is still working (a deferred tool, a
server that answers at once) is followed with `tasks/get` until it rests. Ctrl-C during a
turn cancels its task. A chat keeps the context: each turn goes to the same `contextId`, and
a turn that ended `input-required` is answered by the next line on the same `taskId`.

Exit codes: 0 completed (or a bare Message answered); 1 failed, canceled or rejected, or
the agent answered with a JSON-RPC error, or the stream ended before the task rested;
2 input-required (or auth-required); 3 could not connect (no connection, an HTTP error,
no JSON-RPC at the URL).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from a2a_server.client.discovery import Endpoint
from a2a_server.client.render import Outcome, Renderer
from a2a_server.client.transport import ClientError, RpcError, Transport, Unreachable, result_of
from a2a_server.client.wire import FINAL, INTERRUPTED, Reader, Reply, wire_for

__all__ = ["EXIT_CODES", "Session", "chat", "exit_code"]

EXIT_CODES = {"completed": 0, "failed": 1, "canceled": 1, "rejected": 1,
              "input-required": 2, "auth-required": 2}
UNREACHABLE = 3


def exit_code(outcome: Outcome) -> int:
    if outcome.state is None:
        return 0  # a bare Message: the agent answered and nothing is left open
    return EXIT_CODES.get(outcome.state, 1)


class Session:
    """Turns with one endpoint."""

    def __init__(self, endpoint: Endpoint, headers: dict[str, str], renderer: Renderer, *,
                 send: bool = False, timeout: float = 30.0, poll_seconds: float = 1.0) -> None:
        self.endpoint = endpoint
        self.wire = wire_for(endpoint.version)
        self.transport = Transport(endpoint.url, {**headers, **self.wire.headers}, timeout=timeout)
        self.renderer = renderer
        self.streaming = not send and endpoint.streaming
        self.poll_seconds = poll_seconds

    def close(self) -> None:
        self.transport.close()

    def turn(self, text: str, task_id: str | None = None, context_id: str | None = None) -> Outcome:
        """Send `text` (to a task or context, if given), show the turn, and say how it ended.
        Raises `ClientError` when the agent cannot be talked to or answers an error."""
        reader = Reader(self.wire)
        reader.task_id, reader.context_id = task_id, context_id
        message = self.wire.message(text, task_id, context_id)
        replied = False
        try:
            if self.streaming:
                replied = self._stream(reader, self.wire.stream_params(message))
            else:
                replied = self._send(reader, self.wire.send_params(message))
        except KeyboardInterrupt:
            self._cancel(reader)
        state = None if replied else reader.state
        return Outcome(state, reader.task_id, reader.context_id, reader.status_text)

    def _show(self, reader: Reader, body: dict[str, Any], *, seen: bool = False) -> bool:
        """Show one response; whether it was a bare Message (the turn's whole answer)."""
        self.renderer.raw(body)
        replied = False
        for event in reader.read(result_of(body), seen=seen):
            self.renderer.event(event)
            replied = replied or isinstance(event, Reply)
        return replied

    def _stream(self, reader: Reader, params: dict[str, Any]) -> bool:
        continuing = reader.task_id is not None  # the first frame holds the earlier turns
        bodies: Iterator[dict[str, Any]] = self.transport.stream(self.wire.methods["stream"], params)
        try:
            for i, body in enumerate(bodies):
                if self._show(reader, body, seen=i == 0 and continuing):
                    return True
                if i > 0 and reader.state in FINAL and _ends(body):
                    return False  # the server closes now; do not wait on one that does not
        finally:
            bodies.close()  # type: ignore[attr-defined]
        return False

    def _send(self, reader: Reader, params: dict[str, Any]) -> bool:
        if reader.task_id is not None:  # the answer holds the earlier turns: mark them shown
            self._show(reader, self.transport.call(self.wire.methods["get"], {"id": reader.task_id}), seen=True)
        if self._show(reader, self.transport.call(self.wire.methods["send"], params)):
            return True
        while reader.state not in FINAL and reader.task_id:
            self.renderer.waiting(f"task {reader.state or 'pending'}: asking again")
            time.sleep(self.poll_seconds)
            self._show(reader, self.transport.call(self.wire.methods["get"], {"id": reader.task_id}))
        self.renderer.waiting(None)
        return False

    def _cancel(self, reader: Reader) -> None:
        if not reader.task_id or reader.state in FINAL:
            raise KeyboardInterrupt
        self.renderer.waiting(None)
        self.renderer.info(f"canceling task {reader.task_id} ...")
        try:
            # the state only: the text the task had is not news after ^C
            self._show(reader, self.transport.call(self.wire.methods["cancel"], {"id": reader.task_id}), seen=True)
        except RpcError as exc:
            self.renderer.error(f"the cancel was refused: {exc}")


def _ends(body: dict[str, Any]) -> bool:
    """Whether this event ends the stream: a status update (0.3 `final`, or 1.0's
    statusUpdate of a resting state); a Task snapshot first in the stream does not."""
    result = body.get("result")
    if not isinstance(result, dict):
        return False
    return result.get("final") is True or "statusUpdate" in result or result.get("kind") == "task"


def chat(session: Session, *, task_id: str | None = None, context_id: str | None = None) -> int:
    """Read lines and send each as a turn in one context; /new starts another, /quit (or
    end of input) ends. The exit code is 0, or 3 once the agent cannot be reached."""
    r = session.renderer
    r.info(f"{session.endpoint.name}: protocol {session.endpoint.version} at {session.endpoint.url}")
    examples = [e for s in (session.endpoint.card or {}).get("skills") or [] for e in s.get("examples") or []]
    if examples:
        r.info("try: " + " · ".join(examples[:8]))
    r.info("/new starts a new conversation, /quit (or Ctrl-D) ends")
    while True:
        try:
            line = r.prompt().strip()
        except (EOFError, KeyboardInterrupt):
            r.info("")
            return 0
        if not line:
            continue
        if line in ("/quit", "/exit"):
            return 0
        if line == "/new":
            task_id = context_id = None
            r.info("(a new conversation)")
            continue
        try:
            outcome = session.turn(line, task_id, context_id)
        except Unreachable as exc:
            r.error(str(exc))
            return UNREACHABLE
        except ClientError as exc:
            r.error(str(exc))
            continue
        except KeyboardInterrupt:
            r.info("")
            continue
        r.end(outcome)
        context_id = outcome.context_id or context_id
        task_id = outcome.task_id if outcome.state in INTERRUPTED else None
