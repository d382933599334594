"""Batch mode: pending requests out as OpenAI or Anthropic batch JSONL; their result files back into the cache.

(`prompt_files.py` exports the same requests as readable files for answering by hand.)

`custom_id` is the cache key, so an imported answer lands exactly where the rerun will look for it.
OpenAI's Batch API and `vllm run-batch` read the OpenAI format; Anthropic's Message Batches read theirs.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from abplan.errors import InputError
from abplan.limits import MAX_IMPORT_LINE_BYTES, MIB
from abplan.lm.cache import ResponseCache
from abplan.lm.context import estimate_tokens
from abplan.lm.pricing import cost_of
from abplan.lm.providers import anthropic_params, openai_body
from abplan.lm.types import LMRequest, LMResponse


def export_lines(cache: ResponseCache, fmt: str = "openai") -> dict[str, list[str]]:
    """Pending requests as batch lines, grouped by model (batch APIs take one model per file)."""
    if fmt not in ("openai", "anthropic"):
        raise InputError(f"unknown batch format {fmt!r} (openai or anthropic)")
    by_model: dict[str, list[str]] = defaultdict(list)
    for key, raw in cache.pending():
        req = LMRequest.from_json(raw)
        if fmt == "openai":
            body = openai_body(req, req.provider)
            body.pop("extra_body", None)
            line = {"custom_id": key, "method": "POST", "url": "/v1/chat/completions", "body": body}
        else:
            line = {"custom_id": key, "params": anthropic_params(req)}
        by_model[req.model].append(json.dumps(line, ensure_ascii=False))
    return dict(by_model)


def model_file_name(model: str) -> str:
    return re.sub(r"[^\w.\-]+", "_", model) + ".jsonl"


@dataclass
class ImportSummary:
    imported: int = 0
    failed: int = 0
    unknown: int = 0
    already: int = 0
    estimated: int = 0  # answers whose token counts the result file did not give

    def line(self) -> str:
        parts = [f"imported {self.imported} answers"]
        if self.estimated:
            parts.append(f"{self.estimated} without token counts (estimated as characters / 4)")
        if self.already:
            parts.append(f"{self.already} already cached")
        if self.failed:
            parts.append(f"{self.failed} failed in the batch (left pending)")
        if self.unknown:
            parts.append(f"{self.unknown} match no pending request (ignored)")
        return ", ".join(parts)


class BadRecord(Exception):
    """A result line whose fields have the wrong types; the message names the field."""


def _obj(value: Any, where: str, required: bool = False) -> dict[str, Any]:
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise BadRecord(f"{where} is not an object")
    return value


def _str(value: Any, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRecord(f"{where} is not a string")
    return value


def _count(usage: dict[str, Any], name: str) -> int | None:
    """A token count: a non-negative integer, or None when absent."""
    v = usage.get(name)
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, int):
        raise BadRecord(f"usage.{name} is not an integer")
    if v < 0:
        raise BadRecord(f"usage.{name} is negative")
    return v


@dataclass(frozen=True)
class Result:
    text: str
    finish_reason: str
    input_tokens: int | None
    output_tokens: int | None
    model: str


def _openai_result(rec: dict[str, Any]) -> Result | None:
    resp = _obj(rec.get("response"), "response")
    status = resp.get("status_code", 200)
    if isinstance(status, bool) or not isinstance(status, int):
        raise BadRecord("response.status_code is not an integer")
    if rec.get("error") or status != 200 or resp.get("body") is None:
        return None  # a failed request: left pending
    body = _obj(resp.get("body"), "response.body", required=True)
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices:
        raise BadRecord("response.body.choices is not a non-empty list")
    choice = _obj(choices[0], "choices[0]", required=True)
    message = _obj(choice.get("message"), "choices[0].message", required=True)
    usage = _obj(body.get("usage"), "usage")
    return Result(
        text=_str(message.get("content"), "choices[0].message.content"),
        finish_reason=_str(choice.get("finish_reason"), "choices[0].finish_reason") or "stop",
        input_tokens=_count(usage, "prompt_tokens"),
        output_tokens=_count(usage, "completion_tokens"),
        model=_str(body.get("model"), "response.body.model"),
    )


def _anthropic_result(rec: dict[str, Any]) -> Result | None:
    result = _obj(rec.get("result"), "result")
    if result.get("type") != "succeeded":
        return None
    msg = _obj(result.get("message"), "result.message", required=True)
    content = msg.get("content")
    if not isinstance(content, list):
        raise BadRecord("result.message.content is not a list")
    texts = []
    for i, block in enumerate(content):
        b = _obj(block, f"content[{i}]", required=True)
        if b.get("type") == "text":
            texts.append(_str(b.get("text"), f"content[{i}].text"))
    usage = _obj(msg.get("usage"), "usage")
    stop = _str(msg.get("stop_reason"), "result.message.stop_reason")
    return Result(
        text="".join(texts),
        finish_reason="length" if stop == "max_tokens" else "stop",
        input_tokens=_count(usage, "input_tokens"),
        output_tokens=_count(usage, "output_tokens"),
        model=_str(msg.get("model"), "result.message.model"),
    )


def read_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Numbered text lines, read one at a time; none may exceed MAX_IMPORT_LINE_BYTES."""
    cap = MAX_IMPORT_LINE_BYTES
    with path.open("rb") as fh:
        for n, raw in enumerate(iter(lambda: fh.readline(cap + 1), b""), 1):
            if len(raw) > cap and not raw.endswith(b"\n"):
                raise InputError(f"{path.name} line {n}: longer than the {cap // MIB} MiB a line may have")
            try:
                yield n, raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise InputError(f"{path.name} line {n}: not UTF-8 text (a binary file?)") from e


def _parse_line(name: str, n: int, line: str) -> tuple[str, Result | None]:
    try:
        rec = json.loads(line)
    except json.JSONDecodeError as e:
        raise InputError(f"{name} line {n}: not valid JSON ({e.msg})") from e
    if not isinstance(rec, dict) or not isinstance(rec.get("custom_id"), str):
        raise InputError(f"{name} line {n}: no custom_id")
    try:
        if "response" in rec or "error" in rec:
            return rec["custom_id"], _openai_result(rec)
        if "result" in rec:
            return rec["custom_id"], _anthropic_result(rec)
    except BadRecord as e:
        raise InputError(f"{name} line {n}: {e}") from e
    raise InputError(f"{name} line {n}: neither an OpenAI nor an Anthropic batch result")


def import_results(
    cache: ResponseCache,
    path: Path,
    price_factor: float = 1.0,
    prices: dict[str, tuple[float, float]] | None = None,
) -> ImportSummary:
    """Validate a whole batch result file (OpenAI or Anthropic format), then fill the cache.

    The file is streamed line by line and checked to the end before anything is cached, so a bad
    line leaves the cache as it was.
    """
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    if not price_factor >= 0:
        raise InputError(f"--price-factor must be 0 or more, not {price_factor}")
    summary = ImportSummary()
    ready: dict[str, tuple[dict[str, Any], LMResponse]] = {}
    for n, line in read_lines(path):
        if not line.strip():
            continue
        key, got = _parse_line(path.name, n, line)
        request = cache.pending_request(key)
        if request is None or key in ready:
            if key in ready or cache.get(key) is not None:
                summary.already += 1
            else:
                summary.unknown += 1
            continue
        if got is None:
            summary.failed += 1
            continue
        ready[key] = (request, _response(request, got, price_factor, prices, summary))
    for key, (request, resp) in ready.items():
        cache.put_raw(key, request, resp)
    summary.imported = len(ready)
    return summary


def _response(
    request: dict[str, Any],
    got: Result,
    price_factor: float,
    prices: dict[str, tuple[float, float]] | None,
    summary: ImportSummary,
) -> LMResponse:
    tokens_in, tokens_out = got.input_tokens, got.output_tokens
    if tokens_in is None or tokens_out is None:
        summary.estimated += 1
        messages = request.get("messages") or []
        prompt = "".join(str(m.get("content", "")) for m in messages if isinstance(m, dict))
        tokens_in = estimate_tokens(prompt) if tokens_in is None else tokens_in
        tokens_out = estimate_tokens(got.text) if tokens_out is None else tokens_out
    cost = max(0.0, cost_of(request["model"], tokens_in, tokens_out, prices)) * price_factor
    return LMResponse(
        text=got.text,
        finish_reason=got.finish_reason,
        input_tokens=tokens_in,
        output_tokens=tokens_out,
        cost_usd=cost,
        model=got.model,
    )
