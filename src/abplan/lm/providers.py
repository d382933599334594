"""Providers behind one interface: OpenAI-compatible endpoints (OpenAI, OpenRouter, Ollama, vLLM, llama.cpp,
any --base-url) and Anthropic's Messages API, both over plain httpx (`wire.py`), and a scripted fake for tests.

Each provider turns a request into one HTTP call and translates its failures into `ProviderError`,
so the retry loop in `client.py` is written once. `ENDPOINTS` is the one table of default addresses
and API-key variables; `PROVIDERS` maps each provider name to the factory that builds it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import httpx

from abplan.errors import ConfigError, InputError
from abplan.lm.fake import FakeModel, fake_model, register_fake, unregister_fake
from abplan.lm.types import LMRequest, LMResponse
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
from abplan.registry import Registry


@dataclass(frozen=True)
class Endpoint:
    base_url: str | None  # None: the provider's own default (Anthropic), or --base-url is needed (local)
    key_env: str | None
    key_required: bool


ENDPOINTS: dict[str, Endpoint] = {
    "openai": Endpoint("https://api.openai.com/v1", "OPENAI_API_KEY", True),
    "openrouter": Endpoint("https://openrouter.ai/api/v1", "OPENROUTER_API_KEY", True),
    "anthropic": Endpoint(None, "ANTHROPIC_API_KEY", True),
    "ollama": Endpoint("http://localhost:11434/v1", None, False),
    "vllm": Endpoint("http://localhost:8000/v1", "VLLM_API_KEY", False),
    "llamacpp": Endpoint("http://localhost:8080/v1", None, False),
    "local": Endpoint(None, "ABPLAN_API_KEY", False),  # any --base-url
}
# provider -> the environment variable holding its key (a config file's [keys] table fills these)
KEY_ENVS: dict[str, str] = {name: ep.key_env for name, ep in ENDPOINTS.items() if ep.key_env}

__all__ = [
    "ENDPOINTS",
    "KEY_ENVS",
    "PROVIDERS",
    "RETRYABLE_STATUS",
    "AnthropicProvider",
    "FakeModel",
    "OpenAICompatible",
    "Provider",
    "ProviderSpec",
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


@dataclass(frozen=True)
class ProviderSpec:
    """What a provider factory is given: the name and model asked for, and the caller's overrides."""

    provider: str
    model: str
    base_url: str | None = None
    api_key: str | None = None
    transport: httpx.AsyncBaseTransport | None = None


ProviderFactory = Callable[[ProviderSpec], Provider]


def openai_compatible(spec: ProviderSpec) -> Provider:
    ep = ENDPOINTS.get(spec.provider) or ENDPOINTS["local"]
    url = spec.base_url or ep.base_url
    if not url:
        raise ConfigError(f"model '{spec.model}' needs --base-url (or ABPLAN_BASE_URL)")
    key = spec.api_key or (os.environ.get(ep.key_env, "") if ep.key_env else "")
    if ep.key_required and not key and not spec.base_url:
        raise ConfigError(f"{spec.provider}/ models need {ep.key_env} in the environment")
    register_secret(key)
    return OpenAICompatible(spec.provider, url, key, spec.transport)


def anthropic(spec: ProviderSpec) -> Provider:
    key = spec.api_key or os.environ.get(KEY_ENVS["anthropic"], "")
    if not key:
        raise ConfigError(f"anthropic/ models need {KEY_ENVS['anthropic']} in the environment")
    register_secret(key)
    return AnthropicProvider(key, spec.base_url, spec.transport)


def fake(spec: ProviderSpec) -> Provider:
    return fake_model(spec.model.split("/", 1)[1] if "/" in spec.model else spec.model)


PROVIDERS: Registry[ProviderFactory] = Registry("provider")
for _name in ENDPOINTS:
    PROVIDERS.register(
        _name,
        "abplan.lm.providers:anthropic" if _name == "anthropic" else "abplan.lm.providers:openai_compatible",
    )
PROVIDERS.register("fake", "abplan.lm.providers:fake")


def make_provider(
    provider: str,
    *,
    base_url: str | None = None,
    api_key: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    model: str = "",
) -> Provider:
    """The provider for `provider/...` models; an unknown name works only with --base-url (as `local`)."""
    name = provider
    if provider not in PROVIDERS:
        if not base_url:
            raise InputError(PROVIDERS.unknown(provider, f" in model '{model}'") + "; or give --base-url")
        name = "local"
    return PROVIDERS.get(name)(ProviderSpec(provider, model, base_url, api_key, transport))
