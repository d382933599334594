"""Batch result files (OpenAI and Anthropic JSONL): streamed, capped, type-checked, all or nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from abplan.cli import app
from abplan.errors import InputError
from abplan.lm import LMRequest, ResponseCache
from abplan.lm.batch import import_results

runner = CliRunner()


def openai_line(key: str, content: Any = "ok", usage: Any = None, **body: Any) -> dict[str, Any]:
    b: dict[str, Any] = {
        "model": "gpt-4o",
        "choices": [{"message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        **body,
    }
    if usage is not None:
        b["usage"] = usage
    return {"custom_id": key, "response": {"status_code": 200, "body": b}}


def anthropic_line(key: str, content: Any, usage: Any = None) -> dict[str, Any]:
    msg: dict[str, Any] = {"model": "claude", "content": content, "stop_reason": "end_turn"}
    if usage is not None:
        msg["usage"] = usage
    return {"custom_id": key, "result": {"type": "succeeded", "message": msg}}


def setup(tmp_path: Path, n: int = 2) -> tuple[ResponseCache, list[str]]:
    cache = ResponseCache.in_dir(tmp_path / "cache")
    keys = []
    for i in range(n):
        req = LMRequest.chat("openai/gpt-4o", "sys", f"question {i}")
        cache.add_pending(req)
        keys.append(req.key)
    return cache, keys


def write(path: Path, recs: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    return path


GOOD_USAGE = {"prompt_tokens": 10, "completion_tokens": 5}


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (lambda k: openai_line(k, usage="10 tokens"), "usage is not an object"),
        (
            lambda k: openai_line(k, usage={"prompt_tokens": -5, "completion_tokens": 1}),
            "prompt_tokens is negative",
        ),
        (lambda k: openai_line(k, usage={"prompt_tokens": "10", "completion_tokens": 1}), "not an integer"),
        (lambda k: openai_line(k, usage={"prompt_tokens": True, "completion_tokens": 1}), "not an integer"),
        (lambda k: openai_line(k, content=["a", "list"]), "content is not a string"),
        (lambda k: {"custom_id": k, "response": {"status_code": 200, "body": {"choices": "x"}}}, "choices"),
        (lambda k: {"custom_id": k, "response": {"status_code": "200", "body": {}}}, "status_code"),
        (lambda k: {"custom_id": k, "response": "yes"}, "response is not an object"),
        (lambda k: anthropic_line(k, content="hello"), "content is not a list"),
        (lambda k: anthropic_line(k, content=[{"type": "text", "text": 3}]), "text is not a string"),
        (lambda k: anthropic_line(k, [{"type": "text", "text": "x"}], {"output_tokens": -1}), "negative"),
        (lambda k: {"custom_id": k, "something": 1}, "neither an OpenAI nor an Anthropic"),
        (lambda k: {"custom_id": 5, "response": {}}, "no custom_id"),
    ],
)
def test_wrong_types_give_a_line_error_and_cache_nothing(tmp_path: Path, bad: Any, message: str) -> None:
    cache, (k1, k2) = setup(tmp_path)
    f = write(tmp_path / "res.jsonl", [openai_line(k1, usage=GOOD_USAGE), bad(k2)])
    res = runner.invoke(app, ["lm", "import", str(f)])
    assert res.exit_code == 2, res.output
    assert "res.jsonl line 2:" in res.output and message in res.output and "Traceback" not in res.output
    assert len(cache) == 0 and len(cache.pending()) == 2  # the good first line was not cached either


def test_binary_file_is_a_clean_error(tmp_path: Path) -> None:
    cache, _ = setup(tmp_path)
    f = tmp_path / "res.jsonl"
    f.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x00garbage")
    res = runner.invoke(app, ["lm", "import", str(f)])
    assert res.exit_code == 2 and "line 1: not UTF-8 text" in res.output
    assert len(cache) == 0


def test_line_cap_stops_before_reading_the_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import abplan.lm.batch as batch

    cache, (k1, _) = setup(tmp_path)
    monkeypatch.setattr(batch, "MAX_IMPORT_LINE_BYTES", 2 * batch.MIB)
    f = tmp_path / "res.jsonl"
    with f.open("w") as fh:
        fh.write(json.dumps(openai_line(k1, usage=GOOD_USAGE)) + "\n")
        fh.write(json.dumps(openai_line(k1, content="x" * (3 * batch.MIB))) + "\n")
    with pytest.raises(InputError, match=r"res.jsonl line 2: longer than the 2 MiB"):
        import_results(cache, f)
    assert len(cache) == 0
    # A line just under the cap is fine.
    write(f, [openai_line(k1, content="y" * (2 * batch.MIB - 500), usage=GOOD_USAGE)])
    assert import_results(cache, f).imported == 1


def test_missing_usage_is_estimated_and_costs_are_never_negative(tmp_path: Path) -> None:
    cache, (k1, k2) = setup(tmp_path)
    f = write(
        tmp_path / "res.jsonl",
        [openai_line(k1, content="an answer of some length"), openai_line(k2, usage=GOOD_USAGE)],
    )
    summary = import_results(cache, f, prices={"openai/gpt-4o": (-3.0, -3.0)})
    assert summary.imported == 2 and summary.estimated == 1
    assert "1 without token counts (estimated as characters / 4)" in summary.line()
    a, b = cache.get(k1), cache.get(k2)
    assert (
        a is not None and a.input_tokens > 0 and a.output_tokens == len("an answer of some length") // 4 + 1
    )
    assert b is not None and (b.input_tokens, b.output_tokens) == (10, 5)
    assert a.cost_usd == 0.0 and b.cost_usd == 0.0
    with pytest.raises(InputError, match="price-factor"):
        import_results(cache, f, price_factor=-0.5)


def test_duplicates_failures_and_unknown_ids(tmp_path: Path) -> None:
    cache, (k1, k2) = setup(tmp_path)
    failed = {"custom_id": k2, "response": {"status_code": 500, "body": {}}, "error": {"message": "boom"}}
    recs = [
        openai_line(k1, usage=GOOD_USAGE),
        openai_line(k1, content="other"),
        failed,
        openai_line("f" * 64),
    ]
    summary = import_results(cache, write(tmp_path / "res.jsonl", recs))
    assert (summary.imported, summary.already, summary.failed, summary.unknown) == (1, 1, 1, 1)
    hit = cache.get(k1)
    assert hit is not None and hit.text == "ok"
    assert [k for k, _ in cache.pending()] == [k2]


def test_anthropic_result_with_max_tokens(tmp_path: Path) -> None:
    cache, (k1, _) = setup(tmp_path)
    rec = anthropic_line(k1, [{"type": "text", "text": "cut"}], {"input_tokens": 3, "output_tokens": 4})
    rec["result"]["message"]["stop_reason"] = "max_tokens"
    import_results(cache, write(tmp_path / "res.jsonl", [rec]))
    hit = cache.get(k1)
    assert hit is not None and hit.finish_reason == "length" and hit.text == "cut"
