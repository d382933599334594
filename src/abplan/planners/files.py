"""A planner that reads existing plans (AblationBench `<id>.jsonl` files or our `<id>.json`), for `bench eval`."""

from __future__ import annotations

from pathlib import Path

from abplan.errors import InputError
from abplan.lm.client import LMClient
from abplan.planners.base import PlanOptions, register_planner
from abplan.render.jsonl import read_jsonl_plan
from abplan.schema import Paper, Plan


@register_planner("files")
class FilePlanner:
    name = "files"
    needs_model = False

    async def plan(self, paper: Paper, opts: PlanOptions, lm: LMClient | None) -> Plan:
        folder = Path(opts.extra["plans_dir"])
        task_id = str(opts.extra["task_id"])
        full = folder / f"{task_id}.json"
        if full.is_file():
            return Plan.model_validate_json(full.read_text("utf-8"))
        path = folder / f"{task_id}.jsonl"
        if not path.is_file():
            raise InputError(f"no plan file for task {task_id} in {folder}")
        ablations = read_jsonl_plan(path.read_text("utf-8"))
        return Plan(
            paper_id=paper.id,
            paper_title=paper.title,
            mode=opts.mode,
            planner="files",
            model=str(folder),
            k=opts.top_k,
            reasoning_trace="",
            ablations=ablations,
        )
