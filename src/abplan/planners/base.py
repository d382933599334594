"""The planner interface and registry: adding a planner is one file with `@register_planner`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from abplan.errors import ConfigError, LMError
from abplan.lm.client import LMClient
from abplan.lm.types import usage_of
from abplan.prompts import paper_source
from abplan.registry import Registry
from abplan.schema import DEFAULT_K, Mode, Paper, Plan


@dataclass
class PlanOptions:
    mode: Mode = "author"
    k: int | None = None
    model: str | None = None
    temperature: float | None = None
    max_tokens: int = 8192
    max_paper_chars: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def top_k(self) -> int:
        return self.k if self.k is not None else DEFAULT_K[self.mode]


def positive_option(extra: dict[str, Any], key: str, default: int) -> int:
    """An integer option of at least 1 (0 once silently meant the default)."""
    value = extra.get(key)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{key} must be a whole number of at least 1, not {value!r}")
    return value


def flag_option(extra: dict[str, Any], key: str, default: bool) -> bool:
    """A true/false option: a bool, or one of the usual words; anything else is an error, not false."""
    value = extra.get(key)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    word = str(value).strip().lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{key} must be true or false, not {value!r}")


class Planner(Protocol):
    name: str
    needs_model: bool

    async def plan(self, paper: Paper, opts: PlanOptions, lm: LMClient | None) -> Plan: ...


def require_model(name: str, lm: LMClient | None, opts: PlanOptions) -> tuple[LMClient, str]:
    """The client and model of a planner that needs a model, or the error that says the `name` planner
    needs one."""
    if lm is None or not opts.model:
        raise LMError(f"the {name} planner needs a model (--model provider/name)")
    return lm, opts.model


PLANNERS: Registry[Callable[[], Planner]] = Registry("planner")
for _name, _target in {
    "consensus": "abplan.planners.consensus:ConsensusPlanner",
    "files": "abplan.planners.files:FilePlanner",
    "lm": "abplan.planners.lm_planner:LMPlanner",
    "offline": "abplan.planners.offline:OfflinePlanner",
    "staged": "abplan.planners.recipe:StagedPlanner",
    "staged-extract": "abplan.planners.staged.planner:StagedPlanner",
}.items():
    PLANNERS.register(_name, _target)


def register_planner(name: str, *, replace: bool = False) -> Callable[[type[Any]], type[Any]]:
    """Class decorator: `@register_planner("mine")` makes `--planner mine` build it (a taken name raises)."""

    def deco(cls: type[Any]) -> type[Any]:
        cls.name = name
        PLANNERS.register(name, cls, replace=replace)
        return cls

    return deco


def planner_names() -> list[str]:
    return PLANNERS.names()


def get_planner(name: str) -> Planner:
    """A new planner of that name; an unknown name is an InputError with a near miss and the known names."""
    return PLANNERS.get(name)()


__all__ = [
    "PLANNERS",
    "PlanOptions",
    "Planner",
    "get_planner",
    "paper_source",
    "planner_names",
    "register_planner",
    "usage_of",
]
