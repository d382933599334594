from __future__ import annotations

from pathlib import Path

import pytest

from abplan import load_paper
from abplan.errors import InputError
from conftest import DEV_BENCH, EXAMPLE, need_shared


def test_markdown_title_abstract_sections(tmp_path: Path) -> None:
    p = tmp_path / "p.md"
    p.write_text(
        "# My Method\n\n## Abstract\n\nWe do things well.\n\n## 1 Introduction\n\nIntro.\n\n## 2 Method\n\nBody.\n"
    )
    paper = load_paper(p)
    assert paper.title == "My Method"
    assert paper.abstract == "We do things well."
    assert [s.heading for s in paper.sections] == ["Abstract", "1 Introduction", "2 Method"]
    assert paper.source_kind == "markdown"
    assert len(paper.content_hash) == 64


def test_markdown_abstract_falls_back_to_first_paragraph(tmp_path: Path) -> None:
    p = tmp_path / "p.md"
    p.write_text(
        "# T\n\nThis opening paragraph is long enough to serve as the abstract of the paper.\n\n## Method\n\nx\n"
    )
    assert load_paper(p).abstract.startswith("This opening paragraph")


def test_headings_inside_code_fences_are_not_sections(tmp_path: Path) -> None:
    p = tmp_path / "p.md"
    p.write_text("# T\n\n## A\n\n```\n# not a heading\n```\n\n## B\n\ny\n")
    assert [s.heading for s in load_paper(p).sections] == ["A", "B"]


def test_plain_text(tmp_path: Path) -> None:
    p = tmp_path / "p.txt"
    p.write_text(
        "A Study of Things\n\nAbstract\nWe study things carefully and at length here.\n\n1 Introduction\nText.\n\n2 Method\nMore text.\n"
    )
    paper = load_paper(p)
    assert paper.title == "A Study of Things"
    assert "study things" in paper.abstract
    assert "2 Method" in [s.heading for s in paper.sections]


def test_dev_bench_papers_load() -> None:
    root = need_shared(DEV_BENCH)
    for md in sorted(root.glob("*/papers/*/paper.md")):
        paper = load_paper(md)
        assert paper.title and paper.abstract and len(paper.sections) >= 5, md


def test_bundled_example_loads() -> None:
    paper = load_paper(EXAMPLE)
    assert paper.title.startswith("PixelCNN++")


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "empty"), (b"   \n\n", "empty"), (b"\x00\x01\x02binary\x00junk" * 50, "binary")],
)
def test_bad_text_files(tmp_path: Path, content: bytes, message: str) -> None:
    p = tmp_path / "bad.md"
    p.write_bytes(content)
    with pytest.raises(InputError, match=message):
        load_paper(p)


def test_missing_file_and_unknown_type(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        load_paper(tmp_path / "nope.pdf")
    odd = tmp_path / "x.docx"
    odd.write_bytes(b"PK\x03\x04 whatever")
    with pytest.raises(InputError, match="unsupported file type"):
        load_paper(odd)


def test_non_utf8_text_is_read_as_latin1(tmp_path: Path) -> None:
    p = tmp_path / "p.md"
    p.write_bytes(
        "# Caf\xe9 Method\n\nSome text about the caf\xe9 method and more words.\n".encode("latin-1")
    )
    assert load_paper(p).title == "Café Method"


def test_huge_single_line_markdown_is_bounded(tmp_path: Path) -> None:
    p = tmp_path / "big.md"
    p.write_text("# Big\n\n" + "word " * 1_000_000)
    paper = load_paper(p)
    assert paper.title == "Big"
    assert len(paper.text) > 4_000_000
