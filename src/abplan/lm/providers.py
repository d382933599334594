"""Providers behind one interface: OpenAI-compatible endpoints (OpenAI, OpenRouter, Ollama, vLLM, llama.cpp,
any --base-url) through the `openai` SDK, Anthropic's Messages API over httpx, and a scripted fake for tests.

Each provider turns a request into one HTTP call and translates its failures into `ProviderError`,
so the retry loop in `client.py` is written once.
"""

from __future__ import annotations

import asyncio
import email.utils
import inspect
import os
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from abplan.errors import ConfigError
from abplan.lm.types import LMRequest, LMResponse, ProviderError


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
RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524, 529}


class Provider(Protocol):
    async def complete(self, req: LMRequest, timeout: float) -> LMResponse: ...

    async def aclose(self) -> None: ...


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def status_error(
    model: str, status: int, headers: Mapping[str, str] | None, detail: str = ""
) -> ProviderError:
    retry_after = parse_retry_after(headers.get("retry-after")) if headers is not None else None
    hint = {
        401: "authentication failed: check the API key",
        403: "permission denied for this key",
        404: "model or endpoint not found",
        400: "the provider rejected the request",
        413: "the request is too large for the model",
    }.get(status, "provider error")
    msg = f"{model}: HTTP {status} {hint}"
    if detail:
        msg += f" ({detail[:200]})"
    return ProviderError(msg, retryable=status in RETRYABLE_STATUS, status=status, retry_after=retry_after)


def _reasoning_model(name: str) -> bool:
    n = name.split("/")[-1]
    return n.startswith(("o1", "o3", "o4", "gpt-5"))


class OpenAICompatible:
    """Chat completions through the `openai` SDK (its own retries off: ours honour Retry-After)."""

    def __init__(
        self, provider: str, base_url: str, api_key: str, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        from openai import AsyncOpenAI

        self.provider = provider
        self._http = httpx.AsyncClient(transport=transport) if transport is not None else None
        # openai 1.x runs on httpx, 3.x on httpx2, which still accepts an httpx client (our test seam).
        http_client: Any = self._http
        self._client = AsyncOpenAI(
            api_key=api_key or "none", base_url=base_url, max_retries=0, http_client=http_client
        )

    def body(self, req: LMRequest) -> dict[str, Any]:
        """The JSON body sent for `req` (also what batch export writes)."""
        return openai_body(req, self.provider)

    async def complete(self, req: LMRequest, timeout: float) -> LMResponse:
        import openai

        body = self.body(req)
        try:
            raw = await self._client.chat.completions.with_raw_response.create(**body, timeout=timeout)
        except openai.APIStatusError as e:
            raise status_error(req.model, e.status_code, e.response.headers, _detail(e.body)) from e
        except openai.APITimeoutError as e:
            raise ProviderError(f"{req.model}: request timed out after {timeout:.0f}s", retryable=True) from e
        except openai.APIConnectionError as e:
            raise ProviderError(f"{req.model}: connection failed ({_cause(e)})", retryable=True) from e
        except (openai.APIResponseValidationError, ValueError) as e:
            raise ProviderError(f"{req.model}: invalid response from the provider", retryable=True) from e
        try:
            completion = raw.parse()
            choice = completion.choices[0]
            text = choice.message.content or ""
        except (AttributeError, IndexError, TypeError, ValueError) as e:
            raise ProviderError(
                f"{req.model}: invalid response from the provider (no choices)", retryable=True
            ) from e
        usage = completion.usage
        cost = None
        if usage is not None and usage.model_extra:
            c = usage.model_extra.get("cost")
            cost = float(c) if isinstance(c, int | float) else None
        return LMResponse(
            text=text,
            finish_reason=str(choice.finish_reason or "stop"),
            input_tokens=usage.prompt_tokens if usage else 0,
            output_tokens=usage.completion_tokens if usage else 0,
            cost_usd=cost if cost is not None else -1.0,
            model=completion.model or req.model_name,
        )

    async def aclose(self) -> None:
        await self._client.close()
        if self._http is not None:
            await self._http.aclose()


def openai_body(req: LMRequest, provider: str = "openai") -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": req.model_name,
        "messages": [{"role": r, "content": c} for r, c in req.messages],
    }
    if provider == "openai" and _reasoning_model(req.model_name):
        body["max_completion_tokens"] = req.max_tokens
    else:
        body["max_tokens"] = req.max_tokens
        if req.temperature is not None:
            body["temperature"] = req.temperature
        if req.top_p is not None:
            body["top_p"] = req.top_p
    if req.seed is not None:
        body["seed"] = req.seed
    if req.json_schema is not None:
        body["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": "output", "schema": req.json_schema, "strict": False},
        }
    if provider == "openrouter":
        body["extra_body"] = {"usage": {"include": True}}
    return body


def anthropic_params(req: LMRequest) -> dict[str, Any]:
    system = "\n\n".join(c for r, c in req.messages if r == "system")
    msgs = [{"role": r, "content": c} for r, c in req.messages if r != "system"]
    params: dict[str, Any] = {"model": req.model_name, "max_tokens": req.max_tokens, "messages": msgs}
    if system:
        params["system"] = system
    if req.temperature is not None:
        params["temperature"] = req.temperature
    if req.top_p is not None:
        params["top_p"] = req.top_p
    return params


def _detail(body: object) -> str:
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            return str(err.get("message", ""))
        return str(err)
    return str(body or "")


def _cause(e: BaseException) -> str:
    c = e.__cause__ or e.__context__
    return type(c).__name__ if c else type(e).__name__


class AnthropicProvider:
    """Anthropic's Messages API, spoken directly over httpx (one POST; no SDK needed)."""

    VERSION = "2023-06-01"

    def __init__(
        self, api_key: str, base_url: str | None, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._url = (base_url or "https://api.anthropic.com").rstrip("/")
        if self._url.endswith("/v1"):
            self._url = self._url[:-3]
        self._http = httpx.AsyncClient(
            transport=transport,
            headers={
                "x-api-key": api_key,
                "anthropic-version": self.VERSION,
                "content-type": "application/json",
            },
        )

    async def complete(self, req: LMRequest, timeout: float) -> LMResponse:
        try:
            r = await self._http.post(f"{self._url}/v1/messages", json=anthropic_params(req), timeout=timeout)
        except httpx.TimeoutException as e:
            raise ProviderError(f"{req.model}: request timed out after {timeout:.0f}s", retryable=True) from e
        except httpx.TransportError as e:
            raise ProviderError(f"{req.model}: connection failed ({type(e).__name__})", retryable=True) from e
        if r.status_code != 200:
            try:
                detail = _detail(r.json())
            except ValueError:
                detail = r.text[:200]
            raise status_error(req.model, r.status_code, r.headers, detail)
        try:
            msg = r.json()
            text = "".join(b.get("text", "") for b in msg["content"] if b.get("type") == "text")
            usage = msg.get("usage", {})
            stop = str(msg.get("stop_reason"))
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise ProviderError(f"{req.model}: invalid response from the provider", retryable=True) from e
        return LMResponse(
            text=text,
            finish_reason={"max_tokens": "length", "end_turn": "stop", "stop_sequence": "stop"}.get(
                stop, stop
            ),
            input_tokens=int(usage.get("input_tokens", 0)),
            output_tokens=int(usage.get("output_tokens", 0)),
            cost_usd=-1.0,
            model=str(msg.get("model", req.model_name)),
        )

    async def aclose(self) -> None:
        await self._http.aclose()


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
    return OpenAICompatible(provider, url, key, transport)
