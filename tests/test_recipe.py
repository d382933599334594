"""The `staged` planner is the measured consensus recipe; `staged-extract` keeps the old pipeline."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from abplan import load_paper
from abplan.cli import app
from abplan.lm import FakeModel, LMClient
from abplan.planners.base import PlanOptions, get_planner
from abplan.planners.recipe import recipe_options
from abplan.schema import Plan
from abplan.testing import FakeModels
from conftest import EXAMPLE
from test_consensus_select import SelectScript, picks


@pytest.fixture
def script(fake_lm: FakeModels) -> Any:
    s = SelectScript(picks("G3", "G1"))
    fm = fake_lm("recipe", FakeModel(s))
    yield s, fm


def plan_with(tmp_path: Path, mode: str = "author", **extra: Any) -> Plan:
    paper = load_paper(EXAMPLE)
    opts = PlanOptions(mode=mode, model="fake/recipe", k=5 if mode == "author" else 2, extra=extra)  # type: ignore[arg-type]

    async def go() -> Plan:
        lm = LMClient(cache_dir=tmp_path / "cache")
        try:
            return await get_planner("staged").plan(paper, opts, lm)
        finally:
            await lm.aclose()

    return asyncio.run(go())


def test_author_mode_is_three_samples_with_the_prior_and_a_selection_call(
    tmp_path: Path, script: Any
) -> None:
    s, _ = script
    plan = plan_with(tmp_path)
    assert s.kinds == ["sample"] * 3 + ["group", "select"] and plan.usage.calls == 5
    assert all("What authors of such papers actually ablate" in x for x in s.systems)
    # seeds 0-2: A, B, C in all three (G1-G3); E in seeds 1 and 2 (G4); D in seed 0 only (G5)
    assert "G4 [proposed by 2 of 3] REMOVE part E" in s.select_prompts[0]
    assert [a.ablated_part for a in plan.ablations] == ["part C", "part A"]  # the selector's choice
    assert plan.planner == "staged" and plan.stages["settings"]["cut"] == "select"


def test_an_explicit_threshold_replaces_the_selection_call(tmp_path: Path, script: Any) -> None:
    s, _ = script
    plan = plan_with(tmp_path, min_support=3)
    assert s.kinds == ["sample"] * 3 + ["group"] and plan.usage.calls == 4
    assert [a.ablated_part for a in plan.ablations] == ["part A", "part B", "part C"]  # all three agree
    assert recipe_options(PlanOptions(extra={"cut": "fixed"})).extra == {
        "samples": 3,
        "prior": True,
        "cut": "fixed",
    }


def test_reviewer_mode_keeps_the_top_k_by_support_from_three_angles(tmp_path: Path, script: Any) -> None:
    s, _ = script
    plan = plan_with(tmp_path, mode="reviewer")
    assert s.kinds == ["sample"] * 3 + ["group"]
    assert not any("What authors" in x for x in s.systems)
    assert len({x.split("Review from this angle: ")[1][:30] for x in s.systems}) == 3
    assert plan.stages["settings"]["min_support"] == 1 and len(plan.ablations) == 2


def test_explicit_options_win_over_the_recipe(tmp_path: Path, script: Any) -> None:
    s, _ = script
    plan = plan_with(tmp_path, samples=5, prior=False, min_support=4)
    assert s.kinds == ["sample"] * 5 + ["group"] and not any("What authors" in x for x in s.systems)
    assert [a.ablated_part for a in plan.ablations] == ["part A", "part B", "part E"]
    opts = recipe_options(PlanOptions(mode="reviewer", extra={"length": "support", "min_support": 2}))
    assert opts.extra == {"samples": 3, "min_support": 2}


def res_args() -> list[str]:
    return ["plan", str(EXAMPLE), "--dry-run", "-p", "staged", "--model", "openai/gpt-4o"]


def test_dry_run_and_listing_name_both_planners() -> None:
    res = CliRunner().invoke(app, res_args())
    assert res.exit_code == 0, res.output
    assert "total: 5 calls" in res.output
    assert re.search(r"^sample +3 calls", res.output, re.M) and re.search(r"^group +1 call", res.output, re.M)
    assert re.search(r"^select +1 call", res.output, re.M)
    reviewer = CliRunner().invoke(app, [*res_args(), "--mode", "reviewer"])
    assert reviewer.exit_code == 0 and "total: 4 calls" in reviewer.output, reviewer.output
    assert "propose" not in res.output and "read" not in res.output
    listing = CliRunner().invoke(app, ["planners"])
    assert "staged-extract" in listing.output and "3 LM-Planner samples" in listing.output
    assert get_planner("staged-extract").name == "staged-extract"


def test_without_a_model_the_error_names_the_staged_planner() -> None:
    from abplan.errors import LMError

    paper = load_paper(EXAMPLE)
    with pytest.raises(LMError, match="the staged planner needs a model"):
        asyncio.run(get_planner("staged").plan(paper, PlanOptions(), None))
    with pytest.raises(LMError, match="the staged-extract planner needs a model"):
        asyncio.run(get_planner("staged-extract").plan(paper, PlanOptions(), None))


def test_bad_option_values_and_budgets_are_one_line_errors(tmp_path: Path) -> None:
    base = ["plan", str(EXAMPLE), "--dry-run", "-p", "staged", "--model", "openai/gpt-4o"]
    cases = [
        (["-O", "adaptive_at=abc"], "adaptive_at must be a whole number"),
        (["-O", "adaptive_at=0"], "adaptive_at must be a whole number of at least 1"),
        (["-O", "prior=maybe"], "prior must be true or false"),
        (["-O", "angles=2"], "angles must be true or false"),
        (["-O", "cut=²"], "unknown cut"),
        (["--max-cost", "0.01"], "--max-cost is for the staged-extract planner"),
    ]
    for extra, words in cases:
        res = CliRunner().invoke(app, [*base, *extra])
        assert res.exit_code == 2, (extra, res.output)
        assert words in " ".join(res.output.split()) and "Traceback" not in res.output, (extra, res.output)


def test_an_explicit_cut_replaces_the_reviewer_top_k() -> None:
    opts = recipe_options(PlanOptions(mode="reviewer", extra={"cut": "adaptive"}))
    assert opts.extra == {"samples": 3, "cut": "adaptive"}


def test_with_a_model_the_default_planner_is_staged(tmp_path: Path, script: Any) -> None:
    s, _ = script
    res = CliRunner().invoke(
        app, ["plan", str(EXAMPLE), "--model", "fake/recipe", "-f", "json", "-o", str(tmp_path), "-q"]
    )
    assert res.exit_code == 0, res.output
    (out,) = tmp_path.glob("*.json")
    plan = Plan.model_validate_json(out.read_text())
    assert plan.planner == "staged" and s.kinds == ["sample"] * 3 + ["group", "select"]
    assert "-staged-" in out.name
