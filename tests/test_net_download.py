"""arXiv downloads: a size cap and a wall-clock deadline, and gzipped e-prints expanded as a capped stream."""

from __future__ import annotations

import gzip
import threading
import time
import tracemalloc
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from abplan import limits, load_paper
from abplan.errors import InputError
from abplan.papers.arxiv import SNIFF_BYTES, download, sniff

MIB = 1 << 20
TEX = b"\\documentclass{article}\\title{Bomb}\\begin{document}\\section{Method}Text.\\end{document}"


class Trickle:
    """A loopback server whose e-print arrives `step` bytes every `every` seconds (or never, if step is 0)."""

    def __init__(self, step: int, every: float) -> None:
        self.stop = threading.Event()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("content-length", str(10 * MIB))
                self.end_headers()
                self.wfile.flush()
                while not owner.stop.wait(every):
                    try:
                        if step:
                            self.wfile.write(b"%" * step)
                            self.wfile.flush()
                    except OSError:
                        return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> Trickle:
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def short_deadline(monkeypatch: pytest.MonkeyPatch) -> Iterator[float]:
    monkeypatch.setattr(limits, "DOWNLOAD_DEADLINE_S", 1.0)
    yield 1.0


def left_in_cache(cache: Path) -> list[Path]:
    return [f for f in cache.rglob("*") if f.is_file()]


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("step", "every"), [(1, 0.02), (0, 0.05)])
def test_trickling_server_hits_the_deadline(
    step: int, every: float, short_deadline: float, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Trickle(step, every) as server:
        monkeypatch.setenv("ABPLAN_ARXIV_URL", server.url)
        t = time.monotonic()
        with pytest.raises(InputError, match=r"arXiv 2401.00001: download did not finish within 1s"):
            load_paper("2401.00001", cache_dir=tmp_path)
        elapsed = time.monotonic() - t
    assert short_deadline <= elapsed + 0.05 and elapsed < short_deadline + 2.0
    assert left_in_cache(tmp_path) == []


def body_transport(body: bytes, seen: list[str] | None = None) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request.url.path)
        return httpx.Response(200, content=body)

    return httpx.MockTransport(handler)


def test_download_size_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_DOWNLOAD_BYTES", 1 * MIB)
    seen: list[str] = []
    with pytest.raises(InputError, match="download larger than 1 MiB"):
        download("2401.00001", tmp_path, transport=body_transport(TEX + b"%" * (3 * MIB), seen))
    assert left_in_cache(tmp_path) == [] and seen == ["/e-print/2401.00001"]


def test_gzip_eprint_bomb_is_capped_in_memory_and_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(limits, "MAX_TEXT_INPUT_BYTES", 4 * MIB)
    bomb = gzip.compress(TEX + bytes(64 * MIB), 9)
    assert len(bomb) < 200_000
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match="e-print expands past 4 MiB"):
            download("2401.00001", tmp_path, transport=body_transport(bomb))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * MIB  # streamed: the 64 MiB never sit in memory
    assert left_in_cache(tmp_path) == []


def test_sniff_reads_a_bounded_head() -> None:
    bomb = gzip.compress(TEX + bytes(64 * MIB), 9)
    tracemalloc.start()
    try:
        assert sniff(bomb) == "gzip-tex"
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * SNIFF_BYTES + len(bomb)
    assert sniff(gzip.compress(b"%PDF-1.7 ...")) == "gzip-pdf"
    assert sniff(b"\x1f\x8bgarbage") == "unknown"
    assert sniff(b"x" * (SNIFF_BYTES + 10) + b"\\documentclass") == "unknown"  # beyond the head


def test_gzipped_pdf_and_tex_within_the_cap(tmp_path: Path) -> None:
    got = download("2401.00002", tmp_path, transport=body_transport(gzip.compress(TEX)))
    assert got.name == "2401.00002.tex" and got.read_bytes() == TEX
    assert left_in_cache(tmp_path) == [got]  # no temporary left beside it


def test_corrupt_gzip_eprint(tmp_path: Path) -> None:
    data = gzip.compress(TEX + bytes(1 * MIB))
    with pytest.raises(InputError, match="corrupt gzip e-print"):
        download("2401.00003", tmp_path, transport=body_transport(data[: len(data) // 2]))
    assert left_in_cache(tmp_path) == []


def test_pdf_fallback_is_capped_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_PDF_BYTES", 1 * MIB)
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if "e-print" in request.url.path:
            return httpx.Response(200, content=b"<html>withdrawn</html>")
        return httpx.Response(200, content=b"%PDF-1.5\n" + b"0" * (2 * MIB))

    with pytest.raises(InputError, match="download larger than 1 MiB"):
        download("2401.00004", tmp_path, transport=httpx.MockTransport(handler))
    assert seen == ["/e-print/2401.00004", "/pdf/2401.00004"] and left_in_cache(tmp_path) == []


def test_connection_failure_is_one_line(tmp_path: Path) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    with pytest.raises(InputError, match=r"arXiv 2401.00005: download failed \(ConnectError\)"):
        download("2401.00005", tmp_path, transport=httpx.MockTransport(handler))


def test_cache_dir_that_is_a_file(tmp_path: Path) -> None:
    from abplan.errors import ConfigError

    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ConfigError, match="is not a folder"):
        download("2401.00006", f, transport=body_transport(TEX))
