"""Streaming checks: SSE framing (spec §3.3.1), message/stream (§7.2), artifact chunks
(§7.2.3) and tasks/resubscribe (§7.9). They apply when the card declares streaming."""

from __future__ import annotations

import asyncio
from typing import Any

from conformance.checks.envelope import expect_error
from conformance.model import Fail, Skip, check
from conformance.probe import FINAL_STATES, Probe, Stream
from conformance.shapes import problem
from conformance.triggers import COMPLETE

_STREAM_ID = "conformance-stream"


async def completed_stream(p: Probe) -> Stream:
    """One message/stream of a completing turn, read once and judged by several checks."""
    return await p.memo("stream", lambda: p.stream("message/stream", {"message": p.message(COMPLETE)}, request_id=_STREAM_ID))


def _frames(stream: Stream) -> list[dict[str, Any]]:
    if stream.reply is not None:
        raise Fail(f"message/stream answered {stream.content_type or 'no content type'}, not an event stream")
    if not stream.frames:
        raise Fail("the stream has no frames")
    return stream.frames


@check("sse.content-type", "3.3.1", "must", "message/stream answers HTTP 200 text/event-stream", needs="streaming")
async def content_type(p: Probe) -> None:
    s = await completed_stream(p)
    if s.status != 200 or not s.content_type.startswith("text/event-stream"):
        raise Fail(f"HTTP {s.status} {s.content_type!r}")


@check("sse.events", "3.3.1", "must", "Each event's data is one JSON-RPC response with the request's id", needs="streaming")
async def events(p: Probe) -> None:
    s = await completed_stream(p)
    _frames(s)
    for i, event in enumerate(s.events):
        body = event.body
        if not isinstance(body, dict):
            raise Fail(f"event {i}: data is not one JSON object: {event.data[:80]!r}")
        bad = problem("JSONRPCSuccessResponse", body) if "result" in body else problem("JSONRPCErrorResponse", body)
        if bad:
            raise Fail(f"event {i}: {bad}")
        if body.get("id") != _STREAM_ID:
            raise Fail(f"event {i}: id {body.get('id')!r}, not the request's {_STREAM_ID!r}")


@check("sse.frame-shapes", "7.2.1", "must", "Every frame is a valid Task, Message, status-update or artifact-update", needs="streaming")
async def frame_shapes(p: Probe) -> None:
    for i, frame in enumerate(_frames(await completed_stream(p))):
        bad = problem("Result", frame)
        if bad:
            raise Fail(f"frame {i}: {bad}")


@check("sse.task-first", "7.2", "should", "The stream opens with the Task (or is a single Message)", needs="streaming")
async def task_first(p: Probe) -> None:
    frames = _frames(await completed_stream(p))
    first = frames[0].get("kind")
    if first == "message" and len(frames) == 1:
        return
    if first != "task":
        raise Fail(f"the first frame is a {first!r}, not the Task")


@check("sse.one-task", "7.2", "must", "All frames belong to one task and context", needs="streaming")
async def one_task(p: Probe) -> None:
    frames = _frames(await completed_stream(p))
    ids = {f.get("id") if f.get("kind") == "task" else f.get("taskId") for f in frames if f.get("kind") != "message"}
    contexts = {f.get("contextId") for f in frames}
    if len(ids) > 1 or len(contexts) > 1:
        raise Fail(f"frames name {len(ids)} task ids and {len(contexts)} context ids")


@check("sse.final", "7.2.2", "must", "final:true exactly once, on the last frame, on a terminal or interrupted state", needs="streaming")
async def final(p: Probe) -> None:
    check_final(_frames(await completed_stream(p)))


def check_final(frames: list[dict[str, Any]]) -> None:
    if len(frames) == 1 and frames[0].get("kind") == "message":
        return
    finals = [i for i, f in enumerate(frames) if f.get("final") is True]
    if not finals:
        raise Fail("no frame has final:true")
    if len(finals) > 1:
        raise Fail(f"final:true on {len(finals)} frames")
    if finals[0] != len(frames) - 1:
        raise Fail(f"final:true on frame {finals[0]} of {len(frames)}, not the last")
    last = frames[-1]
    if last.get("kind") != "status-update" or last["status"].get("state") not in FINAL_STATES:
        raise Fail(f"final:true on a {last.get('kind')} in state {last.get('status', {}).get('state')!r}")


@check("sse.final-interrupted", "7.2.2", "must", "A stream that stops at input-required ends with final:true", needs="streaming")
async def final_interrupted(p: Probe) -> None:
    from conformance.triggers import INPUT_REQUIRED

    s = await p.stream("message/stream", {"message": p.message(INPUT_REQUIRED)})
    frames = _frames(s)
    last = frames[-1]
    if last.get("kind") != "status-update" or last["status"].get("state") != "input-required":
        state = last.get("status", {}).get("state") if isinstance(last.get("status"), dict) else None
        raise Skip(f"the agent did not ask for input (sent {INPUT_REQUIRED!r}; the stream ended {state})")
    check_final(frames)
    if not s.closed:
        raise Fail(f"the stream was still open {p.close_grace:g}s after input-required")


@check("sse.closes", "7.2", "must", "The stream closes after the final frame", needs="streaming")
async def closes(p: Probe) -> None:
    s = await completed_stream(p)
    _frames(s)
    if not s.closed:
        raise Fail(f"the stream was still open {p.close_grace:g}s after the final frame")


@check("artifacts.chunks", "7.2.3", "must", "Artifact chunks: append false first, then true; none after lastChunk", needs="streaming")
async def chunks(p: Probe) -> None:
    check_chunks(_frames(await completed_stream(p)))


def check_chunks(frames: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    seen: dict[str, list[dict[str, Any]]] = {}
    closed: set[str] = set()
    for frame in frames:
        if frame.get("kind") != "artifact-update":
            continue
        aid = frame["artifact"]["artifactId"]
        if aid in closed:
            raise Fail(f"a chunk of artifact {aid} came after its lastChunk")
        if frame.get("append") is True and aid not in seen:
            raise Fail(f"the first chunk of artifact {aid} has append:true")
        parts = frame["artifact"]["parts"]
        seen[aid] = seen.get(aid, []) + parts if frame.get("append") else list(parts)
        if frame.get("lastChunk") is True:
            closed.add(aid)
    return seen


@check("artifacts.add-up", "7.2.3", "must", "The chunks concatenate to the artifact tasks/get returns", needs="streaming")
async def add_up(p: Probe) -> None:
    frames = _frames(await completed_stream(p))
    streamed = check_chunks(frames)
    if not streamed:
        raise Skip("the stream carried no artifact")
    task_id = frames[0].get("id") if frames[0].get("kind") == "task" else frames[0].get("taskId")
    task = await p.result("tasks/get", {"id": task_id})
    stored = {a["artifactId"]: a["parts"] for a in task.get("artifacts") or []}
    for aid, parts in streamed.items():
        if aid not in stored:
            raise Fail(f"artifact {aid} was streamed but tasks/get does not have it")
        if _text(parts) != _text(stored[aid]):
            raise Fail(f"artifact {aid}: the chunks say {_text(parts)[:40]!r}, tasks/get {_text(stored[aid])[:40]!r}")


def _text(parts: list[dict[str, Any]]) -> str:
    return "".join(part.get("text", "") for part in parts if part.get("kind") == "text")


@check("artifacts.last-chunk", "7.2.3", "should", "Every streamed artifact ends with a lastChunk:true chunk", needs="streaming")
async def last_chunk(p: Probe) -> None:
    frames = _frames(await completed_stream(p))
    open_ids = {f["artifact"]["artifactId"] for f in frames if f.get("kind") == "artifact-update"}
    open_ids -= {f["artifact"]["artifactId"] for f in frames if f.get("kind") == "artifact-update" and f.get("lastChunk")}
    if open_ids:
        raise Fail(f"{len(open_ids)} artifact(s) never got lastChunk:true")


@check("resubscribe.unknown", "7.9", "must", "tasks/resubscribe of an unknown task gets -32001", needs="streaming")
async def resubscribe_unknown(p: Probe) -> None:
    s = await p.stream("tasks/resubscribe", {"id": "conformance-no-such-task"}, request_id=12)
    if s.reply is not None:
        expect_error(s.reply, -32001, 12, "tasks/resubscribe")
    elif not s.events or not isinstance(s.events[0].body, dict) or s.events[0].body.get("error", {}).get("code") != -32001:
        raise Fail("tasks/resubscribe of an unknown task did not answer -32001")


@check("resubscribe.ended", "7.9", "should", "tasks/resubscribe of an ended task gets -32004", needs="streaming")
async def resubscribe_ended(p: Probe) -> None:
    task = await p.shared("completed")
    s = await p.stream("tasks/resubscribe", {"id": task["id"]}, request_id=13)
    body = s.reply.body if s.reply is not None else (s.events[0].body if s.events else None)
    code = body.get("error", {}).get("code") if isinstance(body, dict) else None
    if code != -32004:
        raise Fail(f"expected -32004 for a {task['status']['state']} task, got {code if code is not None else 'a stream'}")


@check("resubscribe.live", "7.9", "must", "tasks/resubscribe gives the Task, then live frames to the final one", needs="streaming")
async def resubscribe_live(p: Probe) -> None:
    task = await p.fresh("open")
    reader = asyncio.create_task(p.stream("tasks/resubscribe", {"id": task["id"]}, request_id=14))
    await asyncio.sleep(0.5)
    await p.result("tasks/cancel", {"id": task["id"]})
    s = await reader
    frames = _frames(s)
    if frames[0].get("kind") != "task" or frames[0].get("id") != task["id"]:
        raise Fail(f"the first frame is a {frames[0].get('kind')!r}, not the Task")
    check_final(frames)
    if frames[-1]["status"]["state"] != "canceled":
        raise Fail(f"the stream ended {frames[-1]['status']['state']}, but the task was canceled")
    if any(e.body.get("id") != 14 for e in s.events if isinstance(e.body, dict)):
        raise Fail("a frame does not carry the request id")


CHECKS = (
    content_type, events, frame_shapes, task_first, one_task, final, final_interrupted, closes, chunks,
    add_up, last_chunk,
    resubscribe_unknown, resubscribe_ended, resubscribe_live,
)
