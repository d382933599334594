"""Damaged and oversized PDFs: a clean InputError (exit 2) or a bounded read that says what it skipped."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from abplan import limits, load_paper
from abplan.cli import app
from abplan.errors import InputError
from abplan.papers import pdf as pdfmod
from conftest import need_module
from pdfmaker import BODY, content_pdf, text_pdf

ENGINES = ["pymupdf", "pypdf"]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "pymupdf":
        need_module("pymupdf", "pdf")
    else:
        monkeypatch.setattr(pdfmod, "have_pymupdf", lambda: False)
    return str(request.param)


@pytest.mark.parametrize("count", [1_000_000, 2_147_483_647, -5])
def test_a_page_tree_that_claims_absurd_counts_is_read_as_it_is(
    tmp_path: Path, engine: str, count: int
) -> None:
    start = time.perf_counter()
    paper = load_paper(content_pdf(tmp_path / "claims.pdf", b"", count=count))
    assert time.perf_counter() - start < 5  # nothing per claimed page
    assert paper.pages == 1 and BODY.strip() in paper.text
    assert any(
        f.kind == "damaged" and f"claims {count} pages but holds 1" in f.detail for f in paper.findings
    )


@pytest.mark.parametrize(
    ("kids", "why"),
    [
        (b"[2 0 R]", "damaged PDF"),
        (b"(not an array)", "damaged PDF"),
        (b"[99 0 R]", "no (extractable text|pages)"),
    ],
)
def test_broken_page_trees_end_in_input_error(tmp_path: Path, engine: str, kids: bytes, why: str) -> None:
    p = content_pdf(tmp_path / "tree.pdf", b"", kids=kids)
    with pytest.raises(InputError, match=why):
        load_paper(p)
    res = CliRunner().invoke(app, ["read", str(p)])
    assert res.exit_code == 2, res.output
    assert "tree.pdf" in res.output and "internal error" not in res.output.lower()


def test_pdf_over_the_byte_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = content_pdf(tmp_path / "big.pdf", b"")
    monkeypatch.setattr(limits, "MAX_PDF_BYTES", 200)
    with pytest.raises(InputError, match=r"big\.pdf: the PDF is over"):
        load_paper(p)
    with pytest.raises(InputError, match="over"):
        pdfmod.extract(p.read_bytes(), "big.pdf")


def test_pages_past_the_page_limit_are_not_read(
    tmp_path: Path, engine: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    need_module("pymupdf", "pdf")  # to write the file
    pages = [[(f"Page {i} says {BODY}", {}), (BODY, {}), (BODY, {})] for i in range(7)]
    p = text_pdf(tmp_path / "long.pdf", pages)
    monkeypatch.setattr(limits, "MAX_PDF_PAGES", 5)
    paper = load_paper(p)
    assert paper.pages == 7
    assert "Page 4 says" in paper.text and "Page 5 says" not in paper.text
    assert any(f.kind == "truncated" and "first 5" in f.detail for f in paper.findings)
