"""Push notification config methods (spec §7.5-7.8), when the card declares them."""

from __future__ import annotations

from conformance.model import Fail, check
from conformance.probe import Probe, describe
from conformance.shapes import problem

HOOK = "https://conformance.invalid/webhook"


@check("push.round-trip", "7.5", "must", "set, get, list and delete a push config", needs="push")
async def round_trip(p: Probe) -> None:
    task = await p.shared("completed")
    tid = task["id"]
    stored = await p.result("tasks/pushNotificationConfig/set", {
        "taskId": tid, "pushNotificationConfig": {"id": "conformance-1", "url": HOOK, "token": "t0k"},
    })
    bad = problem("TaskPushNotificationConfig", stored)
    if bad:
        raise Fail(f"set: {bad}")
    if stored["taskId"] != tid or stored["pushNotificationConfig"].get("url") != HOOK:
        raise Fail("set did not return the config it stored")
    got = await p.result("tasks/pushNotificationConfig/get", {"id": tid, "pushNotificationConfigId": "conformance-1"})
    if problem("TaskPushNotificationConfig", got) or got["pushNotificationConfig"].get("url") != HOOK:
        raise Fail(f"get returned {got!r}")
    listed = await p.result("tasks/pushNotificationConfig/list", {"id": tid})
    if not isinstance(listed, list) or not any(
        isinstance(c, dict) and c.get("pushNotificationConfig", {}).get("id") == "conformance-1" for c in listed
    ):
        raise Fail("list does not include the config")
    for item in listed:
        bad = problem("TaskPushNotificationConfig", item)
        if bad:
            raise Fail(f"list: {bad}")
    deleted = await p.rpc("tasks/pushNotificationConfig/delete", {"id": tid, "pushNotificationConfigId": "conformance-1"})
    if deleted.error_code is not None or (isinstance(deleted.body, dict) and deleted.body.get("result") is not None):
        raise Fail(f"delete should answer a null result, got {describe(deleted)}")
    after = await p.rpc("tasks/pushNotificationConfig/get", {"id": tid, "pushNotificationConfigId": "conformance-1"})
    if after.error_code is None and (after.result or {}).get("pushNotificationConfig", {}).get("id") == "conformance-1":
        raise Fail("the deleted config is still returned")


@check("push.unknown-task", "7.5", "must", "A push config for an unknown task gets -32001", needs="push")
async def unknown_task(p: Probe) -> None:
    reply = await p.rpc("tasks/pushNotificationConfig/set", {
        "taskId": "conformance-no-such-task", "pushNotificationConfig": {"url": HOOK},
    })
    if reply.error_code != -32001:
        raise Fail(f"expected -32001, got {describe(reply)}")


CHECKS = (round_trip, unknown_task)
