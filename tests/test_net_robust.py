"""Exit 2 with one line, never "internal error": unusable caches, badly typed config, full disks; and a lone
surrogate in a reply is stored safely."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from abplan import fsutil
from abplan.cli import app
from abplan.errors import ConfigError, ResourceError
from abplan.lm import LMClient, LMRequest, LMResponse, ResponseCache
from abplan.testing import FakeModels
from abplan.testing.fault_server import PLAN_REPLY
from conftest import EXAMPLE


def one_error_line(res: Any, code: int, *needles: str, notes: bool = False) -> str:
    """The command failed with `code` and one error line (after any notes, if `notes`)."""
    assert res.exit_code == code, (res.exit_code, res.output)
    lines = res.stderr.strip().splitlines()
    assert notes or len(lines) == 1, res.stderr
    line: str = lines[-1]
    assert sum("abplan: error:" in x for x in lines) == 1
    assert (
        line.startswith("abplan: error:") and "internal error" not in line and "Traceback" not in res.output
    )
    for n in needles:
        assert n in line, line
    return line


# -- the cache ----------------------------------------------------------------------------------------


@pytest.fixture
def garbage_cache(tmp_path: Path) -> Path:
    d = tmp_path / "cache"
    d.mkdir()
    (d / "lm-cache.sqlite").write_bytes(b"\x00not a database, just garbage\xff" * 500)
    return d


def test_garbage_cache_is_a_config_error(garbage_cache: Path) -> None:
    with pytest.raises(ConfigError, match=r"lm-cache.sqlite is unusable \(file is not a database\)"):
        ResponseCache.in_dir(garbage_cache)


@pytest.mark.parametrize("args", [["lm", "pending"], ["lm", "export"]])
def test_cli_garbage_cache(args: list[str], garbage_cache: Path) -> None:
    res = CliRunner().invoke(app, [*args, "--cache-dir", str(garbage_cache)])
    one_error_line(res, 2, "not a database", "ABPLAN_CACHE_DIR")


def test_cli_plan_with_garbage_cache(
    garbage_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789")
    res = CliRunner().invoke(
        app,
        [
            "plan",
            str(EXAMPLE),
            "--model",
            "openai/gpt-4o",
            "--cache-dir",
            str(garbage_cache),
            "-o",
            str(tmp_path),
        ],
    )
    one_error_line(res, 2, "not a database")


def test_malformed_pages_are_a_config_error(tmp_path: Path) -> None:
    cache = ResponseCache.in_dir(tmp_path)
    req = LMRequest.chat("fake/x", "s", "u")
    for i in range(200):
        cache.put_raw(f"k{i}", req.to_json(), LMResponse(text="x" * 2000))
    cache.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{cache.path}{suffix}").unlink(missing_ok=True)
    raw = bytearray(cache.path.read_bytes())
    raw[4096 * 2 : len(raw) - 4096] = b"\xa5" * (len(raw) - 4096 * 3)  # keep the header, wreck the pages
    cache.path.write_bytes(bytes(raw))
    with pytest.raises(ConfigError, match=r"LM cache .* (is unusable|holds an unreadable entry)"):
        again = ResponseCache.in_dir(tmp_path)
        for i in range(200):
            again.get(f"k{i}")


@pytest.mark.parametrize("args", [["lm", "pending"], ["lm", "export"], ["lm", "import", "x.jsonl"]])
def test_cache_dir_that_is_a_file(args: list[str], tmp_path: Path) -> None:
    f = tmp_path / "cachefile"
    f.write_text("not a folder")
    (tmp_path / "x.jsonl").write_text("")
    res = CliRunner().invoke(app, [*args, "--cache-dir", str(f)])
    one_error_line(res, 2, "is not a folder")
    assert f.read_text() == "not a folder"


def test_cache_path_that_is_a_folder(tmp_path: Path) -> None:
    (tmp_path / "lm-cache.sqlite").mkdir()
    with pytest.raises(ConfigError, match="is a folder"):
        ResponseCache.in_dir(tmp_path)


def test_full_disk_rolls_back_and_says_so(tmp_path: Path) -> None:
    """SQLite's own SQLITE_FULL (a page limit stands in for the disk): nothing half-written."""
    cache = ResponseCache.in_dir(tmp_path)
    small = LMRequest.chat("fake/x", "s", "small")
    cache.put(small, LMResponse(text="kept"))
    pages = cache._db.execute("PRAGMA page_count").fetchone()[0]
    cache._db.execute(f"PRAGMA max_page_count={pages + 1}")
    big = LMRequest.chat("fake/x", "s", "big")
    cache.add_pending(big)
    with pytest.raises(ResourceError, match="no space left on the device writing the LM cache"):
        cache.put(big, LMResponse(text="y" * 200_000))
    assert cache.get(big.key) is None and [k for k, _ in cache.pending()] == [big.key]
    got = cache.get(small.key)
    assert got is not None and got.text == "kept"
    assert cache._db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert ResourceError.exit_code == 2


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full to produce ENOSPC")
def test_cli_full_disk_writing_the_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.write
    full_fd = os.open("/dev/full", os.O_WRONLY)

    def full(fd: int, data: Any) -> int:
        if fd <= 2:
            return real(fd, data)
        return real(full_fd, data)  # every write fails with ENOSPC, as on a full disk

    monkeypatch.setattr(fsutil.os, "write", full)
    out = tmp_path / "plans"
    res = CliRunner().invoke(app, ["plan", str(EXAMPLE), "-o", str(out), "-q"])
    monkeypatch.undo()
    os.close(full_fd)
    one_error_line(res, 2, "no space left on the device", notes=True)
    assert not out.exists() or list(out.rglob("*")) == []  # no file, no temporary left behind


# -- config types -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("toml", "needle"),
    [
        ('keys = "sk-abc"', "[keys] must be a table"),
        ("[keys]\nopenai = 12345678", "[keys] openai must be a string"),
        ('[prices]\n"m/x" = [1.0]', "[prices] 'm/x' must be [input, output]"),
        ('[prices]\n"m/x" = ["a", "b"]', "[prices] 'm/x' must be [input, output]"),
        ('[prices]\n"m/x" = [1, 2, 3]', "[prices] 'm/x' must be [input, output]"),
        ('[prices]\n"m/x" = 3.0', "[prices] 'm/x' must be [input, output]"),
        ('[prices]\n"m/x" = [true, false]', "[prices] 'm/x' must be [input, output]"),
        ('[prices]\n"m/x" = [-1.0, 2.0]', "[prices] entries must be"),
        ("prices = 5", "[prices] entries must be"),
        ('concurrency = "eight"', "concurrency must be a number"),
        ('concurrency = "8"', "concurrency must be a number"),
        ("concurrency = true", "concurrency must be a number"),
        ("concurrency = 2.5", "concurrency must be an integer"),
        ("concurrency = inf", "concurrency must be an integer"),
        ("concurrency = 0", "concurrency must be at least 1"),
        ("timeout = -5", "timeout must be a positive number"),
        ("timeout = 0", "timeout must be a positive number"),
        ("timeout = nan", "timeout must be a positive number"),
        ("rpm = -1", "rpm must be a positive number"),
        ("max_retries = -1", "max_retries must be at least 0"),
        ("model = 5", "model must be a string"),
        ("timeout = [1]", "timeout must be a number"),
    ],
)
def test_badly_typed_config(toml: str, needle: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "abplan.toml"
    cfg.write_text(toml + "\n")
    cfg.chmod(0o600)
    monkeypatch.setenv("ABPLAN_CONFIG", str(cfg))
    res = CliRunner().invoke(app, ["plan", str(EXAMPLE), "-o", str(tmp_path / "p")])
    one_error_line(res, 2, needle)


@pytest.mark.parametrize(
    ("env", "value"), [("ABPLAN_TIMEOUT", "-1"), ("ABPLAN_CONCURRENCY", "x"), ("ABPLAN_RPM", "0")]
)
def test_badly_typed_environment(
    env: str, value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(env, value)
    res = CliRunner().invoke(app, ["plan", str(EXAMPLE), "-o", str(tmp_path / "p")])
    one_error_line(res, 2)


def test_good_config_still_loads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from abplan.config import load_settings

    cfg = tmp_path / "abplan.toml"
    cfg.write_text(
        'concurrency = 3\ntimeout = 12.5\nrpm = 60\nmax_retries = 0\n[prices]\n"a/b" = [1, 2.5]\n"c/d" = {input = 3, output = 4}\n'
    )
    monkeypatch.setenv("ABPLAN_CONFIG", str(cfg))
    monkeypatch.setenv("ABPLAN_CONCURRENCY", "5")  # the environment wins over the file
    s = load_settings()
    assert (s.concurrency, s.timeout, s.rpm, s.max_retries) == (5, 12.5, 60.0, 0)
    assert s.prices == {"a/b": (1.0, 2.5), "c/d": (3.0, 4.0)}


# -- lone surrogates ----------------------------------------------------------------------------------


def test_surrogate_from_the_wire_is_stored_safely(tmp_path: Path) -> None:
    body = b'{"choices": [{"message": {"content": "plan \\ud83d and \\udc00 end"}}]}'

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "application/json"})

    async def go(cache_dir: Path, transport: httpx.MockTransport | None) -> LMResponse:
        c = LMClient(cache_dir=cache_dir, transport=transport, backoff=0, api_key="k-123456")
        try:
            return await c.complete(LMRequest.chat("ollama/q", "s", "u"))
        finally:
            await c.aclose()

    first = asyncio.run(go(tmp_path, httpx.MockTransport(handler)))
    assert first.text == "plan \ufffd and \ufffd end"
    first.text.encode("utf-8")  # writable anywhere
    again = asyncio.run(go(tmp_path, None))
    assert again.cached and again.text == first.text


def test_surrogate_in_a_request_has_a_key() -> None:
    req = LMRequest.chat("fake/x", "s", "quote of a bad reply: \udc00")
    other = LMRequest.chat("fake/x", "s", "quote of a bad reply: \udc01")
    assert len(req.key) == 64 and req.key != other.key
    assert LMRequest.chat("fake/x", "s", "plain").key == LMRequest.chat("fake/x", "s", "plain").key


def test_cli_plan_with_a_surrogate_in_the_reply(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_lm: FakeModels
) -> None:
    monkeypatch.setenv("ABPLAN_CACHE_DIR", str(tmp_path / "cache"))
    fake_lm("surrogate", [PLAN_REPLY.replace("No gate", "No gate \ud800")])
    res = CliRunner().invoke(
        app,
        [
            "plan",
            str(EXAMPLE),
            "-p",
            "lm",
            "--model",
            "fake/surrogate",
            "-f",
            "md,json",
            "-o",
            str(tmp_path / "p"),
        ],
    )
    assert res.exit_code == 0, res.output
    md = next((tmp_path / "p").glob("*.md")).read_text("utf-8")
    assert "No gate \ufffd" in md
    db = sqlite3.connect(tmp_path / "cache" / "lm-cache.sqlite")
    try:
        assert db.execute("SELECT COUNT(*) FROM responses").fetchone()[0] == 1
    finally:
        db.close()
