"""results.json is a typed, versioned `RunResults`; every path of a run folder comes from `RunDir`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from abplan.bench.layout import RunDir
from abplan.bench.results import SCHEMA_VERSION, RunResults, read_results
from abplan.cli import app
from abplan.errors import InputError
from abplan.lm import register_fake, unregister_fake
from abplan.testing.fault_server import PLAN_REPLY
from synthetic import make_dataset

runner = CliRunner()
SRC = Path(__file__).resolve().parents[1] / "src" / "abplan"


@pytest.fixture(autouse=True)
def _model() -> Any:
    yield register_fake("results", [PLAN_REPLY])
    unregister_fake("results")


def bench(ds: Path, out: Path, *extra: str) -> Any:
    args = ["bench", "run", "--dataset", str(ds), "--out", str(out), "--planner", "lm"]
    return runner.invoke(app, [*args, "--model", "fake/results", *extra])


@pytest.fixture
def finished(tmp_path: Path) -> Path:
    ds = make_dataset(tmp_path / "ds", 3)
    res = bench(ds, tmp_path / "run")
    assert res.exit_code == 0, res.output
    return tmp_path / "run"


def test_results_json_carries_its_version_and_reads_back_equal(finished: Path) -> None:
    data = json.loads((finished / "results.json").read_text())
    assert data["schema_version"] == SCHEMA_VERSION == 1
    got, note = read_results(RunDir(finished).results)
    assert note is None and got.scored == 3 and got.as_json() == data
    # the field names older readers use (benchmarks/quality.py, scripts) are still there
    assert data["scores"]["compat"]["f1"]["mean"] == got.score("compat", "f1").mean  # type: ignore[union-attr]
    assert [t["plan_size"] for t in data["per_task"]] == [2, 2, 2]
    assert data["cost"]["plan_tokens_per_task"] > 0 and data["tasks"] == 3


def test_a_results_file_from_before_versions_is_read_as_version_1_with_a_note(finished: Path) -> None:
    path = RunDir(finished).results
    data = json.loads(path.read_text())
    del data["schema_version"], data["status"]  # the oldest files had neither
    path.write_text(json.dumps(data))
    got, note = read_results(path)
    assert got.schema_version == 1 and got.status == "complete"
    assert note is not None and str(path) in note and "version 1" in note
    res = runner.invoke(app, ["bench", "report", str(finished), "--plot", str(finished / "p.png")])
    assert res.exit_code == 0, res.output
    assert "no schema_version" in res.output and "| run | lm | fake/results |" in res.output


@pytest.mark.parametrize("version", [2, 0, "1", True, None])
def test_an_unknown_version_is_a_one_line_error_naming_the_file_and_the_versions(
    finished: Path, version: Any
) -> None:
    path = RunDir(finished).results
    path.write_text(json.dumps({**json.loads(path.read_text()), "schema_version": version}))
    with pytest.raises(InputError, match=r"results\.json: results schema_version .* \(understood: 1\)"):
        read_results(path)
    res = runner.invoke(app, ["bench", "report", str(finished)])
    assert res.exit_code == 2, res.output
    line = res.output.strip()
    assert len(line.splitlines()) == 1 and str(path) in line and "understood: 1" in line, line


def test_no_task_scored_gives_no_cost_per_task_rather_than_zero(tmp_path: Path) -> None:
    ds = make_dataset(tmp_path / "ds", 2)
    register_fake("results", ["no plan in this reply"])
    assert bench(ds, tmp_path / "run").exit_code == 1
    data = json.loads((tmp_path / "run" / "results.json").read_text())
    assert data["scored"] == 0 and data["cost"]["plan_usd_per_task"] is None
    assert data["cost"]["plan_tokens_per_task"] is None and data["cost"]["plan_usd_total"] == 0
    got, _ = read_results(tmp_path / "run" / "results.json")
    assert got.cost.judge_usd_per_task is None
    res = runner.invoke(app, ["bench", "report", str(tmp_path / "run"), "--plot", str(tmp_path / "p.png")])
    assert res.exit_code == 0 and "| 0 | – | – | – | – | – |" in res.output, res.output


def test_every_file_of_a_run_is_a_rundir_path(finished: Path, tmp_path: Path) -> None:
    ds = tmp_path / "ds"
    register_fake("results", lambda req: "nothing" if "Paper 1" in req.messages[1][1] else PLAN_REPLY)
    half = bench(ds, tmp_path / "half", "--cache-dir", str(tmp_path / "fresh"))
    assert half.exit_code == 1, half.output  # t0001 fails: a failure record is written too
    for folder in (finished, tmp_path / "half"):
        run = RunDir(folder)
        expected = {run.config, run.results, run.results_csv, run.report, run.lock, run.journal}
        written = {p for p in folder.rglob("*") if p.is_file()}
        assert written == expected


def test_run_folder_names_are_spelled_only_in_layout() -> None:
    """The run folder's file and folder names appear as literals only in bench/layout.py."""
    names = re.compile(
        r"""["'](?:plans|judgements|failures|journal\.jsonl|config\.json|results\.json|results\.csv|report\.md|\.abplan-run\.lock)["'/]"""
    )
    files = [*sorted((SRC / "bench").glob("*.py")), SRC / "cli_bench.py"]
    assert len(files) > 5
    offenders = [
        f"{f.name}:{n}"
        for f in files
        if f.name != "layout.py"
        for n, line in enumerate(f.read_text().splitlines(), 1)
        if names.search(line)
    ]
    assert offenders == []
    assert names.search((SRC / "bench" / "layout.py").read_text())  # the pattern does find them


def test_run_results_refuses_a_wrong_type_with_the_field() -> None:
    with pytest.raises(InputError, match=r"field 'tasks'"):
        from abplan.bench.results import parse_results

        parse_results(
            b'{"schema_version": 1, "config": {"dataset": "d", "planner": "p"}, "tasks": -1}', Path("r.json")
        )
    ok = RunResults.model_validate(
        {
            "config": {"dataset": "d", "planner": "p"},
            "tasks": 1,
            "scored": 0,
            "scores": {"compat": {}, "strict": {}},
            "cost": {"plan_usd_per_task": None, "judge_usd_per_task": None},
        }
    )
    assert ok.status == "no task scored" and not ok.complete and ok.score("compat", "f1") is None
