"""Keys never reach a message: `redact` itself, provider errors that echo the request, and the CLI's output."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from abplan import redact as redact_mod
from abplan.cli import app
from abplan.config import load_settings
from abplan.errors import InputError, LMError
from abplan.lm import LMClient, LMRequest
from abplan.lm.types import ProviderError
from abplan.redact import MASK, redact, register_secret
from conftest import EXAMPLE
from run_files import records
from synthetic import make_dataset

# Deliberately not sk-shaped: only the configured-key rule can catch it.
PLAIN_KEY = "plainKEY0123456789abcdefXYZ"
SK_KEY = "sk-proj-abcDEF0123456789ghijklmnop"


@pytest.fixture(autouse=True)
def _fresh_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(redact_mod, "_extra", set())


def leaks(text: str | bytes, key: str) -> bool:
    """The key, or any 8-character piece of it, appears in `text`."""
    data = text.encode() if isinstance(text, str) else text
    kb = key.encode()
    return any(kb[i : i + 8] in data for i in range(len(kb) - 7))


# -- redact() -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Bearer abcdefgh1234567890",  # a non-sk key after a scheme
        "authorization: bearer abcdefgh1234567890",
        "{'authorization': 'Bearer abcdefgh1234567890'}",
        '{"Authorization": "Bearer abcdefgh1234567890"}',
        "x-api-key: abcdefgh1234567890",
        '"x-api-key":"abcdefgh1234567890"',
        "?api_key=abcdefgh1234567890&x=1",
        "apikey = abcdefgh1234567890",
        "token is Bearer abcdefgh1234567890.",
        "Proxy-Authorization: Basic abcdefgh1234567890",
    ],
)
def test_key_shapes_are_masked(text: str) -> None:
    out = redact(text)
    assert "abcdefgh1234567890" not in out and MASK in out


@pytest.mark.parametrize(
    "key",
    [
        "sk-abcdefgh12345678",
        "sk-proj-AbC_dEf-1234567890",
        "sk-ant-api03-xyzXYZ0123456789",
        "sk-or-v1-0a1b2c3d4e5f",
    ],
)
def test_sk_keys_are_masked_anywhere(key: str) -> None:
    for text in (key, f"bad key {key}.", f"({key})", f"key={key}", f"'{key}'"):
        assert key not in redact(text), text


def test_configured_keys_are_masked_in_every_form(monkeypatch: pytest.MonkeyPatch) -> None:
    odd = 'k3y/with+sl"ash=='
    monkeypatch.setenv("MYPROVIDER_API_KEY", odd)
    monkeypatch.setenv("HF_TOKEN", "hf_abcdefghijkl")
    monkeypatch.setenv("SOME_SECRET", "  padded-secret  ")
    text = (
        f"raw {odd} json {json.dumps(odd)} url {httpx.QueryParams({'k': odd})} hf_abcdefghijkl padded-secret"
    )
    out = redact(text)
    assert "sl" not in out.replace("slash", "")  # every form of the odd key went
    assert "hf_abcdefghijkl" not in out and "padded-secret" not in out
    assert out.count(MASK) == 5


def test_registered_secret_and_short_values(monkeypatch: pytest.MonkeyPatch) -> None:
    register_secret(PLAIN_KEY)
    register_secret("abc")  # too short to mask without eating ordinary words
    register_secret(None)
    monkeypatch.setenv("TINY_TOKEN", "abc")
    assert redact(f"echo {PLAIN_KEY} abc") == f"echo {MASK} abc"


def test_redact_is_idempotent_and_leaves_prose_alone() -> None:
    prose = "HTTP 401 authentication failed: check the API key (model gpt-4o, 1200 tokens, task-0001)"
    assert redact(prose) == prose
    once = redact(f"Authorization: Bearer {PLAIN_KEY} and {SK_KEY}")
    assert redact(once) == once and PLAIN_KEY not in once and SK_KEY not in once


def test_errors_are_redacted_at_construction() -> None:
    register_secret(PLAIN_KEY)
    for exc in (
        LMError(f"boom {PLAIN_KEY}"),
        InputError(f"x {PLAIN_KEY}"),
        ProviderError(f"y {PLAIN_KEY}", retryable=False),
    ):
        assert PLAIN_KEY not in str(exc) and MASK in str(exc)


def test_config_file_keys_are_registered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "abplan.toml"
    cfg.write_text(f'[keys]\nopenai = "{PLAIN_KEY}"\nanthropic = "cfgkey-anthropic-0000"\n')
    cfg.chmod(0o600)
    monkeypatch.setenv("ABPLAN_CONFIG", str(cfg))
    monkeypatch.setenv(
        "ANTHROPIC_API_KEY", "env-wins-anthropic-1111"
    )  # the env key wins, the file's is masked too
    load_settings()
    assert os.environ["OPENAI_API_KEY"] == PLAIN_KEY
    os.environ.pop("OPENAI_API_KEY")  # masked even once it is no longer in the environment
    out = redact(f"{PLAIN_KEY} cfgkey-anthropic-0000 env-wins-anthropic-1111")
    assert out == f"{MASK} {MASK} {MASK}"


# -- providers that echo the request ------------------------------------------------------------------


def echo_handler(style: str) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        headers = dict(request.headers)
        if style == "json":
            return httpx.Response(401, json={"error": {"message": f"invalid key; you sent {headers}"}})
        if style == "text":
            lines = "\n".join(f"{k}: {v}" for k, v in request.headers.items())
            return httpx.Response(401, text=f"Unauthorized\n{lines}")
        # the key's tail lands just after the 200-character cut the message makes
        key = request.headers.get("authorization", request.headers.get("x-api-key", ""))
        return httpx.Response(403, json={"error": {"message": "x" * 190 + " key: " + key.split()[-1]}})

    return handler


def run_client(model: str, key: str, style: str, tmp_path: Path) -> str:
    async def go() -> str:
        c = LMClient(
            cache_dir=tmp_path / "c",
            transport=httpx.MockTransport(echo_handler(style)),
            api_key=key,
            backoff=0,
        )
        try:
            await c.complete(LMRequest.chat(model, "s", "u"))
        except LMError as e:
            return str(e)
        finally:
            await c.aclose()
        raise AssertionError("the provider's 401 did not fail the request")

    return asyncio.run(go())


@pytest.mark.parametrize(
    "model", ["openai/gpt-4o", "openrouter/x/y", "vllm/qwen", "anthropic/claude-sonnet-4-5"]
)
@pytest.mark.parametrize("style", ["json", "text", "cut"])
@pytest.mark.parametrize("key", [PLAIN_KEY, SK_KEY])
def test_echoed_headers_never_reach_the_error(model: str, style: str, key: str, tmp_path: Path) -> None:
    msg = run_client(model, key, style, tmp_path)
    assert "HTTP 40" in msg and not leaks(msg, key), msg


# -- the CLI, over a real loopback server -------------------------------------------------------------


class EchoServer:
    """A loopback server that answers every POST with 401 and the request headers in the body."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                body = json.dumps({"error": {"message": f"bad key in {dict(self.headers)}"}}).encode()
                self.send_response(401)
                self.send_header("content-type", "application/json")
                self.send_header("www-authenticate", str(self.headers.get("authorization")))
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def __enter__(self) -> EchoServer:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def echo_server() -> Iterator[EchoServer]:
    with EchoServer() as s:
        yield s


def all_bytes(res: Any) -> bytes:
    return bytes(res.stdout_bytes) + bytes(res.stderr_bytes or b"")


@pytest.mark.parametrize(
    ("model", "env"), [("openai/gpt-4o", "OPENAI_API_KEY"), ("anthropic/c", "ANTHROPIC_API_KEY")]
)
def test_cli_plan_error_is_clean(
    model: str, env: str, echo_server: EchoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(env, PLAIN_KEY)
    monkeypatch.setenv("ABPLAN_BASE_URL", echo_server.base_url)
    monkeypatch.setenv("ABPLAN_CACHE_DIR", str(tmp_path / "cache"))
    res = CliRunner().invoke(app, ["plan", str(EXAMPLE), "--model", model, "-o", str(tmp_path / "p")])
    out = all_bytes(res)
    assert res.exit_code == 1 and b"HTTP 401" in out, out
    assert not leaks(out, PLAIN_KEY)
    assert len(res.stderr.strip().splitlines()) == 1  # one line


def test_cli_key_from_config_file_is_clean(
    echo_server: EchoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg = tmp_path / "abplan.toml"
    cfg.write_text(f'[keys]\nopenai = "{PLAIN_KEY}"\n')
    cfg.chmod(0o600)
    monkeypatch.setenv("ABPLAN_CONFIG", str(cfg))
    monkeypatch.setenv("ABPLAN_BASE_URL", echo_server.base_url)
    monkeypatch.setenv("ABPLAN_CACHE_DIR", str(tmp_path / "cache"))
    res = CliRunner().invoke(
        app, ["plan", str(EXAMPLE), "--model", "openai/gpt-4o", "-o", str(tmp_path / "p")]
    )
    assert res.exit_code == 1 and b"HTTP 401" in all_bytes(res)
    assert not leaks(all_bytes(res), PLAIN_KEY)


def test_bench_failures_are_clean(
    echo_server: EchoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", PLAIN_KEY)
    monkeypatch.setenv("ABPLAN_BASE_URL", echo_server.base_url)
    monkeypatch.setenv("ABPLAN_CACHE_DIR", str(tmp_path / "cache"))
    ds = make_dataset(tmp_path / "ds", 2)
    run = tmp_path / "run"
    args = [
        "bench",
        "run",
        "--dataset",
        str(ds),
        "--planner",
        "lm",
        "--model",
        "openai/gpt-4o",
        "--out",
        str(run),
    ]
    res = CliRunner().invoke(app, args)
    failures = {tid: r.error for tid, r in records(run).items() if r.error is not None}
    assert len(failures) == 2 and all("HTTP 401" in e for e in failures.values())  # the errors were recorded
    assert b"HTTP 401" in (run / "journal.jsonl").read_bytes()
    assert not leaks(all_bytes(res), PLAIN_KEY)
    for f in tmp_path.rglob("*"):
        if f.is_file():
            assert not leaks(f.read_bytes(), PLAIN_KEY), f
