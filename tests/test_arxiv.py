from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import httpx
import pytest

from abplan import load_paper
from abplan.errors import InputError
from abplan.papers.arxiv import parse_arxiv_id, sniff

TEX = b"\\documentclass{article}\\title{Arxiv Paper Title}\\begin{document}\\begin{abstract}We do it.\\end{abstract}\\section{Method}Body text here.\\end{document}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("2507.08038", "2507.08038"),
        ("arxiv:2507.08038v2", "2507.08038v2"),
        ("arXiv:1706.03762", "1706.03762"),
        ("https://arxiv.org/abs/2507.08038", "2507.08038"),
        ("https://arxiv.org/pdf/2507.08038v3.pdf", "2507.08038v3"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("paper.pdf", None),
        ("2507.0803", None),
    ],
)
def test_parse_ids(source: str, expected: str | None) -> None:
    assert parse_arxiv_id(source) == expected


def tarball() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        info = tarfile.TarInfo("main.tex")
        info.size = len(TEX)
        tf.addfile(info, io.BytesIO(TEX))
    return buf.getvalue()


def transport_for(routes: dict[str, tuple[int, bytes]], seen: list[str]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        status, body = routes.get(request.url.path, (404, b"not found"))
        return httpx.Response(status, content=body)

    return httpx.MockTransport(handler)


def test_sniffing() -> None:
    assert sniff(tarball()) == "gzip-tar"
    assert sniff(gzip.compress(TEX)) == "gzip-tex"
    assert sniff(b"%PDF-1.5 ...") == "pdf"
    assert sniff(TEX) == "tex"


@pytest.mark.parametrize("body", [tarball(), gzip.compress(TEX)])
def test_eprint_download_and_cache(tmp_path: Path, body: bytes) -> None:
    seen: list[str] = []
    t = transport_for({"/e-print/2507.08038": (200, body)}, seen)
    paper = load_paper("arxiv:2507.08038", cache_dir=tmp_path, transport=t)
    assert paper.title == "Arxiv Paper Title" and paper.source_kind == "latex"
    again = load_paper("2507.08038", cache_dir=tmp_path, transport=t)
    assert again.content_hash == paper.content_hash
    assert seen == ["/e-print/2507.08038"]  # the second load came from the download cache


def test_falls_back_to_pdf(tmp_path: Path) -> None:
    from conftest import PDFS, need_shared

    pdf_bytes = need_shared(PDFS / "vcd-cosbeta.pdf").read_bytes()
    seen: list[str] = []
    t = transport_for(
        {"/e-print/2401.00001": (200, b"<html>withdrawn</html>"), "/pdf/2401.00001": (200, pdf_bytes)}, seen
    )
    paper = load_paper("2401.00001", cache_dir=tmp_path, transport=t)
    assert paper.source_kind == "pdf"
    assert seen == ["/e-print/2401.00001", "/pdf/2401.00001"]


def test_unknown_id(tmp_path: Path) -> None:
    t = transport_for({}, [])
    with pytest.raises(InputError, match="no such paper"):
        load_paper("9912.99999", cache_dir=tmp_path, transport=t)
