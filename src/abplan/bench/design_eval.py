"""`abplan bench design-eval`: score design files with the design judge, N runs per judge model, and
report the scores and the agreement between runs.

A task is one design file. Its paper is read from the design's `paper_source` (or `--paper`); a paper
whose text differs from the one designed is that task's failure, as is a judge reply still unusable
after its repair. Offline mode records every missing request first, then stops with the total.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from abplan.design.judge import CRITERIA, Scores, agreement, judge_design, means
from abplan.design.render import design_markdown
from abplan.errors import AbplanError, InputError, PendingRequests
from abplan.fsutil import atomic_write_json
from abplan.limits import MAX_TEXT_INPUT_BYTES, MIB
from abplan.lm.client import LMClient
from abplan.lm.types import CacheMiss, LMResponse, usage_of
from abplan.papers import load_paper
from abplan.redact import redact
from abplan.schema import Design, Paper


@dataclass
class DesignTask:
    id: str
    path: Path
    design: Design
    runs: list[dict[str, Any]] = field(default_factory=list)  # {"model", "run", "scores"}
    failure: str | None = None


def read_design(path: Path) -> Design:
    try:
        with path.open("rb") as f:
            data = f.read(MAX_TEXT_INPUT_BYTES + 1)
        if len(data) > MAX_TEXT_INPUT_BYTES:
            raise InputError(f"{path}: more than {MAX_TEXT_INPUT_BYTES // MIB} MiB, too large for a design")
        return Design.model_validate_json(data)
    except OSError as e:
        raise InputError(f"{path}: cannot read the design ({e.strerror})") from e
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the file"
        raise InputError(f"{path}: not an abplan design JSON ({where}: {first['msg']})") from e


def design_files(paths: list[Path]) -> list[Path]:
    """The files given, with each folder read as the `*.json` designs inside it."""
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out += sorted(p.glob("*.json"))
        elif p.is_file():
            out.append(p)
        else:
            raise InputError(f"{p}: no such file or folder")
    if not out:
        raise InputError("no design files given (abplan design ... -f json writes them)")
    return out


def paper_for(task: DesignTask, paper_path: str | None, cache_dir: Path | None) -> Paper:
    source = paper_path or task.design.paper_source
    if not source:
        raise InputError(f"{task.path.name}: the design names no paper; give --paper")
    paper = load_paper(source, cache_dir=cache_dir)
    if paper.id != task.design.paper_id:
        raise InputError(
            f"{task.path.name}: the paper at {source} (id {paper.id}) is not the one designed"
            f" (id {task.design.paper_id})"
        )
    return paper


async def judge_task(
    task: DesignTask, paper: Paper, lm: LMClient, models: list[str], runs: int, temperature: float
) -> list[LMResponse]:
    """Every run of every model on one task; the first failure (or cache miss) ends the task."""
    md = design_markdown(task.design, blind=True)  # the judge does not see who wrote it
    jobs = [(m, r) for m in models for r in range(runs)]
    results = await asyncio.gather(
        *(judge_design(paper, task.design, md, lm, m, r, temperature) for m, r in jobs),
        return_exceptions=True,
    )
    responses: list[LMResponse] = []
    for (m, r), res in zip(jobs, results, strict=True):
        if isinstance(res, BaseException):
            if isinstance(res, CacheMiss | AbplanError):
                if task.failure is None or isinstance(res, CacheMiss):
                    task.failure = "pending" if isinstance(res, CacheMiss) else redact(str(res))
                continue
            raise res
        scores, got = res
        task.runs.append({"model": m, "run": r, "scores": scores})
        responses += got
    return responses


async def run_design_eval(
    tasks: list[DesignTask],
    lm: LMClient,
    models: list[str],
    runs: int,
    temperature: float,
    *,
    paper_path: str | None = None,
    cache_dir: Path | None = None,
) -> dict[str, Any]:
    responses: list[LMResponse] = []
    for task in tasks:
        try:
            paper = paper_for(task, paper_path, cache_dir)
        except InputError as e:
            task.failure = str(e)
            continue
        responses += await judge_task(task, paper, lm, models, runs, temperature)
    if any(t.failure == "pending" for t in tasks):
        raise PendingRequests(len(lm.pending_keys) or 1)
    return summary(tasks, models, runs, temperature, usage_of(responses).model_dump())


def summary(
    tasks: list[DesignTask], models: list[str], runs: int, temperature: float, usage: dict[str, Any]
) -> dict[str, Any]:
    scored = [t for t in tasks if t.failure is None]
    per_task: list[list[Scores]] = [[r["scores"] for r in t.runs] for t in scored]
    return {
        "criteria": list(CRITERIA),
        "judge_models": models,
        "runs_per_model": runs,
        "temperature": temperature,
        "tasks": len(tasks),
        "scored": len(scored),
        "failed": len(tasks) - len(scored),
        "means": means(per_task),
        "agreement": agreement(per_task),
        "per_task": [
            {"id": t.id, "file": str(t.path), "ablation": t.design.ablation.name, "runs": t.runs}
            | ({"failure": t.failure} if t.failure else {})
            for t in tasks
        ],
        "usage": usage,
    }


def write_results(results: dict[str, Any], out_dir: Path) -> Path:
    path = out_dir / "design-eval.json"
    atomic_write_json(path, results)
    return path


def result_lines(results: dict[str, Any]) -> list[str]:
    """The console report: per task its mean scores or its failure, then means and agreement."""
    lines = []
    for t in results["per_task"]:
        if "failure" in t:
            lines.append(f"{t['id']}: FAILED: {t['failure']}")
            continue
        runs = t["runs"]
        avg = ", ".join(f"{c} {sum(r['scores'][c] for r in runs) / len(runs):.2f}" for c in CRITERIA)
        lines.append(f"{t['id']}: {avg} ({len(runs)} runs)")
    n, scored = results["tasks"], results["scored"]
    if scored:
        m = results["means"]
        lines.append(f"{scored}/{n} designs scored: " + ", ".join(f"{c} {m[c]:.2f}" for c in CRITERIA))
        for c, a in results["agreement"].items():
            if a["pairs"]:
                lines.append(
                    f"agreement between runs, {c}: mean |difference| {a['mean_abs_diff']:.2f},"
                    f" exact {a['exact_agree']:.0%} of {a['pairs']} pairs"
                )
    else:
        lines.append(f"no design scored (0/{n})")
    return lines
