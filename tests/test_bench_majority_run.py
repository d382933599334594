"""The majority judge end to end: `bench run` and `bench eval` (whose default judge it is) with several
judge models, each answering through the client and the cache; the vote decides the score."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from abplan.cli import app
from abplan.lm import FakeModel, LMRequest, register_fake, unregister_fake
from abplan.testing.fault_server import PLAN_REPLY
from run_files import judgement_of
from synthetic import make_dataset

runner = CliRunner()
GOLD = "No gate"  # synthetic tasks have this one gold ablation; PLAN_REPLY plans it and "Gate type"


def judge_reply(match: bool) -> Any:
    """An author judge that pairs the gold item with the plan's "No gate" (or with nothing)."""

    def reply(req: LMRequest) -> str:
        user = req.messages[1][1]
        side_a = user.split("<side_A>")[1].split("</side_A>")[0].strip().splitlines()
        gold_key, plan_key = ("name_in_A", "name_in_B") if len(side_a) == 1 else ("name_in_B", "name_in_A")
        row = {gold_key: GOLD, plan_key: GOLD if match else None}
        return f"<discussion>compared</discussion>\n<predictions>\n{json.dumps(row)}\n</predictions>"

    return reply


@pytest.fixture
def models() -> Iterator[dict[str, FakeModel]]:
    fakes = {
        "planner": register_fake("maj-planner", [PLAN_REPLY]),
        "yes1": register_fake("maj-yes1", FakeModel(judge_reply(True))),
        "yes2": register_fake("maj-yes2", FakeModel(judge_reply(True))),
        "no1": register_fake("maj-no1", FakeModel(judge_reply(False))),
        "no2": register_fake("maj-no2", FakeModel(judge_reply(False))),
    }
    yield fakes
    for name in ("planner", "yes1", "yes2", "no1", "no2"):
        unregister_fake(f"maj-{name}")


def run(ds: Path, out: Path, judges: list[str]) -> dict[str, Any]:
    args = [
        "bench",
        "run",
        "-d",
        str(ds),
        "--out",
        str(out),
        "--planner",
        "lm",
        "--model",
        "fake/maj-planner",
    ]
    args += ["--judge", "majority"]
    for j in judges:
        args += ["--judge-model", f"fake/maj-{j}"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    return json.loads((out / "results.json").read_text())  # type: ignore[no-any-return]


def test_two_of_three_judges_make_a_match(tmp_path: Path, models: dict[str, FakeModel]) -> None:
    ds = make_dataset(tmp_path / "ds", 2)
    res = run(ds, tmp_path / "run", ["yes1", "no1", "yes2"])
    assert all(len(models[m].calls) == 2 for m in ("yes1", "no1", "yes2"))  # one request per task each
    compat = res["scores"]["compat"]
    assert compat["recall"]["mean"] == 1.0 and compat["precision"]["mean"] == 0.5
    j = judgement_of(tmp_path / "run", "t0000").model_dump(mode="json")
    assert j["models"] == ["fake/maj-yes1", "fake/maj-no1", "fake/maj-yes2"]
    assert [v["matches"][0]["plan"] for v in j["detail"]["votes"]] == [[GOLD], [], [GOLD]]
    assert j["matches"] == [{"gold": GOLD, "plan": [GOLD]}]


def test_one_of_three_is_no_match(tmp_path: Path, models: dict[str, FakeModel]) -> None:
    ds = make_dataset(tmp_path / "ds", 2)
    res = run(ds, tmp_path / "run", ["yes1", "no1", "no2"])
    assert res["scored"] == 2 and res["scores"]["compat"]["f1"]["mean"] == 0.0
    j = judgement_of(tmp_path / "run", "t0001").model_dump(mode="json")
    assert j["matches"] == [{"gold": GOLD, "plan": []}]


def test_bench_eval_judges_existing_plans_by_majority_by_default(
    tmp_path: Path, models: dict[str, FakeModel]
) -> None:
    ds = make_dataset(tmp_path / "ds", 2)
    first = run(ds, tmp_path / "run", ["yes1", "no1", "yes2"])
    calls = len(models["planner"].calls)
    exported = runner.invoke(app, ["bench", "export", str(tmp_path / "run"), "--out", str(tmp_path / "ab")])
    assert exported.exit_code == 0, exported.output
    args = ["bench", "eval", "-d", str(ds), "--plans", str(tmp_path / "ab")]
    args += ["--out", str(tmp_path / "eval")]
    for j in ("yes1", "no1", "yes2"):
        args += ["--judge-model", f"fake/maj-{j}"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    ev = json.loads((tmp_path / "eval" / "results.json").read_text())
    assert ev["config"]["judge"] == "majority" and ev["config"]["planner"] == "files"
    assert ev["scores"] == first["scores"] and len(models["planner"].calls) == calls  # no new plans
