"""`abplan plan --study` and `--format review`: run order, relative cost and claim coverage, and one
review paragraph per missing ablation quoting a verified claim; offline and with a scripted model."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from abplan.cli import app
from abplan.design.study import build_study
from abplan.grounding import quote_in_text
from abplan.papers import load_paper
from abplan.render.review import render_review
from abplan.render.study import study_of
from abplan.schema import Ablation, Evidence, Plan
from abplan.testing import FakeModels
from conftest import EXAMPLE

runner = CliRunner()


def plan_of(*ablations: Ablation, mode: str = "reviewer") -> Plan:
    return Plan(
        paper_id="x",
        paper_title="t",
        mode=mode,
        planner="p",
        model="m",
        k=len(ablations),  # type: ignore[arg-type]
        reasoning_trace="",
        ablations=list(ablations),
    )


def test_study_orders_cheap_claim_testing_items_first_and_counts_runs() -> None:
    paper = load_paper(EXAMPLE)
    plan = plan_of(
        Ablation(
            name="Downsampling vs dilation",
            ablated_part="downsampling",
            action="REPLACE",
            replacement=["dilated convolution"],
        ),
        Ablation(name="No warm-up", ablated_part="learning-rate warm-up", action="REMOVE"),
        Ablation(name="Without dropout", ablated_part="dropout", action="REMOVE"),
    )
    s = build_study(plan, paper)
    assert [st.item for st in s.steps] == [0, 3, 2, 1]  # baseline; 1 run + claim; 1 run, no claim; 2 runs
    assert [st.runs for st in s.steps] == [1, 1, 1, 2] and s.total_runs == 5
    assert s.total.startswith("5 main training runs per seed") and s.absolute.startswith("unknown")
    claims = {c.quote: c.tested_by for c in s.claims}
    assert claims["5) We regularize the model using dropout."] == [3]
    assert claims["3) We use downsampling to efficiently capture structure at multiple resolutions."] == [1]
    untested = [s.claims[j].quote for j in s.untested]
    assert len(untested) == 3 and all(quote_in_text(q, paper.text) for q in untested)
    assert s.steps[2].why == "1 run; tests no claim the paper states"


def test_plan_study_offline_adds_the_section_to_every_format(tmp_path: Path) -> None:
    res = runner.invoke(
        app, ["plan", str(EXAMPLE), "--study", "-f", "md,html,json", "-o", str(tmp_path), "-q"]
    )
    assert res.exit_code == 0, res.output
    plan = Plan.model_validate_json((tmp_path / "pixelcnnpp-author-offline.json").read_text())
    study = study_of(plan)
    assert study is not None and study.total_runs == 7 and study.untested == []
    md = (tmp_path / "pixelcnnpp-author-offline.md").read_text()
    assert "🧭 Study" in md and "**Total relative cost**: 7 main training runs per seed" in md
    html = (tmp_path / "pixelcnnpp-author-offline.html").read_text()
    assert "Claims left untested:</strong> none of those found" in html and html.rstrip().endswith("</html>")
    plain = runner.invoke(app, ["plan", str(EXAMPLE), "-f", "md", "-o", str(tmp_path / "plain"), "-q"])
    assert (
        plain.exit_code == 0
        and "Study" not in (tmp_path / "plain" / "pixelcnnpp-author-offline.md").read_text()
    )


def test_review_offline_one_paragraph_per_missing_ablation_with_a_verified_claim(tmp_path: Path) -> None:
    res = runner.invoke(
        app, ["plan", str(EXAMPLE), "-m", "reviewer", "-f", "review", "-o", str(tmp_path), "-q"]
    )
    assert res.exit_code == 0, res.output
    text = (tmp_path / "pixelcnnpp-reviewer-offline.review.md").read_text()
    paras = text.strip().split("\n\n")
    assert len(paras) == 2 and paras[1].startswith("**2. Missing ablation: Without dropout.**")
    assert "\u201c5) We regularize the model using dropout.\u201d (Abstract)" in paras[1]
    assert "Concrete experiment: train the model in the main setting (section 3.1" in paras[1]
    assert "log-likelihood on CIFAR-10" in paras[1]
    for word in ("great", "interesting", "novel", "well written", "impressive"):
        assert word not in text.lower()


def test_review_needs_reviewer_mode_before_any_planning() -> None:
    res = runner.invoke(app, ["plan", str(EXAMPLE), "-f", "review"])
    assert res.exit_code == 2 and "--mode reviewer" in res.output


def test_review_without_a_claim_falls_back_to_verified_evidence_or_says_none() -> None:
    ev = Evidence(quote="Q said so.", section="2 Method", verified=True)
    plan = plan_of(
        Ablation(name="A", ablated_part="gating", action="REMOVE", evidence=[ev]),
        Ablation(
            name="B",
            ablated_part="temperature",
            action="REPLACE",
            replacement=["0.5"],
            evidence=[Evidence(quote="made up", verified=False)],
        ),
    )
    text = render_review(plan)
    first, second = text.strip().split("\n\n")
    assert "(\u201cQ said so.\u201d (2 Method))" in first
    assert "made up" not in second and "no quote supporting this request was verified" in second
    assert "replaced by 0.5" in second


def test_lm_planner_plan_with_study_and_review(fake_lm: FakeModels, tmp_path: Path) -> None:
    items = [
        {
            "name": "No short-cuts",
            "ablated_part": "short-cut connections",
            "action": "REMOVE",
            "replacement": None,
            "metrics": ["bits per dimension"],
        },
        {
            "name": "Softmax output",
            "ablated_part": "discretized logistic mixture likelihood",
            "action": "REPLACE",
            "replacement": ["256-way softmax"],
            "metrics": ["bits per dimension"],
        },
    ]
    reply = (
        "<discussion>two</discussion>\n<predictions>\n"
        + "\n".join(map(json.dumps, items))
        + "\n</predictions>"
    )
    fm = fake_lm("reviewer", [reply])
    res = runner.invoke(
        app,
        [
            "plan",
            str(EXAMPLE),
            "-m",
            "reviewer",
            "--model",
            "fake/reviewer",
            "--study",
            "-f",
            "json,review",
            "-o",
            str(tmp_path),
            "-q",
        ],
    )
    assert res.exit_code == 0, res.output
    assert len(fm.calls) == 1  # the study and the review text need no LM call
    review = (tmp_path / "pixelcnnpp-reviewer-lm-fake-reviewer.review.md").read_text()
    assert (
        "\u201c4) We introduce additional short-cut connections to further speed up optimization.\u201d"
        in review
    )
    assert "replaced by 256-way softmax" in review and "report bits per dimension on CIFAR-10" in review
    plan = Plan.model_validate_json((tmp_path / "pixelcnnpp-reviewer-lm-fake-reviewer.json").read_text())
    study = study_of(plan)
    assert study is not None and [s.item for s in study.steps] == [0, 1, 2]
