"""The committed development set loads, validates and runs."""

from __future__ import annotations

import json
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


def test_author_half_loads_with_licence_and_corrections_recorded() -> None:
    tasks = load_dataset(str(DEV / "author"))
    assert len(tasks) >= 8
    rows = [json.loads(x) for x in (DEV / "author" / "tasks.jsonl").read_text().splitlines()]
    for t, row in zip(tasks, rows, strict=True):
        assert t.mode == "author" and t.ablations_in_paper
        assert row["provenance"]["license"] in {"MIT", "Apache-2.0", "CC BY 4.0"}  # text may be shared
        assert row["source"].startswith("github:") and "/work/" not in json.dumps(row)
        paper = (DEV / "author" / row["paper_path"] / "paper.md").read_text()
        for g in row["ablations_in_paper"]:
            assert g["evidence"], (t.id, g["name"])
            # no gold quote is left in the text the planner reads
            assert all(" ".join(e["quote"].split()) not in " ".join(paper.split()) for e in g["evidence"])


def test_every_correction_file_names_a_built_task_and_says_why() -> None:
    ids = {json.loads(x)["id"] for x in (DEV / "sources-author.jsonl").read_text().splitlines()}
    files = sorted((DEV / "corrections" / "author").glob("*.json"))
    assert len(files) >= 16
    for f in files:
        fix = json.loads(f.read_text())
        assert fix["id"] == f.stem and f.stem in ids
        assert all(c["why"] and c["text"] for c in fix.get("cuts", []))
        assert all(r["why"] for r in fix.get("gold_remove", []) + fix.get("gold_add", []))


def test_author_half_runs_offline(tmp_path: Path) -> None:
    res = CliRunner().invoke(
        app,
        ["bench", "run", "--dataset", str(DEV / "author"), "--planner", "offline", "--judge", "lexical",
         "--out", str(tmp_path / "run")],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "8/8 tasks scored" in res.output
