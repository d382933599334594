from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from abplan import load_paper
from abplan.errors import ConfigError
from abplan.lm import FakeModel, LMClient, LMRequest
from abplan.planners.base import PlanOptions, get_planner
from abplan.planners.consensus import ConsensusOptions, ConsensusPlanner, dry_run
from abplan.schema import Plan
from abplan.testing import FakeModels
from conftest import EXAMPLE
from scripted import group_by_part


def item(name: str, part: str) -> dict[str, Any]:
    return {"name": name, "ablated_part": part, "action": "REMOVE", "replacement": None, "metrics": ["bpd"]}


class ConsensusScript:
    """Samples: A and B always, C in seeds 0-2, D in seed 0 only, E in seeds 1-4.
    Grouping: by identical ablated part."""

    def __init__(self) -> None:
        self.systems: list[str] = []
        self.kinds: list[str] = []

    def __call__(self, req: LMRequest) -> str:
        user = req.messages[-1][1]
        if "Group together the proposals" in user:
            self.kinds.append("group")
            return group_by_part(user)
        self.kinds.append("sample")
        self.systems.append(req.messages[0][1])
        seed = req.seed or 0
        items = [item("No A", "part A"), item("No B", "part B")]
        if seed <= 2:
            items.append(item("No C", "part C"))
        if seed == 0:
            items.append(item("No D", "part D"))
        if seed >= 1:
            items.append(item("No E", "part E"))
        body = "\n".join(json.dumps(i) for i in items)
        return f"<discussion>sample {seed}</discussion>\n<predictions>\n{body}\n</predictions>"


@pytest.fixture
def script(fake_lm: FakeModels) -> Any:
    s = ConsensusScript()
    fm = fake_lm("consensus", FakeModel(s))
    yield s, fm


def plan_with(tmp_path: Path, mode: str = "author", model: str = "fake/consensus", **extra: Any) -> Plan:
    paper = load_paper(EXAMPLE)
    opts = PlanOptions(mode=mode, model=model, extra={"samples": 5, **extra})  # type: ignore[arg-type]

    async def go() -> Plan:
        lm = LMClient(cache_dir=tmp_path / "cache")
        try:
            return await ConsensusPlanner().plan(paper, opts, lm)
        finally:
            await lm.aclose()

    return asyncio.run(go())


def test_support_cut_binds_and_records_every_group(tmp_path: Path, script: Any) -> None:
    s, fm = script
    plan = plan_with(tmp_path)
    assert s.kinds == ["sample"] * 5 + ["group"]
    assert len({c.seed for c in fm.calls[:5]}) == 5  # distinct samples, distinct cache entries
    support = {g["ablated_part"]: g["support"] for g in plan.stages["groups"]}
    assert support == {"part A": 5, "part B": 5, "part C": 3, "part D": 1, "part E": 4}
    # N = 5: default threshold N - 1 = 4, so C (3) and D (1) are cut although k = 5
    assert [a.ablated_part for a in plan.ablations] == ["part A", "part B", "part E"]
    assert plan.stages["settings"]["min_support"] == 4
    assert set(plan.stages["usage"]) == {"sample", "group"}
    assert plan.usage.calls == 6
    assert "5 of 5 independent plans" in plan.reasoning_trace


def test_unanimity_and_rethreshold_from_cache(tmp_path: Path, script: Any) -> None:
    _, fm = script
    plan_with(tmp_path)
    unanimous = plan_with(tmp_path, min_support=5)
    assert [a.ablated_part for a in unanimous.ablations] == ["part A", "part B"]
    loose = plan_with(tmp_path, min_support=3)
    assert [a.ablated_part for a in loose.ablations] == ["part A", "part B", "part E", "part C"]
    assert len(fm.calls) == 6  # other thresholds re-cut the same cached samples


def test_adaptive_cut(tmp_path: Path, script: Any) -> None:
    # two unanimous groups: fewer than adaptive_at = 3, so all five samples must agree
    few = plan_with(tmp_path, cut="adaptive")
    assert [a.ablated_part for a in few.ablations] == ["part A", "part B"]
    # with adaptive_at = 2 the paper counts as one with many ablations: N - 1 suffices
    many = plan_with(tmp_path, cut="adaptive", adaptive_at=2)
    assert [a.ablated_part for a in many.ablations] == ["part A", "part B", "part E"]


def test_prior_and_reviewer_angles_change_only_the_system_message(tmp_path: Path, script: Any) -> None:
    s, _ = script
    plan_with(tmp_path, prior=True)
    assert all("What authors of such papers actually ablate" in x for x in s.systems)
    s.systems.clear()
    plan_with(tmp_path / "r", mode="reviewer", k=2)
    angles = [x.split("Review from this angle: ")[1][:30] for x in s.systems]
    assert len(set(angles)) == 3 and angles[0] == angles[3]
    s.systems.clear()
    plan_with(tmp_path / "plain", mode="reviewer", angles=False)
    assert not any("Review from this angle" in x for x in s.systems)


def test_options_are_validated() -> None:
    with pytest.raises(ConfigError, match="unknown cut"):
        ConsensusOptions.from_plan_options(PlanOptions(model="m", extra={"cut": "bogus"}))
    with pytest.raises(ConfigError, match="between 1 and"):
        ConsensusOptions.from_plan_options(PlanOptions(model="m", extra={"samples": 3, "min_support": 4}))
    paper = load_paper(EXAMPLE)
    three = dry_run(paper, PlanOptions(model="openai/gpt-4o", extra={"samples": 3}))
    assert three["calls"] == 4 and [s["calls"] for s in three["stages"]] == [3, 1]
    assert three["cost_usd"] is not None and three["cost_usd"] > 0
    one = dry_run(paper, PlanOptions(model="openai/unknown-xyz", extra={"samples": 1}))
    assert one["calls"] == 1 and one["cost_usd"] is None
    assert get_planner("consensus").name == "consensus"


def test_cli_options_reach_the_consensus_planner(tmp_path: Path, script: Any) -> None:
    from typer.testing import CliRunner

    from abplan.cli import app

    runner = CliRunner()
    res = runner.invoke(
        app,
        [
            "plan",
            str(EXAMPLE),
            "--planner",
            "consensus",
            "--model",
            "fake/consensus",
            "-O",
            "cut=adaptive",
            "--option",
            "adaptive_at=2",
            "-f",
            "json",
            "-o",
            str(tmp_path / "p"),
            "-q",
        ],
    )
    assert res.exit_code == 0, res.output
    plan = json.loads(next((tmp_path / "p").glob("*.json")).read_text())
    assert plan["stages"]["settings"]["cut"] == "adaptive"
    assert [a["ablated_part"] for a in plan["ablations"]] == ["part A", "part B", "part E"]
    bad = runner.invoke(app, ["plan", str(EXAMPLE), "-O", "cutt=adaptive"])
    assert bad.exit_code == 2 and "did you mean 'cut'" in bad.output
    assert runner.invoke(app, ["plan", str(EXAMPLE), "-O", "cut"]).exit_code == 2


def test_lm_planner_takes_the_author_prior_in_its_system_message_only(tmp_path: Path) -> None:
    from abplan.planners.lm_planner import LMPlanner

    seen: list[LMRequest] = []
    reply = (
        "<discussion>d</discussion>\n<predictions>\n"
        + json.dumps(item("No A", "part A"))
        + "\n</predictions>"
    )

    def answer(req: LMRequest) -> str:
        seen.append(req)
        return reply

    paper = load_paper(EXAMPLE)
    with FakeModels() as fm:
        fm("prior-lm", answer)
        for i, (extra, mode) in enumerate(
            (({"prior": True}, "author"), ({}, "author"), ({"prior": True}, "reviewer"))
        ):
            opts = PlanOptions(model="fake/prior-lm", mode=mode, extra=extra)
            lm = LMClient(cache_dir=tmp_path / f"cache{i}")
            plan = asyncio.run(LMPlanner().plan(paper, opts, lm))
            assert [a.ablated_part for a in plan.ablations] == ["part A"]
    with_prior, plain, reviewer = (r.messages[0][1] for r in seen)
    assert "What authors of such papers actually ablate" in with_prior
    assert with_prior.startswith(plain) and "What authors" not in plain and "What authors" not in reviewer
    assert seen[0].messages[1:] == seen[1].messages[1:] and seen[0].temperature == 0.0
