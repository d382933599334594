"""A scripted model that plays planner and judges by reading the prompts abplan really sends.

Planner: for the task whose title is in the prompt, propose its first two gold ablations (renamed) and
junk. Author judge: match items of sides A and B whose ablated parts are equal. Reviewer judge: an item
appears when its ablated part is one of the task's missing ablations.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from abplan.bench.tasks import Task
from abplan.lm import LMRequest

JUNK = [
    {
        "name": f"Junk {i}",
        "ablated_part": f"unrelated part {i}",
        "action": "REMOVE",
        "replacement": None,
        "metrics": ["m"],
    }
    for i in range(1, 6)
]


def plan_items(task: Task) -> list[dict[str, Any]]:
    gold = task.ablations_in_paper if task.mode == "author" else (task.missing_ablations or [])
    good = [{**g.core(), "name": f"Plan {g.name}"} for g in gold[: 2 if task.mode == "author" else 1]]
    return (good + JUNK)[: 5 if task.mode == "author" else 2]


def _lines(block: str) -> list[dict[str, Any]]:
    return [json.loads(x) for x in block.strip().splitlines() if x.strip()]


class Scripted:
    def __init__(self, tasks: list[Task], log: Path | None = None) -> None:
        self.by_title = {t.paper_title: t for t in tasks}
        self.log = log
        self.calls = 0

    def task_of(self, text: str) -> Task:
        m = re.search(r"Paper title: (.+)", text)
        assert m, "no title in prompt"
        return self.by_title[m.group(1).strip()]

    def __call__(self, req: LMRequest) -> str:
        self.calls += 1
        if self.log is not None:
            with self.log.open("a") as fh:
                fh.write(req.key + "\n")
        system, user = req.messages[0][1], req.messages[1][1]
        task = self.task_of(user)
        if "You compare two lists" in system:
            a = _lines(user.split("<side_A>")[1].split("</side_A>")[0])
            b = _lines(user.split("<side_B>")[1].split("</side_B>")[0])
            rows, used_b = [], set()
            for x in a:
                hits = [y["name"] for y in b if y["ablated_part"] == x["ablated_part"]]
                used_b.update(hits)
                rows.append({"name_in_A": x["name"], "name_in_B": hits or None})
            rows += [{"name_in_A": None, "name_in_B": y["name"]} for y in b if y["name"] not in used_b]
            return (
                "<discussion>matched by part</discussion>\n<predictions>\n"
                + "\n".join(json.dumps(r) for r in rows)
                + "\n</predictions>"
            )
        if "You check proposed ablation studies" in system:
            items = _lines(user.split("<suggested_plan>")[1].split("</suggested_plan>")[0])
            missing = {m.ablated_part for m in task.missing_ablations or []}
            rows = [
                {"name_in_plan": x["name"], "appears_in_review": x["ablated_part"] in missing} for x in items
            ]
            return (
                "<discussion>checked</discussion>\n<predictions>\n"
                + "\n".join(json.dumps(r) for r in rows)
                + "\n</predictions>"
            )
        items = plan_items(task)
        return (
            "<discussion>scripted plan</discussion>\n<predictions>\n"
            + "\n".join(json.dumps(i) for i in items)
            + "\n</predictions>"
        )


def group_by_part(user: str) -> str:
    """A grouping reply that puts together the proposals (`S1-2: name | ACTION part ...`) with the same
    ablated part, as the staged and consensus planners' grouping call expects."""
    by_part: dict[str, list[str]] = {}
    for line in user.splitlines():
        m = re.match(r"(S\d+-\d+): .*? \| (?:REMOVE|REPLACE|ADD) (.+?)(?: with .*)?$", line)
        if m:
            by_part.setdefault(m.group(2), []).append(m.group(1))
    rows = [
        {"ids": ids, "name": f"Ablate {part}", "ablated_part": part, "action": "REMOVE"}
        for part, ids in by_part.items()
    ]
    return "<predictions>\n" + "\n".join(json.dumps(r) for r in rows) + "\n</predictions>"
