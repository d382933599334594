"""Providers behind one interface: OpenAI-compatible endpoints (OpenAI, OpenRouter, Ollama, vLLM, llama.cpp,
any --base-url) and Anthropic's Messages API, both over plain httpx (`wire.py`), and a scripted fake for tests.

Each provider turns a request into one HTTP call and translates its failures into `ProviderError`,
so the retry loop in `client.py` is written once.
"""

from __future__ import annotations

import asyncio
import inspect
import os
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import httpx

from abplan.errors import ConfigError
from abplan.lm.types import LMRequest, LMResponse, ProviderError
from abplan.lm.wire import (
    RETRYABLE_STATUS,
    AnthropicProvider,
    OpenAICompatible,
    anthropic_params,
    openai_body,
    parse_retry_after,
    status_error,
)
from abplan.redact import register_secret


@dataclass(frozen=True)
class Endpoint:
    base_url: str | None
    key_env: str | None
    key_required: bool


OPENAI_COMPATIBLE: dict[str, Endpoint] = {
    "openai": Endpoint("https://api.openai.com/v1", "OPENAI_API_KEY", True),
    "openrouter": Endpoint("https://openrouter.ai/api/v1", "OPENROUTER_API_KEY", True),
    "ollama": Endpoint("http://localhost:11434/v1", None, False),
    "vllm": Endpoint("http://localhost:8000/v1", "VLLM_API_KEY", False),
    "llamacpp": Endpoint("http://localhost:8080/v1", None, False),
    "local": Endpoint(None, "ABPLAN_API_KEY", False),
}
ALL_PROVIDERS = (*OPENAI_COMPATIBLE, "anthropic", "fake")
__all__ = [
    "RETRYABLE_STATUS",
    "AnthropicProvider",
    "FakeModel",
    "OpenAICompatible",
    "Provider",
    "anthropic_params",
    "make_provider",
    "openai_body",
    "parse_retry_after",
    "register_fake",
    "status_error",
    "unregister_fake",
]


class Provider(Protocol):
    async def complete(self, req: LMRequest, timeout: float) -> LMResponse: ...

    async def aclose(self) -> None: ...


Reply = str | LMResponse | BaseException
ReplyFn = Callable[[LMRequest], Reply | Awaitable[Reply]]


class FakeModel:
    """A scripted model: a list of replies (used in order, the last one repeated) or a callable.

    A reply may be a string, a full `LMResponse`, or an exception to raise (e.g. a `ProviderError`).
    `calls` records every request that reached it.
    """

    def __init__(self, replies: Sequence[Reply] | ReplyFn, latency: float = 0.0) -> None:
        self._replies = replies
        self.latency = latency
        self.calls: list[LMRequest] = []

    async def complete(self, req: LMRequest, timeout: float) -> LMResponse:
        self.calls.append(req)
        if self.latency:
            await asyncio.sleep(self.latency)
        if callable(self._replies):
            got = self._replies(req)
            reply: Reply = await got if inspect.isawaitable(got) else got  # type: ignore[assignment]
        else:
            seq = list(self._replies)
            if not seq:
                raise ProviderError("fake model has no scripted replies", retryable=False)
            reply = seq[min(len(self.calls) - 1, len(seq) - 1)]
        if isinstance(reply, BaseException):
            raise reply
        if isinstance(reply, LMResponse):
            return reply
        prompt = sum(len(c) for _, c in req.messages) // 4
        return LMResponse(
            text=reply, input_tokens=prompt, output_tokens=len(reply) // 4, cost_usd=0.0, model=req.model_name
        )

    async def aclose(self) -> None:
        return None


_FAKES: dict[str, FakeModel] = {}


def register_fake(name: str, model: FakeModel | Sequence[Reply] | ReplyFn) -> FakeModel:
    """Make `fake/<name>` answer with `model`. Returns the FakeModel (its `.calls` count requests)."""
    fm = model if isinstance(model, FakeModel) else FakeModel(model)
    _FAKES[name] = fm
    return fm


def unregister_fake(name: str) -> None:
    _FAKES.pop(name, None)


def make_provider(
    provider: str,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    model: str = "",
) -> Provider:
    if provider == "fake":
        name = model.split("/", 1)[1] if "/" in model else model
        if name not in _FAKES:
            raise ConfigError(f"fake model '{name}' is not registered (abplan.lm.register_fake)")
        return _FAKES[name]
    if provider == "anthropic":
        key = api_key or os.environ.get("ANTHROPIC_API_KEY", "")
        if not key:
            raise ConfigError("anthropic/ models need ANTHROPIC_API_KEY in the environment")
        register_secret(key)
        return AnthropicProvider(key, base_url, transport)
    ep = OPENAI_COMPATIBLE.get(provider)
    if ep is None:
        if base_url:
            ep = OPENAI_COMPATIBLE["local"]
        else:
            known = ", ".join(ALL_PROVIDERS)
            raise ConfigError(
                f"unknown provider '{provider}' in model '{model}' (known: {known}; or give --base-url)"
            )
    url = base_url or ep.base_url
    if not url:
        raise ConfigError(f"model '{model}' needs --base-url (or ABPLAN_BASE_URL)")
    key = api_key or (os.environ.get(ep.key_env, "") if ep.key_env else "")
    if ep.key_required and not key and not base_url:
        raise ConfigError(f"{provider}/ models need {ep.key_env} in the environment")
    register_secret(key)
    return OpenAICompatible(provider, url, key, transport)
