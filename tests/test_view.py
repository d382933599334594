"""`abplan view`'s page data, loading and command line, on two runs made by scripted fake models."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

import abplan
from abplan.bench.journal import record_line
from abplan.cli import app
from abplan.errors import InputError
from abplan.schema import Plan
from abplan.view.highlight import Quote, locate, quotes_of
from abplan.view.load import load_run, load_sources
from abplan.view.model import run_row, task_view
from abplan.view.pages import Site
from conftest import DEV_BENCH, need_shared
from run_files import judgement_of, plan_of, save_plan, to_legacy
from viewrun import GOLD, IMG, PLAN_A, QUOTES, SCRIPT, made_runs

cli = CliRunner()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    return made_runs(tmp_path_factory)


def test_runs_rows_carry_the_scores_and_counts(runs: tuple[Path, Path, Path]) -> None:
    _, a, b = runs
    rows = [run_row(load_run(a, 0)), run_row(load_run(b, 1))]
    res = json.loads((a / "results.json").read_text())
    assert rows[0].f1 is not None and rows[0].f1.mean == pytest.approx(res["scores"]["compat"]["f1"]["mean"])
    assert rows[0].f1.mean == pytest.approx(2 / 3)  # 2 of 3 planned, 2 of 3 gold
    assert rows[1].f1 is not None and rows[1].f1.mean == pytest.approx(0.8)
    assert rows[0].strict_f1 is not None and rows[0].precision is not None and rows[0].recall is not None
    assert (rows[0].done, rows[0].failed, rows[0].pending) == (1, 0, 0)
    assert rows[0].judge.startswith("majority (fake/view-yes1")
    assert rows[0].cost is not None


def test_task_view_pairs_gold_and_both_plans_by_the_majority(runs: tuple[Path, Path, Path]) -> None:
    _, a, b = runs
    ra, rb = load_run(a, 0), load_run(b, 1)
    view = task_view("t0", [(ra, ra.files("t0")), (rb, rb.files("t0"))])
    assert [g.name for g in view.gold] == GOLD
    assert view.title.startswith(SCRIPT)
    found = {g.name: g.found for g in view.gold}
    assert found["No gate"] == [["r0-p1"], ["r1-p1"]]
    assert found[GOLD[1]] == [["r0-p2"], []]  # only run a found it
    assert found["Learning rate sweep"] == [[], ["r1-p2"]]  # only run b did
    items = view.runs[0].items
    assert [it.ablation.name for it in items] == PLAN_A
    assert [g.name for g in items[1].matched] == [GOLD[1]]
    assert items[2].matched == []  # "Dropout off" is unmatched
    votes = view.gold[0].votes[0]
    assert [v.models for v in votes] == ["fake/view-yes1", "fake/view-no", "fake/view-yes2"]
    assert [v.plan for v in votes] == [["No gate"], [], ["No gate"]]
    assert view.runs[0].plan is not None and view.runs[0].plan.usage.input_tokens > 0
    assert view.runs[0].judge_usage is not None and view.runs[0].judge_usage.calls == 3


def test_quotes_are_located_and_a_missing_one_is_reported() -> None:
    text = "We  use a\nsigmoid gate. Dropout of 0.1 is applied."
    quotes = [
        Quote("q1-0", 1, "a", "we use a sigmoid gate"),
        Quote("q2-0", 2, "b", "not in the paper at all"),
        Quote("q3-0", 3, "c", "sigmoid gate. Dropout"),  # overlaps the first: marked once
        Quote("q4-0", 4, "d", "Dropout of 0.1 is applied"),
    ]
    segments, missing = locate(text, quotes)
    assert "".join(s.text for s in segments) == text
    assert [(s.quote.anchor, s.text) for s in segments if s.quote] == [
        ("q1-0", "We  use a\nsigmoid gate"),
        ("q4-0", "Dropout of 0.1 is applied"),
    ]
    assert [q.anchor for q in missing] == ["q2-0", "q3-0"]


def test_the_paper_page_marks_every_evidence_quote(runs: tuple[Path, Path, Path]) -> None:
    _, a, _ = runs
    run = load_run(a, 0)
    plan = run.files("t0").plan
    assert plan is not None
    assert [q.text for q in quotes_of(plan)] == [QUOTES[n] for n in PLAN_A]
    html = Site([run], []).paper("r0", "t0").decode()
    for i, name in enumerate(PLAN_A, 1):
        assert f'<mark id="q{i}-0"' in html, name
    assert "html-comment" in html and "ai-review-request" in html  # the findings


def test_a_journal_symlinked_out_of_the_run_is_not_read(
    runs: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, a, _ = runs
    copy = tmp_path / "run"
    shutil.copytree(a, copy)
    outside = tmp_path / "secret.jsonl"
    plan = plan_of(copy, "t0").model_copy(update={"paper_title": "SECRET-OUTSIDE"})
    outside.write_bytes(record_line("t0", plan, judgement_of(copy, "t0")))
    (copy / "journal.jsonl").unlink()
    (copy / "journal.jsonl").symlink_to(outside)
    run = load_run(copy, 0)
    assert run.files("t0").plan is None and run.files("t0").judgement is None
    assert run_row(run).done == 1  # the rest of the run (its results) is still shown
    assert b"SECRET-OUTSIDE" not in Site([run], []).task("t0")


def test_a_plan_symlinked_out_of_an_older_run_is_not_read(
    runs: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, a, _ = runs
    copy = tmp_path / "run"
    shutil.copytree(a, copy)
    to_legacy(copy, "majority")  # a run folder from before the journal: one file per plan
    assert load_run(copy, 0).files("t0").plan is not None
    outside = tmp_path / "secret.json"
    plan = Plan.model_validate_json((copy / "plans" / "t0.json").read_text())
    outside.write_text(plan.model_copy(update={"paper_title": "SECRET-OUTSIDE"}).model_dump_json())
    (copy / "plans" / "t0.json").unlink()
    (copy / "plans" / "t0.json").symlink_to(outside)
    run = load_run(copy, 0)
    assert run.files("t0").plan is None
    assert run.files("t0").judgement is not None  # the rest of the run is still shown
    assert b"SECRET-OUTSIDE" not in Site([run], []).task("t0")


def test_without_its_dataset_the_gold_comes_from_the_judgement(
    runs: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, a, _ = runs
    copy = tmp_path / "run"
    shutil.copytree(a, copy)
    for name in ("config.json", "results.json"):
        data = json.loads((copy / name).read_text())
        cfg = data.get("config", data)
        cfg["dataset"] = str(tmp_path / "gone")
        (copy / name).write_text(json.dumps(data))
    run = load_run(copy, 0)
    assert run.tasks == {} and any("gold not shown" in n for n in run.notes)
    view = task_view("t0", [(run, run.files("t0"))])
    assert [g.name for g in view.gold] == GOLD and view.gold[0].found == [["r0-p1"]]


def test_bad_sources_are_one_line_errors(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    (tmp_path / "empty").mkdir()
    for bad, words in [
        (tmp_path / "missing", "no such run folder"),
        (tmp_path / "notes.txt", "not a run folder"),
        (tmp_path / "empty", "neither a run folder"),
    ]:
        with pytest.raises(InputError, match=words):
            load_sources([bad])
        res = cli.invoke(app, ["view", str(bad), "--export", str(tmp_path / "site")])
        assert res.exit_code == 2, res.output
        assert "Traceback" not in res.output and words in " ".join(res.output.split())


def test_export_refuses_a_non_empty_folder_without_force(
    runs: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, a, b = runs
    site = tmp_path / "site"
    site.mkdir()
    (site / "keep.txt").write_text("mine")
    res = cli.invoke(app, ["view", str(a), str(b), "--export", str(site)])
    assert res.exit_code == 2 and "not empty" in res.output
    assert sorted(p.name for p in site.iterdir()) == ["keep.txt"]
    res = cli.invoke(app, ["view", str(a), str(b), "--export", str(site), "--force"])
    assert res.exit_code == 0, res.output
    names = {p.name for p in site.iterdir()}
    assert {"index.html", "task-t0.html", "paper-r0-t0.html", "plan-r1-t0.html", "keep.txt"} <= names
    assert (site / "keep.txt").read_text() == "mine"
    assert not [p for p in site.iterdir() if p.name.endswith(".tmp")]


def test_a_plan_file_is_shown_with_its_paper(runs: tuple[Path, Path, Path], tmp_path: Path) -> None:
    ds, a, _ = runs
    plan_json = tmp_path / "plans" / "gated.json"
    save_plan(a, "t0", plan_json)
    (plan_json.parent / "other.json").write_text('{"not": "a plan"}')  # passed over
    runs_, plans = load_sources([plan_json.parent], ds / "papers" / "t0" / "paper.md")
    assert runs_ == [] and [p.name for p in plans] == ["gated"]
    site = Site(runs_, plans)
    assert site.names() == ["index.html", "plan-p0.html", "paper-p0.html"]
    page = site.plan("p0", "").decode()
    assert '<mark id="q1-0"' in page and 'href="#q2-0"' in page
    assert IMG not in page and SCRIPT not in page


def test_a_failed_task_shows_its_reason_and_no_plan(runs: tuple[Path, Path, Path], tmp_path: Path) -> None:
    _, a, b = runs
    copy = tmp_path / "run"
    shutil.copytree(a, copy)
    with (copy / "journal.jsonl").open("a") as f:  # the task's last line: its planner failed
        f.write(json.dumps({"id": "t0", "error": "LMError: <b>boom</b>"}) + "\n")
    res = json.loads((copy / "results.json").read_text())
    res.update(
        scored=0, failed=1, per_task=[], failures={"t0": "LMError: <b>boom</b>"}, status="no task scored"
    )
    res["scores"] = {"compat": {}, "strict": {}}
    (copy / "results.json").write_text(json.dumps(res))
    site = Site([load_run(copy, 0), load_run(b, 1)], [])
    page = site.task("t0").decode()
    assert "failed: LMError: &lt;b&gt;boom&lt;/b&gt;" in page
    assert 'id="r0-p1"' not in page and 'id="r1-p1"' in page  # run b's plan is still beside the gold
    index = site.index().decode()
    assert '<span class="tag miss">failed</span> LMError: &lt;b&gt;boom&lt;/b&gt;' in index
    row = run_row(load_run(copy, 0))
    assert (row.done, row.failed, row.pending, row.f1) == (0, 1, 0, None)
    assert b"No plan yet" in site.plan("r0", "t0")


def test_a_port_in_use_or_out_of_range_is_a_one_line_error(runs: tuple[Path, Path, Path]) -> None:
    _, a, _ = runs
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        res = cli.invoke(app, ["view", str(a), "--port", str(port)])
    assert res.exit_code == 2 and f"--port {port}: cannot listen on 127.0.0.1" in res.output
    res = cli.invoke(app, ["view", str(a), "--port", "70000"])
    assert res.exit_code == 2 and "--port must be between 0 and 65535" in res.output


def test_the_command_serves_and_prints_its_url(runs: tuple[Path, Path, Path], tmp_path: Path) -> None:
    _, a, b = runs
    env = {**os.environ, "PYTHONPATH": str(Path(abplan.__file__).parents[1])}
    cmd = [sys.executable, "-m", "abplan", "view", str(a), str(b), "--port", "0"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert url, (line, proc.stderr.read() if proc.poll() is not None and proc.stderr else "")
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no proxy for loopback
        with direct.open(url.group(0) + "task-t0.html", timeout=30) as resp:
            page = resp.read().decode()
        assert 'id="r0-p1"' in page and 'id="r1-p2"' in page
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


@pytest.mark.shared
def test_a_reviewer_run_shows_reviews_and_review_matches(tmp_path: Path) -> None:
    ds = need_shared(DEV_BENCH / "reviewer")
    out = tmp_path / "rev"
    res = cli.invoke(app, ["bench", "run", "-d", str(ds), "--planner", "offline", "--out", str(out)])
    assert res.exit_code == 0, res.output
    run = load_run(out, 0)
    tid = run.task_ids()[0]
    view = task_view(tid, [(run, run.files(tid))])
    task = run.tasks[tid]
    assert view.mode == "reviewer" and view.reviews == task.review_text and view.reviews
    assert [g.name for g in view.gold] == [a.name for a in task.missing_ablations or []]
    judgement = run.files(tid).judgement
    assert judgement is not None
    assert [it.appears for it in view.runs[0].items] == [i.appears for i in judgement.items]
    page = Site([run], []).task(tid).decode()
    assert f"{len(task.review_text)} reviews" in page


def test_export_refuses_a_task_id_that_would_leave_the_folder(
    runs: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    _, a, _ = runs
    evil = tmp_path / "evil"
    shutil.copytree(a, evil)
    res_path = evil / "results.json"
    data = json.loads(res_path.read_text())
    data["failures"] = {**data.get("failures", {}), "x/../../../OUTSIDE": "boom"}
    res_path.write_text(json.dumps(data))
    res = cli.invoke(app, ["view", str(evil), "--export", str(tmp_path / "site" / "deep")])
    assert res.exit_code == 2 and "not a plain file name" in res.output, res.output
    assert not list(tmp_path.rglob("OUTSIDE*")) and not (tmp_path / "site" / "deep").exists()
