"""Runner events -> task frames (design §4), and the fold of frames into a Task.

`TurnMapper` owns the flags of one turn: the answer is one stable artifact per turn, its first
chunk `append:false`, later ones `append:true`, and `lastChunk:true` only on the last chunk.
To know which chunk is last, the newest text delta is held back until the next delta arrives
(before a tool or step event, only its last character is), so the chunks concatenate to the
answer exactly and the last one is never empty, except for an artifact whose turn died with
its process: `close_interrupted` closes it with an empty chunk marked interrupted.

`apply` folds one frame into a Task: the Task in the store is the fold of its log.
Everything here is the version-neutral model; the codecs in `protocol/` make wire JSON of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from a2a_server.jsoncodec import dumps
from a2a_server.model import (
    FINAL_STATES,
    Artifact,
    ArtifactUpdate,
    DataPart,
    Frame,
    Message,
    Metadata,
    Part,
    Role,
    Status,
    StatusUpdate,
    Task,
    TaskState,
    TextPart,
    new_id,
)
from a2a_server.runner.events import (
    AgentUpdated,
    NewArtifact,
    ReasoningDelta,
    StepStarted,
    ToolCompleted,
    ToolStarted,
)
from a2a_server.tickets import Ticket

__all__ = [
    "META_KEY",
    "LiveFold",
    "TurnMapper",
    "agent_message",
    "apply",
    "fold",
    "merged_parts",
    "new_task",
    "ours",
    "task_usage",
    "worth_notifying",
]

META_KEY = "a2aServer"
"""Our key in Task and event metadata (pending tickets, ticket events, usage)."""

Progress = StepStarted | ToolStarted | ToolCompleted | AgentUpdated | ReasoningDelta


def agent_message(parts: Sequence[Part], task_id: str, context_id: str) -> Message:
    return Message(Role.AGENT, tuple(parts), new_id(), task_id, context_id)


def new_task(task_id: str, context_id: str, message: Message) -> Task:
    """A task as it is created: `submitted`, its history the user's message."""
    return Task(task_id, context_id, Status(TaskState.SUBMITTED), [message], [])


def ours(metadata: Metadata | None) -> dict[str, Any]:
    """Our part of some metadata (`a2aServer`), or {}."""
    if not metadata:
        return {}
    value = metadata.get(META_KEY)
    return value if isinstance(value, dict) else {}


class TurnMapper:
    """Turns the events of one turn into frames."""

    __slots__ = ("_artifact_id", "_context_id", "_pending", "_sent", "_task_id", "answer")

    def __init__(self, task_id: str, context_id: str) -> None:
        self._task_id = task_id
        self._context_id = context_id
        self._artifact_id = ""  # the answer's, made with its first chunk
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
        if not self._artifact_id:
            self._artifact_id = new_id()
        frame = ArtifactUpdate(
            self._task_id,
            self._context_id,
            Artifact(self._artifact_id, (TextPart(text),), name="answer"),
            append=self._sent,
            last_chunk=last,
        )
        self._sent = True
        return frame

    # -- progress ----------------------------------------------------------------------------

    def progress(self, event: Progress) -> Frame:
        """A `working` status-update describing a step, tool, hand-off or reasoning event:
        a DataPart for the first four (a tool's arguments and output included, when they are
        JSON), metadata only for reasoning, which is no message to the user."""
        if isinstance(event, ReasoningDelta):
            return self._status(TaskState.WORKING, (), metadata={META_KEY: {"reasoning": event.text}})
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
        return self._status(TaskState.WORKING, (DataPart(data),))

    def artifact(self, event: NewArtifact) -> Frame:
        """An artifact of its own, whole: one chunk, `lastChunk`."""
        artifact = Artifact(new_id(), tuple(event.parts), event.name, event.description, event.metadata)
        return ArtifactUpdate(self._task_id, self._context_id, artifact, append=False, last_chunk=True)

    def ticket_event(self, ticket: Ticket, state: TaskState = TaskState.WORKING) -> list[Frame]:
        """Frames announcing a ticket's change: deferred, resolved, failed or expired."""
        kind = {"pending": "tool_deferred", "resolved": "tool_background_resolved"}.get(
            ticket.state, "tool_background_failed"  # failed or expired: the state says which
        )
        summary = ticket.summary()
        frames: list[Frame] = []
        if ticket.state == "resolved":
            frames.append(
                ArtifactUpdate(
                    self._task_id,
                    self._context_id,
                    Artifact(
                        f"ticket-{ticket.id}",
                        (_output_part(ticket.output),),
                        name=f"{ticket.tool_name} result",
                        metadata={META_KEY: {"ticketId": ticket.id}},
                    ),
                    append=False,
                    last_chunk=True,
                )
            )
        frames.append(
            self._status(
                state,
                (DataPart({"type": kind, **summary}),),
                metadata={META_KEY: {"tickets": [summary]}},
            )
        )
        return frames

    def close_interrupted(self, log: Sequence[tuple[int, Frame]]) -> list[Frame]:
        """Last chunks for the artifacts a dead turn left open: empty, marked interrupted."""
        open_ids: dict[str, str | None] = {}
        for _, frame in log:
            if isinstance(frame, ArtifactUpdate):
                artifact = frame.artifact
                if frame.last_chunk:
                    open_ids.pop(artifact.artifact_id, None)
                else:
                    open_ids[artifact.artifact_id] = artifact.name
        return [
            ArtifactUpdate(
                self._task_id,
                self._context_id,
                Artifact(
                    artifact_id, (TextPart(""),), name=name,
                    metadata={META_KEY: {"interrupted": True}},
                ),
                append=True,
                last_chunk=True,
            )
            for artifact_id, name in open_ids.items()
        ]

    # -- ends ----------------------------------------------------------------------------------

    def working(self) -> StatusUpdate:
        return StatusUpdate(self._task_id, self._context_id, Status(TaskState.WORKING))

    def end(
        self,
        state: TaskState,
        text: str | None = None,
        closed: Sequence[Ticket] = (),
        usage: dict[str, int] | None = None,
        data: dict[str, Any] | None = None,
    ) -> StatusUpdate:
        """The final status-update of a turn: terminal or interrupted, `final`.

        `closed` are the tickets that end with the task, `usage` the tokens the turn used;
        the frame records both. `data` joins the message as a DataPart (what an
        input-required turn asks, for programs).
        """
        parts: list[Part] = [TextPart(text)] if text else []
        if data is not None and _is_json(data):
            parts.append(DataPart(data))
        mine: dict[str, Any] = {}
        if closed:
            mine["tickets"] = [t.summary() for t in closed]
        if usage:
            mine["usage"] = usage
        return self._status(state, parts, final=True, metadata={META_KEY: mine} if mine else None)

    def usage(self, usage: dict[str, int] | None) -> list[Frame]:
        """A `working` status-update recording a turn's token usage (none without usage)."""
        if not usage:
            return []
        return [self._status(TaskState.WORKING, (), metadata={META_KEY: {"usage": usage}})]

    def _status(
        self,
        state: TaskState,
        parts: Sequence[Part],
        *,
        final: bool = False,
        metadata: Metadata | None = None,
    ) -> StatusUpdate:
        message = agent_message(parts, self._task_id, self._context_id) if parts else None
        return StatusUpdate(
            self._task_id, self._context_id, Status(state, message), final=final, metadata=metadata
        )


def _is_json(value: Any) -> bool:
    try:
        dumps(value)
    except (TypeError, ValueError):
        return False
    return True


def _output_part(output: Any) -> Part:
    if isinstance(output, str):
        return TextPart(output)
    return DataPart(output)


# -- the fold ----------------------------------------------------------------------------------


def apply(task: Task | None, frame: Frame) -> Task:
    """Fold one frame into a Task; returns the Task (changed in place unless it is new).

    Never changes the frame: frames are kept in the log as they were sent.
    """
    kind = type(frame)
    if kind is Task:
        assert isinstance(frame, Task)
        return frame.copy()
    if task is None:
        raise ValueError("the first frame of a task must be the Task")
    if kind is StatusUpdate:
        assert isinstance(frame, StatusUpdate)
        status = frame.status
        task.status = status
        if status.message is not None and status.state in FINAL_STATES:
            task.history.append(status.message)
        mine = ours(frame.metadata)
        if mine:
            for ticket in mine.get("tickets", ()):
                _track_ticket(task, ticket)
            if "usage" in mine:
                _add_usage(task, mine["usage"])
            if "turnCut" in mine:  # the task's last turn was cut short (its replica died)
                _set_flag(task, "turnCut", bool(mine["turnCut"]))
    elif kind is ArtifactUpdate:
        assert isinstance(frame, ArtifactUpdate)
        _merge_artifact(task.artifacts, frame)
    elif kind is Message:
        assert isinstance(frame, Message)
        task.history.append(frame)
    return task


def fold(task: Task | None, frames: Iterable[Frame]) -> Task:
    """`apply` every frame, in linear time: a run of text chunks appended to one artifact is
    joined once, not string by string."""
    run: list[ArtifactUpdate] = []
    for frame in frames:
        if _plain_append(frame):
            assert isinstance(frame, ArtifactUpdate)
            if run and frame.artifact.artifact_id != run[-1].artifact.artifact_id:
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


class LiveFold:
    """A Task folded as its frames are written, a turn's text kept as the chunks' strings
    and joined into its artifact when the Task is next read (`task`): one join per answer,
    not the answer so far copied at every chunk, and no chunk kept past its write."""

    __slots__ = ("_artifact", "_task", "_texts", "state")

    _JOIN_AT = 16  # strings kept before they are joined: bounds what an open answer holds

    def __init__(self, task: Task) -> None:
        self._task = task
        self.state = task.status.state  # the Task's (text chunks leave it alone)
        self._artifact: str | None = None  # the artifact the last chunk went to
        self._texts: list[str] = []  # text appended to it since the Task was last read

    @property
    def task(self) -> Task:
        if self._texts:
            self._join()
        return self._task

    @task.setter
    def task(self, task: Task) -> None:
        """The Task as it is now (folded from `task`, or read from the store)."""
        self._texts = []
        self._artifact = None
        self._task = task
        self.state = task.status.state

    def add_chunks(self, frames: Iterable[Frame]) -> None:
        """Fold artifact updates."""
        for frame in frames:
            if self._artifact is not None and _plain_append(frame) and (
                frame.artifact.artifact_id == self._artifact  # type: ignore[union-attr]
            ):
                texts = self._texts
                texts.append(frame.artifact.parts[0].text)  # type: ignore[union-attr]
                if len(texts) >= self._JOIN_AT:
                    texts[:] = ["".join(texts)]
                continue
            if self._texts:
                self._join()
            self._task = apply(self._task, frame)
            self._artifact = frame.artifact.artifact_id if type(frame) is ArtifactUpdate else None  # type: ignore[union-attr]

    def _join(self) -> None:
        """The strings kept, folded as one appended chunk of their artifact."""
        text = "".join(self._texts)
        self._texts = []
        assert self._artifact is not None  # strings are kept only for the last chunk's artifact
        task = self._task
        joined = ArtifactUpdate(task.id, task.context_id, Artifact(self._artifact, (TextPart(text),)), append=True)
        _merge_artifact(task.artifacts, joined)


def _plain_append(frame: Frame) -> bool:
    if type(frame) is not ArtifactUpdate or not frame.append:  # type: ignore[union-attr]
        return False
    parts = frame.artifact.parts  # type: ignore[union-attr]
    return len(parts) == 1 and _plain_text(parts[0])


def _plain_text(part: Part) -> bool:
    return type(part) is TextPart and part.metadata is None and part.media_type is None


def _joined(run: list[ArtifactUpdate]) -> ArtifactUpdate:
    if len(run) == 1:
        return run[0]
    last = run[-1]
    text = "".join(f.artifact.parts[0].text for f in run)  # type: ignore[union-attr]
    artifact = Artifact(
        last.artifact.artifact_id, (TextPart(text),), last.artifact.name,
        last.artifact.description, last.artifact.metadata, last.artifact.extensions,
    )
    return ArtifactUpdate(last.task_id, last.context_id, artifact, True, last.last_chunk, last.metadata)


def _track_ticket(task: Task, ticket: dict[str, Any]) -> None:
    meta = dict(task.metadata or {})
    mine = dict(ours(meta))
    pending = [t for t in mine.get("pendingTickets", []) if t["ticketId"] != ticket["ticketId"]]
    if ticket["state"] == "pending":
        pending.append(ticket)
    if pending:
        mine["pendingTickets"] = pending
    else:
        mine.pop("pendingTickets", None)
    if mine:
        meta[META_KEY] = mine
    else:
        meta.pop(META_KEY, None)
    task.metadata = meta or None


def _set_flag(task: Task, name: str, on: bool) -> None:
    meta = dict(task.metadata or {})
    mine = dict(ours(meta))
    if on:
        mine[name] = True
    else:
        mine.pop(name, None)
    if mine:
        meta[META_KEY] = mine
    else:
        meta.pop(META_KEY, None)
    task.metadata = meta or None


def worth_notifying(frames: Sequence[Frame], state: TaskState) -> bool:
    """Whether these frames, written to a task in `state`, make a push notification: `working`
    after `submitted`, a ticket settling, every final state (terminal or input-required), and
    `auth-required`."""
    for frame in frames:
        if type(frame) is not StatusUpdate:
            continue
        assert isinstance(frame, StatusUpdate)
        new = frame.status.state
        if frame.final or (new is TaskState.WORKING and state is TaskState.SUBMITTED):
            return True
        if new is TaskState.AUTH_REQUIRED and state is not new:  # not final: its stream stays open
            return True
        if any(t["state"] != "pending" for t in ours(frame.metadata).get("tickets", ())):
            return True
        state = new
    return False


def _add_usage(task: Task, usage: dict[str, int]) -> None:
    meta = dict(task.metadata or {})
    mine = dict(ours(meta))
    total = dict(mine.get("usage", {}))
    for key, value in usage.items():
        if isinstance(value, int):
            total[key] = total.get(key, 0) + value
    mine["usage"] = total
    meta[META_KEY] = mine
    task.metadata = meta


def task_usage(task: Task) -> dict[str, int]:
    """The tokens a Task's turns have used, as recorded in its metadata."""
    return dict(ours(task.metadata).get("usage", {}))


def _merge_artifact(artifacts: list[Artifact], frame: ArtifactUpdate) -> None:
    chunk = frame.artifact
    for i, existing in enumerate(artifacts):
        if existing.artifact_id == chunk.artifact_id:
            if frame.append:
                artifacts[i] = Artifact(
                    existing.artifact_id, merged_parts(existing.parts, chunk.parts),
                    existing.name, existing.description, existing.metadata, existing.extensions,
                )
            else:
                artifacts[i] = chunk
            return
    artifacts.append(chunk)


def merged_parts(parts: Sequence[Part], more: Sequence[Part]) -> tuple[Part, ...]:
    """`parts + more`, with adjacent plain text parts joined into one."""
    out = list(parts)
    for part in more:
        last = out[-1] if out else None
        if last is not None and _plain_text(part) and _plain_text(last):
            out[-1] = TextPart(last.text + part.text)  # type: ignore[union-attr]
        else:
            out.append(part)
    return tuple(out)
