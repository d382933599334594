"""`abplan lm pending|export|import` end to end through the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from abplan.cli import app
from abplan.lm import LMRequest, ResponseCache
from conftest import EXAMPLE
from test_lm_planner import REPLY

runner = CliRunner()
PLAN = ["plan", str(EXAMPLE), "-p", "lm", "--model", "openai/gpt-4o", "-f", "md", "-q", "--offline"]
ENV = {"OPENAI_API_KEY": "sk-test-not-used"}


def pending() -> int:
    res = runner.invoke(app, ["lm", "pending"])
    assert res.exit_code == 0, res.output
    return int(res.output)


@pytest.mark.parametrize("fmt", ["openai", "anthropic"])
def test_pending_export_import_rerun(tmp_path: Path, fmt: str) -> None:
    assert pending() == 0
    first = runner.invoke(app, [*PLAN, "-o", str(tmp_path / "plans")], env=ENV)
    assert first.exit_code == 3 and "1 LM request pending" in first.output
    assert pending() == 1
    exp = runner.invoke(app, ["lm", "export", "--format", fmt, "--out", str(tmp_path / "batch")])
    assert exp.exit_code == 0 and "exported 1 pending request for 1 model" in exp.output
    (line,) = (tmp_path / "batch" / "openai_gpt-4o.jsonl").read_text().splitlines()
    key = json.loads(line)["custom_id"]
    if fmt == "openai":
        rec = {
            "custom_id": key,
            "response": {
                "status_code": 200,
                "body": {
                    "model": "gpt-4o",
                    "choices": [{"message": {"content": REPLY}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 1000, "completion_tokens": 100},
                },
            },
        }
    else:
        rec = {
            "custom_id": key,
            "result": {
                "type": "succeeded",
                "message": {
                    "content": [{"type": "text", "text": REPLY}],
                    "usage": {"input_tokens": 1000, "output_tokens": 100},
                    "stop_reason": "end_turn",
                },
            },
        }
    results = tmp_path / "results.jsonl"
    results.write_text(json.dumps(rec) + "\n")
    imp = runner.invoke(app, ["lm", "import", str(results), "--price-factor", "0.5"])
    assert imp.exit_code == 0 and "results.jsonl: imported 1 answers" in imp.output, imp.output
    assert pending() == 0
    hit = ResponseCache.in_dir(tmp_path / "cache").get(key)
    assert hit is not None and hit.cost_usd == pytest.approx((1000 * 2.5 + 100 * 10.0) / 1e6 * 0.5)
    again = runner.invoke(app, ["lm", "import", str(results)])
    assert again.exit_code == 0 and "1 already cached" in again.output
    done = runner.invoke(app, [*PLAN, "-o", str(tmp_path / "plans")], env=ENV)
    assert done.exit_code == 0, done.output
    md = next((tmp_path / "plans").glob("*.md")).read_text()
    assert "No gate" in md and "Gate type" in md


def test_export_to_stdout_and_option_errors(tmp_path: Path) -> None:
    cache = ResponseCache.in_dir(tmp_path / "cache")
    req = LMRequest.chat("openai/gpt-4o", "sys", "hello")
    cache.add_pending(req)
    res = runner.invoke(app, ["lm", "export"])
    assert res.exit_code == 0 and json.loads(res.stdout.splitlines()[0])["custom_id"] == req.key
    for args, message in [
        (["--shards", "2"], "--shards applies to --format prompts only"),
        (["--format", "prompts"], "needs --out"),
        (["--format", "prompts", "--out", "x", "--shards", "0"], "--shards must be at least 1"),
        (["--format", "xml"], "unknown batch format"),
    ]:
        bad = runner.invoke(app, ["lm", "export", *args])
        assert bad.exit_code == 2 and message in bad.output, (args, bad.output)
    missing = runner.invoke(app, ["lm", "import", str(tmp_path / "nothing.jsonl")])
    assert missing.exit_code == 2 and "no such file" in missing.output


def test_export_with_nothing_pending(tmp_path: Path) -> None:
    res = runner.invoke(app, ["lm", "export", "--format", "prompts", "--out", str(tmp_path / "o")])
    assert res.exit_code == 0 and "nothing exported" in res.output
    assert not (tmp_path / "o").exists()
