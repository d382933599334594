"""Hidden-text techniques in PDFs: each is reported with its page and cut from the planner's text."""

from __future__ import annotations

from pathlib import Path

import pytest

from abplan import load_paper
from conftest import need_module
from pdfmaker import BODY, TRICKS, VISIBLE_ON_SHAPES, content_pdf, tricks_pdf

pytestmark = pytest.mark.pdf


@pytest.fixture
def tricks(tmp_path: Path) -> Path:
    need_module("pymupdf", "pdf")
    return tricks_pdf(tmp_path / "tricks.pdf")


@pytest.mark.parametrize("technique", sorted(TRICKS))
def test_each_technique_is_reported_on_its_page_and_removed(tricks: Path, technique: str) -> None:
    page, payload = TRICKS[technique]
    paper = load_paper(tricks)
    found = [f for f in paper.findings if f.kind == "hidden-text" and f.technique == technique]
    assert [(f.page, f.excerpt, f.removed) for f in found] == [(page, payload, True)]
    assert f"page {page}:" in found[0].detail
    assert payload not in paper.text
    assert all(payload not in s.text for s in paper.sections)
    assert BODY.strip() in paper.text  # the visible text around it stays


def test_keep_hidden_keeps_every_payload(tricks: Path) -> None:
    kept = load_paper(tricks, keep_hidden_text=True)
    for _, payload in TRICKS.values():
        assert payload in kept.text
    assert all(not f.removed for f in kept.findings if f.kind == "hidden-text")
    assert {f.technique for f in kept.findings if f.kind == "hidden-text"} == set(TRICKS)


def test_text_a_reader_sees_on_shapes_is_not_reported(tricks: Path) -> None:
    paper = load_paper(tricks)
    for text in VISIBLE_ON_SHAPES:  # white on a dark banner, on a light box, under an underline rule
        assert text in paper.text
        assert not any(text in f.excerpt for f in paper.findings)
    assert not any(f.page == 7 for f in paper.findings)


def test_raw_content_stream_render_mode_3_and_zero_ca(tmp_path: Path) -> None:
    """Operators written by hand, as another producer would: `3 Tr`, `/GS0 gs` with `/ca 0`, `re f`."""
    need_module("pymupdf", "pdf")
    content = (
        b"q BT /F1 10 Tf 3 Tr 72 500 Td (RENDER MODE THREE PAYLOAD) Tj ET Q\n"
        b"q /GS0 gs BT /F1 10 Tf 72 480 Td (ZERO CA PAYLOAD TEXT) Tj ET Q\n"
        b"BT /F1 10 Tf 72 460 Td (UNDER A LATER BOX PAYLOAD) Tj ET\n"
        b"q 0 0 0 rg 60 450 300 25 re f Q\n"
        b"q 1 1 0 rg 60 420 300 25 re f 1 1 0 rg BT /F1 10 Tf 72 430 Td (YELLOW ON YELLOW PAYLOAD) Tj ET Q\n"
    )
    paper = load_paper(content_pdf(tmp_path / "raw.pdf", content))
    got = {f.technique: (f.page, f.excerpt) for f in paper.findings if f.kind == "hidden-text"}
    assert got == {
        "render-mode-3": (1, "RENDER MODE THREE PAYLOAD"),
        "zero-opacity": (1, "ZERO CA PAYLOAD TEXT"),
        "covered-by-rect": (1, "UNDER A LATER BOX PAYLOAD"),
        "background-colour": (1, "YELLOW ON YELLOW PAYLOAD"),
    }
    assert "PAYLOAD" not in paper.text and BODY.strip() in paper.text
