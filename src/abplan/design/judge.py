"""A design judge on AbGen's three criteria (importance, faithfulness to the paper's setting,
soundness), 1 to 5 each, and the agreement between repeated judge runs.

Each run is an ordinary cached request (its run number is the request's seed, so runs are distinct
cache entries and batch export sends them to different answerers). A reply that is not one JSON
object, lacks a criterion or gives a score outside 1..5 is repaired once, then is the task's failure.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

from abplan import prompts
from abplan.lm.client import LMClient
from abplan.lm.context import fit_paper, window_budget
from abplan.lm.repair import ask_with_repair
from abplan.lm.types import LMRequest, LMResponse
from abplan.parsing import json_objects, strip_thinking
from abplan.prompts import paper_source
from abplan.schema import Design, Paper

CRITERIA = ("importance", "faithfulness", "soundness")
Scores = dict[str, int]


def judge_request(paper: Paper, design_md: str, model: str, run: int, temperature: float) -> LMRequest:
    fitted, _ = fit_paper(paper, window_budget(model, 8000))
    user = prompts.render(
        "design_judge_user",
        title=paper.title,
        abstract=paper.abstract,
        paper_source=paper_source(fitted),
        design=design_md,
    )
    return LMRequest.chat(
        model,
        prompts.render("design_judge_system"),
        user,
        temperature=temperature,
        max_tokens=1024,
        seed=run,
        tag="design-judge",
    )


def _score(value: Any) -> Any:
    return value.get("score") if isinstance(value, dict) else value


def parse_scores(text: str) -> tuple[Scores | None, str | None]:
    """The three scores of a reply, or None and what is wrong with it."""
    objs, _ = json_objects(strip_thinking(text))
    objs = [o for o in objs if any(c in o for c in CRITERIA)]
    if not objs:
        return None, "the reply is not a JSON object with the criteria " + ", ".join(CRITERIA)
    obj = objs[-1]
    missing = [c for c in CRITERIA if c not in obj]
    if missing:
        return None, f"missing criteria: {', '.join(missing)}"
    out: Scores = {}
    for c in CRITERIA:
        s = _score(obj[c])
        if isinstance(s, float) and s.is_integer():
            s = int(s)
        if isinstance(s, bool) or not isinstance(s, int):
            return None, f"{c}: the score must be a whole number from 1 to 5, not {json.dumps(s)}"
        if not 1 <= s <= 5:
            return None, f"{c}: score {s} is outside 1 to 5"
        out[c] = s
    return out, None


async def judge_design(
    paper: Paper, design: Design, design_md: str, lm: LMClient, model: str, run: int, temperature: float
) -> tuple[Scores, list[LMResponse]]:
    """One judge run: the scores (repaired once if unreadable; `LMError` if still not)."""
    req = judge_request(paper, design_md, model, run, temperature)
    scores, _, responses, _ = await ask_with_repair(
        lm,
        req,
        parse_scores,
        lambda p: prompts.render("design_judge_repair", problem=p),
        f"the design judge's scores for '{design.ablation.name}'",
    )
    assert scores is not None
    return scores, responses


def agreement(per_task: list[list[Scores]]) -> dict[str, dict[str, float | int]]:
    """Per criterion, over every pair of runs of the same task: the mean absolute difference of the
    scores and the share of pairs that agree exactly (`pairs` counts them; tasks with one run add none)."""
    out: dict[str, dict[str, float | int]] = {}
    for c in CRITERIA:
        diffs = [abs(a[c] - b[c]) for runs in per_task for a, b in itertools.combinations(runs, 2)]
        out[c] = {
            "pairs": len(diffs),
            "mean_abs_diff": round(sum(diffs) / len(diffs), 4) if diffs else 0.0,
            "exact_agree": round(sum(d == 0 for d in diffs) / len(diffs), 4) if diffs else 0.0,
        }
    return out


def means(per_task: list[list[Scores]]) -> dict[str, float]:
    """Per criterion, the mean over tasks of each task's mean over runs."""
    done = [runs for runs in per_task if runs]
    return {
        c: round(sum(sum(r[c] for r in runs) / len(runs) for runs in done) / len(done), 4) if done else 0.0
        for c in CRITERIA
    }
