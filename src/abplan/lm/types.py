"""LM requests and responses. A request's cache key is a hash of (model, messages, parameters)."""

from __future__ import annotations

import functools
import hashlib
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
        return hashlib.sha256(canonical_json(self.to_json()).encode("utf-8", "surrogatepass")).hexdigest()

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


_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(text: str) -> str:
    """Lone surrogates (no UTF-8 file or database can hold them) become U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


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
    """Calls, cached calls, tokens and cost of some responses (a cached reply is no call)."""
    u = Usage()
    for r in responses:
        u = u.add(
            Usage(
                calls=0 if r.cached else 1,
                cached_calls=1 if r.cached else 0,
                input_tokens=r.input_tokens,
                output_tokens=r.output_tokens,
                cost_usd=r.cost_usd,
            )
        )
    return u
