"""A run's journal that is a symlink is never followed: the viewer shows the run without it, and
`bench judge-eval` refuses the run with one line, wherever the link points."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from abplan.cli import app
from abplan.view.load import load_run
from abplan.view.model import run_row
from abplan.view.pages import Site
from viewrun import GOLD, made_runs

cli = CliRunner()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    return made_runs(tmp_path_factory)


def labels(tmp_path: Path) -> Path:
    """Human labels for run a's task t0: its plan has the first two gold ablations, not the third."""
    rows = [{"name_in_paper": g, "name_in_plan": g if i < 2 else None} for i, g in enumerate(GOLD)]
    path = tmp_path / "labels.jsonl"
    path.write_text(json.dumps({"id": "t0", "labels": "\n".join(json.dumps(r) for r in rows)}) + "\n")
    return path


def judge_eval(run: Path, tmp_path: Path) -> tuple[int, str]:
    res = cli.invoke(app, ["bench", "judge-eval", "--labels", str(labels(tmp_path)), "--run", str(run)])
    return res.exit_code, " ".join(res.output.split())


@pytest.mark.parametrize("target", ["inside", "outside"])
def test_a_symlinked_journal_is_not_followed(
    runs: tuple[Path, Path, Path], tmp_path: Path, target: str
) -> None:
    _, a, _ = runs
    copy = tmp_path / "run"
    shutil.copytree(a, copy)
    code, output = judge_eval(copy, tmp_path)
    assert code == 0 and "1 instances, 3 labels: accuracy 1.000" in output, output  # read from the journal
    journal = copy / "journal.jsonl"
    moved = (copy if target == "inside" else tmp_path) / "moved.jsonl"
    journal.rename(moved)
    journal.symlink_to(moved)
    run = load_run(copy, 0)
    assert run.files("t0").plan is None and run.files("t0").judgement is None
    assert run_row(run).done == 1 and b"t0" in Site([run], []).index()  # the rest of the run is shown
    code, output = judge_eval(copy, tmp_path)
    assert code == 2 and "journal.jsonl is not a regular file" in output, output
    assert "Traceback" not in output and "internal error" not in output
