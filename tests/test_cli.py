from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from abplan.cli import app
from abplan.testing import FakeModels
from conftest import EXAMPLE

runner = CliRunner()


def test_plan_example_offline(tmp_path: Path) -> None:
    res = runner.invoke(app, ["plan", str(EXAMPLE), "--out", str(tmp_path / "plans")])
    assert res.exit_code == 0, res.output
    assert "offline planner" in res.output and "Ablation Plan" in res.output
    assert sorted(p.suffix for p in (tmp_path / "plans").iterdir()) == [".html", ".md"]


def test_plan_all_formats(tmp_path: Path) -> None:
    res = runner.invoke(
        app,
        [
            "plan",
            str(EXAMPLE),
            "-f",
            "md,html,jsonl,json",
            "-o",
            str(tmp_path),
            "-q",
            "-k",
            "3",
            "--mode",
            "reviewer",
        ],
    )
    assert res.exit_code == 0, res.output
    assert len(next(iter(tmp_path.glob("*.jsonl"))).read_text().splitlines()) <= 3


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"", "empty.md", "empty"),
        (b"\x00\xff" * 100, "junk.pdf", "not a PDF"),
        (b"\x00\xff" * 100, "junk.md", "binary"),
    ],
)
def test_bad_inputs_exit_2_with_one_line(tmp_path: Path, content: bytes, name: str, message: str) -> None:
    p = tmp_path / name
    p.write_bytes(content)
    res = runner.invoke(app, ["plan", str(p)])
    assert res.exit_code == 2
    assert message in res.output and "Traceback" not in res.output
    assert len([ln for ln in res.output.splitlines() if "error" in ln]) == 1


def test_missing_file_and_unknown_arxiv(tmp_path: Path) -> None:
    res = runner.invoke(app, ["plan", str(tmp_path / "missing.pdf")])
    assert res.exit_code == 2 and "no such file" in res.output


def test_unknown_planner_suggests(tmp_path: Path) -> None:
    res = runner.invoke(app, ["plan", str(EXAMPLE), "--planner", "ofline"])
    assert res.exit_code == 2 and "did you mean 'offline'" in res.output


def test_bad_mode_and_format(tmp_path: Path) -> None:
    assert runner.invoke(app, ["plan", str(EXAMPLE), "--mode", "editor"]).exit_code == 2
    assert runner.invoke(app, ["plan", str(EXAMPLE), "--format", "docx"]).exit_code == 2


def test_model_without_key_is_a_config_error(tmp_path: Path) -> None:
    res = runner.invoke(app, ["plan", str(EXAMPLE), "--model", "openai/gpt-4o"])
    assert res.exit_code == 2 and "OPENAI_API_KEY" in res.output


def test_offline_mode_with_empty_cache_exits_3(tmp_path: Path) -> None:
    res = runner.invoke(
        app,
        ["plan", str(EXAMPLE), "-p", "lm", "--model", "openai/gpt-4o", "--offline"],
        env={"OPENAI_API_KEY": "sk-x"},
    )
    assert res.exit_code == 3 and "1 LM request pending" in res.output


def test_model_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_lm: FakeModels) -> None:
    from test_lm_planner import REPLY

    fake_lm("env", [REPLY])
    monkeypatch.setenv("ABPLAN_MODEL", "fake/env")
    res = runner.invoke(app, ["plan", str(EXAMPLE), "-o", str(tmp_path), "-q"])
    assert res.exit_code == 0, res.output
    assert "offline planner" not in res.output


def test_config_file_with_keys_must_be_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "abplan.toml"
    cfg.write_text('model = "openai/gpt-4o"\n[keys]\nopenai = "sk-file"\n')
    cfg.chmod(0o644)
    monkeypatch.setenv("ABPLAN_CONFIG", str(cfg))
    res = runner.invoke(app, ["plan", str(EXAMPLE)])
    assert res.exit_code == 2 and "chmod 600" in res.output


def test_version() -> None:
    res = runner.invoke(app, ["--version"])
    assert res.exit_code == 0 and "abplan" in res.output


def test_read_shows_how_a_paper_was_read(tmp_path: Path) -> None:
    import json

    res = runner.invoke(app, ["read", str(EXAMPLE)])
    assert res.exit_code == 0, res.output
    assert "PixelCNN++" in res.output and "2.5 REGULARIZATION USING DROPOUT" in res.output
    js = runner.invoke(app, ["read", str(EXAMPLE), "--json"])
    assert js.exit_code == 0 and json.loads(js.output)["source_kind"] == "markdown"
    bad = runner.invoke(app, ["read", str(tmp_path / "missing.md")])
    assert bad.exit_code == 2


def test_registries_are_listed() -> None:
    lines = runner.invoke(app, ["planners"]).output.splitlines()
    assert [ln.split()[0] for ln in lines] == [
        "consensus",
        "files",
        "lm",
        "offline",
        "staged",
        "staged-extract",
    ]
    by_name = {ln.split()[0]: ln for ln in lines}
    assert "--plans" in by_name["files"] and "N+1 calls" in by_name["consensus"]
    assert runner.invoke(app, ["judges"]).output.split() == ["lexical", "lm", "majority"]
