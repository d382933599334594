"""One registry type for planners, judges and LM providers: names mapped to objects, loaded on first use.

An entry is either the object itself or a lazy `"module:object"` string, imported only when `get`
asks for it, so listing names or starting the CLI never imports every planner. A name can be
registered once (`replace=True` to override it on purpose). An entry may carry an install hint,
shown when its module needs a package that is not installed (an optional extra).
"""

from __future__ import annotations

import difflib
import importlib
from dataclasses import dataclass
from typing import Generic, TypeVar

from abplan.errors import ConfigError, InputError

T = TypeVar("T")


@dataclass
class _Entry(Generic[T]):
    target: str  # "module:object", or "" for an object registered directly
    value: T | None
    install_hint: str | None


def _spells(target: str, obj: object) -> bool:
    """Whether `obj` is the object a lazy `module:object` target names (it is being loaded)."""
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    return target == f"{module}:{qualname}"


class Registry(Generic[T]):
    """Names of one kind ("planner", "judge", "provider") and the objects they stand for."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, _Entry[T]] = {}

    def register(
        self, name: str, target: T | str, *, install_hint: str | None = None, replace: bool = False
    ) -> None:
        """Add `name`: an object, or a lazy `"module:object"` string. A taken name raises unless `replace`.

        Registering the very object a lazy entry names (a decorator running as its module is
        loaded) fills that entry in rather than counting as a duplicate.
        """
        old = self._entries.get(name)
        if isinstance(target, str):
            if target.count(":") != 1 or not all(target.split(":")):
                raise ValueError(f"a lazy {self.kind} entry is 'module:object', not {target!r}")
            new = _Entry[T](target, None, install_hint)
        else:
            if old is not None and old.value is None and _spells(old.target, target):
                old.value = target
                return
            new = _Entry[T]("", target, install_hint)
        if old is not None and not replace:
            raise ConfigError(
                f"{self.kind} '{name}' is already registered ({old.target or 'directly'}); "
                "pass replace=True to replace it"
            )
        self._entries[name] = new

    def unregister(self, name: str) -> None:
        self._entries.pop(name, None)

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def install_hint(self, name: str) -> str | None:
        entry = self._entries.get(name)
        return entry.install_hint if entry else None

    def is_loaded(self, name: str) -> bool:
        entry = self._entries.get(name)
        return entry is not None and entry.value is not None

    def unknown(self, name: str, where: str = "") -> str:
        """The message for a name that is not registered: a near miss, if any, and every known name."""
        near = difflib.get_close_matches(name, self.names(), n=1)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        return f"unknown {self.kind} '{name}'{where}{hint}; known: {', '.join(self.names())}"

    def get(self, name: str) -> T:
        """The object registered as `name`, importing its module the first time."""
        entry = self._entries.get(name)
        if entry is None:
            raise InputError(self.unknown(name))
        if entry.value is None:
            entry.value = self._load(name, entry)
        return entry.value

    def _load(self, name: str, entry: _Entry[T]) -> T:
        module_name, attr = entry.target.split(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as e:
            if entry.install_hint is None or (e.name or "abplan").split(".")[0] == "abplan":
                raise
            raise InputError(f"{self.kind} '{name}' needs {e.name}: {entry.install_hint}") from e
        if entry.value is not None:  # its module registered it while loading
            return entry.value
        obj: object = module
        for part in attr.split("."):
            try:
                obj = getattr(obj, part)
            except AttributeError as e:
                raise ConfigError(f"{self.kind} '{name}': {entry.target} does not exist") from e
        return obj  # type: ignore[return-value]
