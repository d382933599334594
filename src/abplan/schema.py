"""The shared data types. Everything that crosses a module boundary is one of these."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Action = Literal["REMOVE", "REPLACE", "ADD"]
Mode = Literal["author", "reviewer"]
ACTIONS: tuple[Action, ...] = ("REMOVE", "REPLACE", "ADD")
MODES: tuple[Mode, ...] = ("author", "reviewer")
DEFAULT_K: dict[Mode, int] = {"author": 5, "reviewer": 2}


class Section(BaseModel):
    model_config = ConfigDict(frozen=True)
    heading: str
    text: str
    level: int = 1


class Finding(BaseModel):
    """Something in a paper a reader should know about (hidden text, instructions to AI systems)."""

    model_config = ConfigDict(frozen=True)
    kind: str
    detail: str
    excerpt: str = ""
    removed: bool = False
    # Which hiding technique or phrasing was found (e.g. "render-mode-3", "latex-white-text"), and where.
    technique: str = ""
    page: int | None = None
    line: int | None = None


class Paper(BaseModel):
    model_config = ConfigDict(frozen=True)
    title: str
    abstract: str
    sections: tuple[Section, ...]
    text: str
    source_kind: Literal["markdown", "text", "latex", "pdf"]
    source: str
    content_hash: str
    findings: tuple[Finding, ...] = ()
    pages: int | None = None

    @property
    def id(self) -> str:
        return self.content_hash[:12]


class Evidence(BaseModel):
    quote: str
    section: str | None = None
    verified: bool | None = None


class Ablation(BaseModel):
    name: str
    ablated_part: str
    action: Action
    replacement: list[str] | None = None
    metrics: list[str] = Field(default_factory=list)
    # abplan's additive fields; AblationBench readers ignore them.
    rationale: str | None = None
    evidence: list[Evidence] = Field(default_factory=list)
    support: int | None = None
    score: float | None = None

    def core(self) -> dict[str, Any]:
        """The AblationBench fields, in their order."""
        return {
            "name": self.name,
            "ablated_part": self.ablated_part,
            "action": self.action,
            "replacement": self.replacement,
            "metrics": self.metrics,
        }


class Usage(BaseModel):
    calls: int = 0
    cached_calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0

    @staticmethod
    def total(usages: Iterable[Usage]) -> Usage:
        out = Usage()
        for u in usages:
            out = out.add(u)
        return out

    def add(self, other: Usage) -> Usage:
        return Usage(
            calls=self.calls + other.calls,
            cached_calls=self.cached_calls + other.cached_calls,
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cost_usd=self.cost_usd + other.cost_usd,
        )


class Plan(BaseModel):
    paper_id: str
    paper_title: str
    mode: Mode
    planner: str
    model: str
    k: int
    reasoning_trace: str
    ablations: list[Ablation]
    warnings: list[str] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)
    stages: dict[str, Any] = Field(default_factory=dict)


class Task(BaseModel):
    """A benchmark task: a paper and its gold (`abplan.bench.tasks` loads and re-exports it)."""

    id: str
    mode: Mode
    paper_title: str = ""
    paper_abstract: str = ""
    paper_path: str | None = None
    root: str | None = None  # the dataset folder the paper must stay inside
    ablations_in_paper: list[Ablation] = Field(default_factory=list)
    review_text: list[str] = Field(default_factory=list)
    num_ablation_suggestions: int = 0
    missing_ablations: list[Ablation] | None = None

    @property
    def gold_count(self) -> int:
        return len(self.ablations_in_paper) if self.mode == "author" else self.num_ablation_suggestions
