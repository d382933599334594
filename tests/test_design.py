"""`abplan design`: one ablation as a protocol, by rules (offline) and by a scripted model, with every
quote checked against the paper."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from abplan.cli import app
from abplan.design import facts
from abplan.design.lm_design import parse_design
from abplan.design.protocol import part_ablation, pick_ablation, rule_design, variants_for
from abplan.design.render import design_html, design_markdown
from abplan.errors import InputError
from abplan.papers import load_paper
from abplan.schema import UNKNOWN, Ablation, Design, Plan
from abplan.testing import FakeModels
from conftest import EXAMPLE

runner = CliRunner()
REAL = "All residual layers use 192 feature maps and a dropout rate of 0.5."
INVENTED = "We trained every model for 3 days on 8 NVIDIA V100 GPUs."


def lm_reply(**over: object) -> str:
    reply: dict[str, object] = {
        "research_question": "Does dropout matter for PixelCNN++'s log-likelihood on CIFAR-10?",
        "baseline": [{"text": "192 feature maps, dropout 0.5", "quote": REAL}],
        "variants": [
            {"name": "full model", "description": "as in the paper"},
            {"name": "no dropout", "description": "dropout rate 0"},
            {"name": "dropout 0.25", "description": "half the rate", "null_control": False},
        ],
        "datasets": [
            {
                "text": "CIFAR-10",
                "quote": "We apply our model to modeling natural images in the CIFAR-10 data set.",
            }
        ],
        "metrics": ["bits per dimension"],
        "seeds": "3 seeds per variant",
        "expected_if_matters": "no-dropout overfits: test bits/dim rises",
        "expected_if_not": "test bits/dim within the seed spread",
        "confounds": ["same number of epochs"],
        "cost_runs": 2,
        "cost_relative": "2 main runs per seed",
        "cost_absolute": "3 days on 8 GPUs per run",
        "cost_figures": [{"text": "8 V100 GPUs, 3 days", "quote": INVENTED}],
    }
    reply.update(over)
    return json.dumps(reply)


@pytest.fixture(scope="module")
def paper():  # type: ignore[no-untyped-def]
    return load_paper(EXAMPLE)


def test_rules_find_the_example_papers_facts_with_verified_quotes(paper) -> None:  # type: ignore[no-untyped-def]
    names, quotes = facts.find_datasets(paper)
    assert names == ["CIFAR-10"] and quotes[0].verified
    setting = facts.main_setting(paper)
    assert [e.quote for e in setting][-1] == REAL and all(e.verified for e in setting)
    assert facts.find_figures(paper) == []  # the paper states no GPUs, hours or steps
    assert facts.find_seeds(paper) is None
    claims = facts.find_claims(paper)
    assert len(claims) == 5 and claims[4].quote == "5) We regularize the model using dropout."


def test_figures_and_seeds_are_found_when_a_paper_states_them(tmp_path: Path) -> None:
    src = tmp_path / "t.md"
    src.write_text(
        "# T\n\n## Abstract\n\nWe propose a gated mixer for images.\n\n## 4 Experiments\n\n"
        "We train for 100k steps on 8 V100 GPUs, which takes 2 days. Results are averaged over 5 seeds. "
        "Each test episode lasts 525 steps. Baselines were trained for 50 million steps.\n"
    )
    p = load_paper(src)
    figures = facts.find_figures(p)
    assert [f.value for f in figures if f.kind == "steps"] == ["100k steps", "50 million steps"]  # not 525
    kinds = {f.kind: f.value for f in reversed(figures)}  # the first of each kind
    assert (
        kinds["steps"] == "100k steps"
        and kinds["accelerators"] == "8 V100 GPUs"
        and kinds["time"] == "2 days"
    )
    seeds = facts.find_seeds(p)
    assert seeds is not None and "5 seeds" in seeds.quote
    d = rule_design(p, part_ablation(p, "X"))
    assert d.cost.absolute.startswith("the paper states ") and "8 V100 GPUs (accelerators)" in d.cost.absolute
    assert "5 seeds" in d.seeds


def test_offline_design_of_a_plan_item_fills_rules_and_says_unknown(paper) -> None:  # type: ignore[no-untyped-def]
    d = rule_design(paper, part_ablation(paper, "dropout"))
    assert d.method == "rules" and d.ablation.action == "REMOVE"
    assert d.research_question == "How much of PixelCNN++'s log-likelihood on CIFAR-10 is due to dropout?"
    assert REAL in [e.quote for e in d.baseline]
    assert d.dataset_names == ["CIFAR-10"] and d.metrics == ["log-likelihood"]
    assert [v.name for v in d.variants] == ["full model (baseline)", "without dropout"]
    assert d.seeds.startswith(UNKNOWN) and d.cost.absolute.startswith(UNKNOWN) and d.cost.runs == 1
    assert any("no weights" in c for c in d.confounds)  # dropout has no parameters to match


def test_replace_and_add_get_a_null_control_where_one_makes_sense() -> None:
    rep = variants_for(
        Ablation(name="r", ablated_part="downsampling", action="REPLACE", replacement=["dilation"])
    )
    assert [v.null_control for v in rep] == [False, False, True]
    lik = variants_for(
        Ablation(name="l", ablated_part="mixture likelihood", action="REPLACE", replacement=["softmax"])
    )
    assert not any(v.null_control for v in lik)  # a likelihood cannot be removed
    add = variants_for(Ablation(name="a", ablated_part="attention", action="ADD", replacement=["attention"]))
    assert add[-1].null_control and "size-matched" in add[-1].name


def test_pick_ablation_by_number_and_name_with_clear_errors(paper) -> None:  # type: ignore[no-untyped-def]
    plan = Plan(
        paper_id="x",
        paper_title="t",
        mode="author",
        planner="p",
        model="m",
        k=2,
        reasoning_trace="",
        ablations=[part_ablation(paper, "dropout"), part_ablation(paper, "downsampling")],
    )
    assert pick_ablation(plan, "2")[1].ablated_part == "downsampling"
    assert pick_ablation(plan, "  without   DROPOUT ")[0] == 1
    with pytest.raises(InputError, match="ablations 1 to 2"):
        pick_ablation(plan, "3")
    with pytest.raises(InputError, match="did you mean 'Without dropout'"):
        pick_ablation(plan, "without dropot")
    with pytest.raises(InputError):  # a digit that is not 0-9 is a name, not an index
        pick_ablation(plan, "²")


def test_cli_offline_writes_markdown_html_and_json(tmp_path: Path) -> None:
    res = runner.invoke(app, ["design", str(EXAMPLE), "--ablation", "3", "-o", str(tmp_path), "-q"])
    assert res.exit_code == 0, res.output
    stem = tmp_path / "pixelcnnpp-design-without-dropout"
    d = Design.model_validate_json(stem.with_suffix(".json").read_text())
    assert d.method == "rules" and d.ablation.name == "Without dropout" and d.paper_source == str(EXAMPLE)
    md = stem.with_suffix(".md").read_text()
    assert "## Baseline configuration" in md and f"\u201c{REAL}\u201d" in md and "Absolute: unknown" in md
    html = stem.with_suffix(".html").read_text()
    assert "<h2>Seeds and repeats</h2>" in html and REAL in html
    again = runner.invoke(app, ["design", str(EXAMPLE), "--part", "dropout", "-o", str(tmp_path), "-q"])
    assert again.exit_code == 0 and (tmp_path / "pixelcnnpp-design-without-dropout-2.md").exists()


def test_cli_designs_an_item_of_a_given_plan_json_or_jsonl(tmp_path: Path) -> None:
    made = runner.invoke(app, ["plan", str(EXAMPLE), "-f", "json,jsonl", "-o", str(tmp_path / "p"), "-q"])
    assert made.exit_code == 0, made.output
    for suffix, out in ((".json", "a"), (".jsonl", "b")):
        plan = tmp_path / "p" / f"pixelcnnpp-author-offline{suffix}"
        res = runner.invoke(
            app,
            [
                "design",
                str(EXAMPLE),
                "-a",
                "downsampling vs. dilated convolution",
                "--plan",
                str(plan),
                "-f",
                "json",
                "-o",
                str(tmp_path / out),
                "-q",
            ],
        )
        assert res.exit_code == 0, res.output
        d = Design.model_validate_json(next((tmp_path / out).glob("*.json")).read_text())
        assert d.ablation.action == "REPLACE" and d.ablation.replacement == ["dilated convolution"]
        assert [v.null_control for v in d.variants] == [False, False, True] and d.cost.runs == 2


def test_cli_one_line_errors_for_bad_choices(tmp_path: Path) -> None:
    both = runner.invoke(app, ["design", str(EXAMPLE), "--ablation", "1", "--part", "x"])
    assert both.exit_code == 2 and "not both" in both.output
    none = runner.invoke(app, ["design", str(EXAMPLE)])
    assert none.exit_code == 2 and "--ablation" in none.output
    bad = runner.invoke(app, ["design", str(EXAMPLE), "-a", "9"])
    assert bad.exit_code == 2 and "ablations 1 to 5" in bad.output
    missing = runner.invoke(app, ["design", str(EXAMPLE), "-a", "1", "--plan", str(tmp_path / "no.json")])
    assert missing.exit_code == 2 and "no such file" in missing.output
    folder = runner.invoke(app, ["design", str(EXAMPLE), "-a", "1", "--plan", str(tmp_path)])
    assert folder.exit_code == 2 and "a folder; give one plan file" in " ".join(folder.output.split())
    (tmp_path / "notes.txt").write_text("x\n")
    junk = runner.invoke(app, ["design", str(EXAMPLE), "-a", "1", "--plan", str(tmp_path / "notes.txt")])
    assert junk.exit_code == 2 and "no ablation could be read" in " ".join(junk.output.split()), junk.output
    fmt = runner.invoke(app, ["design", str(EXAMPLE), "-a", "1", "-f", "pdf"])
    assert fmt.exit_code == 2 and "unknown format" in fmt.output


def test_html_escapes_paper_and_model_text(paper) -> None:  # type: ignore[no-untyped-def]
    d = rule_design(paper, part_ablation(paper, "<script>alert(1)</script>"))
    html = design_html(d)
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "<script>" not in design_markdown(d)


def test_lm_path_one_call_and_an_invented_quote_is_dropped_and_flagged(
    fake_lm: FakeModels, tmp_path: Path
) -> None:
    fm = fake_lm("designer", [lm_reply()])
    res = runner.invoke(
        app,
        ["design", str(EXAMPLE), "-a", "3", "--model", "fake/designer", "-o", str(tmp_path), "-f", "json"],
    )
    assert res.exit_code == 0, res.output
    assert len(fm.calls) == 1 and fm.calls[0].json_schema is not None
    assert "ablated part: dropout" in fm.calls[0].messages[1][1]
    d = Design.model_validate_json(next(tmp_path.glob("*.json")).read_text())
    assert d.method == "lm" and d.model == "fake/designer"
    assert [e.quote for e in d.baseline] == [REAL] and d.baseline[
        0
    ].section == "3.1 UNCONDITIONAL GENERATION ON CIFAR-10"
    assert d.cost.figures == [] and d.cost.absolute == UNKNOWN  # its only support was the invented quote
    assert any(INVENTED in f and "unverifiable" in f for f in d.flags)
    assert "warning: dropped an unverifiable quote" in res.output
    assert [v.name for v in d.variants][1] == "no dropout" and d.seeds == "3 seeds per variant"


def test_lm_path_repairs_once_then_fails_with_exit_1(fake_lm: FakeModels, tmp_path: Path) -> None:
    fm = fake_lm("fixer", ["not json at all", lm_reply(variants=[])])
    res = runner.invoke(
        app, ["design", str(EXAMPLE), "-a", "1", "--model", "fake/fixer", "-o", str(tmp_path)]
    )
    assert res.exit_code == 1 and "unreadable even after one repair" in res.output
    assert len(fm.calls) == 2 and "not a JSON object" in fm.calls[1].messages[-1][1]
    ok = fake_lm("fixed", ["```\nnope\n```", lm_reply()])
    res = runner.invoke(
        app, ["design", str(EXAMPLE), "-a", "1", "--model", "fake/fixed", "-o", str(tmp_path)]
    )
    assert res.exit_code == 0, res.output
    assert len(ok.calls) == 2 and "repaired" in res.output


def test_parse_design_names_the_bad_field() -> None:
    assert parse_design(lm_reply())[1] is None
    _, problem = parse_design(lm_reply(variants=[]))
    assert problem is not None and problem.startswith("field variants")
    _, problem = parse_design(lm_reply(cost_runs=-1))
    assert problem is not None and "cost_runs" in problem


def test_offline_batch_mode_records_the_request_and_exits_3(tmp_path: Path) -> None:
    res = runner.invoke(
        app, ["design", str(EXAMPLE), "-a", "1", "--model", "openai/gpt-4o", "--offline", "-o", str(tmp_path)]
    )
    assert res.exit_code == 3, res.output
    assert "1 LM request pending" in res.output
    export = runner.invoke(app, ["lm", "export", "--format", "prompts", "--out", str(tmp_path / "round")])
    assert export.exit_code == 0, export.output
    prompt = next((tmp_path / "round").glob("*.prompt.txt")).read_text()
    assert "Design the following ablation of this paper" in prompt


def test_a_plan_of_another_paper_is_named_in_a_warning(tmp_path: Path) -> None:
    made = runner.invoke(app, ["plan", str(EXAMPLE), "-f", "json", "-o", str(tmp_path), "-q"])
    assert made.exit_code == 0, made.output
    path = tmp_path / "pixelcnnpp-author-offline.json"
    path.write_text(path.read_text().replace('"paper_id": "', '"paper_id": "other', 1))
    res = runner.invoke(
        app, ["design", str(EXAMPLE), "-a", "1", "--plan", str(path), "-o", str(tmp_path), "-q"]
    )
    assert res.exit_code == 0 and "was made for paper other" in res.output
