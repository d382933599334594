"""A planner that reads existing plans instead of making them: our `<id>.json` or AblationBench
`<id>.jsonl` files. `bench eval` scores a folder of them; `abplan plan --planner files --plans PATH`
re-renders one (a plan file, or a folder looked up by the paper's id)."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError

from abplan.errors import InputError
from abplan.lm.client import LMClient
from abplan.parsing import read_jsonl_plan
from abplan.planners.base import PlanOptions, register_planner
from abplan.schema import Paper, Plan

NEEDS = "the files planner reads existing plans: give --plans DIR (a folder of <id>.json or <id>.jsonl plans) or --plans FILE"


def plan_file(where: Path, task_id: str) -> Path:
    """The plan for `task_id`: `where` itself when it is a file, else `<id>.json`, else `<id>.jsonl` in it."""
    if where.is_file():
        return where
    if not where.is_dir():
        raise InputError(f"--plans {where}: no such file or folder")
    for suffix in (".json", ".jsonl"):
        if (where / f"{task_id}{suffix}").is_file():
            return where / f"{task_id}{suffix}"
    raise InputError(f"no plan file for task {task_id} in {where} (looked for {task_id}.json and .jsonl)")


@register_planner("files")
class FilePlanner:
    """Reads existing plans (--plans DIR or FILE): our .json or AblationBench .jsonl; no LM."""

    name = "files"
    needs_model = False

    async def plan(self, paper: Paper, opts: PlanOptions, lm: LMClient | None) -> Plan:
        where = opts.extra.get("plans_dir")
        if not where:
            raise InputError(NEEDS)
        path = plan_file(Path(where), str(opts.extra.get("task_id") or paper.id))
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise InputError(f"{path}: cannot read the plan ({e})") from e
        if path.suffix == ".json":
            try:
                return Plan.model_validate_json(text)
            except ValidationError as e:
                raise InputError(f"{path}: not an abplan plan JSON ({e.error_count()} problems)") from e
        return Plan(
            paper_id=paper.id,
            paper_title=paper.title,
            mode=opts.mode,
            planner="files",
            model=str(Path(where)),
            k=opts.top_k,
            reasoning_trace="",
            ablations=read_jsonl_plan(text),
        )
