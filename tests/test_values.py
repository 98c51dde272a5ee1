"""`values.value`: a frozen slotted dataclass whose constructor sets slots directly, and
that is otherwise the dataclass it would have been."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from a2a_server.model import ArtifactUpdate, Message, Role, TextPart
from a2a_server.values import replace, value


@value
class _Point:
    x: int
    y: int = 2
    tags: list[str] = dataclasses.field(default_factory=list)


@value
class _Checked:
    x: int

    def __post_init__(self) -> None:
        if self.x < 0:
            raise ValueError("negative")


def test_it_builds_what_the_dataclass_would() -> None:
    p = _Point(1)
    assert (p.x, p.y, p.tags) == (1, 2, [])
    assert _Point(1, tags=["a"]).tags == ["a"] and _Point(x=3, y=4) == _Point(3, 4)
    assert _Point(1).tags is not _Point(1).tags  # a factory per value
    assert hash(_Point(1, 2, ())) == hash(_Point(1, 2, ()))  # type: ignore[arg-type]
    assert repr(p) == "_Point(x=1, y=2, tags=[])"
    assert dataclasses.replace(p, y=5) == _Point(1, 5)
    assert not hasattr(p, "__dict__")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.x = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        _Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        _Point(1, 2, [], 4)  # type: ignore[call-arg]


def test_the_generated_constructor_is_the_one_used() -> None:
    assert _Point.__init__.__code__.co_filename == "<string>"
    assert "_set_x" in _Point.__init__.__code__.co_names
    assert "_set_text" in TextPart.__init__.__code__.co_names
    assert "_set_artifact" in ArtifactUpdate.__init__.__code__.co_names


def test_a_class_with_post_init_keeps_the_dataclass_constructor() -> None:
    assert _Checked(1).x == 1
    with pytest.raises(ValueError):
        _Checked(-1)


def test_model_values_survive_a_round_trip() -> None:
    m = Message(Role.USER, (TextPart("hi"),), "m1")
    assert pickle.loads(pickle.dumps(m)) == m
    assert dataclasses.replace(m, task_id="t").task_id == "t" and m.task_id is None


def test_replace_is_dataclasses_replace() -> None:
    point = _Point(1, tags=["a"])
    assert replace(point, y=5) == dataclasses.replace(point, y=5) == _Point(1, 5, ["a"])
    assert replace(point) == point and replace(point) is not point
    message = Message(Role.USER, (TextPart("hi"),), "m1")
    assert replace(message, task_id="t", context_id="c") == dataclasses.replace(message, task_id="t", context_id="c")
    with pytest.raises(TypeError, match="no field nope"):
        replace(point, nope=1)
    checked = _Checked(1)  # its own constructor (a __post_init__): the dataclass's replace
    assert replace(checked, x=3) == _Checked(3)
    with pytest.raises(ValueError, match="negative"):
        replace(checked, x=-1)

    @dataclasses.dataclass
    class Plain:
        a: int

    assert replace(Plain(1), a=2) == Plain(2)
