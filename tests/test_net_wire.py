"""Chat completions over plain httpx: what goes on the wire for every OpenAI-compatible base, and how replies,
errors and timeouts are read."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from abplan.errors import LMError
from abplan.lm import LMClient, LMRequest, LMResponse
from abplan.lm.wire import USER_AGENT, openai_body, wire_body

SCHEMA = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}


def completion(text: Any = "hi", usage: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {
        "id": "c1",
        "object": "chat.completion",
        "created": 1,
        "model": "served-model",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": usage if usage is not None else {"prompt_tokens": 1000, "completion_tokens": 200},
        **extra,
    }


class Recorder:
    def __init__(self, *replies: httpx.Response | Exception) -> None:
        self.replies = list(replies)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        r = self.replies[min(len(self.requests) - 1, len(self.replies) - 1)]
        if isinstance(r, Exception):
            raise r
        return r


def call(rec: Recorder, req: LMRequest, tmp_path: Path, **kw: Any) -> LMResponse:
    async def go() -> LMResponse:
        kw.setdefault("backoff", 0.0)
        c = LMClient(cache_dir=tmp_path / "c", transport=httpx.MockTransport(rec), **kw)
        try:
            return await c.complete(req)
        finally:
            await c.aclose()

    return asyncio.run(go())


@pytest.mark.parametrize(
    ("model", "base_url", "url"),
    [
        ("openai/gpt-4o", None, "https://api.openai.com/v1/chat/completions"),
        ("openrouter/google/gemini-2.5-flash", None, "https://openrouter.ai/api/v1/chat/completions"),
        ("ollama/qwen3:8b", None, "http://localhost:11434/v1/chat/completions"),
        ("vllm/Qwen/Qwen3-8B", None, "http://localhost:8000/v1/chat/completions"),
        ("llamacpp/any", None, "http://localhost:8080/v1/chat/completions"),
        ("mine/m", "http://gpu-box:9000/v1/", "http://gpu-box:9000/v1/chat/completions"),
    ],
)
def test_every_base_gets_one_post(
    model: str, base_url: str | None, url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-o-0123456789")
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-0123456789")
    rec = Recorder(httpx.Response(200, json=completion("plan")))
    req = LMRequest.chat(model, "sys", "user", seed=7, max_tokens=100)
    resp = call(rec, req, tmp_path, base_url=base_url)
    assert resp.text == "plan" and resp.model == "served-model"
    (r,) = rec.requests
    assert r.method == "POST" and str(r.url) == url
    assert r.headers["content-type"] == "application/json" and r.headers["user-agent"] == USER_AGENT
    body = json.loads(r.content)
    assert body["model"] == model.split("/", 1)[1] and body["seed"] == 7 and body["max_tokens"] == 100
    assert body["messages"] == [{"role": "system", "content": "sys"}, {"role": "user", "content": "user"}]
    assert "extra_body" not in body
    assert ("usage" in body) == model.startswith("openrouter/")
    key = {"openai": "sk-o-0123456789", "openrouter": "sk-or-0123456789"}.get(model.split("/")[0])
    assert r.headers.get("authorization") == (f"Bearer {key}" if key else None)


def test_local_key_is_sent_when_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VLLM_API_KEY", "vllm-key-123456")
    rec = Recorder(httpx.Response(200, json=completion()))
    call(rec, LMRequest.chat("vllm/q", "s", "u"), tmp_path)
    assert rec.requests[0].headers["authorization"] == "Bearer vllm-key-123456"


def test_timeout_is_passed_to_every_phase(tmp_path: Path) -> None:
    rec = Recorder(httpx.Response(200, json=completion()))
    call(rec, LMRequest.chat("ollama/q", "s", "u"), tmp_path, timeout=42.0)
    assert rec.requests[0].extensions["timeout"] == {
        "connect": 42.0,
        "read": 42.0,
        "write": 42.0,
        "pool": 42.0,
    }


def test_timeouts_are_retried_then_reported(tmp_path: Path) -> None:
    rec = Recorder(httpx.ReadTimeout("slow"), httpx.Response(200, json=completion("late")))
    assert call(rec, LMRequest.chat("ollama/q", "s", "u"), tmp_path).text == "late"
    rec = Recorder(httpx.ReadTimeout("slow"))
    with pytest.raises(LMError, match=r"timed out after 9s after 2 attempts"):
        call(rec, LMRequest.chat("ollama/q", "s", "u"), tmp_path / "b", timeout=9.0, max_retries=1)


def test_structured_output_and_reasoning_bodies(tmp_path: Path) -> None:
    rec = Recorder(httpx.Response(200, json=completion('{"a": "x"}')))
    call(rec, LMRequest.chat("llamacpp/m", "s", "u", json_schema=SCHEMA, top_p=0.9), tmp_path)
    body = json.loads(rec.requests[0].content)
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "output", "schema": SCHEMA, "strict": False},
    }
    assert body["top_p"] == 0.9 and body["temperature"] == 0.0
    body = wire_body(LMRequest.chat("openai/o3-mini", "s", "u", max_tokens=9), "openai")
    assert body["max_completion_tokens"] == 9 and "max_tokens" not in body and "temperature" not in body


@pytest.mark.parametrize(
    ("usage", "cost"),
    [
        ({"prompt_tokens": 1000, "completion_tokens": 200, "cost": 0.0123}, 0.0123),
        ({"prompt_tokens": 1000, "completion_tokens": 200, "cost": 0}, 0.0),  # a free model stays free
        ({"prompt_tokens": 1000, "completion_tokens": 200, "cost": True}, None),  # not a number: the table
        ({"prompt_tokens": 1000, "completion_tokens": 200}, None),
    ],
)
def test_openrouter_cost(
    usage: dict[str, Any], cost: float | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-0123456789")
    rec = Recorder(httpx.Response(200, json=completion(usage=usage)))
    resp = call(rec, LMRequest.chat("openrouter/openai/gpt-4o", "s", "u"), tmp_path)
    expected = cost if cost is not None else (1000 * 2.5 + 200 * 10) / 1e6
    assert resp.cost_usd == pytest.approx(expected)
    assert resp.input_tokens == 1000 and resp.output_tokens == 200


@pytest.mark.parametrize(
    "bad",
    [
        httpx.Response(200, json={"error": {"message": "upstream overloaded"}}),  # OpenRouter's 200 error
        httpx.Response(200, json={"choices": []}),
        httpx.Response(200, json=completion(text=["not", "a", "string"])),
        httpx.Response(200, content=b"\xff\xfe not utf-8 {", headers={"content-type": "application/json"}),
        httpx.Response(200, json=[1, 2]),
    ],
)
def test_unreadable_replies_are_retried(bad: httpx.Response, tmp_path: Path) -> None:
    rec = Recorder(bad, httpx.Response(200, json=completion("good")))
    resp = call(rec, LMRequest.chat("ollama/q", "s", "u"), tmp_path)
    assert resp.text == "good" and len(rec.requests) == 2


def test_null_content_and_missing_usage(tmp_path: Path) -> None:
    data = completion(text=None, usage={})
    data["choices"][0]["finish_reason"] = None
    data.pop("model")
    resp = call(Recorder(httpx.Response(200, json=data)), LMRequest.chat("ollama/q", "s", "u"), tmp_path)
    assert (resp.text, resp.finish_reason, resp.input_tokens, resp.model) == ("", "stop", 0, "q")


@pytest.mark.parametrize(
    ("status", "body", "match"),
    [
        (
            400,
            {"error": {"message": "context too long"}},
            r"HTTP 400 the provider rejected the request \(context too long\)",
        ),
        (
            404,
            "<html>no such route</html>",
            r"HTTP 404 model or endpoint not found \(<html>no such route</html>\)",
        ),
        (401, {"error": "nope"}, r"HTTP 401 authentication failed: check the API key \(nope\)"),
    ],
)
def test_status_errors(status: int, body: Any, match: str, tmp_path: Path) -> None:
    resp = httpx.Response(status, json=body) if isinstance(body, dict) else httpx.Response(status, text=body)
    rec = Recorder(resp)
    with pytest.raises(LMError, match=match):
        call(rec, LMRequest.chat("ollama/q", "s", "u"), tmp_path)
    assert len(rec.requests) == 1  # not retried


REQUESTS = [
    LMRequest.chat("m/x", "s", "u"),
    LMRequest.chat("m/x", "s", "u", temperature=None, seed=3, max_tokens=50),
    LMRequest.chat("m/x", "s", "u", json_schema=SCHEMA, top_p=0.5, temperature=0.7),
    LMRequest(model="m/o3-mini", messages=(("user", "u"),), seed=1),
]


@pytest.mark.parametrize("provider", ["openai", "openrouter", "ollama", "vllm", "llamacpp"])
@pytest.mark.parametrize("req", REQUESTS)
def test_body_is_what_the_openai_sdk_sent(provider: str, req: LMRequest) -> None:
    """Same JSON as the `openai` SDK produced from `openai_body` (where the SDK is installed)."""
    openai = pytest.importorskip("openai", reason="the openai SDK is not installed: nothing to compare with")
    seen: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.content)
        return httpx.Response(200, json=completion())

    async def go() -> None:
        http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        sdk = openai.AsyncOpenAI(
            api_key="k", base_url="http://localhost:1/v1", max_retries=0, http_client=http
        )
        try:
            await sdk.chat.completions.create(**openai_body(req, provider))
        finally:
            await sdk.close()
            await http.aclose()

    asyncio.run(go())
    assert json.loads(seen[0]) == wire_body(req, provider)


def test_oversized_reply_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from abplan import limits

    monkeypatch.setattr(limits, "MAX_LM_REPLY_BYTES", 1 << 20)
    rec = Recorder(httpx.Response(200, json=completion("x" * (2 << 20))))
    with pytest.raises(LMError, match="reply larger than 1 MiB"):
        call(rec, LMRequest.chat("ollama/q", "s", "u"), tmp_path)
    assert len(rec.requests) == 1
    ok = Recorder(httpx.Response(200, json=completion("y" * (1 << 19))))
    assert len(call(ok, LMRequest.chat("ollama/q", "s", "u2"), tmp_path).text) == 1 << 19


def test_gzip_encoded_reply_is_decoded(tmp_path: Path) -> None:
    import gzip

    raw = gzip.compress(json.dumps(completion("zipped")).encode())
    rec = Recorder(httpx.Response(200, content=raw, headers={"content-encoding": "gzip"}))
    assert call(rec, LMRequest.chat("ollama/q", "s", "u"), tmp_path).text == "zipped"


@pytest.mark.parametrize("model", ["ollama/q", "anthropic/claude-sonnet-4-5"])
def test_lone_surrogate_in_a_prompt_is_sent_as_valid_json(model: str, tmp_path: Path) -> None:
    anthropic = {"content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn", "usage": {}}
    rec = Recorder(httpx.Response(200, json=anthropic if model.startswith("anthropic") else completion("ok")))
    resp = call(
        rec, LMRequest.chat(model, "s", "broken text map: \udc9f and é"), tmp_path, api_key="k-123456"
    )
    assert resp.text == "ok"
    r = rec.requests[0]
    assert r.headers["content-type"] == "application/json"
    sent = json.loads(r.content)["messages"][-1]["content"]
    assert sent == "broken text map: \udc9f and é"  # escaped on the wire, the same text once parsed
    r.content.decode("ascii")


def test_ordinary_prompts_are_sent_as_utf8(tmp_path: Path) -> None:
    rec = Recorder(httpx.Response(200, json=completion("ok")))
    call(rec, LMRequest.chat("ollama/q", "s", "café ∑"), tmp_path)
    assert "café ∑".encode() in rec.requests[0].content
