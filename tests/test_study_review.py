"""`abplan plan --study` and `--format review`: run order, relative cost and claim coverage, and one
review paragraph per missing ablation quoting a verified claim; offline and with a scripted model."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from abplan.cli import app
from abplan.design.study import build_study
from abplan.grounding import quote_in_text
from abplan.lm.types import LMRequest
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
    assert (
        "study: 7 main training runs per seed (1 shared baseline + 6 for the items); claims left untested: none"
        in res.output
    )
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


PLAN_ITEMS = [
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
PLAN_REPLY = (
    "<discussion>two</discussion>\n<predictions>\n"
    + "\n".join(map(json.dumps, PLAN_ITEMS))
    + "\n</predictions>"
)
SHORTCUTS = "4) We introduce additional short-cut connections to further speed up optimization."
INVENTED = "We also propose a novel attention gate that doubles the speed."
STUDY_REPLY = json.dumps(
    {
        "claims": [{"quote": SHORTCUTS, "tested_by": [1, 7]}, {"quote": INVENTED, "tested_by": [2]}],
        "runs": [{"item": 2, "runs": 3}, {"item": 9, "runs": 1}],
        "figures": [{"text": "8 GPUs", "quote": "We train on 8 GPUs for a week."}],
        "absolute": "56 GPU-days",
    }
)


def scripted(req: LMRequest) -> str:
    return STUDY_REPLY if req.tag.startswith("study") else PLAN_REPLY


def test_lm_planner_plan_with_review_uses_the_rules_study(fake_lm: FakeModels, tmp_path: Path) -> None:
    fm = fake_lm("reviewer", [PLAN_REPLY])
    res = runner.invoke(
        app,
        [
            "plan",
            str(EXAMPLE),
            "-m",
            "reviewer",
            "-p",
            "lm",
            "--model",
            "fake/reviewer",
            "-f",
            "json,review",
            "-o",
            str(tmp_path),
            "-q",
        ],
    )
    assert res.exit_code == 0, res.output
    assert len(fm.calls) == 1  # without --study the review text needs no LM call of its own
    review = (tmp_path / "pixelcnnpp-reviewer-lm-fake-reviewer.review.md").read_text()
    assert f"\u201c{SHORTCUTS}\u201d" in review
    assert "replaced by 256-way softmax" in review and "report bits per dimension on CIFAR-10" in review
    study = study_of(
        Plan.model_validate_json((tmp_path / "pixelcnnpp-reviewer-lm-fake-reviewer.json").read_text())
    )
    assert study is not None and study.method == "rules" and [s.item for s in study.steps] == [0, 1, 2]


def test_lm_study_one_call_with_verified_claims_and_honest_cost(fake_lm: FakeModels, tmp_path: Path) -> None:
    fm = fake_lm("studier", scripted)
    res = runner.invoke(
        app,
        [
            "plan",
            str(EXAMPLE),
            "-p",
            "lm",
            "--model",
            "fake/studier",
            "--study",
            "-f",
            "json,md",
            "-o",
            str(tmp_path),
            "-q",
        ],
    )
    assert res.exit_code == 0, res.output
    assert [c.tag for c in fm.calls] == ["plan", "study"] and fm.calls[1].json_schema is not None
    assert "2. Softmax output (REPLACE discretized logistic mixture likelihood" in fm.calls[1].messages[1][1]
    plan = Plan.model_validate_json(next(tmp_path.glob("*.json")).read_text())
    study = study_of(plan)
    assert study is not None and study.method == "lm"
    assert [c.quote for c in study.claims] == [SHORTCUTS] and study.claims[0].tested_by == [1]  # 7 is no item
    assert study.claims[0].section == "Abstract"
    assert [(s.item, s.runs) for s in study.steps] == [(0, 1), (1, 1), (2, 3)] and study.total_runs == 5
    assert study.figures == [] and study.absolute.startswith("unknown")
    assert any(INVENTED in n for n in study.notes) and any("56 GPU-days" in n for n in study.notes)
    assert plan.usage.calls == 2


def test_claims_are_contributions_not_results(tmp_path: Path) -> None:
    from abplan.design.facts import find_claims

    src = tmp_path / "p.md"
    src.write_text(
        "# Gated Mixers\n\n## Abstract\n\nImages are hard. Our approach utilizes a gated token mixer. "
        "Finally, we extend the mixer to video. We conduct extensive experiments on ImageNet. "
        "Our model outperforms all baselines. We achieve state-of-the-art results on CIFAR-10.\n\n"
        "## 1 Introduction\n\nWe propose nothing here.\n"
    )
    quotes = [e.quote for e in find_claims(load_paper(src))]
    assert quotes == ["Our approach utilizes a gated token mixer.", "Finally, we extend the mixer to video."]
