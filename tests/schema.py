"""Validation of everything the server emits against the official A2A 0.3.0 JSON Schema.

The schema is read from `../shared/spec/` beside the checkout (or `$A2A_SPEC_DIR`); it is
never copied into the project.
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

import jsonschema

ROOT = Path(__file__).resolve().parents[1]
SPEC_DIR = Path(os.environ.get("A2A_SPEC_DIR") or ROOT.parent / "shared" / "spec")
SCHEMA_FILE = SPEC_DIR / "a2a-v0.3.0.schema.json"

KIND_TO_DEFINITION = {
    "task": "Task",
    "message": "Message",
    "status-update": "TaskStatusUpdateEvent",
    "artifact-update": "TaskArtifactUpdateEvent",
}


@functools.cache
def _schema() -> dict[str, Any]:
    if not SCHEMA_FILE.exists():
        raise RuntimeError(
            f"the official schema is missing: {SCHEMA_FILE} (set A2A_SPEC_DIR to the folder "
            "holding a2a-v0.3.0.schema.json)"
        )
    return json.loads(SCHEMA_FILE.read_text())


@functools.cache
def _validator(definition: str) -> jsonschema.protocols.Validator:
    schema = _schema()
    if definition not in schema["definitions"]:
        raise KeyError(f"no definition {definition} in the official schema")
    wrapper = {"$ref": f"#/definitions/{definition}", "definitions": schema["definitions"]}
    cls = jsonschema.validators.validator_for(schema)
    return cls(wrapper)


def validate(definition: str, obj: Any) -> None:
    """Raise if `obj` is not a valid `definition` of the official schema."""
    errors = sorted(_validator(definition).iter_errors(obj), key=lambda e: list(e.path))
    if errors:
        e = errors[0]
        where = "/".join(str(p) for p in e.absolute_path) or "(root)"
        raise AssertionError(f"not a valid {definition} at {where}: {e.message}\n{obj!r}")


def validate_result(obj: dict[str, Any]) -> None:
    """A Task, Message, status-update or artifact-update, told apart by `kind`."""
    kind = obj.get("kind")
    if kind not in KIND_TO_DEFINITION:
        raise AssertionError(f"result has no known kind: {obj!r}")
    validate(KIND_TO_DEFINITION[kind], obj)
