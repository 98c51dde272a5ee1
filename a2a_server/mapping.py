"""Runner events -> A2A 0.3 frames (design §4), and the fold of frames into a Task.

`TurnMapper` owns the flags of one turn: the answer is one stable artifact per turn, its first
chunk `append:false`, later ones `append:true`, and `lastChunk:true` only on the last chunk.
To know which chunk is last, the newest text delta is held back until the next delta arrives
(before a tool or step event, only its last character is), so the chunks concatenate to the
answer exactly and the last one is never empty, except for an artifact whose turn died with
its process: `close_interrupted` closes it with an empty chunk marked interrupted.

`apply` folds one frame into a stored Task: the Task in the store is the fold of its log.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from a2a_server.protocol import objects
from a2a_server.protocol.objects import Frame
from a2a_server.jsoncodec import dumps
from a2a_server.runner.events import (
    AgentUpdated,
    ReasoningDelta,
    StepStarted,
    ToolCompleted,
    ToolStarted,
)
from a2a_server.tickets import Ticket

__all__ = ["META_KEY", "TurnMapper", "apply", "fold", "merged_parts", "task_usage",
           "worth_notifying"]

META_KEY = "a2aServer"
"""Our key in Task and event metadata (pending tickets, ticket events)."""


class TurnMapper:
    """Turns the events of one turn into frames."""

    __slots__ = ("_artifact_id", "_context_id", "_pending", "_sent", "_task_id", "answer")

    def __init__(self, task_id: str, context_id: str) -> None:
        self._task_id = task_id
        self._context_id = context_id
        self._artifact_id = objects.new_id()
        self._pending: list[str] = []
        self._sent = False
        self.answer: list[str] = []  # every piece of answer text, for conversation memory

    # -- answer text -----------------------------------------------------------------------

    def add_text(self, text: str) -> None:
        if text:
            self._pending.append(text)
            self.answer.append(text)

    def answer_text(self, final_text: str | None = None) -> str:
        """The whole answer of the turn, as `finish(final_text)` will have sent it."""
        if not self.answer and not self._sent and final_text:
            return final_text
        return "".join(self.answer)

    def flush(self) -> list[Frame]:
        """Send what is pending except the newest delta (it may turn out to be the last)."""
        if len(self._pending) < 2:
            return []
        text = "".join(self._pending[:-1])
        del self._pending[:-1]
        return [self._chunk(text, last=False)]

    def flush_before_event(self) -> list[Frame]:
        """Before a tool or step event: send all pending text but its last character, so the
        client sees what the agent said before the tool runs, and a last chunk remains."""
        text = "".join(self._pending)
        if len(text) < 2:
            return []
        self._pending[:] = [text[-1]]
        return [self._chunk(text[:-1], last=False)]

    def finish(self, final_text: str | None = None) -> list[Frame]:
        """Close the answer artifact: everything pending, as the last chunk."""
        if self._pending:
            text = "".join(self._pending)
            self._pending.clear()
            return [self._chunk(text, last=True)]
        if not self._sent and final_text:
            self.answer.append(final_text)
            return [self._chunk(final_text, last=True)]
        return []

    def _chunk(self, text: str, *, last: bool) -> Frame:
        frame = objects.artifact_update(
            self._task_id,
            self._context_id,
            self._artifact_id,
            [objects.text_part(text)],
            append=self._sent,
            last_chunk=last,
            name="answer",
        )
        self._sent = True
        return frame

    # -- progress ----------------------------------------------------------------------------

    def progress(
        self, event: StepStarted | ToolStarted | ToolCompleted | AgentUpdated | ReasoningDelta
    ) -> Frame:
        """A `working` status-update describing a step, tool, hand-off or reasoning event:
        a DataPart for the first four (a tool's arguments and output included, when they are
        JSON), metadata only for reasoning, which is no message to the user."""
        if isinstance(event, ReasoningDelta):
            return self._status("working", None, metadata={META_KEY: {"reasoning": event.text}})
        data: dict[str, Any] = {"type": event.type}
        if isinstance(event, StepStarted):
            data["step"] = event.step
        elif isinstance(event, AgentUpdated):
            data["agentName"] = event.agent_name
        else:
            data["toolName"] = event.tool_name
            data["toolCallId"] = event.tool_call_id
            if isinstance(event, ToolStarted):
                if event.arguments is not None and _is_json(event.arguments):
                    data["arguments"] = event.arguments
            else:
                data["success"] = event.success
                if event.output is not None and _is_json(event.output):
                    data["output"] = event.output
                if event.error is not None:
                    data["error"] = event.error
        return self._status("working", [objects.data_part(data)])

    def ticket_event(self, ticket: Ticket, state: str = "working") -> list[Frame]:
        """Frames announcing a ticket's change: deferred, resolved, failed or expired."""
        kind = {"pending": "tool_deferred", "resolved": "tool_background_resolved"}.get(
            ticket.state, "tool_background_failed"  # failed or expired: the state says which
        )
        summary = ticket.summary()
        frames: list[Frame] = []
        if ticket.state == "resolved":
            frames.append(
                objects.artifact_update(
                    self._task_id,
                    self._context_id,
                    f"ticket-{ticket.id}",
                    [_output_part(ticket.output)],
                    append=False,
                    last_chunk=True,
                    name=f"{ticket.tool_name} result",
                    metadata={META_KEY: {"ticketId": ticket.id}},
                )
            )
        frames.append(
            self._status(
                state,
                [objects.data_part({"type": kind, **summary})],
                metadata={META_KEY: {"tickets": [summary]}},
            )
        )
        return frames

    def close_interrupted(self, log: Sequence[tuple[int, Frame]]) -> list[Frame]:
        """Last chunks for the artifacts a dead turn left open: empty, marked interrupted."""
        open_ids: dict[str, str | None] = {}
        for _, frame in log:
            if frame["kind"] == "artifact-update":
                artifact = frame["artifact"]
                if frame.get("lastChunk"):
                    open_ids.pop(artifact["artifactId"], None)
                else:
                    open_ids[artifact["artifactId"]] = artifact.get("name")
        return [
            objects.artifact_update(
                self._task_id, self._context_id, artifact_id, [objects.text_part("")],
                append=True, last_chunk=True, name=name,
                metadata={META_KEY: {"interrupted": True}},
            )
            for artifact_id, name in open_ids.items()
        ]

    # -- ends ----------------------------------------------------------------------------------

    def working(self) -> Frame:
        return objects.status_update(self._task_id, self._context_id, "working")

    def end(
        self,
        state: str,
        text: str | None = None,
        closed: Sequence[Ticket] = (),
        usage: dict[str, int] | None = None,
        data: dict[str, Any] | None = None,
    ) -> Frame:
        """The final status-update of a turn: terminal or interrupted, `final:true`.

        `closed` are the tickets that end with the task, `usage` the tokens the turn used;
        the frame records both. `data` joins the message as a DataPart (what an
        input-required turn asks, for programs).
        """
        parts = [objects.text_part(text)] if text else []
        if data is not None and _is_json(data):
            parts.append(objects.data_part(data))
        ours: dict[str, Any] = {}
        if closed:
            ours["tickets"] = [t.summary() for t in closed]
        if usage:
            ours["usage"] = usage
        return self._status(state, parts, final=True, metadata={META_KEY: ours} if ours else None)

    def usage(self, usage: dict[str, int] | None) -> list[Frame]:
        """A `working` status-update recording a turn's token usage (none without usage)."""
        if not usage:
            return []
        return [self._status("working", None, metadata={META_KEY: {"usage": usage}})]

    def _status(
        self,
        state: str,
        parts: list[dict[str, Any]] | None,
        *,
        final: bool = False,
        metadata: dict[str, Any] | None = None,
    ) -> Frame:
        message = (
            objects.agent_message(parts, self._task_id, self._context_id) if parts else None
        )
        return objects.status_update(
            self._task_id, self._context_id, state, message=message, final=final,
            metadata=metadata,
        )


def _is_json(value: Any) -> bool:
    try:
        dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _output_part(output: Any) -> dict[str, Any]:
    if isinstance(output, str):
        return objects.text_part(output)
    if isinstance(output, dict):
        return objects.data_part(output)
    return objects.data_part({"value": output})


# -- the fold ----------------------------------------------------------------------------------


def apply(task: dict[str, Any] | None, frame: Frame) -> dict[str, Any]:
    """Fold one frame into a Task; returns the Task (mutated in place unless it is new).

    Never mutates the frame: frames are kept in the log as they were sent.
    """
    kind = frame["kind"]
    if kind == "task":
        return {
            **frame,
            "history": list(frame.get("history", ())),
            "artifacts": [{**a, "parts": list(a["parts"])} for a in frame.get("artifacts", ())],
            **({"metadata": _copy_meta(frame["metadata"])} if "metadata" in frame else {}),
        }
    if task is None:
        raise ValueError("the first frame of a task must be the Task")
    if kind == "status-update":
        status = frame["status"]
        task["status"] = status
        message = status.get("message")
        if message is not None and objects.is_final_state(status["state"]):
            task.setdefault("history", []).append(message)
        ours = (frame.get("metadata") or {}).get(META_KEY, {})
        for ticket in ours.get("tickets", ()):
            _track_ticket(task, ticket)
        if "usage" in ours:
            _add_usage(task, ours["usage"])
    elif kind == "artifact-update":
        _merge_artifact(task.setdefault("artifacts", []), frame)
    elif kind == "message":
        task.setdefault("history", []).append(frame)
    return task


def fold(task: dict[str, Any] | None, frames: Iterable[Frame]) -> dict[str, Any]:
    """`apply` every frame, in linear time: a run of text chunks appended to one artifact is
    joined once, not string by string."""
    run: list[Frame] = []
    for frame in frames:
        if _plain_append(frame):
            if run and frame["artifact"]["artifactId"] != run[-1]["artifact"]["artifactId"]:
                task = apply(task, _joined(run))
                run = []
            run.append(frame)
            continue
        if run:
            task = apply(task, _joined(run))
            run = []
        task = apply(task, frame)
    if run:
        task = apply(task, _joined(run))
    if task is None:
        raise ValueError("nothing to fold")
    return task


def _plain_append(frame: Frame) -> bool:
    if frame["kind"] != "artifact-update" or not frame.get("append"):
        return False
    parts = frame["artifact"]["parts"]
    return len(parts) == 1 and parts[0].get("kind") == "text" and "metadata" not in parts[0]


def _joined(run: list[Frame]) -> Frame:
    if len(run) == 1:
        return run[0]
    last = run[-1]
    text = "".join(f["artifact"]["parts"][0]["text"] for f in run)
    artifact = {**last["artifact"], "parts": [{"kind": "text", "text": text}]}
    return {**last, "artifact": artifact}


def _copy_meta(meta: dict[str, Any]) -> dict[str, Any]:
    out = dict(meta)
    if META_KEY in out:
        ours = dict(out[META_KEY])
        if "pendingTickets" in ours:
            ours["pendingTickets"] = list(ours["pendingTickets"])
        out[META_KEY] = ours
    return out


def _track_ticket(task: dict[str, Any], ticket: dict[str, Any]) -> None:
    meta = task.setdefault("metadata", {})
    ours = meta.setdefault(META_KEY, {})
    pending = [t for t in ours.get("pendingTickets", []) if t["ticketId"] != ticket["ticketId"]]
    if ticket["state"] == "pending":
        pending.append(ticket)
    if pending:
        ours["pendingTickets"] = pending
    else:
        ours.pop("pendingTickets", None)
        if not ours:
            meta.pop(META_KEY)
        if not meta:
            task.pop("metadata")


def worth_notifying(frames: Sequence[Frame], state: str) -> bool:
    """Whether these frames, written to a task in `state`, make a push notification: `working`
    after `submitted`, a ticket settling, and every final state (terminal or interrupted)."""
    for frame in frames:
        if frame["kind"] != "status-update":
            continue
        new = frame["status"]["state"]
        if frame.get("final") or (new == "working" and state == "submitted"):
            return True
        tickets = (frame.get("metadata") or {}).get(META_KEY, {}).get("tickets", ())
        if any(t["state"] != "pending" for t in tickets):
            return True
        state = new
    return False


def _add_usage(task: dict[str, Any], usage: dict[str, int]) -> None:
    ours = task.setdefault("metadata", {}).setdefault(META_KEY, {})
    total = dict(ours.get("usage", {}))
    for key, value in usage.items():
        if isinstance(value, int):
            total[key] = total.get(key, 0) + value
    ours["usage"] = total


def task_usage(task: dict[str, Any]) -> dict[str, int]:
    """The tokens a Task's turns have used, as recorded in its metadata."""
    return dict((task.get("metadata") or {}).get(META_KEY, {}).get("usage", {}))


def _merge_artifact(artifacts: list[dict[str, Any]], frame: Frame) -> None:
    chunk = frame["artifact"]
    for i, existing in enumerate(artifacts):
        if existing["artifactId"] == chunk["artifactId"]:
            if frame.get("append"):
                artifacts[i] = {**existing, "parts": merged_parts(existing["parts"], chunk["parts"])}
            else:
                artifacts[i] = {**chunk, "parts": list(chunk["parts"])}
            return
    artifacts.append({**chunk, "parts": list(chunk["parts"])})


def merged_parts(parts: list[dict[str, Any]], more: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`parts + more`, with adjacent plain text parts joined into one."""
    out = list(parts)
    for part in more:
        last = out[-1] if out else None
        if (
            last is not None
            and part.get("kind") == "text"
            and last.get("kind") == "text"
            and "metadata" not in part
            and "metadata" not in last
        ):
            out[-1] = {"kind": "text", "text": last["text"] + part["text"]}
        else:
            out.append(part)
    return out
