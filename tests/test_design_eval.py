"""`abplan bench design-eval`: the design judge with scripted replies, malformed scores as per-task
failures, agreement between runs, the cache and batch mode."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from abplan.cli import app
from abplan.design.judge import agreement, parse_scores
from abplan.lm.types import LMRequest
from abplan.testing import FakeModels
from conftest import EXAMPLE

runner = CliRunner()


def scores(i: int, f: int, s: int) -> str:
    return json.dumps(
        {"importance": {"score": i, "reason": "r"}, "faithfulness": {"score": f}, "soundness": s}
    )


@pytest.fixture
def designs(tmp_path: Path) -> Path:
    out = tmp_path / "designs"
    for which in ("2", "3"):
        res = runner.invoke(app, ["design", str(EXAMPLE), "-a", which, "-f", "json", "-o", str(out), "-q"])
        assert res.exit_code == 0, res.output
    assert len(list(out.glob("*.json"))) == 2
    return out


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        ("I'd give it a 4.", "not a JSON object with the criteria"),
        (json.dumps({"importance": 4, "faithfulness": 3}), "missing criteria: soundness"),
        (scores(4, 7, 3), "faithfulness: score 7 is outside 1 to 5"),
        (scores(0, 3, 3), "importance: score 0 is outside 1 to 5"),
        (json.dumps({"importance": "high", "faithfulness": 3, "soundness": 3}), 'not "high"'),
        (json.dumps({"importance": 4.5, "faithfulness": 3, "soundness": 3}), "whole number"),
    ],
)
def test_malformed_scores_are_named(reply: str, problem: str) -> None:
    got, why = parse_scores(reply)
    assert got is None and why is not None and problem in why


def test_scores_are_read_in_either_shape() -> None:
    assert parse_scores("```json\n" + scores(5, 4, 3) + "\n```") == (
        {"importance": 5, "faithfulness": 4, "soundness": 3},
        None,
    )


def test_agreement_mean_absolute_difference_and_exact_rate() -> None:
    a = {"importance": 4, "faithfulness": 3, "soundness": 2}
    b = {"importance": 4, "faithfulness": 5, "soundness": 2}
    c = {"importance": 4, "faithfulness": 3, "soundness": 5}
    got = agreement([[a, b, c], [a]])  # the single-run task adds no pair
    assert got["importance"] == {"pairs": 3, "mean_abs_diff": 0.0, "exact_agree": 1.0}
    assert got["faithfulness"] == {
        "pairs": 3,
        "mean_abs_diff": round(4 / 3, 4),
        "exact_agree": round(1 / 3, 4),
    }
    assert got["soundness"]["mean_abs_diff"] == 2.0 and got["soundness"]["exact_agree"] == round(1 / 3, 4)


def test_design_eval_scores_runs_and_reports_agreement(
    designs: Path, fake_lm: FakeModels, tmp_path: Path
) -> None:
    by_seed = {0: scores(5, 4, 3), 1: scores(5, 4, 4), 2: scores(4, 4, 4)}

    def reply(req: LMRequest) -> str:
        return by_seed[req.seed or 0]

    fm = fake_lm("judge", reply)
    out = tmp_path / "eval"
    args = ["bench", "design-eval", str(designs), "--judge-model", "fake/judge", "-n", "3", "-o", str(out)]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert len(fm.calls) == 6 and {c.seed for c in fm.calls} == {0, 1, 2}
    assert (
        "<ablation_design>" in fm.calls[0].messages[1][1]
        and "# Ablation design:" in fm.calls[0].messages[1][1]
    )
    results = json.loads((out / "design-eval.json").read_text())
    assert results["scored"] == 2 and results["failed"] == 0
    assert results["means"] == {
        "importance": round(14 / 3, 4),
        "faithfulness": 4.0,
        "soundness": round(11 / 3, 4),
    }
    agree = results["agreement"]
    assert agree["faithfulness"] == {"pairs": 6, "mean_abs_diff": 0.0, "exact_agree": 1.0}
    assert agree["soundness"]["exact_agree"] == round(2 / 6, 4)
    assert "agreement between runs, soundness: mean |difference| 0.67, exact 33% of 6 pairs" in res.output
    again = runner.invoke(app, args)  # every reply is cached: no new call
    assert again.exit_code == 0 and len(fm.calls) == 6


def test_malformed_scores_after_repair_fail_that_task_only(
    designs: Path, fake_lm: FakeModels, tmp_path: Path
) -> None:
    def reply(req: LMRequest) -> str:
        if "Without dropout" in req.messages[1][1]:
            return scores(4, 9, 3)  # out of range, first and after the repair
        return scores(3, 3, 3)

    fm = fake_lm("strict", reply)
    out = tmp_path / "eval"
    res = runner.invoke(
        app, ["bench", "design-eval", str(designs), "--judge-model", "fake/strict", "-n", "1", "-o", str(out)]
    )
    assert res.exit_code == 0, res.output
    assert len(fm.calls) == 3  # one good run, one bad run and its repair
    results = json.loads((out / "design-eval.json").read_text())
    failed = [t for t in results["per_task"] if "failure" in t]
    assert results["scored"] == 1 and len(failed) == 1
    assert "faithfulness: score 9 is outside 1 to 5" in failed[0]["failure"]
    assert "without-dropout: FAILED:" in res.output and "score 9 is outside 1 to 5" in res.output


def test_no_design_scored_exits_1_and_says_so(designs: Path, fake_lm: FakeModels, tmp_path: Path) -> None:
    fake_lm("mute", ['{"importance": 3}'])
    res = runner.invoke(
        app,
        [
            "bench",
            "design-eval",
            str(designs),
            "--judge-model",
            "fake/mute",
            "-n",
            "1",
            "-o",
            str(tmp_path / "e"),
        ],
    )
    assert res.exit_code == 1 and "no design scored (0/2)" in res.output
    assert res.output.count("missing criteria: faithfulness, soundness") == 2


def test_offline_records_every_judge_request_and_exits_3(designs: Path, tmp_path: Path) -> None:
    res = runner.invoke(
        app,
        [
            "bench",
            "design-eval",
            str(designs),
            "--judge-model",
            "openai/gpt-4o",
            "-n",
            "2",
            "--offline",
            "-o",
            str(tmp_path / "e"),
        ],
    )
    assert res.exit_code == 3, res.output
    assert "4 LM requests pending" in res.output
    export = runner.invoke(
        app, ["lm", "export", "--format", "prompts", "--out", str(tmp_path / "r"), "--shards", "2"]
    )
    assert export.exit_code == 0, export.output
    index = [json.loads(x) for x in (tmp_path / "r" / "index.jsonl").read_text().splitlines()]
    by_group: dict[str, set[int]] = {}
    for e in index:
        by_group.setdefault(e["group"], set()).add(e["shard"])
    assert len(by_group) == 2 and all(s == {1, 2} for s in by_group.values())  # runs of one design apart


def test_bad_inputs_are_one_line_errors(designs: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"paper_id": 1}')
    res = runner.invoke(app, ["bench", "design-eval", str(bad), "--judge-model", "fake/x"])
    assert res.exit_code == 2 and "not an abplan design JSON" in res.output
    res = runner.invoke(app, ["bench", "design-eval", str(designs)])
    assert res.exit_code == 2 and "needs a model" in res.output
    huge = tmp_path / "huge.json"
    with huge.open("wb") as f:
        f.truncate(64 * 1024 * 1024 + 1)
    res = runner.invoke(app, ["bench", "design-eval", str(huge), "--judge-model", "fake/x"])
    assert res.exit_code == 2 and "too large for a design" in res.output
    res = runner.invoke(app, ["bench", "design-eval", str(designs), "--judge-model", "fake/x", "-n", "0"])
    assert res.exit_code == 2 and "--runs must be at least 1" in res.output


def test_a_paper_that_changed_since_the_design_fails_that_task(
    designs: Path, fake_lm: FakeModels, tmp_path: Path
) -> None:
    fm = fake_lm("judge2", [scores(3, 3, 3)])
    first = sorted(designs.glob("*.json"))[0]
    first.write_text(first.read_text().replace('"paper_id": "', '"paper_id": "old', 1))
    out = tmp_path / "e"
    res = runner.invoke(
        app, ["bench", "design-eval", str(designs), "--judge-model", "fake/judge2", "-n", "1", "-o", str(out)]
    )
    assert res.exit_code == 0, res.output
    failed = [t for t in json.loads((out / "design-eval.json").read_text())["per_task"] if "failure" in t]
    assert len(failed) == 1 and "is not the one designed" in failed[0]["failure"] and len(fm.calls) == 1
