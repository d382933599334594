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
        """The sum (as `add` in turn would give it, with one model built instead of one per item)."""
        us = list(usages)
        return Usage(
            calls=sum(u.calls for u in us),
            cached_calls=sum(u.cached_calls for u in us),
            input_tokens=sum(u.input_tokens for u in us),
            output_tokens=sum(u.output_tokens for u in us),
            cost_usd=sum((u.cost_usd for u in us), 0.0),
        )

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


# -- designs and studies: one ablation as a runnable protocol, and a plan's run order --------------
UNKNOWN = "unknown"  # what a design field says when neither the paper nor a model gives it


class Figure(BaseModel):
    """A compute figure the paper states (GPUs, hours, steps, epochs), with the sentence that states it."""

    kind: str
    value: str
    quote: str
    section: str | None = None
    verified: bool | None = None


class Variant(BaseModel):
    name: str
    description: str = ""
    null_control: bool = False


class Cost(BaseModel):
    """Cost of a design in units of one main training run; `figures` are the paper's, quoted."""

    runs: int | None = None  # training runs the design needs beyond the (shared) baseline
    relative: str = UNKNOWN  # e.g. "2 main training runs per seed"
    absolute: str = UNKNOWN  # from the paper's figures, e.g. "8 GPUs × 2 days per run"
    figures: list[Figure] = Field(default_factory=list)


class Design(BaseModel):
    """A full protocol for one ablation (`abplan design`)."""

    paper_id: str
    paper_title: str
    paper_source: str = ""
    method: Literal["rules", "lm"]
    model: str = "rules"
    ablation: Ablation
    research_question: str
    baseline: list[Evidence] = Field(default_factory=list)  # what the main setting fixes, quoted
    variants: list[Variant] = Field(default_factory=list)
    datasets: list[Evidence] = Field(default_factory=list)  # quote: the sentence; section: its heading
    dataset_names: list[str] = Field(default_factory=list)
    metrics: list[str] = Field(default_factory=list)
    seeds: str = UNKNOWN
    expected_if_matters: str = UNKNOWN
    expected_if_not: str = UNKNOWN
    confounds: list[str] = Field(default_factory=list)
    cost: Cost = Field(default_factory=Cost)
    flags: list[str] = Field(default_factory=list)  # quotes dropped as unverifiable, and other notes
    usage: Usage = Field(default_factory=Usage)


class Claim(BaseModel):
    """A contribution the paper claims, quoted from it, and the plan items that test it."""

    quote: str
    section: str | None = None
    tested_by: list[int] = Field(default_factory=list)  # 1-based plan item numbers


class StudyStep(BaseModel):
    item: int  # 1-based plan item number; 0 is the shared baseline
    name: str
    runs: int
    claim: int | None = None  # index into Study.claims
    why: str = ""


class Study(BaseModel):
    """Run order, total relative cost and claim coverage of a plan (`abplan plan --study`)."""

    steps: list[StudyStep] = Field(default_factory=list)
    total_runs: int = 0  # main-training-run equivalents per seed, the shared baseline included
    total: str = UNKNOWN
    absolute: str = UNKNOWN
    figures: list[Figure] = Field(default_factory=list)
    claims: list[Claim] = Field(default_factory=list)
    datasets: list[str] = Field(default_factory=list)
    setting_section: str | None = None  # the section that states the main setting, if one does
    untested: list[int] = Field(default_factory=list)  # indexes into claims
    method: Literal["rules", "lm"] = "rules"
    notes: list[str] = Field(default_factory=list)
