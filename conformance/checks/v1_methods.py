"""1.0 SendMessage, GetTask and CancelTask (spec 1.0 §3.1.1, §3.1.3, §3.1.5, §3.2, §9.4): the
shapes of their results (SendMessage wrapped, GetTask and CancelTask a bare Task), blocking,
history length, cancel."""

from __future__ import annotations

import uuid
from typing import Any

from conformance.checks.v1_envelope import expect_error
from conformance.model import Fail, Skip
from conformance.probe import Reply, describe
from conformance.probe_v1 import INTERRUPTED, TERMINAL, V1Probe, state_of, v1_check
from conformance.shapes_v1 import problem
from conformance.triggers import COMPLETE


async def sent(v: V1Probe) -> Reply:
    """One blocking SendMessage of a completing turn, judged by several checks."""
    reply: Reply = await v.probe.memo("v1:sent", lambda: v.send(COMPLETE))
    return reply


def payload(reply: Reply, what: str = "SendMessage") -> dict[str, Any]:
    """The task or message of a SendMessageResponse, which must be valid."""
    if reply.result is None:
        raise Fail(f"{what} failed: {describe(reply)}")
    bad = problem("JSONRPCSuccessResponse", reply.body) or problem("SendMessageResponse", reply.result)
    if bad:
        raise Fail(f"{what}: {bad}")
    return reply.result.get("task") or reply.result["message"]  # type: ignore[no-any-return]


async def canceled(v: V1Probe) -> tuple[dict[str, Any], Reply]:
    """An open task and the answer to canceling it, made once."""
    async def make() -> Any:
        try:
            task = await v.fresh("open")
        except Skip as skip:
            return skip
        return task, await v.rpc("CancelTask", {"id": task["id"]})
    made = await v.probe.memo("v1:canceled", make)
    if isinstance(made, Skip):
        raise made
    return made  # type: ignore[no-any-return]


@v1_check("v1.send.result", "3.1.1", "must", "SendMessage returns {task} or {message}, valid")
async def send_result(v: V1Probe) -> None:
    payload(await sent(v))


@v1_check("v1.send.blocking", "3.2.2", "must", "A blocking SendMessage returns once the task is terminal or interrupted")
async def send_blocking(v: V1Probe) -> None:
    reply = await sent(v)
    task = payload(reply)
    if "task" in reply.result and state_of(task) not in TERMINAL | INTERRUPTED:
        raise Fail(f"without returnImmediately SendMessage returned the task {state_of(task)}")


@v1_check("v1.send.task-ids", "3.4.2", "must", "A new task has server-made ids and keeps the user's message")
async def task_ids(v: V1Probe) -> None:
    task = await v.shared("completed")
    if not task.get("id") or not task.get("contextId"):
        raise Fail("the Task lacks an id or contextId")
    got = await v.result("GetTask", {"id": task["id"], "historyLength": 10})
    if not any(isinstance(m, dict) and m.get("role") == "ROLE_USER" for m in got.get("history") or []):
        raise Fail("the Task's history does not hold the user's message")


@v1_check("v1.send.context-kept", "3.4.1", "should", "A client's contextId is kept, or refused with an error (never replaced)")
async def context_kept(v: V1Probe) -> None:
    context_id = f"conformance-context-{uuid.uuid4()}"
    reply = await v.send(COMPLETE, contextId=context_id)
    if reply.error_code is not None:
        return
    got = payload(reply).get("contextId")
    if got != context_id:
        raise Fail(f"sent contextId {context_id!r}, got {got!r}")


@v1_check("v1.get.task", "3.1.3", "must", "GetTask returns the bare Task asked for, valid")
async def get_task(v: V1Probe) -> None:
    task = await v.shared("completed")
    got = await v.result("GetTask", {"id": task["id"]})
    bad = problem("Task", got)
    if bad:
        raise Fail(bad + (" (GetTask returns the Task itself, not wrapped)" if isinstance(got, dict) and "task" in got else ""))
    if got["id"] != task["id"] or state_of(got) != state_of(task):
        raise Fail(f"asked for task {task['id']} ({state_of(task)}), got {got.get('id')} ({state_of(got)})")


@v1_check("v1.get.history-length", "3.2.4", "must", "historyLength N: the N most recent messages; 0: none")
async def history_length(v: V1Probe) -> None:
    task, _ = await resumed(v)
    full = await v.result("GetTask", {"id": task["id"]})
    history = full.get("history") or []
    if len(history) < 2:
        raise Skip("the task's history holds fewer than two messages")
    one = (await v.result("GetTask", {"id": task["id"], "historyLength": 1})).get("history") or []
    if len(one) != 1 or one[0].get("messageId") != history[-1].get("messageId"):
        raise Fail(f"historyLength 1 returned {len(one)} message(s), not the most recent one")
    none = await v.result("GetTask", {"id": task["id"], "historyLength": 0})
    if none.get("history"):
        raise Fail(f"historyLength 0 returned {len(none['history'])} message(s), not none")


async def resumed(v: V1Probe) -> tuple[dict[str, Any], Reply]:
    """An input-required task and the answer to the follow-up that resumes it, made once."""
    async def make() -> Any:
        try:
            task = await v.fresh("input-required")
        except Skip as skip:
            return skip
        return task, await v.send("my answer", taskId=task["id"])
    made = await v.probe.memo("v1:resumed", make)
    if isinstance(made, Skip):
        raise made
    return made  # type: ignore[no-any-return]


@v1_check("v1.get.bad-history-length", "3.2.4", "should", "A negative historyLength gets -32602")
async def bad_history_length(v: V1Probe) -> None:
    task = await v.shared("completed")
    expect_error(await v.rpc("GetTask", {"id": task["id"], "historyLength": -1}, request_id=41), -32602, 41,
                 "historyLength -1")


@v1_check("v1.cancel.open-task", "3.1.5", "must", "CancelTask of an open task returns the bare Task canceled, and it stays so")
async def cancel_open(v: V1Probe) -> None:
    task, reply = await canceled(v)
    got = reply.result
    if got is None:
        raise Fail(f"CancelTask failed: {describe(reply)}")
    bad = problem("Task", got)
    if bad:
        raise Fail(bad)
    if state_of(got) != "TASK_STATE_CANCELED":
        raise Fail(f"CancelTask returned the task {state_of(got)}, not TASK_STATE_CANCELED")
    later = await v.result("GetTask", {"id": task["id"]})
    if state_of(later) != "TASK_STATE_CANCELED":
        raise Fail(f"after CancelTask, GetTask says {state_of(later)}")


@v1_check("v1.cancel.twice", "3.1.5", "must", "Canceling a canceled task gets -32002 TASK_NOT_CANCELABLE")
async def cancel_twice(v: V1Probe) -> None:
    task, _ = await canceled(v)
    expect_error(await v.rpc("CancelTask", {"id": task["id"]}, request_id=42), -32002, 42, "a second CancelTask")


CHECKS = (
    send_result, send_blocking, task_ids, context_kept, get_task, history_length, bad_history_length,
    cancel_open, cancel_twice,
)
