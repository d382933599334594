"""Judgements and the judge registry."""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from pydantic import BaseModel, Field

from abplan.lm.client import LMClient
from abplan.registry import Registry
from abplan.schema import Ablation, Mode, Paper, Task, Usage


class Match(BaseModel):
    """A gold ablation (or a reviewer's missing ablation) and the plan items that match it (may be none)."""

    gold: str
    plan: list[str] = Field(default_factory=list)


class ReviewItem(BaseModel):
    plan: str
    appears: bool


class Judgement(BaseModel):
    task_id: str
    mode: Mode
    judge: str
    models: list[str] = Field(default_factory=list)
    plan_names: list[str]  # the plan items judged, in the planner's order (top-k, names made unique)
    matches: list[Match] = Field(default_factory=list)  # author mode; reviewer mode against missing_ablations
    items: list[ReviewItem] = Field(default_factory=list)  # reviewer mode against the reviews
    usage: Usage = Field(default_factory=Usage)
    notes: list[str] = Field(default_factory=list)
    detail: dict[str, Any] = Field(default_factory=dict)


@dataclass
class JudgeOptions:
    models: list[str] = field(default_factory=list)
    seed: int = 0
    temperature: float = 0.0
    max_tokens: int = 8192


class Judge(Protocol):
    name: str
    needs_model: bool

    async def judge(
        self, task: Task, plan: list[Ablation], paper: Paper | None, opts: JudgeOptions, lm: LMClient | None
    ) -> Judgement: ...


JUDGES: Registry[Callable[[], Judge]] = Registry("judge")
for _name, _target in {
    "lexical": "abplan.judges.lexical:LexicalJudge",
    "lm": "abplan.judges.lm_judges:LMJudge",
    "majority": "abplan.judges.majority:MajorityJudge",
}.items():
    JUDGES.register(_name, _target)


def register_judge(name: str, *, replace: bool = False) -> Callable[[type[Any]], type[Any]]:
    """Class decorator: `@register_judge("mine")` makes `--judge mine` build it (a taken name raises)."""

    def deco(cls: type[Any]) -> type[Any]:
        cls.name = name
        JUDGES.register(name, cls, replace=replace)
        return cls

    return deco


def judge_names() -> list[str]:
    return JUDGES.names()


def get_judge(name: str) -> Judge:
    """A new judge of that name; an unknown name is an InputError with a near miss and the known names."""
    return JUDGES.get(name)()


def task_seed(task_id: str, seed: int) -> int:
    """A per-task seed that is the same on every run (Python's hash() is salted per process)."""
    return int(hashlib.sha256(f"{seed}:{task_id}".encode()).hexdigest()[:12], 16)


def resolve_name(name: Any, names: list[str]) -> str | None:
    """Map a judge's spelling of an item name back to the item (exact, case-insensitive, then close)."""
    if not isinstance(name, str) or not name.strip():
        return None
    if name in names:
        return name
    low = {n.lower().strip(): n for n in names}
    if name.lower().strip() in low:
        return low[name.lower().strip()]
    close = difflib.get_close_matches(name, names, n=1, cutoff=0.85)
    return close[0] if close else None
