"""1.0 push notifications (spec 1.0 §3.1.7-3.1.10, §4.3.3), when the card declares them: the
flat config's create, get, list and delete, and, when the suite has a webhook receiver of its
own (`--webhook-host`), what a delivery carries: a StreamResponse, with the credentials."""

from __future__ import annotations

import json
import uuid

from conformance.checks.v1_envelope import expect_error
from conformance.model import Fail, Skip
from conformance.probe import describe
from conformance.probe_v1 import V1Probe, v1_check
from conformance.shapes_v1 import problem
from conformance.triggers import COMPLETE

HOOK = "https://conformance.invalid/webhook"


@v1_check("v1.push.round-trip", "3.1.7", "must", "Create, get, list and delete a flat push config; delete is idempotent", needs="push")
async def round_trip(v: V1Probe) -> None:
    tid = (await v.shared("completed"))["id"]
    ref = {"taskId": tid, "id": "conformance-1"}
    made = await v.result("CreateTaskPushNotificationConfig", {
        **ref, "url": HOOK, "token": "t0k", "authentication": {"scheme": "Bearer", "credentials": "s3cret"}})
    bad = problem("TaskPushNotificationConfig", made)
    if bad:
        raise Fail(f"create: {bad}")
    if (made.get("taskId"), made.get("id"), made["url"]) != (tid, "conformance-1", HOOK):
        raise Fail(f"create did not return the config it stored: {json.dumps(made)[:120]}")
    got = await v.result("GetTaskPushNotificationConfig", ref)
    if problem("TaskPushNotificationConfig", got) or got.get("url") != HOOK:
        raise Fail(f"get returned {json.dumps(got)[:120]}")
    listed = await v.result("ListTaskPushNotificationConfigs", {"taskId": tid})
    bad = problem("ListTaskPushNotificationConfigsResponse", listed)
    if bad:
        raise Fail(f"list: {bad}")
    if not any(c.get("id") == "conformance-1" for c in listed.get("configs") or []):
        raise Fail("list does not include the config")
    for attempt in ("delete", "a second delete"):
        deleted = await v.rpc("DeleteTaskPushNotificationConfig", ref)
        if deleted.error_code is not None or not isinstance(deleted.body, dict) or deleted.body.get("result") not in (None, {}):
            raise Fail(f"{attempt} should answer an empty result (null), got {describe(deleted)}")
    after = await v.rpc("GetTaskPushNotificationConfig", ref)
    if after.error_code is None:
        raise Fail("the deleted config is still returned")


@v1_check("v1.push.unknown-task", "3.1.7", "must", "A push config for an unknown task gets -32001", needs="push")
async def unknown_task(v: V1Probe) -> None:
    reply = await v.rpc("CreateTaskPushNotificationConfig", {"taskId": "conformance-no-such-task", "url": HOOK},
                        request_id=81)
    expect_error(reply, -32001, 81, "Create for an unknown task")


@v1_check("v1.push.delivery", "4.3.3", "must", "A delivery is a StreamResponse of the task, with the config's credentials", needs="push")
async def delivery(v: V1Probe) -> None:
    hook = v.probe.webhook
    if hook is None:
        raise Skip("the suite has no webhook receiver the agent can reach (--webhook-host)")
    path = f"/conformance-{uuid.uuid4().hex[:12]}"
    config = {"url": hook.url(path), "token": "conformance-token",
              "authentication": {"scheme": "Bearer", "credentials": "conformance-secret"}}
    reply = await v.send(COMPLETE, configuration={"taskPushNotificationConfig": config})
    task = (reply.result or {}).get("task") if isinstance(reply.result, dict) else None
    if not isinstance(task, dict):
        raise Skip(f"the agent did not take the suite's webhook {hook.url(path)}: {describe(reply)}")
    got = await hook.wait(path, v.probe.timeout)
    if got is None:
        raise Fail(f"nothing was delivered to {hook.url(path)} in {v.probe.timeout:g}s")
    try:
        body = json.loads(got.body)
    except ValueError:
        raise Fail(f"the delivery is not JSON: {got.body[:80]!r}") from None
    bad = problem("StreamResponse", body)
    if bad:
        raise Fail(f"the delivery: {bad}")
    inner = next(iter(body.values()))
    if inner.get("id", inner.get("taskId")) != task["id"]:
        raise Fail("the delivery is about another task")
    if got.headers.get("authorization") != "Bearer conformance-secret":
        raise Fail(f"the delivery's Authorization is {got.headers.get('authorization')!r}, not 'Bearer conformance-secret'")
    if got.headers.get("x-a2a-notification-token") != "conformance-token":
        raise Fail("the delivery lacks X-A2A-Notification-Token with the config's token")


CHECKS = (round_trip, unknown_task, delivery)
