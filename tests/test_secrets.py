"""API keys never reach a file abplan writes: run folders, caches, plans, exported batches, error messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from abplan.cli import app
from abplan.testing import FaultServer
from conftest import EXAMPLE
from run_files import records
from synthetic import make_dataset

SECRET = "sk-test-abcdef0123456789SECRET"


def scan(root: Path) -> list[Path]:
    return [f for f in root.rglob("*") if f.is_file() and SECRET.encode() in f.read_bytes()]


@pytest.mark.parametrize("provider", ["openai", "openrouter"])
def test_keys_are_never_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, provider: str) -> None:
    env_var = {"openai": "OPENAI_API_KEY", "openrouter": "OPENROUTER_API_KEY"}[provider]
    monkeypatch.setenv(env_var, SECRET)
    runner = CliRunner()
    with FaultServer() as server:
        monkeypatch.setenv("ABPLAN_BASE_URL", server.base_url)
        model = f"{provider}/gpt-4o"
        r1 = runner.invoke(
            app,
            [
                "plan",
                str(EXAMPLE),
                "--model",
                model,
                "-f",
                "md,html,json,jsonl",
                "-o",
                str(tmp_path / "plans"),
                "-q",
            ],
        )
        assert r1.exit_code == 0, r1.output
        ds = make_dataset(tmp_path / "ds", 3)
        r2 = runner.invoke(
            app,
            [
                "bench",
                "run",
                "--dataset",
                str(ds),
                "--planner",
                "lm",
                "--model",
                model,
                "--out",
                str(tmp_path / "run"),
            ],
        )
        assert r2.exit_code == 0, r2.output
        r3 = runner.invoke(
            app, ["plan", str(EXAMPLE), "--model", model, "--offline", "-k", "3", "-o", str(tmp_path / "p2")]
        )
        assert r3.exit_code == 3
        r4 = runner.invoke(app, ["lm", "export", "--out", str(tmp_path / "batch")])
        assert r4.exit_code == 0
        # the key was really used, and what is scanned really holds requests and answers
        assert server.auth_headers and all(h == f"Bearer {SECRET}" for h in server.auth_headers)
    written = [f for f in tmp_path.rglob("*") if f.is_file()]
    assert any(f.suffix == ".sqlite" for f in written), "no response cache was written"
    assert any(f.suffix == ".jsonl" and f.parent.name == "batch" for f in written), "no batch file"
    assert (
        all(r.plan is not None for r in records(tmp_path / "run").values())
        and len(records(tmp_path / "run")) == 3
    )
    assert scan(tmp_path) == []
    for r in (r1, r2, r3, r4):
        assert SECRET not in r.output


def test_key_not_in_error_messages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("ABPLAN_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens there
    monkeypatch.setenv("ABPLAN_MAX_RETRIES", "0")
    res = CliRunner().invoke(app, ["plan", str(EXAMPLE), "--model", "openai/gpt-4o", "-o", str(tmp_path)])
    assert res.exit_code == 1 and "connection failed" in res.output and SECRET not in res.output
