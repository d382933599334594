from __future__ import annotations

import asyncio
import json
from pathlib import Path

from abplan.bench.tasks import Task
from abplan.judges.base import JudgeOptions
from abplan.judges.majority import MajorityJudge
from abplan.lm import FakeModel, LMClient, LMRequest
from abplan.schema import Ablation
from abplan.testing import FakeModels


def one(name: str) -> Ablation:
    return Ablation(name=name, ablated_part="dropout", action="REMOVE", metrics=["bpd"])


def test_three_shuffles_of_a_one_item_task_are_three_requests_and_vote(
    tmp_path: Path, fake_lm: FakeModels
) -> None:
    """With one gold and one plan item every shuffle is the same text; the runs must still be three
    distinct requests (three independent answers), and the vote needs two of them."""
    answers = iter([True, False, True])

    def reply(req: LMRequest) -> str:
        user = req.messages[1][1]
        a = json.loads(user.split("<side_A>")[1].split("</side_A>")[0].strip())["name"]
        b = json.loads(user.split("<side_B>")[1].split("</side_B>")[0].strip())["name"]
        row = {"name_in_A": a, "name_in_B": b if next(answers) else None}
        return f"<discussion>x</discussion>\n<predictions>\n{json.dumps(row)}\n</predictions>"

    fm = fake_lm("judge3", FakeModel(reply))
    task = Task(id="t1", mode="author", paper_title="T", ablations_in_paper=[one("Gold dropout")])

    async def go() -> object:
        lm = LMClient(cache_dir=tmp_path / "cache")
        try:
            return await MajorityJudge().judge(
                task, [one("Plan dropout")], None, JudgeOptions(models=["fake/judge3"]), lm
            )
        finally:
            await lm.aclose()

    j = asyncio.run(go())
    assert len(fm.calls) == 3 and len({c.key for c in fm.calls}) == 3
    assert [c.seed for c in fm.calls].count(None) == 1  # run 0 is the plain request a single judge sends
    assert j.matches[0].plan == ["Plan dropout"]  # 2 of 3 votes
    assert len(j.detail["votes"]) == 3
