"""LM requests and responses. A request's cache key is a hash of (model, messages, parameters)."""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from typing import Any

from abplan.fsutil import canonical_json
from abplan.redact import redact
from abplan.schema import Usage


@dataclass(frozen=True)
class LMRequest:
    model: str  # "provider/model", e.g. "openai/gpt-4o"
    messages: tuple[tuple[str, str], ...]  # (role, content)
    temperature: float | None = 0.0
    max_tokens: int = 8192
    top_p: float | None = None
    json_schema: dict[str, Any] | None = None  # structured output, sent natively where supported
    seed: int | None = None  # sample index: distinct samples are distinct cache entries
    tag: str = field(default="", compare=False)  # what the request is for (not part of the key)

    @staticmethod
    def chat(model: str, system: str, user: str, **params: Any) -> LMRequest:
        return LMRequest(model=model, messages=(("system", system), ("user", user)), **params)

    def params(self) -> dict[str, Any]:
        p: dict[str, Any] = {"max_tokens": self.max_tokens}
        if self.temperature is not None:
            p["temperature"] = self.temperature
        if self.top_p is not None:
            p["top_p"] = self.top_p
        if self.json_schema is not None:
            p["json_schema"] = self.json_schema
        if self.seed is not None:
            p["seed"] = self.seed
        return p

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "messages": [{"role": r, "content": c} for r, c in self.messages],
            "params": self.params(),
        }

    @staticmethod
    def from_json(d: dict[str, Any], tag: str = "") -> LMRequest:
        p = d.get("params", {})
        return LMRequest(
            model=d["model"],
            messages=tuple((m["role"], m["content"]) for m in d["messages"]),
            temperature=p.get("temperature"),
            max_tokens=int(p.get("max_tokens", 8192)),
            top_p=p.get("top_p"),
            json_schema=p.get("json_schema"),
            seed=p.get("seed"),
            tag=tag,
        )

    @functools.cached_property
    def key(self) -> str:
        # Computed once per request (the hash of a whole paper is not free); cached_property writes the
        # instance dict directly, which a frozen dataclass allows.
        # surrogatepass: a lone surrogate (from a reply quoted back in a repair request) still has a key;
        # valid text hashes exactly as before.
        canonical, stored = _request_texts(self)
        self.__dict__["stored_json"] = stored  # the cache row's text, made from the same escapes
        return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()

    @functools.cached_property
    def stored_json(self) -> str:
        """`json.dumps(self.to_json())`: the request as the response cache stores it."""
        return _request_texts(self)[1]

    @property
    def provider(self) -> str:
        return self.model.split("/", 1)[0] if "/" in self.model else ""

    @property
    def model_name(self) -> str:
        return self.model.split("/", 1)[1] if "/" in self.model else self.model


@dataclass(frozen=True)
class LMResponse:
    text: str
    finish_reason: str = "stop"
    input_tokens: int = 0
    output_tokens: int = 0
    cost_usd: float = 0.0
    model: str = ""
    cached: bool = False
    key: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "finish_reason": self.finish_reason,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "cost_usd": self.cost_usd,
            "model": self.model,
        }

    @staticmethod
    def from_json(d: dict[str, Any], *, cached: bool = False, key: str = "") -> LMResponse:
        return LMResponse(
            text=clean_text(str(d.get("text", ""))),
            finish_reason=str(d.get("finish_reason", "stop")),
            input_tokens=int(d.get("input_tokens", 0)),
            output_tokens=int(d.get("output_tokens", 0)),
            cost_usd=float(d.get("cost_usd", 0.0)),
            model=str(d.get("model", "")),
            cached=cached,
            key=key,
        )


_escape = json.encoder.encode_basestring  # type: ignore[attr-defined]  # what the C encoder uses
_escape_ascii = json.encoder.encode_basestring_ascii  # type: ignore[attr-defined]


@functools.lru_cache(maxsize=32)
def _system_escapes(text: str) -> tuple[str, str]:
    """A system prompt's escapes (one of a few fixed texts, sent with every request)."""
    return _escape(text), _escape_ascii(text)


def _escapes(role: str, content: str) -> tuple[str, str]:
    if role == "system":
        return _system_escapes(content)
    plain = _escape(content)
    # Both escapes agree on ASCII text but DEL, which only the ASCII one escapes.
    return plain, plain if content.isascii() and "\x7f" not in content else _escape_ascii(content)


def _params_texts(params: dict[str, Any]) -> tuple[str, str]:
    """`canonical_json(params)` and `json.dumps(params)`; written out for plain numbers (the usual
    case), where an encoder built per call costs more than the writing."""
    if all(type(v) is int or (type(v) is float and math.isfinite(v)) for v in params.values()):
        items = [(k, repr(v)) for k, v in params.items()]  # repr: what the encoders write for these
        return (
            "{" + ",".join(f'"{k}":{v}' for k, v in sorted(items)) + "}",
            "{" + ", ".join(f'"{k}": {v}' for k, v in items) + "}",
        )
    return canonical_json(params), json.dumps(params)


def _request_texts(req: LMRequest) -> tuple[str, str]:
    """`canonical_json(req.to_json())` (what the key hashes) and `json.dumps(req.to_json())` (what the
    cache stores), built from each message's escapes instead of two encodings of the whole request:
    the paper in it would be escaped twice, and the fixed system prompt once per request."""
    if type(req.model) is not str or not all(type(r) is str and type(c) is str for r, c in req.messages):
        request = req.to_json()  # anything else as the encoders see it
        return canonical_json(request), json.dumps(request)
    canonical, stored = [], []
    for role, content in req.messages:
        plain, ascii_ = _escapes(role, content)
        canonical.append(f'{{"content":{plain},"role":{_escape(role)}}}')
        stored.append(f'{{"role": {_escape_ascii(role)}, "content": {ascii_}}}')
    params, params_stored = _params_texts(req.params())
    return (
        f'{{"messages":[{",".join(canonical)}],"model":{_escape(req.model)},"params":{params}}}',
        f'{{"model": {_escape_ascii(req.model)}, "messages": [{", ".join(stored)}], "params": {params_stored}}}',
    )


_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Lone surrogates (no UTF-8 file or database can hold them) become U+FFFD."""
    return text if text.isascii() else _SURROGATE.sub("\ufffd", text)


class CacheMiss(Exception):
    """Offline mode: this one request is not in the cache; it was recorded as pending.

    Raised per request inside the pipeline; the CLI reports the total as `errors.PendingRequests`.
    """

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


RequestPending = CacheMiss  # the earlier name, kept for `abplan.lm.RequestPending`


class ProviderError(Exception):
    """A provider's failure, classified for the retry loop."""

    def __init__(
        self, message: str, *, retryable: bool, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(redact(message))
        self.retryable = retryable
        self.status = status
        self.retry_after = retry_after


def usage_of(responses: list[LMResponse]) -> Usage:
    """Calls, cached calls, tokens and cost of some responses (a cached reply is no call): the sums
    adding one `Usage` per response in turn gives, with one model built instead of three per response."""
    if not responses:
        return Usage()
    return Usage(
        calls=sum(0 if r.cached else 1 for r in responses),
        cached_calls=sum(1 if r.cached else 0 for r in responses),
        input_tokens=sum(r.input_tokens for r in responses),
        output_tokens=sum(r.output_tokens for r in responses),
        cost_usd=sum((r.cost_usd for r in responses), 0.0),
    )
