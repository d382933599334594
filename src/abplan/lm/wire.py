"""The two wire formats, spoken over plain httpx: OpenAI chat completions (OpenAI, OpenRouter, Ollama, vLLM,
llama.cpp, any --base-url) and Anthropic's Messages API. One POST each; no SDK.

Every failure becomes a `ProviderError` (classified for the retry loop in `client.py`) whose message is
redacted of keys, whatever the provider echoes back.
"""

from __future__ import annotations

import email.utils
import ipaddress
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from abplan import limits
from abplan.lm.types import LMRequest, LMResponse, ProviderError
from abplan.redact import redact

_JSON = {"content-type": "application/json"}
RETRYABLE_STATUS = {408, 409, 425, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524, 529}
USER_AGENT = "abplan (https://pypi.org/project/abplan)"
# What to check when nothing listens on a local server's port.
SERVE_HINTS = {
    "ollama": "is `ollama serve` running?",
    "vllm": "is `vllm serve <model>` running?",
    "llamacpp": "is `llama-server` running?",
}


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
    detail = " ".join(redact(detail).split())  # redact before cutting, so no key is cut in half
    if detail:
        msg += f" ({detail[:200]})"
    return ProviderError(msg, retryable=status in RETRYABLE_STATUS, status=status, retry_after=retry_after)


def is_loopback(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        addr = ipaddress.ip_address(host)
    except ValueError:
        return False
    return addr.is_loopback or addr.is_unspecified


def _refused(e: httpx.ConnectError) -> bool:
    """Nothing listens on the port (as opposed to, say, a TLS handshake that failed)."""
    text = str(e).lower()
    return "refused" in text or "all connection attempts failed" in text or "errno 111" in text


def _detail(body: object) -> str:
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            return str(err.get("message", ""))
        return str(err)
    return str(body or "")


def _error_detail(data: bytes) -> str:
    try:
        return _detail(json.loads(data))
    except ValueError:
        return data[:2000].decode("utf-8", "replace")


async def post_json(
    http: httpx.AsyncClient, url: str, body: dict[str, Any], timeout: float, model: str, provider: str
) -> Any:
    """POST `body`; the decoded JSON of a 200 reply, or a `ProviderError` that says what went wrong."""
    try:
        async with http.stream("POST", url, content=encode_body(body), headers=_JSON, timeout=timeout) as r:
            status, headers = r.status_code, r.headers
            data = await _read_capped(r, model)
    except httpx.TimeoutException as e:
        raise ProviderError(f"{model}: request timed out after {timeout:.0f}s", retryable=True) from e
    except httpx.ConnectError as e:
        base = url.rsplit("/", 2)[0] if url.endswith("/chat/completions") else url
        if is_loopback(url) and _refused(e):
            # A local server that is not up will not come up during our backoff: say so at once.
            hint = SERVE_HINTS.get(provider, "is the server running?")
            raise ProviderError(
                f"{model}: connection failed: nothing answers at {base} ({hint})", retryable=False
            ) from e
        raise ProviderError(f"{model}: connection failed ({type(e).__name__})", retryable=True) from e
    except httpx.TransportError as e:
        raise ProviderError(f"{model}: connection failed ({type(e).__name__})", retryable=True) from e
    if status != 200:
        raise status_error(model, status, headers, _error_detail(data))
    try:
        return json.loads(data)
    except ValueError as e:  # includes bodies that are not UTF-8
        raise ProviderError(f"{model}: invalid response from the provider (not JSON)", retryable=True) from e


def encode_body(body: dict[str, Any]) -> bytes:
    """UTF-8 JSON; a lone surrogate in a prompt (a PDF's broken text map) is sent as a `\\udXXX` escape
    instead of failing to encode."""
    try:
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(body, separators=(",", ":")).encode("ascii")


async def _read_capped(r: httpx.Response, model: str) -> bytes:
    """The body, as long as it stays within `limits.MAX_LM_REPLY_BYTES` (a reply is text, not gigabytes)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in r.aiter_bytes():
        size += len(chunk)
        if size > limits.MAX_LM_REPLY_BYTES:
            raise ProviderError(
                f"{model}: reply larger than {limits.MAX_LM_REPLY_BYTES // limits.MIB} MiB", retryable=False
            )
        chunks.append(chunk)
    return b"".join(chunks)


def _reasoning_model(name: str) -> bool:
    n = name.split("/")[-1]
    return n.startswith(("o1", "o3", "o4", "gpt-5"))


def openai_body(req: LMRequest, provider: str = "openai") -> dict[str, Any]:
    """The chat-completions parameters for `req`; `extra_body` (OpenRouter) is merged into the JSON sent."""
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


def wire_body(req: LMRequest, provider: str) -> dict[str, Any]:
    """The JSON actually POSTed: `openai_body` with `extra_body` merged in, as the SDK used to do."""
    body = openai_body(req, provider)
    body.update(body.pop("extra_body", {}))
    return body


def _number(v: object) -> float | None:
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def parse_completion(data: Any, req: LMRequest) -> LMResponse:
    try:
        choice = data["choices"][0]
        content = choice["message"].get("content")
        if content is not None and not isinstance(content, str):
            raise TypeError("content is not a string")
        usage = data.get("usage") or {}
        prompt, completion = int(usage.get("prompt_tokens") or 0), int(usage.get("completion_tokens") or 0)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as e:
        detail = _detail(data) if isinstance(data, dict) and "error" in data else "no choices"
        raise ProviderError(
            f"{req.model}: invalid response from the provider ({redact(detail)[:200]})", retryable=True
        ) from e
    cost = _number(usage.get("cost"))
    return LMResponse(
        text=content or "",
        finish_reason=str(choice.get("finish_reason") or "stop"),
        input_tokens=prompt,
        output_tokens=completion,
        cost_usd=cost if cost is not None else -1.0,
        model=str(data.get("model") or req.model_name),
    )


class OpenAICompatible:
    """Chat completions: one POST to `<base>/chat/completions` (retries are the client's, which honour
    Retry-After)."""

    def __init__(
        self, provider: str, base_url: str, api_key: str, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.provider = provider
        self._url = base_url.rstrip("/") + "/chat/completions"
        headers = {"accept": "application/json", "user-agent": USER_AGENT}
        if api_key:
            headers["authorization"] = f"Bearer {api_key}"
        self._http = httpx.AsyncClient(transport=transport, headers=headers)

    def body(self, req: LMRequest) -> dict[str, Any]:
        """The JSON body sent for `req`."""
        return wire_body(req, self.provider)

    async def complete(self, req: LMRequest, timeout: float) -> LMResponse:
        data = await post_json(self._http, self._url, self.body(req), timeout, req.model, self.provider)
        return parse_completion(data, req)

    async def aclose(self) -> None:
        await self._http.aclose()


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


class AnthropicProvider:
    """Anthropic's Messages API: one POST to `/v1/messages`."""

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
                "user-agent": USER_AGENT,
            },
        )

    async def complete(self, req: LMRequest, timeout: float) -> LMResponse:
        url = f"{self._url}/v1/messages"
        msg = await post_json(self._http, url, anthropic_params(req), timeout, req.model, "anthropic")
        try:
            text = "".join(b.get("text", "") for b in msg["content"] if b.get("type") == "text")
            usage = msg.get("usage") or {}
            stop = str(msg.get("stop_reason"))
            tokens = int(usage.get("input_tokens", 0)), int(usage.get("output_tokens", 0))
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise ProviderError(f"{req.model}: invalid response from the provider", retryable=True) from e
        return LMResponse(
            text=text,
            finish_reason={"max_tokens": "length", "end_turn": "stop", "stop_sequence": "stop"}.get(
                stop, stop
            ),
            input_tokens=tokens[0],
            output_tokens=tokens[1],
            cost_usd=-1.0,
            model=str(msg.get("model", req.model_name)),
        )

    async def aclose(self) -> None:
        await self._http.aclose()
