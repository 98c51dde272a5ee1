"""1.0 ListTasks (spec 1.0 §3.1.4, §9.4.4): the response shape, newest first, cursor paging,
page size bounds, a bad page token, and artifacts left out unless asked for."""

from __future__ import annotations

import uuid
from typing import Any

from conformance.checks.v1_envelope import expect_error
from conformance.model import Fail
from conformance.probe_v1 import TERMINAL, V1Probe, state_of, v1_check
from conformance.shapes_v1 import problem
from conformance.triggers import COMPLETE

PAGED = 3  # tasks made in a context of the suite's own, to page through


async def listed_context(v: V1Probe) -> tuple[str, list[str]]:
    """A context of the suite's own holding PAGED ended tasks (made once): its id, and theirs."""
    async def make() -> tuple[str, list[str]]:
        context_id = f"conformance-list-{uuid.uuid4()}"
        ids = []
        for _ in range(PAGED):
            task = (await v.result("SendMessage", {"message": v.message(COMPLETE, contextId=context_id)})).get("task")
            if not isinstance(task, dict):
                raise Fail("SendMessage did not return a Task to list")
            if state_of(task) not in TERMINAL:
                await v.wait_for_state(task["id"], TERMINAL)
            ids.append(task["id"])
        return context_id, ids
    made: tuple[str, list[str]] = await v.probe.memo("v1:list-context", make)
    return made


def page(result: Any, what: str) -> dict[str, Any]:
    bad = problem("ListTasksResponse", result)
    if bad:
        raise Fail(f"{what}: {bad}")
    return result  # type: ignore[no-any-return]


@v1_check("v1.list.shape", "3.1.4", "must", "ListTasks: {tasks, nextPageToken, pageSize, totalSize}, newest status first")
async def shape(v: V1Probe) -> None:
    context_id, ids = await listed_context(v)
    got = page(await v.result("ListTasks", {"contextId": context_id}), "ListTasks")
    if {t["id"] for t in got["tasks"]} != set(ids) or got["totalSize"] != len(ids):
        raise Fail(f"the context holds {len(ids)} tasks; ListTasks gave {len(got['tasks'])} (totalSize {got['totalSize']})")
    if got["nextPageToken"] != "":
        raise Fail(f"the only page has nextPageToken {got['nextPageToken']!r}, not \"\"")
    stamps = [(t.get("status") or {}).get("timestamp") for t in got["tasks"]]
    known = [s for s in stamps if isinstance(s, str)]
    if len(known) == len(stamps) and known != sorted(known, reverse=True):
        raise Fail("the tasks are not sorted by status timestamp, newest first")


@v1_check("v1.list.paging", "3.1.4", "must", "pageSize and pageToken page through every task once")
async def paging(v: V1Probe) -> None:
    context_id, ids = await listed_context(v)
    seen: list[str] = []
    token = ""
    for _ in range(PAGED + 2):
        params: dict[str, Any] = {"contextId": context_id, "pageSize": 1}
        if token:
            params["pageToken"] = token
        got = page(await v.result("ListTasks", params), f"page {len(seen) + 1}")
        if got["pageSize"] != 1 or len(got["tasks"]) > 1:
            raise Fail(f"pageSize 1 gave {len(got['tasks'])} tasks and pageSize {got['pageSize']}")
        seen += [t["id"] for t in got["tasks"]]
        token = got["nextPageToken"]
        if not token:
            break
    if sorted(seen) != sorted(ids):
        raise Fail(f"paging by 1 gave {len(seen)} tasks ({len(set(seen))} distinct), not the {len(ids)} of the context")


@v1_check("v1.list.page-size", "3.1.4", "should", "pageSize outside 1..100 gets -32602")
async def page_size(v: V1Probe) -> None:
    for size in (0, 101):
        expect_error(await v.rpc("ListTasks", {"pageSize": size}, request_id=51), -32602, 51, f"pageSize {size}")


@v1_check("v1.list.bad-token", "3.1.4", "must", "A pageToken the server did not make gets -32602")
async def bad_token(v: V1Probe) -> None:
    expect_error(await v.rpc("ListTasks", {"pageToken": "conformance-not-a-token"}, request_id=52), -32602, 52,
                 "a made-up pageToken")


@v1_check("v1.list.artifacts", "3.1.4", "must", "Artifacts are left out entirely unless includeArtifacts is true")
async def artifacts(v: V1Probe) -> None:
    context_id, ids = await listed_context(v)
    plain = page(await v.result("ListTasks", {"contextId": context_id}), "ListTasks")
    if any("artifacts" in t for t in plain["tasks"]):
        raise Fail("without includeArtifacts a task carries an artifacts field")
    full = page(await v.result("ListTasks", {"contextId": context_id, "includeArtifacts": True}),
                "ListTasks with includeArtifacts")
    stored = _artifacts(await v.result("GetTask", {"id": ids[0]}))
    listed = _artifacts(next((t for t in full["tasks"] if t["id"] == ids[0]), {}))
    if stored and listed != stored:
        raise Fail(f"with includeArtifacts the task's artifacts are {listed}, GetTask says {stored}")


def _artifacts(task: dict[str, Any]) -> list[tuple[Any, str]]:
    """(artifactId, text) of each artifact: what must agree (a writer may add default fields)."""
    return [(a.get("artifactId"), "".join(p.get("text", "") for p in a.get("parts") or []))
            for a in task.get("artifacts") or [] if isinstance(a, dict)]


CHECKS = (shape, paging, page_size, bad_token, artifacts)
