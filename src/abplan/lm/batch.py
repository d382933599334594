"""Batch mode: pending requests out as OpenAI or Anthropic batch JSONL; their result files back into the cache.

`custom_id` is the cache key, so an imported answer lands exactly where the rerun will look for it.
OpenAI's Batch API and `vllm run-batch` read the OpenAI format; Anthropic's Message Batches read theirs.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from abplan.errors import InputError
from abplan.lm.cache import ResponseCache
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

    def line(self) -> str:
        parts = [f"imported {self.imported} answers"]
        if self.already:
            parts.append(f"{self.already} already cached")
        if self.failed:
            parts.append(f"{self.failed} failed in the batch (left pending)")
        if self.unknown:
            parts.append(f"{self.unknown} match no pending request (ignored)")
        return ", ".join(parts)


def _openai_result(rec: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    resp = rec.get("response") or {}
    if rec.get("error") or resp.get("status_code", 200) != 200:
        return None
    body = resp.get("body") or {}
    choice = (body.get("choices") or [{}])[0]
    usage = body.get("usage") or {}
    return str((choice.get("message") or {}).get("content") or ""), {
        "finish_reason": choice.get("finish_reason") or "stop",
        "input_tokens": int(usage.get("prompt_tokens", 0)),
        "output_tokens": int(usage.get("completion_tokens", 0)),
        "model": body.get("model", ""),
    }


def _anthropic_result(rec: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
    result = rec.get("result") or {}
    if result.get("type") != "succeeded":
        return None
    msg = result.get("message") or {}
    text = "".join(b.get("text", "") for b in msg.get("content", []) if b.get("type") == "text")
    usage = msg.get("usage") or {}
    stop = {"max_tokens": "length"}.get(str(msg.get("stop_reason")), "stop")
    return text, {
        "finish_reason": stop,
        "input_tokens": int(usage.get("input_tokens", 0)),
        "output_tokens": int(usage.get("output_tokens", 0)),
        "model": msg.get("model", ""),
    }


def import_results(
    cache: ResponseCache,
    path: Path,
    price_factor: float = 1.0,
    prices: dict[str, tuple[float, float]] | None = None,
) -> ImportSummary:
    """Validate a batch result file (OpenAI or Anthropic format) and fill the cache."""
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    summary = ImportSummary()
    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(f"{path.name} line {n}: not valid JSON ({e.msg})") from e
        if not isinstance(rec, dict) or not isinstance(rec.get("custom_id"), str):
            raise InputError(f"{path.name} line {n}: no custom_id")
        if "response" in rec or "error" in rec:
            got = _openai_result(rec)
        elif "result" in rec:
            got = _anthropic_result(rec)
        else:
            raise InputError(f"{path.name} line {n}: neither an OpenAI nor an Anthropic batch result")
        key = rec["custom_id"]
        request = cache.pending_request(key)
        if request is None:
            if cache.get(key) is not None:
                summary.already += 1
            else:
                summary.unknown += 1
            continue
        if got is None:
            summary.failed += 1
            continue
        text, meta = got
        cost = cost_of(request["model"], meta["input_tokens"], meta["output_tokens"], prices) * price_factor
        cache.put_raw(key, request, LMResponse(text=text, cost_usd=cost, **meta))
        summary.imported += 1
    return summary
