"""The runner's file work: off the event loop, read only when needed, results.json cheap to write."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

import abplan.bench.runner as runner_mod
from abplan.bench.journal import record_line
from abplan.bench.results import RunResults, results_json
from abplan.bench.runner import RunConfig, Runner
from abplan.bench.tasks import load_dataset
from abplan.lm import FakeModel, LMClient
from abplan.testing import FakeModels
from abplan.testing.fault_server import PLAN_REPLY
from run_files import drop_records, failure_of, plan_of, records
from synthetic import make_dataset


@pytest.fixture
def fake(fake_lm: FakeModels) -> Any:
    fm = fake_lm("io", FakeModel([PLAN_REPLY]))
    yield fm


def run(ds: Path, out: Path, cache: Path, concurrency: int = 8) -> dict[str, Any]:
    cfg = RunConfig(dataset=str(ds), planner="lm", model="fake/io", judge="lexical", concurrency=concurrency)

    async def go() -> dict[str, Any]:
        lm = LMClient(cache_dir=cache, concurrency=concurrency)
        try:
            return (await Runner(cfg, load_dataset(str(ds)), out, lm).run()).as_json()
        finally:
            await lm.aclose()

    return asyncio.run(go())


def test_a_run_creates_no_file_per_task(tmp_path: Path, fake: FakeModel) -> None:
    """Each task is one journal line: 16 tasks leave the same six files as one would."""
    ds = make_dataset(tmp_path / "ds", 16)
    res = run(ds, tmp_path / "run", tmp_path / "cache")
    assert res["scored"] == 16
    names = sorted(p.relative_to(tmp_path / "run").as_posix() for p in (tmp_path / "run").rglob("*"))
    assert names == [
        ".abplan-run.lock",
        "config.json",
        "journal.jsonl",
        "report.md",
        "results.csv",
        "results.json",
    ]
    assert len((tmp_path / "run" / "journal.jsonl").read_bytes().splitlines()) == 16


def test_a_finished_folder_is_rerun_without_reading_any_paper(
    tmp_path: Path, fake: FakeModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    ds = make_dataset(tmp_path / "ds", 4)
    first = run(ds, tmp_path / "run", tmp_path / "cache")
    calls = len(fake.calls)

    def no_paper(*a: Any, **k: Any) -> Any:
        raise AssertionError("a finished task read its paper again")

    monkeypatch.setattr(runner_mod, "load_task_paper", no_paper)
    again = run(ds, tmp_path / "run", tmp_path / "cache")
    assert again["scores"] == first["scores"] and len(fake.calls) == calls


def test_a_plan_without_its_judgement_is_judged_again_from_the_journal(
    tmp_path: Path, fake: FakeModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    ds = make_dataset(tmp_path / "ds", 3)
    first = run(ds, tmp_path / "run", tmp_path / "cache")
    plan_before = plan_of(tmp_path / "run", "t0001")
    drop_records(tmp_path / "run", {"t0001"})
    with (tmp_path / "run" / "journal.jsonl").open("ab") as f:  # the plan, as a pending judge leaves it
        f.write(record_line("t0001", plan_before))

    def no_paper(*a: Any, **k: Any) -> Any:
        raise AssertionError("a planned task read its paper again")

    monkeypatch.setattr(runner_mod, "load_task_paper", no_paper)
    calls = len(fake.calls)
    again = run(ds, tmp_path / "run", tmp_path / "cache")
    assert again["scores"] == first["scores"] and len(fake.calls) == calls
    rec = records(tmp_path / "run")["t0001"]
    assert rec.judgement is not None and rec.plan == plan_before


def test_an_unreadable_journal_line_is_planned_again_from_the_paper(tmp_path: Path, fake: FakeModel) -> None:
    ds = make_dataset(tmp_path / "ds", 2)
    first = run(ds, tmp_path / "run", tmp_path / "cache")
    journal = tmp_path / "run" / "journal.jsonl"
    lines = journal.read_bytes().splitlines(keepends=True)
    assert len(lines) == 2
    journal.write_bytes(lines[0] + b'{"id": "t0001", "plan": {"half a pl\n')  # a hand edit gone wrong
    assert sorted(records(tmp_path / "run")) == ["t0000"]
    again = run(ds, tmp_path / "run", tmp_path / "cache")
    assert again["failed"] == 0 and again["scores"] == first["scores"]
    assert sorted(records(tmp_path / "run")) == ["t0000", "t0001"]


def test_a_success_supersedes_the_earlier_failure(
    tmp_path: Path, fake: FakeModel, fake_lm: FakeModels
) -> None:
    ds = make_dataset(tmp_path / "ds", 1)
    fake_lm("io", ["no plan"])
    assert run(ds, tmp_path / "run", tmp_path / "cache")["failed"] == 1
    assert failure_of(tmp_path / "run", "t0000")
    fake_lm("io", [PLAN_REPLY])
    res = run(ds, tmp_path / "run", tmp_path / "cache2")
    assert res["failed"] == 0 and res["status"] == "complete"
    assert failure_of(tmp_path / "run", "t0000") is None
    assert len((tmp_path / "run" / "journal.jsonl").read_bytes().splitlines()) == 2  # appended, not rewritten


def test_results_json_is_the_same_data_with_one_line_per_task(tmp_path: Path, fake: FakeModel) -> None:
    ds = make_dataset(tmp_path / "ds", 5)
    res = run(ds, tmp_path / "run", tmp_path / "cache")
    text = (tmp_path / "run" / "results.json").read_text()
    assert json.loads(text) == json.loads(json.dumps(res))
    rows = [line for line in text.splitlines() if line.lstrip().startswith('{"task_id"')]
    assert len(rows) == 5
    empty = RunResults.model_validate({**res, "per_task": []})
    assert json.loads(results_json(empty)) == json.loads(json.dumps(empty.as_json()))


def test_lexical_match_lists_equals_the_pairwise_rule() -> None:
    from abplan.judges.lexical import lexical_match, match_lists
    from conftest import DEV_BENCH, need_shared

    gold = [a for t in load_dataset(str(need_shared(DEV_BENCH / "author"))) for a in t.ablations_in_paper]
    plan = [a.model_copy(update={"name": f"plan {i}"}) for i, a in enumerate(gold[::2])]
    got = match_lists(gold, plan)
    want = [[p.name for p in plan if lexical_match(g, p)] for g in gold]
    assert [m.plan for m in got] == want and sum(map(len, want)) >= len(plan)  # real matches happened
