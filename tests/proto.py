"""Validation of what the server emits in protocol 1.0, against the normative proto.

`../shared/spec/a2a-v1.0.1.proto` (or `$A2A_SPEC_DIR`) is compiled with protoc (grpcio-tools)
into a private descriptor pool (the a2a-sdk's own copy of the package lives in the default
pool) and every object is checked with ProtoJSON's rules, stricter than a parser must be:

- it parses as that message with no unknown field (`json_format.ParseDict`, which also
  refuses two members of one oneof);
- every key is the field's lowerCamelCase JSON name (a parser accepts the proto name too;
  a server must write the JSON name);
- every field the proto marks REQUIRED (google.api.field_behavior) is present;
- enums are written by name, timestamps in UTC with a `Z`.

The spec is never copied into the project.
"""

from __future__ import annotations

import functools
import importlib.resources
import os
import tempfile
from pathlib import Path
from typing import Any

from google.api import annotations_pb2, field_behavior_pb2
from google.protobuf import descriptor, descriptor_pb2, descriptor_pool, json_format, message_factory
from grpc_tools import protoc

from tests.schema import SPEC_DIR

PROTO_FILE = SPEC_DIR / "a2a-v1.0.1.proto"
PACKAGE = "lf.a2a.v1"

_OPAQUE = {"google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue"}


@functools.cache
def _compiled() -> tuple[descriptor_pool.DescriptorPool, frozenset[tuple[str, str]]]:
    if not PROTO_FILE.exists():
        raise RuntimeError(f"the official proto is missing: {PROTO_FILE} (set A2A_SPEC_DIR)")
    includes = [
        str(SPEC_DIR),
        str(importlib.resources.files("grpc_tools") / "_proto"),
        str(Path(annotations_pb2.__file__).parents[2]),  # google/api/*.proto
    ]
    with tempfile.TemporaryDirectory() as out:
        target = os.path.join(out, "a2a.pb")
        args = ["protoc", *(f"-I{i}" for i in includes), f"--descriptor_set_out={target}",
                "--include_imports", PROTO_FILE.name]
        if protoc.main(args) != 0:
            raise RuntimeError(f"protoc could not compile {PROTO_FILE}")
        files = descriptor_pb2.FileDescriptorSet.FromString(Path(target).read_bytes())
    pool = descriptor_pool.DescriptorPool()
    required: set[tuple[str, str]] = set()
    for f in files.file:
        pool.Add(f)
        if f.package == PACKAGE:
            for m in f.message_type:
                _collect_required(f"{PACKAGE}.{m.name}", m, required)
    return pool, frozenset(required)


def _collect_required(
    name: str, m: descriptor_pb2.DescriptorProto, out: set[tuple[str, str]]
) -> None:
    for field in m.field:
        behaviors = field.options.Extensions[field_behavior_pb2.field_behavior]
        if field_behavior_pb2.REQUIRED in behaviors:
            out.add((name, field.name))
    for nested in m.nested_type:
        _collect_required(f"{name}.{nested.name}", nested, out)


def _descriptor(type_name: str) -> descriptor.Descriptor:
    pool, _ = _compiled()
    return pool.FindMessageTypeByName(f"{PACKAGE}.{type_name}")


def validate_v1(type_name: str, obj: Any, *, extra_keys: frozenset[str] = frozenset()) -> None:
    """Raise AssertionError unless `obj` is a valid ProtoJSON `lf.a2a.v1.<type_name>` as a
    server should write it. `extra_keys`: top-level keys to leave out first (the 0.3 fields
    of the merged card)."""
    if extra_keys and isinstance(obj, dict):
        obj = {k: v for k, v in obj.items() if k not in extra_keys}
    desc = _descriptor(type_name)
    try:
        json_format.ParseDict(obj, message_factory.GetMessageClass(desc)())
    except json_format.ParseError as exc:
        raise AssertionError(f"not a valid {type_name}: {exc}\n{obj!r}") from None
    problems: list[str] = []
    _walk(desc, obj, type_name, problems)
    if problems:
        raise AssertionError(f"not a valid {type_name}: {problems[0]}\n{obj!r}")


def _walk(desc: descriptor.Descriptor, obj: Any, where: str, problems: list[str]) -> None:
    _, required = _compiled()
    by_json = {f.json_name: f for f in desc.fields}
    for key, value in obj.items():
        field = by_json.get(key)
        if field is None:
            problems.append(f"{where}.{key}: not the JSON name of a field (lowerCamelCase)")
            continue
        for item in value if _repeated(field) and isinstance(value, list) else [value]:
            _check_value(field, item, f"{where}.{key}", problems)
    for field in desc.fields:
        if (desc.full_name, field.name) in required and field.json_name not in obj:
            problems.append(f"{where}.{field.json_name}: required by the proto, missing")


def _repeated(field: descriptor.FieldDescriptor) -> bool:
    return bool(field.is_repeated) and not _is_map(field)


def _is_map(field: descriptor.FieldDescriptor) -> bool:
    message = field.message_type
    return message is not None and message.GetOptions().map_entry


def _check_value(field: descriptor.FieldDescriptor, value: Any, where: str, problems: list[str]) -> None:
    if field.type == descriptor.FieldDescriptor.TYPE_ENUM and not isinstance(value, str):
        problems.append(f"{where}: an enum must be written by name, not {value!r}")
    message = field.message_type
    if message is None or message.full_name in _OPAQUE:
        return
    if message.full_name == "google.protobuf.Timestamp":
        if not (isinstance(value, str) and value.endswith("Z")):
            problems.append(f"{where}: a timestamp must be UTC with a Z, not {value!r}")
        return
    if _is_map(field):
        entry = message.fields_by_name["value"]
        for k, v in value.items():
            _check_value(entry, v, f"{where}[{k}]", problems)
        return
    if isinstance(value, dict):
        _walk(message, value, where, problems)


STREAM_KINDS = frozenset({"task", "message", "statusUpdate", "artifactUpdate"})


def validate_stream_response(obj: Any) -> None:
    """One event of a 1.0 stream, or a push body: a StreamResponse with exactly one member."""
    assert isinstance(obj, dict) and len(obj) == 1 and set(obj) <= STREAM_KINDS, obj
    validate_v1("StreamResponse", obj)


ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"


def validate_v1_error(error: Any) -> dict[str, Any]:
    """A 1.0 JSON-RPC error object: only code, message and data, data an array of google.rpc
    details holding one ErrorInfo; returns that ErrorInfo."""
    assert isinstance(error, dict) and set(error) <= {"code", "message", "data"}, error
    assert isinstance(error["code"], int) and isinstance(error["message"], str), error
    details = error.get("data")
    assert isinstance(details, list) and details, error
    infos = [d for d in details if isinstance(d, dict) and d.get("@type") == ERROR_INFO]
    assert len(infos) == 1, error
    info = infos[0]
    assert set(info) <= {"@type", "reason", "domain", "metadata"}, info
    assert isinstance(info["reason"], str) and info["reason"].isupper(), info
    assert isinstance(info["domain"], str) and info["domain"], info
    assert isinstance(info.get("metadata", {}), dict), info
    return info
