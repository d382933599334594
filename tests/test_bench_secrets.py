"""No key reaches a run folder or the console, whatever a provider echoes back in its errors."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from abplan.bench.results import collect_results
from abplan.bench.runner import RunConfig, Runner
from abplan.bench.tasks import load_dataset
from abplan.cli import app
from abplan.lm import FakeModel, LMClient, LMRequest
from abplan.lm.types import ProviderError
from abplan.testing import FakeModels
from abplan.testing.fault_server import PLAN_REPLY
from run_files import records
from synthetic import make_dataset

ENV_KEY = "abplan-test-key-9f8e7d6c5b4a"
SHAPED_KEY = "sk-proj-Zx81Qw72Er63Ty54"  # not configured anywhere: caught by its shape
runner = CliRunner()


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABPLAN_TEST_API_KEY", ENV_KEY)


def echoing_error() -> ProviderError:
    return ProviderError(
        f'401 Unauthorized: {{"error": "invalid key {ENV_KEY}", "hint": "Authorization: Bearer {SHAPED_KEY}", '
        f'"other": "{SHAPED_KEY}"}}',
        retryable=False,
    )


def assert_no_key(folder: Path, *texts: str) -> int:
    """Every byte of every file under `folder` (and the texts given) is free of both keys."""
    files = [f for f in folder.rglob("*") if f.is_file()]
    for f in files:
        data = f.read_bytes()
        assert ENV_KEY.encode() not in data and SHAPED_KEY.encode() not in data, f
        assert b"sk-proj-Zx81" not in data, f  # not even a prefix of the shaped key
    for t in texts:
        assert ENV_KEY not in t and SHAPED_KEY not in t
    return len(files)


def run(ds: Path, out: Path, cache: Path, model: str) -> dict[str, Any]:
    cfg = RunConfig(dataset=str(ds), planner="lm", model=model, judge="lexical")

    async def go() -> dict[str, Any]:
        lm = LMClient(cache_dir=cache, max_retries=0)
        try:
            return (await Runner(cfg, load_dataset(str(ds)), out, lm).run()).as_json()
        finally:
            await lm.aclose()

    return asyncio.run(go())


def test_planner_errors_echoing_keys_are_redacted_everywhere(tmp_path: Path, fake_lm: FakeModels) -> None:
    ds = make_dataset(tmp_path / "ds", 3)
    fake_lm("echo", FakeModel([echoing_error()]))
    res = run(ds, tmp_path / "run", tmp_path / "cache", "fake/echo")
    assert res["failed"] == 3 and res["scored"] == 0
    for why in res["failures"].values():
        assert "401 Unauthorized" in why and "[redacted]" in why  # the error is kept, the key is not
    failures = {tid: r.error for tid, r in records(tmp_path / "run").items()}
    assert len(failures) == 3 and all(why and "[redacted]" in why for why in failures.values())
    assert (tmp_path / "run" / "journal.jsonl").read_text().count("[redacted]") >= 3  # as written
    assert "[redacted]" in (tmp_path / "run" / "report.md").read_text()
    assert assert_no_key(tmp_path / "run", json.dumps(res)) >= 6


def test_judge_errors_echoing_keys_are_redacted_and_the_cli_prints_none(
    tmp_path: Path, fake_lm: FakeModels
) -> None:
    ds = make_dataset(tmp_path / "ds", 2)

    def reply(req: LMRequest) -> Any:
        if "You compare two lists" in req.messages[0][1]:
            raise echoing_error()
        return PLAN_REPLY

    fake_lm("judge-echo", FakeModel(reply))
    res = runner.invoke(
        app,
        [
            "bench",
            "run",
            "--dataset",
            str(ds),
            "--planner",
            "lm",
            "--model",
            "fake/judge-echo",
            "--judge",
            "lm",
            "--judge-model",
            "fake/judge-echo",
            "--out",
            str(tmp_path / "run"),
        ],
    )
    assert res.exit_code == 1, res.output
    out = json.loads((tmp_path / "run" / "results.json").read_text())
    assert out["failed"] == 2 and all("401 Unauthorized" in w for w in out["failures"].values())
    recs = records(tmp_path / "run")
    assert len(recs) == 2 and all(r.plan is not None and r.error for r in recs.values())  # judging failed
    assert_no_key(tmp_path / "run", res.output)


def test_failure_records_from_an_older_run_are_redacted_when_read(tmp_path: Path) -> None:
    ds = make_dataset(tmp_path / "ds", 1)
    out = tmp_path / "run"
    (out / "failures").mkdir(parents=True)
    (out / "failures" / "t0000.json").write_text(
        json.dumps({"task_id": "t0000", "error": f"LMError: bad key {ENV_KEY} / {SHAPED_KEY}"})
    )
    cfg = RunConfig(dataset=str(ds), planner="lm", model="fake/x")
    res = collect_results(cfg, load_dataset(str(ds)), out)
    assert res.failures["t0000"] == "LMError: bad key [redacted] / [redacted]"


def test_journal_failures_from_an_older_run_are_redacted_when_read(tmp_path: Path) -> None:
    ds = make_dataset(tmp_path / "ds", 1)
    out = tmp_path / "run"
    out.mkdir()
    error = f"LMError: bad key {ENV_KEY} / {SHAPED_KEY}"
    (out / "journal.jsonl").write_text(json.dumps({"id": "t0000", "error": error}) + "\n")
    cfg = RunConfig(dataset=str(ds), planner="lm", model="fake/x")
    res = collect_results(cfg, load_dataset(str(ds)), out)
    assert res.failures["t0000"] == "LMError: bad key [redacted] / [redacted]"


@pytest.mark.parametrize("content", ["{broken", '["a list"]', '{"error": 3}'])
def test_unreadable_failure_records_do_not_crash_the_results(tmp_path: Path, content: str) -> None:
    ds = make_dataset(tmp_path / "ds", 1)
    out = tmp_path / "run"
    (out / "failures").mkdir(parents=True)
    (out / "failures" / "t0000.json").write_text(content)
    cfg = RunConfig(dataset=str(ds), planner="lm", model="fake/x")
    res = collect_results(cfg, load_dataset(str(ds)), out)
    assert res.failed == 1 and res.failures["t0000"].startswith("failed")
