"""The `select` cut: one more call reads the paper and the grouped experiments and chooses which to keep."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from abplan.cli import app
from abplan.errors import ConfigError, LMError
from abplan.lm import FakeModel, LMRequest
from abplan.planners.base import PlanOptions
from abplan.planners.consensus import ConsensusOptions
from abplan.planners.consensus_select import chosen_ids
from abplan.schema import Plan
from abplan.testing import FakeModels
from conftest import EXAMPLE
from test_consensus import ConsensusScript, plan_with

SELECT = "Several independent planners read the paper below"


class SelectScript(ConsensusScript):
    """The consensus script, plus the selection call: `replies` are given in turn (the last repeats)."""

    def __init__(self, *replies: str) -> None:
        super().__init__()
        self.replies = list(replies)
        self.select_prompts: list[str] = []

    def __call__(self, req: LMRequest) -> str:
        user = req.messages[-1][1]
        if any(SELECT in m for _, m in req.messages):  # the request, or its repair
            self.kinds.append("select")
            self.select_prompts.append(user)
            return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        return super().__call__(req)


def picks(*ids: str) -> str:
    body = "\n".join(f'{{"id": "{i}"}}' for i in ids)
    return f"<discussion>The paper claims two parts.</discussion>\n<predictions>\n{body}\n</predictions>"


def run(tmp_path: Path, fake_lm: FakeModels, script: SelectScript, **extra: Any) -> Plan:
    fake_lm("select", FakeModel(script))
    extra.setdefault("cut", "select")
    return plan_with(tmp_path, model="fake/select", **extra)


def test_the_selector_chooses_the_experiments_and_their_number(tmp_path: Path, fake_lm: FakeModels) -> None:
    # ranked by support: G1 part A (5), G2 part B (5), G3 part E (4), G4 part C (3), G5 part D (1)
    s = SelectScript(picks("G4", "G1", "G4", "G9"))
    plan = run(tmp_path, fake_lm, s)
    assert s.kinds == ["sample"] * 5 + ["group", "select"] and plan.usage.calls == 7
    prompt = s.select_prompts[0]
    assert (
        "G1 [proposed by 5 of 5] REMOVE part A" in prompt
        and "G5 [proposed by 1 of 5] REMOVE part D" in prompt
    )
    assert "the authors of this paper would most likely run" in prompt and "at most 5" in prompt
    # its order, repeats and unknown ids dropped; no threshold applied (C has support 3 of 5)
    assert [a.ablated_part for a in plan.ablations] == ["part C", "part A"]
    kept = {g["ablated_part"]: g["kept"] for g in plan.stages["groups"]}
    assert kept == {"part A": True, "part B": False, "part C": True, "part D": False, "part E": False}
    assert plan.stages["settings"]["cut"] == "select" and plan.stages["settings"]["min_support"] is None
    assert set(plan.stages["usage"]) == {"sample", "group", "select"}
    assert "A selection call read the paper" in plan.reasoning_trace and not plan.warnings
    assert "Reasoning of the selection:\nThe paper claims two parts." in plan.reasoning_trace


def test_an_unreadable_selection_is_repaired_once_then_falls_back_to_the_fixed_cut(
    tmp_path: Path, fake_lm: FakeModels
) -> None:
    repaired = SelectScript("I would keep the first two.", picks("G2"))
    plan = run(tmp_path / "a", fake_lm, repaired)
    assert repaired.kinds[-2:] == ["select", "select"]
    assert 'of the form {"id": "G<number>"}' in repaired.select_prompts[1]
    assert [a.ablated_part for a in plan.ablations] == ["part B"] and plan.usage.calls == 8

    hopeless = SelectScript(picks("G7"), "none of these")
    plan = run(tmp_path / "b", fake_lm, hopeless)
    assert [a.ablated_part for a in plan.ablations] == ["part A", "part B", "part E"]  # 4 of 5, as without
    assert any("selection call was unreadable" in w and "fixed support cut" in w for w in plan.warnings)
    assert plan.usage.calls == 8 and plan.stages["usage"]["select"]["calls"] == 2  # both replies are paid for
    assert plan.stages["settings"]["min_support"] == 4


def test_a_provider_failure_of_the_selection_is_an_error_not_a_fallback(
    tmp_path: Path, fake_lm: FakeModels
) -> None:
    class Failing(SelectScript):
        def __call__(self, req: LMRequest) -> str:
            if SELECT in req.messages[-1][1]:
                raise LMError("fake/select: 503 after 3 retries")
            return super().__call__(req)

    with pytest.raises(LMError, match="503"):
        run(tmp_path, fake_lm, Failing(picks("G1")))


def test_chosen_ids_reads_known_ids_in_order_at_most_k() -> None:
    assert chosen_ids(picks("g2", "G1", "G2", "X", "G10"), 9, 5) == ([1, 0], None)
    assert chosen_ids(picks("G1", "G2", "G3"), 3, 2)[0] == [0, 1]
    ids, problem = chosen_ids("<predictions>\n{}\n</predictions>", 3, 5)
    assert ids == [] and problem and "G1 to G3" in problem


def test_select_with_a_support_threshold_is_refused_and_the_dry_run_counts_the_call() -> None:
    with pytest.raises(ConfigError, match="without --min-support"):
        ConsensusOptions.from_plan_options(PlanOptions(extra={"cut": "select", "min_support": 2}))
    res = CliRunner().invoke(
        app,
        ["plan", str(EXAMPLE), "--dry-run", "-p", "staged", "-O", "cut=select", "--model", "openai/gpt-4o"],
    )
    assert res.exit_code == 0, res.output
    assert "total: 5 calls" in res.output and re.search(r"^select +1 call", res.output, re.M)


def test_select_add_keeps_every_unanimous_experiment_and_adds_the_selection(
    tmp_path: Path, fake_lm: FakeModels
) -> None:
    # ranked: G1 A (5/5), G2 B (5/5), G3 E (4/5), G4 C (3/5), G5 D (1/5); the selector drops B, adds C
    s = SelectScript(picks("G4", "G1"))
    plan = run(tmp_path, fake_lm, s, cut="select-add")
    assert [a.ablated_part for a in plan.ablations] == ["part A", "part B", "part C"]
    assert "Kept every experiment all 5 plans proposed" in plan.reasoning_trace
    assert plan.stages["settings"]["cut"] == "select-add" and plan.usage.calls == 7
    # the same selection request as cut=select: one cache entry serves both cuts
    again = run(tmp_path, fake_lm, SelectScript(picks("G9")), cut="select")
    assert [a.ablated_part for a in again.ablations] == ["part C", "part A"]


def test_select_add_is_capped_at_k() -> None:
    from abplan.planners.consensus_select import with_unanimous
    from abplan.planners.staged import Candidate, Group
    from abplan.schema import Ablation

    def group(part: str, samples: int) -> Group:
        ab = Ablation(name=part, ablated_part=part, action="REMOVE", metrics=["acc"])
        return Group(
            part,
            part,
            "REMOVE",
            [Candidate(id=f"{part}{i}", sample=i, rank=1, ablation=ab) for i in range(samples)],
        )

    ranked = [group("a", 3), group("b", 3), group("c", 2), group("d", 1)]
    assert with_unanimous(ranked, [3, 2, 0], n_ok=3, k=3) == [0, 1, 3]
    assert with_unanimous(ranked, [], n_ok=3, k=5) == [0, 1]
