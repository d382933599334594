from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from abplan.errors import LMError
from abplan.lm import CacheMiss, LMClient, LMRequest, ResponseCache
from abplan.testing import FakeModels


def completion(
    text: str = "hello", finish: str = "stop", extra_usage: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-4o-2024",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": finish}],
        "usage": {
            "prompt_tokens": 1000,
            "completion_tokens": 200,
            "total_tokens": 1200,
            **(extra_usage or {}),
        },
    }


class Server:
    """Answers from a script of (status, body, headers); records every request."""

    def __init__(self, script: list[tuple[int, Any, dict[str, str]]]) -> None:
        self.script = script
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status, body, headers = self.script[min(len(self.requests) - 1, len(self.script) - 1)]
        if isinstance(body, bytes):
            return httpx.Response(status, content=body, headers=headers)
        return httpx.Response(status, json=body, headers=headers)

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]


def client(server: Server, tmp_path: Path, **kw: Any) -> LMClient:
    kw.setdefault("backoff", 0.0)
    return LMClient(
        cache_dir=tmp_path / "cache",
        transport=httpx.MockTransport(server),
        api_key=kw.pop("api_key", "sk-test"),
        **kw,
    )


def run(c: LMClient, req: LMRequest) -> Any:
    async def go() -> Any:
        try:
            return await c.complete(req)
        finally:
            await c.aclose()

    return asyncio.run(go())


REQ = LMRequest.chat("openai/gpt-4o", "You plan.", "Plan this paper.", temperature=0.0, max_tokens=1000)


def test_openai_wire_format_and_cost(tmp_path: Path) -> None:
    srv = Server([(200, completion("plan text"), {})])
    resp = run(client(srv, tmp_path), REQ)
    assert resp.text == "plan text" and not resp.cached
    r = srv.requests[0]
    assert r.method == "POST" and r.url.path == "/v1/chat/completions" and r.url.host == "api.openai.com"
    assert r.headers["authorization"] == "Bearer sk-test"
    assert r.headers["content-type"].startswith("application/json")
    body = srv.bodies()[0]
    assert body["model"] == "gpt-4o"
    assert body["messages"] == [
        {"role": "system", "content": "You plan."},
        {"role": "user", "content": "Plan this paper."},
    ]
    assert body["temperature"] == 0.0 and body["max_tokens"] == 1000
    assert resp.cost_usd == pytest.approx((1000 * 2.5 + 200 * 10) / 1e6)


def test_json_schema_is_sent_natively(tmp_path: Path) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    srv = Server([(200, completion('{"a": "x"}'), {})])
    run(client(srv, tmp_path), LMRequest.chat("vllm/qwen", "s", "u", json_schema=schema))
    body = srv.bodies()[0]
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "output", "schema": schema, "strict": False},
    }
    assert srv.requests[0].url.host == "localhost" and srv.requests[0].url.port == 8000


def test_reasoning_models_get_max_completion_tokens(tmp_path: Path) -> None:
    srv = Server([(200, completion(), {})])
    run(client(srv, tmp_path), LMRequest.chat("openai/o3-mini", "s", "u", temperature=0.0, max_tokens=500))
    body = srv.bodies()[0]
    assert body["max_completion_tokens"] == 500 and "temperature" not in body and "max_tokens" not in body


def test_openrouter_reported_cost_wins(tmp_path: Path) -> None:
    srv = Server([(200, completion(extra_usage={"cost": 0.0123}), {})])
    resp = run(client(srv, tmp_path), LMRequest.chat("openrouter/google/gemini-2.5-flash", "s", "u"))
    assert resp.cost_usd == pytest.approx(0.0123)
    assert srv.bodies()[0]["model"] == "google/gemini-2.5-flash"
    assert srv.bodies()[0]["usage"] == {"include": True}


def test_retries_429_and_500_then_caches(tmp_path: Path) -> None:
    srv = Server(
        [
            (429, {"error": {"message": "slow down"}}, {"retry-after": "0"}),
            (500, {"error": "boom"}, {}),
            (200, completion("ok"), {}),
        ]
    )
    c = client(srv, tmp_path)
    assert run(c, REQ).text == "ok"
    assert len(srv.requests) == 3 and c.stats.retries == 2
    # a second run with the same cache makes no request at all
    srv2 = Server([(500, {"error": "must not be called"}, {})])
    c2 = client(srv2, tmp_path)
    resp = run(c2, REQ)
    assert resp.text == "ok" and resp.cached and srv2.requests == []
    assert c2.stats.usage.calls == 0 and c2.stats.usage.cached_calls == 1 and c2.stats.usage.cost_usd == 0


def test_retry_after_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    waits: list[float] = []
    real_sleep = asyncio.sleep

    async def fake_sleep(d: float) -> None:
        waits.append(d)
        await real_sleep(0)

    monkeypatch.setattr(asyncio, "sleep", fake_sleep)
    srv = Server([(429, {"error": "x"}, {"retry-after": "7"}), (200, completion(), {})])
    run(client(srv, tmp_path), REQ)
    assert waits and waits[0] == pytest.approx(7.0)


def test_retries_stop_at_the_limit(tmp_path: Path) -> None:
    srv = Server([(503, {"error": "down"}, {})])
    with pytest.raises(LMError, match=r"HTTP 503.*after 3 attempts"):
        run(client(srv, tmp_path, max_retries=2), REQ)
    assert len(srv.requests) == 3


def test_auth_error_is_not_retried(tmp_path: Path) -> None:
    srv = Server([(401, {"error": {"message": "bad key"}}, {})])
    with pytest.raises(LMError, match="HTTP 401 authentication failed"):
        run(client(srv, tmp_path), REQ)
    assert len(srv.requests) == 1


def test_invalid_json_body_is_retried(tmp_path: Path) -> None:
    srv = Server([(200, b"{not json", {"content-type": "application/json"}), (200, completion("fine"), {})])
    assert run(client(srv, tmp_path), REQ).text == "fine"
    assert len(srv.requests) == 2


def test_truncated_reply_is_retried_with_more_tokens(tmp_path: Path) -> None:
    srv = Server([(200, completion("cut", finish="length"), {}), (200, completion("whole"), {})])
    resp = run(client(srv, tmp_path), REQ)
    assert resp.text == "whole"
    assert [b["max_tokens"] for b in srv.bodies()] == [1000, 2000]
    assert resp.input_tokens == 2000  # both attempts are counted


def test_truncated_twice_is_an_error(tmp_path: Path) -> None:
    srv = Server([(200, completion("cut", finish="length"), {})])
    with pytest.raises(LMError, match="cut off"):
        run(client(srv, tmp_path), REQ)


def test_offline_miss_is_recorded_as_pending(tmp_path: Path) -> None:
    srv = Server([(200, completion(), {})])
    c = client(srv, tmp_path, offline=True)
    with pytest.raises(CacheMiss):
        run(c, REQ)
    cache = ResponseCache.in_dir(tmp_path / "cache")
    assert [k for k, _ in cache.pending()] == [REQ.key]
    assert srv.requests == []


def test_cache_key_depends_on_every_parameter() -> None:
    base = LMRequest.chat("openai/gpt-4o", "s", "u")
    keys = {
        base.key,
        LMRequest.chat("openai/gpt-4o-mini", "s", "u").key,
        LMRequest.chat("openai/gpt-4o", "s", "u2").key,
        LMRequest.chat("openai/gpt-4o", "s", "u", temperature=0.7).key,
        LMRequest.chat("openai/gpt-4o", "s", "u", max_tokens=10).key,
    }
    assert len(keys) == 5
    assert LMRequest.chat("openai/gpt-4o", "s", "u", tag="other").key == base.key


def test_api_key_is_never_written(tmp_path: Path) -> None:
    secret = "sk-very-secret-123456"
    srv = Server([(200, completion(), {})])
    run(client(srv, tmp_path, api_key=secret), REQ)
    assert srv.requests and srv.requests[0].headers["authorization"] == f"Bearer {secret}"  # the key was sent
    files = [f for f in (tmp_path / "cache").rglob("*") if f.is_file()]
    assert any(b"hello" in f.read_bytes() for f in files), "the response was not cached"
    for f in files:
        assert secret.encode() not in f.read_bytes()


def test_anthropic_wire_format(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            json={
                "id": "msg_1",
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-5",
                "content": [{"type": "text", "text": "hi there"}],
                "stop_reason": "end_turn",
                "stop_sequence": None,
                "usage": {"input_tokens": 100, "output_tokens": 10},
            },
        )

    c = LMClient(
        cache_dir=tmp_path / "c", transport=httpx.MockTransport(handler), api_key="ak-test", backoff=0
    )
    resp = run(c, LMRequest.chat("anthropic/claude-sonnet-4-5", "sys", "user msg", max_tokens=300))
    assert resp.text == "hi there"
    r = seen[0]
    assert r.url.path == "/v1/messages" and r.headers["x-api-key"] == "ak-test"
    assert r.headers["anthropic-version"] == "2023-06-01"
    body = json.loads(r.content)
    assert (
        body["system"] == "sys"
        and body["messages"] == [{"role": "user", "content": "user msg"}]
        and body["max_tokens"] == 300
    )
    assert resp.cost_usd == pytest.approx((100 * 3 + 10 * 15) / 1e6)


def test_missing_key_is_a_config_error(tmp_path: Path) -> None:
    from abplan.errors import ConfigError

    c = LMClient(cache_dir=tmp_path / "c")
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        run(c, REQ)


def test_local_providers_need_no_key(tmp_path: Path) -> None:
    srv = Server([(200, completion("local"), {})])
    c = LMClient(cache_dir=tmp_path / "c", transport=httpx.MockTransport(srv), backoff=0)
    assert run(c, LMRequest.chat("ollama/qwen3:8b", "s", "u")).text == "local"
    assert srv.requests[0].url.port == 11434 and srv.bodies()[0]["model"] == "qwen3:8b"


def test_concurrency_bound_and_rate_limit(tmp_path: Path, fake_lm: FakeModels) -> None:
    import time

    from abplan.lm import FakeModel

    state = {"now": 0, "max": 0}

    async def reply(req: LMRequest) -> str:
        state["now"] += 1
        state["max"] = max(state["max"], state["now"])
        await asyncio.sleep(0.02)
        state["now"] -= 1
        return "ok"

    fake_lm("bounded", FakeModel(reply))

    async def go(c: LMClient, n: int) -> None:
        try:
            await asyncio.gather(
                *(c.complete(LMRequest.chat("fake/bounded", "s", f"u{i}")) for i in range(n))
            )
        finally:
            await c.aclose()

    asyncio.run(go(LMClient(cache_dir=tmp_path / "a", concurrency=3), 12))
    assert state["max"] == 3
    t = time.perf_counter()
    asyncio.run(go(LMClient(cache_dir=tmp_path / "b", concurrency=8, rpm=1200), 6))  # one request per 50 ms
    assert time.perf_counter() - t >= 0.25
