"""1.0 task lifecycle (spec 1.0 §3.1.1, §3.4): terminal tasks take no messages, a taskId must
name a task and match its context, and input-required resumes on the same task."""

from __future__ import annotations

from conformance.checks.v1_envelope import expect_error
from conformance.checks.v1_methods import payload, resumed
from conformance.model import Fail
from conformance.probe_v1 import TERMINAL, V1Probe, state_of, v1_check


@v1_check("v1.lifecycle.terminal", "3.1.1", "must", "A message to an ended task gets -32004 UNSUPPORTED_OPERATION")
async def terminal(v: V1Probe) -> None:
    task = await v.shared("completed")
    reply = await v.rpc("SendMessage", {"message": v.message("again", taskId=task["id"])}, request_id=61)
    expect_error(reply, -32004, 61, f"a message to a {state_of(task)} task")
    later = await v.result("GetTask", {"id": task["id"]})
    if state_of(later) not in TERMINAL:
        raise Fail(f"the ended task moved to {state_of(later)}")


@v1_check("v1.lifecycle.unknown-task", "3.4.2", "must", "A message naming an unknown taskId gets -32001")
async def unknown_task(v: V1Probe) -> None:
    reply = await v.rpc("SendMessage", {"message": v.message("hello", taskId="conformance-no-such-task")}, request_id=62)
    expect_error(reply, -32001, 62, "SendMessage with an unknown taskId")


@v1_check("v1.lifecycle.context-mismatch", "3.4.1", "must", "A taskId with another task's contextId is refused")
async def context_mismatch(v: V1Probe) -> None:
    task = await v.fresh("input-required")
    reply = await v.send("my answer", taskId=task["id"], contextId="conformance-wrong-context")
    if reply.error_code is None:
        raise Fail("a follow-up whose contextId is not its task's was accepted")
    later = await v.result("GetTask", {"id": task["id"]})
    if state_of(later) != state_of(task):
        raise Fail(f"the refused follow-up moved the task from {state_of(task)} to {state_of(later)}")


@v1_check("v1.lifecycle.input-required", "3.4.3", "must", "input-required resumes on a message with the taskId alone")
async def input_required(v: V1Probe) -> None:
    task, reply = await resumed(v)
    got = payload(reply, "the follow-up")
    if "messageId" in got:
        raise Fail("the follow-up to a task was answered with a Message, not the task")
    if got["id"] != task["id"] or got.get("contextId") != task["contextId"]:
        raise Fail(f"the follow-up to task {task['id']} answered task {got['id']} in context {got.get('contextId')}")


CHECKS = (terminal, unknown_task, context_mismatch, input_required)
