"""Page data built from loaded runs and plans (pure: nothing here reads a file).

Page names are flat (`task-<id>.html`, `paper-<run>-<id>.html`, ...), so the same relative links work
from the server and from an exported folder opened through file://.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from pydantic import ValidationError

from abplan.bench.results import RunResults
from abplan.bench.scoring import Interval
from abplan.judges.base import Judgement, Match
from abplan.render.html import trace_blocks
from abplan.schema import Ablation, Plan, Task, Usage
from abplan.view.load import LoadedRun, TaskFiles

COLOURS = 8  # match colours c0..c7 in the stylesheet, reused in turn


def href(name: str) -> str:
    """A relative link to a page name (task ids may hold characters a URL must escape)."""
    return quote(name, safe="")


def task_page(task_id: str) -> str:
    return f"task-{task_id}.html"


def paper_page(source: str, task_id: str | None = None) -> str:
    return f"paper-{source}.html" if task_id is None else f"paper-{source}-{task_id}.html"


def plan_page(source: str, task_id: str | None = None) -> str:
    return f"plan-{source}.html" if task_id is None else f"plan-{source}-{task_id}.html"


@dataclass(frozen=True)
class RunRow:
    index: int
    name: str
    planner: str
    model: str
    judge: str
    f1: Interval | None
    strict_f1: Interval | None
    precision: Interval | None
    recall: Interval | None
    cost: float | None  # planning and judging per scored paper
    done: int
    failed: int
    pending: int
    status: str
    notes: list[str]


def run_row(run: LoadedRun) -> RunRow:
    r: RunResults = run.results
    cfg = r.config
    plan, judge = r.cost.plan_usd_per_task, r.cost.judge_usd_per_task
    cost = plan + judge if r.scored and plan is not None and judge is not None else None
    judge_label = cfg.judge + (f" ({', '.join(cfg.judge_models)})" if cfg.judge_models else "")
    return RunRow(
        index=run.index,
        name=run.name,
        planner=cfg.planner,
        model=cfg.model or "–",
        judge=judge_label,
        f1=r.score("compat", "f1"),
        strict_f1=r.score("strict", "f1"),
        precision=r.score("compat", "precision"),
        recall=r.score("compat", "recall"),
        cost=cost,
        done=r.scored,
        failed=r.failed,
        pending=max(0, r.tasks - r.scored - r.failed),
        status=r.status,
        notes=list(run.notes),
    )


@dataclass(frozen=True)
class TaskCell:
    """One run's result on one task, for the runs page's task table."""

    state: str  # "scored", "failed" or "pending"
    f1: float | None = None
    strict_f1: float | None = None
    why: str = ""


def task_cells(run: LoadedRun) -> dict[str, TaskCell]:
    cells = {t.task_id: TaskCell("scored", t.compat.f1, t.strict.f1) for t in run.results.per_task}
    for tid, why in run.results.failures.items():
        cells.setdefault(tid, TaskCell("failed", why=why))
    return cells


@dataclass(frozen=True)
class Vote:
    models: str
    plan: list[str]  # the plan items this judge matched to the gold item


@dataclass
class GoldItem:
    anchor: str
    colour: int
    name: str
    ablated_part: str = ""
    action: str = ""
    found: list[list[str]] = field(default_factory=list)  # per run: the plan anchors matched to it
    votes: list[list[Vote]] = field(default_factory=list)  # per run: each judge's say


@dataclass(frozen=True)
class PlanItem:
    anchor: str
    rank: int
    ablation: Ablation
    matched: list[GoldItem]
    support: int | None
    mean_rank: float | None
    appears: bool | None  # reviewer mode: the judge found it in the reviews


@dataclass(frozen=True)
class RunPlan:
    run: int
    name: str
    plan: Plan | None
    failure: str | None
    items: list[PlanItem]
    judge_usage: Usage | None
    notes: list[str]
    plan_href: str
    paper_href: str
    trace: list[dict[str, Any]]


@dataclass(frozen=True)
class TaskView:
    task_id: str
    title: str
    mode: str
    gold: list[GoldItem]
    runs: list[RunPlan]
    reviews: list[str] = field(default_factory=list)  # reviewer mode: what the judge read


def _gold_items(task: Task | None, judgements: list[Judgement | None]) -> list[GoldItem]:
    """The gold from the dataset when it was read, else the gold names the judgements give."""
    if task is not None:
        gold = task.ablations_in_paper if task.mode == "author" else (task.missing_ablations or [])
        if gold:
            return [
                GoldItem(f"g{i}", i % COLOURS, a.name, a.ablated_part, a.action) for i, a in enumerate(gold)
            ]
    names: list[str] = []
    for j in judgements:
        names += [m.gold for m in (j.matches if j else []) if m.gold not in names]
    return [GoldItem(f"g{i}", i % COLOURS, n) for i, n in enumerate(names)]


def votes_of(j: Judgement, gold: str) -> list[Vote]:
    """What each judge of a majority said about one gold item (`detail["votes"]`); [] for one judge."""
    raw = j.detail.get("votes")
    out: list[Vote] = []
    for v in raw if isinstance(raw, list) else []:
        if not isinstance(v, dict):
            continue
        models = v.get("models")
        label = ", ".join(str(m) for m in models) if isinstance(models, list) else "judge"
        for m in v.get("matches") or []:
            try:
                match = Match.model_validate(m)
            except ValidationError:
                continue
            if match.gold == gold:
                out.append(Vote(label, match.plan))
    return out


def _groups(plan: Plan) -> dict[str, dict[str, Any]]:
    """Consensus and staged plans keep their groups (support, mean rank) in `stages["groups"]`."""
    groups = plan.stages.get("groups")
    return {
        g["name"]: g
        for g in (groups if isinstance(groups, list) else [])
        if isinstance(g, dict) and isinstance(g.get("name"), str)
    }


def _plan_items(r: int, plan: Plan, j: Judgement | None, gold: list[GoldItem]) -> list[PlanItem]:
    by_gold = {g.name: g for g in gold}
    names = j.plan_names if j else [a.name for a in plan.ablations]
    matched: dict[str, list[GoldItem]] = {}
    for m in j.matches if j else []:
        for p in m.plan:
            if m.gold in by_gold:
                matched.setdefault(p, []).append(by_gold[m.gold])
    appears = {it.plan: it.appears for it in j.items} if j else {}
    groups = _groups(plan)
    items = []
    for i, a in enumerate(plan.ablations):
        judged = names[i] if i < len(names) else a.name  # the judge saw duplicate names made unique
        g = groups.get(a.name, {})
        mean = g.get("mean_rank")
        items.append(
            PlanItem(
                anchor=f"r{r}-p{i + 1}",
                rank=i + 1,
                ablation=a,
                matched=matched.get(judged, []),
                support=a.support if a.support is not None else g.get("support"),
                mean_rank=float(mean) if isinstance(mean, int | float) else None,
                appears=appears.get(judged),
            )
        )
    return items


def task_view(task_id: str, per_run: list[tuple[LoadedRun, TaskFiles]]) -> TaskView:
    """Gold against every run's plan for one task, with the majority's matches and each judge's vote."""
    task = next((f.task for _, f in per_run if f.task is not None), None)
    gold = _gold_items(task, [f.judgement for _, f in per_run])
    runs: list[RunPlan] = []
    for run, f in per_run:
        items = _plan_items(run.index, f.plan, f.judgement, gold) if f.plan else []
        for g in gold:
            g.found.append([it.anchor for it in items if any(m.anchor == g.anchor for m in it.matched)])
            g.votes.append(votes_of(f.judgement, g.name) if f.judgement else [])
        notes = list(f.judgement.notes) if f.judgement else []
        runs.append(
            RunPlan(
                run.index,
                run.name,
                f.plan,
                f.failure,
                items,
                f.judgement.usage if f.judgement else None,
                notes,
                href(plan_page(f"r{run.index}", task_id)),
                href(paper_page(f"r{run.index}", task_id)),
                trace_blocks(f.plan.reasoning_trace) if f.plan else [],
            )
        )
    title = task.paper_title if task and task.paper_title else ""
    if not title:
        title = next((f.plan.paper_title for _, f in per_run if f.plan), task_id)
    mode = task.mode if task else next((f.plan.mode for _, f in per_run if f.plan), "author")
    return TaskView(task_id, title, mode, gold, runs, list(task.review_text) if task else [])
