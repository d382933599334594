"""Build small PDFs for tests (PyMuPDF when present; pypdf for blank and encrypted ones)."""

from __future__ import annotations

import io
from pathlib import Path

from pypdf import PdfWriter


def blank_pdf(path: Path, pages: int = 1) -> Path:
    w = PdfWriter()
    for _ in range(pages):
        w.add_blank_page(612, 792)
    with path.open("wb") as fh:
        w.write(fh)
    return path


def text_pdf(path: Path, pages: list[list[tuple[str, dict[str, object]]]]) -> Path:
    """pages: per page, a list of (text, options) with options fontsize, color, y."""
    import pymupdf

    doc = pymupdf.open()
    for items in pages:
        page = doc.new_page()
        y = 72.0
        for text, opts in items:
            page.insert_text(
                (72, float(opts.get("y", y))),
                text,
                fontsize=float(opts.get("fontsize", 11)),
                color=opts.get("color", (0, 0, 0)),
            )  # type: ignore[arg-type]
            y += 16
    doc.save(str(path))
    doc.close()
    return path


def encrypt(src: Path, dest: Path, password: str = "secret") -> Path:
    from pypdf import PdfReader

    r = PdfReader(str(src))
    w = PdfWriter()
    for p in r.pages:
        w.add_page(p)
    w.encrypt(user_password=password, owner_password=password, algorithm="RC4-128")
    buf = io.BytesIO()
    w.write(buf)
    dest.write_bytes(buf.getvalue())
    return dest
