"""The run journal (`journal.jsonl`): what a kill leaves, how a rerun reads it, and older run folders."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

import abplan.bench.runner as runner_mod
from abplan.bench.export import export_plans
from abplan.bench.journal import legacy_records, read_journal, read_records, record_line
from abplan.bench.layout import RunDir
from abplan.bench.results import collect_results
from abplan.bench.runner import RunConfig, Runner
from abplan.bench.tasks import load_dataset
from abplan.errors import ConfigError, InputError
from abplan.lm import FakeModel, LMClient
from abplan.render.jsonl import render_jsonl
from abplan.testing import FakeModels
from abplan.testing.fault_server import PLAN_REPLY
from run_files import plan_of, records
from synthetic import make_dataset


@pytest.fixture
def fake(fake_lm: FakeModels) -> FakeModel:
    return fake_lm("journal", FakeModel([PLAN_REPLY]))


def cfg(ds: Path) -> RunConfig:
    return RunConfig(dataset=str(ds), planner="lm", model="fake/journal", judge="lexical", concurrency=4)


def run(ds: Path, out: Path, cache: Path) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        lm = LMClient(cache_dir=cache, concurrency=4)
        try:
            return (await Runner(cfg(ds), load_dataset(str(ds)), out, lm).run()).as_json()
        finally:
            await lm.aclose()

    return asyncio.run(go())


def no_paper(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*a: Any, **k: Any) -> Any:
        raise AssertionError("a task read its paper again")

    monkeypatch.setattr(runner_mod, "load_task_paper", refuse)


def test_a_run_writes_one_whole_line_per_task(tmp_path: Path, fake: FakeModel) -> None:
    ds = make_dataset(tmp_path / "ds", 6)
    run(ds, tmp_path / "run", tmp_path / "cache")
    lines = (tmp_path / "run" / "journal.jsonl").read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 7  # every line ends with a newline
    got = [json.loads(line) for line in lines[:-1]]
    assert sorted(g["id"] for g in got) == [f"t{i:04d}" for i in range(6)]
    assert all(set(g) == {"id", "plan", "judgement"} for g in got)
    before = (tmp_path / "run" / "journal.jsonl").read_bytes()
    run(ds, tmp_path / "run", tmp_path / "cache")
    assert (tmp_path / "run" / "journal.jsonl").read_bytes() == before  # a finished run adds nothing


def test_a_torn_last_line_is_ignored_then_cut_off_and_its_task_done_again(
    tmp_path: Path, fake: FakeModel
) -> None:
    ds = make_dataset(tmp_path / "ds", 3)
    first = run(ds, tmp_path / "run", tmp_path / "cache")
    journal = tmp_path / "run" / "journal.jsonl"
    data = journal.read_bytes()
    last = data[:-1].rfind(b"\n") + 1
    torn_id = json.loads(data[last:])["id"]
    journal.write_bytes(data[: last + 40])  # killed in the middle of the last write
    got = read_journal(journal)
    assert torn_id not in got.records and len(got.records) == 2 and got.end == last
    calls = len(fake.calls)
    again = run(ds, tmp_path / "run", tmp_path / "cache")
    assert again["scores"] == first["scores"] and len(fake.calls) == calls  # from the LM cache
    lines = journal.read_bytes().splitlines()
    assert len(lines) == 3 and all(json.loads(line) for line in lines)  # the torn bytes are gone
    assert json.loads(lines[-1])["id"] == torn_id


def test_export_writes_each_plan_as_ablationbench_jsonl_and_never_over_other_files(
    tmp_path: Path, fake: FakeModel
) -> None:
    ds = make_dataset(tmp_path / "ds", 3)
    run(ds, tmp_path / "run", tmp_path / "cache")
    out = tmp_path / "ab"
    assert export_plans(tmp_path / "run", out) == 3
    assert sorted(p.name for p in out.iterdir()) == ["t0000.jsonl", "t0001.jsonl", "t0002.jsonl"]
    assert (out / "t0001.jsonl").read_text() == render_jsonl(plan_of(tmp_path / "run", "t0001"))
    with pytest.raises(InputError, match="is not empty: choose an empty folder or add --force"):
        export_plans(tmp_path / "run", out)
    (out / "t0001.jsonl").write_text("stale")
    assert export_plans(tmp_path / "run", out, force=True) == 3
    assert (out / "t0001.jsonl").read_text() == render_jsonl(plan_of(tmp_path / "run", "t0001"))


def test_export_refuses_what_is_not_a_run_and_ids_that_are_not_file_names(
    tmp_path: Path, fake: FakeModel
) -> None:
    with pytest.raises(InputError, match="not a run folder"):
        export_plans(tmp_path, tmp_path / "ab")
    ds = make_dataset(tmp_path / "ds", 1)
    run(ds, tmp_path / "run", tmp_path / "cache")
    plan = plan_of(tmp_path / "run", "t0000")
    with (tmp_path / "run" / "journal.jsonl").open("ab") as f:
        f.write(record_line("../outside", plan))  # a hand-edited journal
    with pytest.raises(InputError, match="contains a path separator"):
        export_plans(tmp_path / "run", tmp_path / "ab")
    assert not (tmp_path / "ab").exists() and not (tmp_path / "outside.jsonl").exists()


def _to_legacy(run_dir: Path) -> None:
    """Rewrite a run folder in the layout before the journal: a file per plan, judgement and failure."""
    run = RunDir(run_dir)
    run.plans.mkdir(exist_ok=True)
    for tid, rec in read_journal(run.journal).records.items():
        if rec.plan is not None:
            Path(run.plan_file(tid)).write_text(rec.plan.model_dump_json(indent=2))
        if rec.judgement is not None:
            run.judgements("lexical").mkdir(parents=True, exist_ok=True)
            Path(run.judgement_file("lexical", tid)).write_text(rec.judgement.model_dump_json(indent=2))
    run.journal.unlink()


def test_a_run_folder_from_before_the_journal_is_read_and_carried_over(
    tmp_path: Path, fake: FakeModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    ds = make_dataset(tmp_path / "ds", 4)
    first = run(ds, tmp_path / "run", tmp_path / "cache")
    before = records(tmp_path / "run")
    _to_legacy(tmp_path / "run")
    run_dir = RunDir(tmp_path / "run")
    run_dir.failures.mkdir()
    Path(run_dir.failure_file("t0003")).write_text(json.dumps({"task_id": "t0003", "error": "boom"}))
    Path(run_dir.judgement_file("lexical", "t0003")).unlink()  # t0003 failed at its judge, long ago
    assert read_records(run_dir, "lexical") == legacy_records(run_dir, "lexical")
    old = collect_results(cfg(ds), load_dataset(str(ds)), tmp_path / "run")
    assert old.scored == 3 and old.failures == {"t0003": "boom"}
    no_paper(monkeypatch)  # every plan, even t0003's, comes from the old files
    calls = len(fake.calls)
    again = run(ds, tmp_path / "run", tmp_path / "cache")
    assert again["scores"] == first["scores"] and again["failed"] == 0
    assert len(fake.calls) == calls  # t0003's judge is lexical: no LM call at all
    assert records(tmp_path / "run") == before


def test_a_journal_that_is_a_symlink_is_refused(tmp_path: Path, fake: FakeModel) -> None:
    ds = make_dataset(tmp_path / "ds", 1)
    run(ds, tmp_path / "run", tmp_path / "cache")
    journal = tmp_path / "run" / "journal.jsonl"
    outside = tmp_path / "outside.jsonl"
    journal.rename(outside)
    journal.symlink_to(outside)
    with pytest.raises(ConfigError, match=r"journal\.jsonl is not a regular file"):
        run(ds, tmp_path / "run", tmp_path / "cache")
    assert outside.read_bytes().count(b"\n") == 1  # nothing was appended through the link


def test_records_round_trip_any_text(tmp_path: Path, fake: FakeModel) -> None:
    ds = make_dataset(tmp_path / "ds", 1)
    run(ds, tmp_path / "run", tmp_path / "cache")
    plan = plan_of(tmp_path / "run", "t0000")
    odd = plan.model_copy(update={"paper_title": 'Ünïcode "quotes" \\ and\nnewlines'})
    journal = tmp_path / "j.jsonl"
    journal.write_bytes(
        record_line("a", odd) + record_line("b", None, error="lone \udc80 surrogate") + b"not json\n"
    )
    got = read_journal(journal).records
    assert got["a"].plan == odd and got["b"].error == "lone \udc80 surrogate" and set(got) == {"a", "b"}


def test_judge_eval_reads_the_journal_and_checks_the_judge_named(tmp_path: Path, fake: FakeModel) -> None:
    from abplan.bench.judge_eval import run_judgements

    ds = make_dataset(tmp_path / "ds", 2)
    run(ds, tmp_path / "run", tmp_path / "cache")
    got = run_judgements(tmp_path / "run", None)
    assert sorted(got) == ["t0000", "t0001"] and got == run_judgements(tmp_path / "run", "lexical")
    with pytest.raises(InputError, match="was judged by lexical, not majority"):
        run_judgements(tmp_path / "run", "majority")
    with pytest.raises(InputError, match="not a run folder"):
        run_judgements(tmp_path / "ds", None)
