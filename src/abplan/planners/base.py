"""The planner interface and registry: adding a planner is one file with `@register_planner`."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from abplan.errors import ConfigError
from abplan.lm.client import LMClient
from abplan.lm.types import LMResponse
from abplan.prompts.datablock import neutralise
from abplan.schema import DEFAULT_K, Mode, Paper, Plan, Usage


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


class Planner(Protocol):
    name: str
    needs_model: bool

    async def plan(self, paper: Paper, opts: PlanOptions, lm: LMClient | None) -> Plan: ...


_REGISTRY: dict[str, Callable[[], Planner]] = {}


def register_planner(name: str) -> Callable[[type[Any]], type[Any]]:
    def deco(cls: type[Any]) -> type[Any]:
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return deco


def planner_names() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)


def get_planner(name: str) -> Planner:
    _load_builtin()
    if name not in _REGISTRY:
        near = difflib.get_close_matches(name, list(_REGISTRY), n=1)
        hint = f" (did you mean '{near[0]}'?)" if near else ""
        raise ConfigError(f"unknown planner '{name}'{hint}; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]()


def _load_builtin() -> None:
    from abplan.planners import consensus, files, lm_planner, offline, staged  # noqa: F401  (registers them)


def usage_of(responses: list[LMResponse]) -> Usage:
    u = Usage()
    for r in responses:
        u = u.add(
            Usage(
                calls=0 if r.cached else 1,
                cached_calls=1 if r.cached else 0,
                input_tokens=r.input_tokens,
                output_tokens=r.output_tokens,
                cost_usd=r.cost_usd,
            )
        )
    return u


def paper_source(paper: Paper, max_chars: int | None = None) -> str:
    """The paper as the planner sees it: the text as read (LaTeX stays LaTeX), capped at `max_chars`.

    Templates place it, with the title and abstract, inside the `<paper_source>` block; delimiter
    tags in it are neutralised here and again by the template environment, so it cannot end the block.
    """
    text = paper.text
    if max_chars is not None and len(text) > max_chars:
        text = text[:max_chars] + "\n[... truncated ...]"
    return neutralise(text)
