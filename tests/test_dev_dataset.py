"""The committed development set loads, validates and runs."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from abplan.bench.tasks import load_dataset
from abplan.cli import app
from conftest import ROOT

DEV = ROOT / "benchmarks" / "datasets" / "dev"


def test_reviewer_half_loads_with_verbatim_evidence() -> None:
    tasks = load_dataset(str(DEV / "reviewer"))
    assert len(tasks) >= 12
    for t in tasks:
        assert t.mode == "reviewer" and t.missing_ablations
        assert t.num_ablation_suggestions == len(t.missing_ablations)
        for g in t.missing_ablations:
            assert g.evidence and any(g.evidence[0].quote in r for r in t.review_text), (t.id, g.name)


def test_reviewer_half_runs_offline(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app,
        ["bench", "run", "--dataset", str(DEV / "reviewer"), "--planner", "offline", "--judge", "lexical",
         "--out", str(tmp_path / "run")],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "12/12 tasks scored" in res.output
