"""A run's settings and results as typed, versioned records, and how results.json is written and read.

`RunResults` is what `bench run` writes to results.json and what `bench report`, the CLI summary and
the reports read back. Its JSON field names are those results.json always had (`scores.compat.f1.mean`,
`per_task[].plan_size`, `cost.plan_tokens_per_task`, `scored`, `tasks` ...), so readers that parse the
file as plain JSON keep working; `schema_version` says which layout a file has.

Version 1 is the only layout so far. Files written before the field existed have exactly that layout,
so a file without `schema_version` is read as version 1, with a note; a version this code does not know
is a one-line `InputError` naming the file and the versions it understands.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from abplan.bench.journal import TaskRecord, outcomes, read_records
from abplan.bench.layout import RunDir
from abplan.bench.scoring import Interval, TaskScore, aggregate, score_task
from abplan.errors import InputError
from abplan.judges.base import Judgement
from abplan.schema import Plan, Usage

if TYPE_CHECKING:
    from abplan.bench.tasks import Task

SCHEMA_VERSION = 1
VERSIONS: tuple[int, ...] = (1,)  # the results.json layouts this code reads
NO_SCORE: Literal["no task scored"] = "no task scored"
Status = Literal["complete", "incomplete", "no task scored"]
Variant = Literal["compat", "strict"]
VARIANTS: tuple[Variant, ...] = ("compat", "strict")


class RunConfig(BaseModel):
    """A run's settings, as given on the command line (config.json, and `config` in results.json)."""

    dataset: str
    planner: str
    model: str | None = None
    k: int | None = Field(default=None, ge=1)
    judge: str = "lexical"
    judge_models: list[str] = Field(default_factory=list)
    top_k: int | None = Field(default=None, ge=1)
    seed: int = Field(default=0, ge=0)
    concurrency: int = Field(default=8, ge=1)
    limit: int | None = Field(default=None, ge=1)
    max_cost: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    planner_options: dict[str, Any] = Field(default_factory=dict)


def run_status(scored: int, tasks: int) -> Status:
    """ "complete", "incomplete" or "no task scored" (then there is no mean to report, not a zero)."""
    if scored == 0:
        return NO_SCORE
    return "complete" if scored == tasks else "incomplete"


class TaskResult(TaskScore):
    """One scored task: its scores, and what planning and judging it cost."""

    plan_cost_usd: float
    judge_cost_usd: float
    plan_tokens: int
    judge_tokens: int


class Cost(BaseModel):
    """Per scored task and in total. The per-task figures are None when no task was scored: there is
    nothing to divide by, and 0 would read as "free"."""

    plan_usd_per_task: float | None
    judge_usd_per_task: float | None
    plan_tokens_per_task: float | None = None
    judge_tokens_per_task: float | None = None
    plan_usd_total: float = 0.0
    judge_usd_total: float = 0.0


class RunResults(BaseModel):
    """results.json. Missing counters default as older files lacked them; `status` is derived if absent."""

    schema_version: int = SCHEMA_VERSION
    config: RunConfig
    tasks: int = Field(ge=0)
    scored: int = Field(ge=0)
    failed: int = Field(default=0, ge=0)
    skipped_for_budget: int = Field(default=0, ge=0)
    complete: bool = False
    status: Status = NO_SCORE
    modes: list[str] = Field(default_factory=list)
    scores: dict[Variant, dict[str, Interval]]
    cost: Cost
    per_task: list[TaskResult] = Field(default_factory=list)
    failures: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _derive(cls, data: Any) -> Any:
        if (
            isinstance(data, dict)
            and isinstance(data.get("scored"), int)
            and isinstance(data.get("tasks"), int)
        ):
            data.setdefault("status", run_status(data["scored"], data["tasks"]))
            data.setdefault("complete", data["scored"] == data["tasks"])
        return data

    def score(self, variant: Variant, metric: str) -> Interval | None:
        """The mean and interval of one metric, or None (no task scored, or NDCG in reviewer mode)."""
        return self.scores.get(variant, {}).get(metric)

    def as_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json")


_ROW = json.JSONEncoder(ensure_ascii=False)  # json.dumps with an option builds an encoder per call


def results_json(results: RunResults) -> str:
    """results.json: indented, but one line per task, since indenting thousands of rows with the
    standard encoder (pure Python once `indent` is set) would cost a noticeable part of a short run."""
    parts = []
    for key, value in results.as_json().items():
        if key == "per_task" and value:
            rows = ",\n    ".join(_ROW.encode(t) for t in value)
            text = "[\n    " + rows + "\n  ]"
        else:
            text = json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n  ")
        parts.append(f"  {json.dumps(key)}: {text}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def _version(data: dict[str, Any], path: Path) -> tuple[int, str | None]:
    understood = ", ".join(str(v) for v in VERSIONS)
    if "schema_version" not in data:
        note = f"{path} has no schema_version (written before versions existed): read as version 1"
        return 1, note
    v = data["schema_version"]
    if type(v) is not int or v not in VERSIONS:
        raise InputError(
            f"{path}: results schema_version {v!r} is not one this abplan reads (understood: {understood})"
        )
    return v, None


def parse_results(raw: bytes, path: Path) -> tuple[RunResults, str | None]:
    """The results in `raw` (the bytes of `path`), and a note when the file predates versions."""
    try:
        data = json.loads(raw)
    except ValueError as e:  # JSONDecodeError and UnicodeDecodeError
        raise InputError(f"{path}: not a results file ({type(e).__name__})") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: not a results file (a JSON {type(data).__name__}, not an object)")
    version, note = _version(data, path)
    data = {**data, "schema_version": version}
    try:
        return RunResults.model_validate(data), note
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(x) for x in err["loc"]) or "the top level"
        raise InputError(f"{path}: not a results file (field '{where}': {err['msg']})") from None


def read_results(path: Path) -> tuple[RunResults, str | None]:
    """Read a results.json (see `parse_results`); a missing or unreadable file is a one-line error."""
    if not path.is_file():
        raise InputError(f"{path.parent}: no {path.name} (is it a finished run folder?)")
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read it ({e.strerror or e})") from None
    return parse_results(raw, path)


def score_of(cfg: RunConfig, t: Task, plan: Plan, judgement: Judgement) -> TaskResult:
    """The result of task `t` of a run with settings `cfg`: its scores and what it cost."""
    pu, ju = plan.usage, judgement.usage
    return score_task(
        judgement,
        cfg.top_k,
        t.num_ablation_suggestions,
        len(t.ablations_in_paper) if t.mode == "author" else None,
        TaskResult,
        plan_cost_usd=pu.cost_usd,
        judge_cost_usd=ju.cost_usd,
        plan_tokens=pu.input_tokens + pu.output_tokens,
        judge_tokens=ju.input_tokens + ju.output_tokens,
    )


def build_results(
    cfg: RunConfig,
    tasks: list[Task],
    done: dict[str, tuple[Plan, Judgement]],
    failures: dict[str, str],
    skipped_for_budget: int = 0,
    scored: dict[str, TaskResult] | None = None,
) -> RunResults:
    """Score the tasks that have a plan and a judgement in `done` (pure: no file is read). `scored`
    holds the results of tasks already scored (`score_of`: the runner scores each task as it ends)."""
    plan_usage: list[Usage] = []
    judge_usage: list[Usage] = []
    per_task: list[TaskResult] = []
    for t in tasks:
        if t.id not in done:
            continue
        plan, judgement = done[t.id]
        r = scored.get(t.id) if scored else None
        per_task.append(r if r is not None else score_of(cfg, t, plan, judgement))
        plan_usage.append(plan.usage)
        judge_usage.append(judgement.usage)
    scores: list[TaskScore] = list(per_task)
    pu, ju = Usage.total(plan_usage), Usage.total(judge_usage)
    n = len(scores)

    def per(value: float) -> float | None:
        return value / n if n else None

    return RunResults(
        config=cfg,
        tasks=len(tasks),
        scored=n,
        failed=len(failures),
        skipped_for_budget=skipped_for_budget,
        complete=n == len(tasks),
        status=run_status(n, len(tasks)),
        modes=sorted({t.mode for t in tasks}),
        scores=aggregate(scores, cfg.seed),  # type: ignore[arg-type]
        cost=Cost(
            plan_usd_per_task=per(pu.cost_usd),
            judge_usd_per_task=per(ju.cost_usd),
            plan_tokens_per_task=per(pu.input_tokens + pu.output_tokens),
            judge_tokens_per_task=per(ju.input_tokens + ju.output_tokens),
            plan_usd_total=pu.cost_usd,
            judge_usd_total=ju.cost_usd,
        ),
        per_task=per_task,
        failures=failures,
    )


def collect_results(
    cfg: RunConfig,
    tasks: list[Task],
    out: Path | RunDir,
    skipped_for_budget: int = 0,
    scored: dict[str, TaskResult] | None = None,
    records: dict[str, TaskRecord] | None = None,
) -> RunResults:
    """Score the run: the tasks' records as given (the runner's), else those of the run folder."""
    if records is None:
        records = read_records(out if isinstance(out, RunDir) else RunDir(out), cfg.judge)
    done, failures = outcomes(records, [t.id for t in tasks])
    return build_results(cfg, tasks, done, failures, skipped_for_budget, scored)


def read_run_config(run_dir: Path) -> RunConfig:
    """The settings of the run folder `run_dir`, or a one-line `InputError` when it is not one."""
    path = RunDir(run_dir).config
    try:
        return RunConfig.model_validate_json(path.read_bytes())
    except OSError:
        raise InputError(f"{run_dir}: not a run folder (no readable config.json)") from None
    except ValueError:
        raise InputError(f"{path}: not a run configuration") from None
