"""A local server that is not running fails at once with a hint; the retries that do happen are visible."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from abplan.cli import app
from abplan.errors import LMError
from abplan.lm import LMClient, LMRequest
from abplan.lm.wire import is_loopback
from abplan.testing import FaultServer
from conftest import EXAMPLE


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def complete(c: LMClient, req: LMRequest) -> None:
    async def go() -> None:
        try:
            await c.complete(req)
        finally:
            await c.aclose()

    asyncio.run(go())


@pytest.mark.parametrize(
    ("model", "hint"),
    [
        ("ollama/qwen3:8b", "is `ollama serve` running?"),
        ("vllm/Qwen/Qwen3-8B", "is `vllm serve <model>` running?"),
        ("llamacpp/m", "is `llama-server` running?"),
        ("openai/gpt-4o", "is the server running?"),
    ],
)
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_refused_local_connection_fails_at_once(model: str, hint: str, host: str, tmp_path: Path) -> None:
    base = f"http://{host}:{free_port()}/v1"
    c = LMClient(cache_dir=tmp_path / "c", base_url=base, api_key="k-123456", max_retries=4, backoff=2.0)
    t = time.monotonic()
    with pytest.raises(LMError) as info:
        complete(c, LMRequest.chat(model, "s", "u"))
    assert time.monotonic() - t < 2.0  # no backoff: the first retry alone would wait at least 1 s
    msg = str(info.value)
    assert hint in msg and base in msg and "connection failed" in msg and "\n" not in msg
    assert c.stats.requests == 1 and c.stats.retries == 0


def test_refused_remote_connection_is_still_retried(tmp_path: Path) -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        if len(calls) == 1:
            raise httpx.ConnectError("[Errno 111] Connection refused")
        return httpx.Response(200, json={"choices": [{"message": {"content": "ok"}}]})

    c = LMClient(
        cache_dir=tmp_path / "c", transport=httpx.MockTransport(handler), api_key="k-123456", backoff=0
    )
    complete(c, LMRequest.chat("openai/gpt-4o", "s", "u"))
    assert len(calls) == 2 and c.stats.retries == 1


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://localhost:11434/v1", True),
        ("http://127.0.0.5:8000/v1", True),
        ("http://[::1]:8080/v1", True),
        ("http://0.0.0.0:8080/v1", True),
        ("http://api.localhost/v1", True),
        ("https://api.openai.com/v1", False),
        ("http://10.0.0.2:8000/v1", False),
        ("http://localhost.example.com/v1", False),
    ],
)
def test_is_loopback(url: str, local: bool) -> None:
    assert is_loopback(url) is local


def test_cli_ollama_without_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABPLAN_CACHE_DIR", str(tmp_path / "cache"))
    base = f"http://127.0.0.1:{free_port()}/v1"
    t = time.monotonic()
    res = CliRunner().invoke(
        app,
        ["plan", str(EXAMPLE), "--model", "ollama/qwen3:8b", "--base-url", base, "-o", str(tmp_path / "p")],
    )
    elapsed = time.monotonic() - t
    assert res.exit_code == 1, res.output
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and "is `ollama serve` running?" in lines[0], res.stderr
    assert elapsed < 5.0


def test_retries_are_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    replies = [
        httpx.Response(429, json={"error": {"message": "slow down"}}, headers={"retry-after": "0"}),
        httpx.Response(503, json={"error": {"message": "overloaded"}}),
        httpx.Response(200, json={"choices": [{"message": {"content": "ok"}}]}),
    ]
    n = iter(range(99))

    def handler(request: httpx.Request) -> httpx.Response:
        return replies[next(n)]

    c = LMClient(
        cache_dir=tmp_path / "c", transport=httpx.MockTransport(handler), api_key="k-123456", backoff=0
    )
    with caplog.at_level(logging.WARNING, logger="abplan"):
        complete(c, LMRequest.chat("openai/gpt-4o", "s", "u"))
    records = [r for r in caplog.records if r.name == "abplan"]
    assert len(records) == 2 and all(r.levelno == logging.WARNING for r in records)
    first, second = (r.getMessage() for r in records)
    assert "HTTP 429" in first and "slow down" in first and "retry 1 of 4 in 0.0s" in first
    assert "HTTP 503" in second and "retry 2 of 4" in second


def test_cli_shows_each_retry_on_stderr(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABPLAN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("ABPLAN_MAX_RETRIES", "1")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789")
    with FaultServer(rates={"503": 1.0}) as server:
        res = CliRunner().invoke(
            app,
            [
                "plan",
                str(EXAMPLE),
                "-p",
                "lm",
                "--model",
                "openai/gpt-4o",
                "--base-url",
                server.base_url,
                "-o",
                str(tmp_path),
            ],
        )
        assert server.requests == 2
    assert res.exit_code == 1
    lines = res.stderr.strip().splitlines()
    retry = [x for x in lines if "retry 1 of 1 in" in x]
    assert len(retry) == 1 and "HTTP 503" in retry[0] and retry[0].startswith("abplan: ")
    assert lines[-1].startswith("abplan: error:") and "after 2 attempts" in lines[-1]


def test_other_local_connect_errors_are_retried(tmp_path: Path) -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        if len(calls) == 1:
            raise httpx.ConnectError("[SSL: WRONG_VERSION_NUMBER] wrong version number")
        return httpx.Response(200, json={"choices": [{"message": {"content": "ok"}}]})

    c = LMClient(cache_dir=tmp_path / "c", transport=httpx.MockTransport(handler), backoff=0)
    complete(c, LMRequest.chat("ollama/q", "s", "u"))
    assert len(calls) == 2 and calls[0].startswith("http://localhost:11434/")
