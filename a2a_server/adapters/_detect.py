"""Recognise a framework's object by the names of its classes, without importing the framework."""

from __future__ import annotations

__all__ = ["has_class"]


def has_class(obj: object, modules: tuple[str, ...], names: tuple[str, ...]) -> bool:
    """Whether a class of `type(obj).__mro__` is named one of `names` and lives in one of
    `modules` (a package name matches its submodules too). Classes are left alone: a
    framework's class is not an agent, its instance is."""
    if isinstance(obj, type):
        return False
    for cls in type(obj).__mro__:
        module = cls.__module__
        in_package = any(module == m or module.startswith(m + ".") for m in modules)
        if cls.__name__ in names and in_package:
            return True
    return False
