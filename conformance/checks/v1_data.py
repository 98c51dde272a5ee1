"""1.0 data model checks (spec 1.0 §4, §5.5, §5.6.1) over every object the suite got back from
a completing turn: SendMessage, GetTask, ListTasks and the stream's events. No `kind` and no
`final` anywhere; enums by name; flat parts of one content each; UTC timestamps with `Z`;
lowerCamelCase keys. Values of metadata and of a part's `data` are the agent's own JSON and
are not judged."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from conformance.checks.v1_methods import sent
from conformance.checks.v1_streaming import completed_stream
from conformance.model import Fail, Skip
from conformance.probe_v1 import V1Probe, v1_check
from conformance.shapes_v1 import ROLES, STATES, TIMESTAMP, problem

_OPAQUE = frozenset({"metadata", "data", "params", "header"})  # Struct and Value fields
_CAMEL = re.compile(r"^[a-z][a-zA-Z0-9]*$")
_MILLIS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


async def corpus(v: V1Probe) -> list[tuple[str, Any]]:
    """(where, object) for everything a completing turn gave back, gathered once."""
    async def gather() -> list[tuple[str, Any]]:
        reply = await sent(v)
        out: list[tuple[str, Any]] = [("SendMessage", reply.result)]
        task = (reply.result or {}).get("task") if isinstance(reply.result, dict) else None
        if isinstance(task, dict):
            out.append(("GetTask", (await v.rpc("GetTask", {"id": task["id"], "historyLength": 10})).result))
        out.append(("ListTasks", (await v.rpc("ListTasks", {"pageSize": 5, "includeArtifacts": True})).result))
        if v.declares("streaming"):
            out += [(f"stream event {i}", f) for i, f in enumerate((await completed_stream(v)).frames)]
        return [(where, obj) for where, obj in out if obj is not None]
    got: list[tuple[str, Any]] = await v.probe.memo("v1:corpus", gather)
    return got


def walk(obj: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """(path, key, value) of every member, not descending into metadata or data."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield path, key, value
            if key not in _OPAQUE:
                yield from walk(value, f"{path}.{key}" if path else key)
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            yield from walk(item, f"{path}[{i}]")


async def members(v: V1Probe) -> Iterator[tuple[str, str, Any]]:
    return ((f"{where}: {path or '(root)'}", key, value) for where, obj in await corpus(v) for path, key, value in walk(obj))


@v1_check("v1.data.no-kind", "5.5", "must", "No `kind` anywhere: 1.0 objects are told apart by their members")
async def no_kind(v: V1Probe) -> None:
    for where, key, value in await members(v):
        if key == "kind":
            raise Fail(f"{where} has kind {value!r}")


@v1_check("v1.data.no-final", "4.2.1", "must", "Status updates carry no `final`: a 1.0 stream ends by closing")
async def no_final(v: V1Probe) -> None:
    updates = [(where, f["statusUpdate"]) for where, f in await corpus(v) if isinstance(f, dict) and "statusUpdate" in f]
    if not updates:
        raise Skip("no status update was seen (the card does not declare streaming)")
    for where, update in updates:
        if isinstance(update, dict) and "final" in update:
            raise Fail(f"{where}: a statusUpdate has final {update['final']!r}")


@v1_check("v1.data.enums", "5.5", "must", "States and roles are written by name (TASK_STATE_*, ROLE_*)")
async def enums(v: V1Probe) -> None:
    seen = 0
    for where, key, value in await members(v):
        if key == "state" and where.endswith("status"):
            seen += 1
            if value not in STATES:
                raise Fail(f"{where}: state {value!r} is not a TaskState name such as TASK_STATE_COMPLETED")
        if key == "role" and value not in ROLES:
            raise Fail(f"{where}: role {value!r} is not ROLE_USER or ROLE_AGENT")
    if not seen:
        raise Fail("no task status was seen")


@v1_check("v1.data.parts", "4.1.6", "must", "Parts are flat, each with exactly one of text, raw, url, data")
async def parts(v: V1Probe) -> None:
    for where, key, value in await members(v):
        if key == "parts" and isinstance(value, list):
            for i, part in enumerate(value):
                bad = problem("Part", part)
                if bad:
                    raise Fail(f"{where}.parts[{i}]: {bad}")


@v1_check("v1.data.timestamps", "5.6.1", "must", "Timestamps are RFC 3339 in UTC with a Z")
async def timestamps(v: V1Probe) -> None:
    for where, key, value in await members(v):
        if key == "timestamp" and not (isinstance(value, str) and TIMESTAMP.match(value)):
            raise Fail(f"{where}: timestamp {value!r} is not UTC with a Z (such as 2026-01-31T12:00:00.000Z)")


@v1_check("v1.data.millis", "5.6.1", "should", "Timestamps have millisecond precision (YYYY-MM-DDTHH:mm:ss.sssZ)")
async def millis(v: V1Probe) -> None:
    for where, key, value in await members(v):
        if key == "timestamp" and isinstance(value, str) and not _MILLIS.match(value):
            raise Fail(f"{where}: timestamp {value!r} does not have the millisecond precision §5.6.1 names")


@v1_check("v1.data.camel-case", "5.5", "must", "Every key is lowerCamelCase (no snake_case)")
async def camel_case(v: V1Probe) -> None:
    for where, key, _ in await members(v):
        if not _CAMEL.match(key):
            raise Fail(f"{where}: the key {key!r} is not lowerCamelCase")


CHECKS = (no_kind, no_final, enums, parts, timestamps, millis, camel_case)
