"""1.0 streaming checks (spec 1.0 §3.1.2, §3.1.6, §4.2, §9.4.2): SSE framing, every event a
StreamResponse with one member, the Task first, one task, closing after a terminal or
interrupted state (1.0 has no `final`), artifact chunks, and SubscribeToTask. They apply
when the card declares streaming."""

from __future__ import annotations

import asyncio
from typing import Any

from conformance.checks.v1_envelope import expect_error
from conformance.model import Fail, Skip
from conformance.probe import Stream
from conformance.probe_v1 import INTERRUPTED, TERMINAL, V1Probe, state_of, v1_check
from conformance.shapes_v1 import problem
from conformance.triggers import COMPLETE, INPUT_REQUIRED

_STREAM_ID = "conformance-stream-v1"


async def completed_stream(v: V1Probe) -> Stream:
    """One SendStreamingMessage of a completing turn, read once and judged by several checks."""
    made: Stream = await v.probe.memo(
        "v1:stream", lambda: v.stream("SendStreamingMessage", {"message": v.message(COMPLETE)}, request_id=_STREAM_ID))
    return made


def frames(stream: Stream, what: str = "SendStreamingMessage") -> list[dict[str, Any]]:
    if stream.reply is not None:
        raise Fail(f"{what} answered {stream.content_type or 'no content type'}, not an event stream")
    if not stream.frames:
        raise Fail(f"{what}: the stream has no events with a result")
    return stream.frames


def member(frame: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The one member of a StreamResponse: its name and object."""
    if len(frame) != 1:
        raise Fail(f"a stream result has {len(frame)} members ({', '.join(frame)}), not one")
    name, body = next(iter(frame.items()))
    return name, body if isinstance(body, dict) else {}


def task_id(frame: dict[str, Any]) -> Any:
    name, body = member(frame)
    return body.get("id") if name == "task" else body.get("taskId")


def check_closing(stream: Stream, states: frozenset[str], grace: float) -> dict[str, Any]:
    """The stream ends with a status update in one of `states`, nothing after it, and closes."""
    got = frames(stream)
    ends = [i for i, f in enumerate(got) if "statusUpdate" in f and state_of(f["statusUpdate"]) in TERMINAL | INTERRUPTED]
    if len(got) == 1 and "message" in got[0]:
        ends = [0]
    elif not ends:
        raise Fail(f"no status update reached a terminal or interrupted state ({len(got)} events)")
    elif ends[0] != len(got) - 1:
        raise Fail(f"{len(got) - 1 - ends[0]} event(s) came after the {state_of(got[ends[0]]['statusUpdate'])} update")
    elif state_of(got[-1]["statusUpdate"]) not in states:
        raise Fail(f"the stream ended {state_of(got[-1]['statusUpdate'])}")
    if not stream.closed:
        raise Fail(f"the stream was still open {grace:g}s after its last state")
    return got[-1]


@v1_check("v1.sse.content-type", "9.1", "must", "SendStreamingMessage answers HTTP 200 text/event-stream", needs="streaming")
async def content_type(v: V1Probe) -> None:
    s = await completed_stream(v)
    if s.status != 200 or not s.content_type.startswith("text/event-stream"):
        raise Fail(f"HTTP {s.status} {s.content_type!r}")


@v1_check("v1.sse.events", "9.4.2", "must", "Each event's data is one JSON-RPC response with the request's id", needs="streaming")
async def events(v: V1Probe) -> None:
    s = await completed_stream(v)
    frames(s)
    for i, event in enumerate(s.events):
        body = event.body
        if not isinstance(body, dict):
            raise Fail(f"event {i}: data is not one JSON object: {event.data[:80]!r}")
        bad = problem("JSONRPCSuccessResponse", body) if "result" in body else problem("JSONRPCErrorResponse", body)
        if bad:
            raise Fail(f"event {i}: {bad}")
        if body.get("id") != _STREAM_ID:
            raise Fail(f"event {i}: id {body.get('id')!r}, not the request's {_STREAM_ID!r}")


@v1_check("v1.sse.stream-response", "3.2.3", "must", "Every event is a valid StreamResponse with exactly one member", needs="streaming")
async def stream_response(v: V1Probe) -> None:
    for i, frame in enumerate(frames(await completed_stream(v))):
        bad = problem("StreamResponse", frame)
        if bad:
            raise Fail(f"event {i}: {bad}")


@v1_check("v1.sse.task-first", "3.1.2", "must", "The stream opens with the Task (or is a single Message)", needs="streaming")
async def task_first(v: V1Probe) -> None:
    got = frames(await completed_stream(v))
    first, _ = member(got[0])
    if first == "message" and len(got) == 1:
        return
    if first != "task":
        raise Fail(f"the first event is a {first!r}, not the task")


@v1_check("v1.sse.one-task", "3.1.2", "must", "All events belong to one task and context", needs="streaming")
async def one_task(v: V1Probe) -> None:
    got = frames(await completed_stream(v))
    ids = {task_id(f) for f in got if "message" not in f}
    contexts = {member(f)[1].get("contextId") for f in got}
    if len(ids) > 1 or len(contexts) > 1:
        raise Fail(f"events name {len(ids)} task ids and {len(contexts)} context ids")


@v1_check("v1.sse.closes", "3.1.2", "must", "The stream ends with the terminal state and closes", needs="streaming")
async def closes(v: V1Probe) -> None:
    check_closing(await completed_stream(v), TERMINAL, v.probe.close_grace)


@v1_check("v1.sse.closes-interrupted", "3.1.2", "should", "A stream that stops at input-required ends there and closes", needs="streaming")
async def closes_interrupted(v: V1Probe) -> None:
    s = await v.stream("SendStreamingMessage", {"message": v.message(INPUT_REQUIRED)})
    updates = [f["statusUpdate"] for f in frames(s) if "statusUpdate" in f]
    if not any(state_of(u) == "TASK_STATE_INPUT_REQUIRED" for u in updates):
        raise Skip(f"the agent did not ask for input (sent {INPUT_REQUIRED!r})")
    check_closing(s, INTERRUPTED, v.probe.close_grace)


def check_chunks(got: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Artifact chunks in order: the parts each artifact adds up to."""
    seen: dict[str, list[dict[str, Any]]] = {}
    closed: set[str] = set()
    for frame in got:
        update = frame.get("artifactUpdate")
        if not isinstance(update, dict):
            continue
        aid = update["artifact"]["artifactId"]
        if aid in closed:
            raise Fail(f"a chunk of artifact {aid} came after its lastChunk")
        if update.get("append") is True and aid not in seen:
            raise Fail(f"the first chunk of artifact {aid} has append:true")
        parts = update["artifact"]["parts"]
        seen[aid] = seen.get(aid, []) + parts if update.get("append") else list(parts)
        if update.get("lastChunk") is True:
            closed.add(aid)
    return seen


@v1_check("v1.artifacts.chunks", "4.2.2", "must", "Artifact chunks: no append on the first, none after lastChunk", needs="streaming")
async def chunks(v: V1Probe) -> None:
    check_chunks(frames(await completed_stream(v)))


@v1_check("v1.artifacts.add-up", "4.2.2", "must", "The chunks concatenate to the artifact GetTask returns", needs="streaming")
async def add_up(v: V1Probe) -> None:
    got = frames(await completed_stream(v))
    streamed = check_chunks(got)
    if not streamed:
        raise Skip("the stream carried no artifact")
    task = await v.result("GetTask", {"id": task_id(got[0])})
    stored = {a["artifactId"]: a["parts"] for a in task.get("artifacts") or []}
    for aid, parts in streamed.items():
        if aid not in stored:
            raise Fail(f"artifact {aid} was streamed but GetTask does not have it")
        if _text(parts) != _text(stored[aid]):
            raise Fail(f"artifact {aid}: the chunks say {_text(parts)[:40]!r}, GetTask {_text(stored[aid])[:40]!r}")


def _text(parts: list[dict[str, Any]]) -> str:
    return "".join(p.get("text", "") for p in parts if isinstance(p, dict))


@v1_check("v1.artifacts.last-chunk", "4.2.2", "should", "Every streamed artifact ends with a lastChunk:true chunk", needs="streaming")
async def last_chunk(v: V1Probe) -> None:
    updates = [f["artifactUpdate"] for f in frames(await completed_stream(v)) if "artifactUpdate" in f]
    open_ids = {u["artifact"]["artifactId"] for u in updates} - {u["artifact"]["artifactId"] for u in updates if u.get("lastChunk")}
    if open_ids:
        raise Fail(f"{len(open_ids)} artifact(s) never got lastChunk:true")


@v1_check("v1.subscribe.live", "3.1.6", "must", "SubscribeToTask gives the current Task, then live events to the end", needs="streaming")
async def subscribe_live(v: V1Probe) -> None:
    task = await v.fresh("open")
    reader = asyncio.create_task(v.stream("SubscribeToTask", {"id": task["id"]}, request_id=71))
    await asyncio.sleep(0.5)
    await v.result("CancelTask", {"id": task["id"]})
    s = await reader
    got = frames(s, "SubscribeToTask")
    first, body = member(got[0])
    if first != "task" or body.get("id") != task["id"]:
        raise Fail(f"the first event is a {first!r}, not the current Task")
    if state_of(body) != state_of(task):
        raise Fail(f"the first event shows the task {state_of(body)}, but it was {state_of(task)}")
    last = check_closing(s, TERMINAL, v.probe.close_grace)
    if state_of(last.get("statusUpdate")) != "TASK_STATE_CANCELED":
        raise Fail(f"the stream ended {state_of(last.get('statusUpdate'))}, but the task was canceled")


@v1_check("v1.subscribe.ended", "3.1.6", "must", "SubscribeToTask of an ended task gets -32004, as plain JSON", needs="streaming")
async def subscribe_ended(v: V1Probe) -> None:
    task = await v.shared("completed")
    s = await v.stream("SubscribeToTask", {"id": task["id"]}, request_id=72)
    if s.reply is None:
        raise Fail(f"a {state_of(task)} task was answered with an event stream, not a plain JSON-RPC error")
    expect_error(s.reply, -32004, 72, f"SubscribeToTask of a {state_of(task)} task")


@v1_check("v1.subscribe.unknown", "3.1.6", "must", "SubscribeToTask of an unknown task gets -32001", needs="streaming")
async def subscribe_unknown(v: V1Probe) -> None:
    s = await v.stream("SubscribeToTask", {"id": "conformance-no-such-task"}, request_id=73)
    if s.reply is not None:
        expect_error(s.reply, -32001, 73, "SubscribeToTask of an unknown task")
        return
    body = s.events[0].body if s.events else None
    code = body.get("error", {}).get("code") if isinstance(body, dict) else None
    if code != -32001:
        raise Fail(f"SubscribeToTask of an unknown task did not answer -32001 (got {code if code is not None else 'a stream'})")


CHECKS = (
    content_type, events, stream_response, task_first, one_task, closes, closes_interrupted,
    chunks, add_up, last_chunk, subscribe_live, subscribe_ended, subscribe_unknown,
)
