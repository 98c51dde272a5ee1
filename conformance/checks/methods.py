"""message/send, tasks/get, tasks/cancel and the task lifecycle (spec §6.1-6.4, §7.1, §7.3,
§7.4)."""

from __future__ import annotations

import uuid

from conformance.checks.envelope import expect_error
from conformance.model import Fail, Skip, check
from conformance.probe import TERMINAL_STATES, Probe, describe
from conformance.shapes import problem
from conformance.triggers import COMPLETE


@check("send.result", "7.1", "must", "message/send returns a valid Task or Message")
async def send_result(p: Probe) -> None:
    reply = await p.send(COMPLETE)
    if reply.result is None:
        raise Fail(f"message/send failed: {describe(reply)}")
    bad = problem("JSONRPCSuccessResponse", reply.body) or problem("Result", reply.result)
    if bad:
        raise Fail(bad)
    if reply.result.get("kind") not in ("task", "message"):
        raise Fail(f"message/send returned a {reply.result.get('kind')!r}, not a Task or Message")


@check("send.task-ids", "6.1", "must", "A new task has server-made ids and keeps the user's message")
async def task_ids(p: Probe) -> None:
    task = await p.shared("completed")
    if not task.get("id") or not task.get("contextId"):
        raise Fail("the Task lacks an id or contextId")
    history = task.get("history") or []
    if not any(m.get("role") == "user" for m in history):
        raise Fail("the Task's history does not hold the user's message")


@check("send.context-kept", "6.4", "should", "A new message with a contextId stays in that context")
async def context_kept(p: Probe) -> None:
    context_id = f"conformance-context-{uuid.uuid4()}"
    reply = await p.send(COMPLETE, contextId=context_id)
    result = reply.result or {}
    if result.get("contextId") != context_id:
        raise Fail(f"sent contextId {context_id!r}, got {result.get('contextId')!r}")


@check("get.task", "7.3", "must", "tasks/get returns the valid Task with the id asked for")
async def get_task(p: Probe) -> None:
    task = await p.shared("completed")
    got = await p.result("tasks/get", {"id": task["id"]})
    bad = problem("Task", got)
    if bad:
        raise Fail(bad)
    if got["id"] != task["id"] or got["contextId"] != task["contextId"]:
        raise Fail(f"asked for task {task['id']}, got {got.get('id')} in context {got.get('contextId')}")
    if got["status"]["state"] != task["status"]["state"]:
        raise Fail(f"the task was {task['status']['state']}, tasks/get says {got['status']['state']}")


@check("get.history-length", "7.3.1", "must", "historyLength N returns at most the N most recent messages")
async def history_length(p: Probe) -> None:
    task = await p.fresh("input-required")
    answer = await p.send("my answer", taskId=task["id"], contextId=task["contextId"])
    if answer.result is None:
        raise Fail(f"the follow-up failed: {describe(answer)}")
    full = await p.result("tasks/get", {"id": task["id"]})
    history = full.get("history") or []
    if len(history) < 2:
        raise Skip("the task's history holds fewer than two messages")
    one = await p.result("tasks/get", {"id": task["id"], "historyLength": 1})
    got = one.get("history") or []
    if len(got) != 1:
        raise Fail(f"historyLength 1 returned {len(got)} messages")
    if got[0].get("messageId") != history[-1].get("messageId"):
        raise Fail("historyLength 1 did not return the most recent message")


@check("get.bad-history-length", "7.3.1", "should", "A negative historyLength gets -32602")
async def bad_history_length(p: Probe) -> None:
    task = await p.shared("completed")
    expect_error(await p.rpc("tasks/get", {"id": task["id"], "historyLength": -1}, request_id=9), -32602, 9,
                 "historyLength -1")


@check("cancel.open-task", "7.4", "must", "tasks/cancel of an open task returns it canceled, and it stays so")
async def cancel_open(p: Probe) -> None:
    task = await p.fresh("open")
    canceled = await p.result("tasks/cancel", {"id": task["id"]})
    bad = problem("Task", canceled)
    if bad:
        raise Fail(bad)
    if canceled["status"]["state"] != "canceled":
        raise Fail(f"tasks/cancel returned the task {canceled['status']['state']}, not canceled")
    later = await p.result("tasks/get", {"id": task["id"]})
    if later["status"]["state"] != "canceled":
        raise Fail(f"after cancel, tasks/get says {later['status']['state']}")


@check("cancel.ended-task", "7.4", "must", "tasks/cancel of an ended task gets -32002")
async def cancel_ended(p: Probe) -> None:
    task = await p.shared("completed")
    expect_error(await p.rpc("tasks/cancel", {"id": task["id"]}, request_id=10), -32002, 10,
                 f"cancel of a {task['status']['state']} task")


@check("lifecycle.terminal-is-final", "6.3", "must", "A message to an ended task is refused")
async def terminal_is_final(p: Probe) -> None:
    task = await p.shared("completed")
    reply = await p.send("again", taskId=task["id"], contextId=task["contextId"])
    if reply.error_code is None:
        raise Fail(f"a message to a {task['status']['state']} task was accepted")
    later = await p.result("tasks/get", {"id": task["id"]})
    if later["status"]["state"] not in TERMINAL_STATES:
        raise Fail(f"the ended task moved to {later['status']['state']}")


@check("lifecycle.terminal-code", "8.2", "should", "A message to an ended task gets -32004")
async def terminal_code(p: Probe) -> None:
    task = await p.shared("completed")
    reply = await p.send("again", taskId=task["id"])
    if reply.error_code != -32004:
        raise Fail(f"expected -32004 (UnsupportedOperation), got {describe(reply)}")


@check("lifecycle.input-required", "6.3", "must", "input-required is resumed by a message with the same taskId")
async def input_required(p: Probe) -> None:
    task = await p.fresh("input-required")
    message = task["status"].get("message")
    if message is not None and problem("Message", message):
        raise Fail(problem("Message", message) or "")
    follow = await p.stream("message/stream", {"message": p.message("my answer", taskId=task["id"])}) \
        if p.declares("streaming") else None
    frames = follow.frames if follow else []
    if follow is not None:
        if not frames:
            raise Fail("the follow-up stream has no frames")
        if any(f.get("taskId", f.get("id")) != task["id"] for f in frames):
            raise Fail("the follow-up's frames belong to another task")
    got = await p.wait_for_state(task["id"], TERMINAL_STATES | {"input-required", "working"})
    if got is None or got["id"] != task["id"]:
        raise Fail("the task did not go on after the follow-up message")


CHECKS = (
    send_result, task_ids, context_kept, get_task, history_length, bad_history_length,
    cancel_open, cancel_ended, terminal_is_final, terminal_code, input_required,
)
