"""Nonsense flags and corrupt run files give one line and exit 2; honest summaries when nothing scored;
the batch-mode stop is a status line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from abplan.cli import app
from abplan.testing import FakeModels
from abplan.testing.fault_server import PLAN_REPLY
from conftest import EXAMPLE
from synthetic import make_dataset

runner = CliRunner()


@pytest.fixture(autouse=True)
def _model(fake_lm: FakeModels) -> Any:
    yield fake_lm("flags", [PLAN_REPLY])


def bench(ds: Path, out: Path, *extra: str, env: dict[str, str] | None = None) -> Any:
    args = [
        "bench",
        "run",
        "--dataset",
        str(ds),
        "--out",
        str(out),
        "--planner",
        "lm",
        "--model",
        "fake/flags",
    ]
    return runner.invoke(app, [*args, *extra], env=env)


def one_line_exit_2(res: Any, *words: str) -> str:
    assert res.exit_code == 2, res.output
    line = res.output.strip()
    assert len(line.splitlines()) == 1 and "Traceback" not in line, line
    for w in words:
        assert w in line, line
    return line


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("-k", "0"),
        ("-k", "-1"),
        ("--top-k", "-1"),
        ("--top-k", "0"),
        ("--limit", "-1"),
        ("--limit", "0"),
        ("--concurrency", "0"),
        ("-j", "-3"),
        ("--max-cost", "-1"),
        ("--max-cost", "nan"),
        ("--max-cost", "inf"),
        ("--seed", "-1"),
        ("--timeout", "-1"),
        ("--timeout", "0"),
        ("--timeout", "nan"),
        ("--samples", "0"),
        ("--min-support", "-2"),
        ("--context-window", "0"),
    ],
)
def test_bad_numbers_on_bench_run_exit_2_before_anything_runs(tmp_path: Path, flag: str, value: str) -> None:
    ds = make_dataset(tmp_path / "ds", 2)
    out = tmp_path / "run"
    name = {"-j": "--concurrency"}.get(flag, flag)
    one_line_exit_2(bench(ds, out, flag, value), name)
    assert not out.exists()


@pytest.mark.parametrize(
    ("flag", "value"), [("--top-k", "-1"), ("--concurrency", "0"), ("--timeout", "-5"), ("--seed", "-2")]
)
def test_bad_numbers_on_bench_eval_exit_2(tmp_path: Path, flag: str, value: str) -> None:
    ds = make_dataset(tmp_path / "ds", 1)
    (tmp_path / "plans").mkdir()
    args = ["bench", "eval", "--dataset", str(ds), "--plans", str(tmp_path / "plans"), "--judge", "lexical"]
    one_line_exit_2(runner.invoke(app, [*args, flag, value]), flag)


@pytest.mark.parametrize(
    ("var", "value", "word"),
    [
        ("ABPLAN_TIMEOUT", "-1", "timeout"),
        ("ABPLAN_RPM", "-5", "rpm"),
        ("ABPLAN_MAX_RETRIES", "-1", "max_retries"),
    ],
)
def test_bad_numbers_from_the_environment_exit_2(tmp_path: Path, var: str, value: str, word: str) -> None:
    ds = make_dataset(tmp_path / "ds", 1)
    one_line_exit_2(bench(ds, tmp_path / "run", env={var: value}), word, var)


def test_smallest_valid_numbers_do_what_they_say(tmp_path: Path) -> None:
    ds = make_dataset(tmp_path / "ds", 3)
    res = bench(ds, tmp_path / "run", "-k", "1", "--top-k", "1", "--limit", "1", "--seed", "0", "-j", "1")
    assert res.exit_code == 0, res.output
    out = json.loads((tmp_path / "run" / "results.json").read_text())
    assert out["tasks"] == 1 and out["scored"] == 1  # --limit 1: exactly one task
    assert [t["plan_size"] for t in out["per_task"]] == [1]  # --top-k 1: one item scored
    assert out["config"]["concurrency"] == 1


def test_concurrency_reaches_the_lm_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import abplan.cli_bench as cb

    seen: list[int] = []
    real = cb.make_client

    def spy(settings: Any, **kw: Any) -> Any:
        seen.append(settings.concurrency)
        return real(settings, **kw)

    monkeypatch.setattr(cb, "make_client", spy)
    ds = make_dataset(tmp_path / "ds", 1)
    assert bench(ds, tmp_path / "a", "-j", "3").exit_code == 0
    assert bench(ds, tmp_path / "b", env={"ABPLAN_CONCURRENCY": "5"}).exit_code == 0
    assert seen == [3, 5]
    assert json.loads((tmp_path / "b" / "results.json").read_text())["config"]["concurrency"] == 5


def test_nul_in_the_dataset_flag_exits_2(tmp_path: Path) -> None:
    ds = make_dataset(tmp_path / "ds", 1)
    one_line_exit_2(bench(Path(f"{ds}\x00x"), tmp_path / "run"), "--dataset", "NUL")


@pytest.mark.parametrize(
    ("content", "word"),
    [
        (b"\x00\x01garbage", "not a results file"),
        (b"{truncated", "not a results file"),
        (b"[]", "not a results file"),
        (b'{"config": 1}', "field 'config'"),
        (
            b'{"config": {"dataset": "d", "planner": "p", "judge": "j"}, "tasks": "many", "scored": 1, '
            b'"scores": {"compat": {}, "strict": {}}, "cost": {"plan_usd_per_task": 0, "judge_usd_per_task": 0}}',
            "field 'tasks'",
        ),
        (
            b'{"config": {"dataset": "d", "planner": "p", "judge": "j"}, "tasks": 1, "scored": 1, '
            b'"scores": {"compat": {"f1": {"mean": "high"}}, "strict": {}}, "cost": {}}',
            "field 'scores.compat.f1",
        ),
    ],
)
def test_corrupt_results_json_in_bench_report_exits_2(tmp_path: Path, content: bytes, word: str) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "results.json").write_bytes(content)
    one_line_exit_2(runner.invoke(app, ["bench", "report", str(run)]), "results.json", word)


def test_a_run_where_every_task_failed_says_no_task_scored(tmp_path: Path, fake_lm: FakeModels) -> None:
    ds = make_dataset(tmp_path / "ds", 2)
    fake_lm("flags", ["no plan in this reply"])
    res = bench(ds, tmp_path / "run")
    assert res.exit_code == 1, res.output
    assert "no task scored" in res.output and "F1 0.000" not in res.output
    out = json.loads((tmp_path / "run" / "results.json").read_text())
    assert out["status"] == "no task scored" and out["scored"] == 0 and out["failed"] == 2
    assert out["scores"] == {"compat": {}, "strict": {}}  # no mean at all, rather than a zero
    md = (tmp_path / "run" / "report.md").read_text()
    assert "No task scored" in md and "AblationBench-compatible" not in md and "0.000" not in md
    rep = runner.invoke(app, ["bench", "report", str(tmp_path / "run"), "--plot", str(tmp_path / "p.png")])
    assert rep.exit_code == 0 and "0.000" not in rep.output


def test_status_of_complete_and_incomplete_runs(tmp_path: Path, fake_lm: FakeModels) -> None:
    ds = make_dataset(tmp_path / "ds", 2)
    assert bench(ds, tmp_path / "run").exit_code == 0
    out = json.loads((tmp_path / "run" / "results.json").read_text())
    assert out["status"] == "complete" and out["scores"]["compat"]["f1"]["mean"] > 0
    fake_lm("flags", lambda req: "nothing" if "Paper 1" in req.messages[1][1] else PLAN_REPLY)
    res = bench(ds, tmp_path / "half", "--cache-dir", str(tmp_path / "fresh-cache"))
    assert res.exit_code == 1, res.output
    half = json.loads((tmp_path / "half" / "results.json").read_text())
    assert half["status"] == "incomplete" and half["scored"] == 1 and half["failed"] == 1
    assert "1/2 tasks scored: F1 " in res.output


def test_batch_stop_is_a_status_line_with_exit_3(tmp_path: Path) -> None:
    ds = make_dataset(tmp_path / "ds", 2)
    res = bench(ds, tmp_path / "run", "--offline")
    assert res.exit_code == 3, res.output
    assert "2 LM requests pending" in res.output and "error" not in res.output.lower()
    plan = runner.invoke(app, ["plan", str(EXAMPLE), "-p", "lm", "--model", "fake/flags", "--offline"])
    assert plan.exit_code == 3 and "1 LM request pending" in plan.output
    assert "error" not in plan.output.lower()
