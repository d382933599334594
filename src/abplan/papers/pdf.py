"""PDF papers: text from pypdf (core) and PyMuPDF (the `pdf` extra), whichever reads the document better."""

from __future__ import annotations

import importlib.util
import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from abplan.errors import InputError
from abplan.papers.pdf_hidden import pdf_hidden_spans
from abplan.papers.sections import dehyphenate, split_plain_sections
from abplan.schema import Finding

MAX_PAGES = 400
_HEADER_LINE = re.compile(
    r"(?i)^(arxiv:|preprint|published as|under review|proceedings of|journal of|vol\.|volume|"
    r".*\(\d{4}\)$|.*\bconference\b|.*\bworkshop\b|contents lists available|\d+$|page \d+)"
)


@dataclass
class PdfText:
    pages: list[str]
    engine: str
    title_hint: str = ""
    page_count: int = 0
    findings: list[Finding] = field(default_factory=list)
    # Text a reader would not see (PyMuPDF's scan; it applies whichever engine's text is kept).
    hidden: list[Finding] = field(default_factory=list)
    hidden_chunks: list[str] = field(default_factory=list)


def quality(text: str) -> float:
    """Share of tokens that look like words: low for glyph soup or text with the spaces lost."""
    toks = text.split()
    if not toks:
        return 0.0
    good = sum(1 for t in toks if 1 <= len(t.strip(".,;:()[]\"'")) <= 18 and any(c.isalpha() for c in t))
    return good / len(toks)


def have_pymupdf() -> bool:
    return importlib.util.find_spec("pymupdf") is not None


def _check_header(data: bytes, name: str) -> None:
    if not data:
        raise InputError(f"{name}: the file is empty")
    if b"%PDF-" not in data[:1024]:
        raise InputError(f"{name}: not a PDF file (no %PDF header)")


def read_pypdf(data: bytes, name: str) -> PdfText:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception as e:  # pypdf raises several types for unsupported crypto
                raise InputError(f"{name}: the PDF is encrypted and cannot be read without a password") from e
            if not ok:
                raise InputError(f"{name}: the PDF is encrypted and cannot be read without a password")
        n = len(reader.pages)
        pages = []
        for i, page in enumerate(reader.pages):
            if i >= MAX_PAGES:
                break
            try:
                pages.append(page.extract_text() or "")
            except Exception:  # a broken content stream on one page should not lose the paper
                pages.append("")
        title = ""
        meta = reader.metadata
        if meta is not None and meta.title:
            title = str(meta.title)
    except InputError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, AssertionError, IndexError, OSError) as e:
        raise InputError(f"{name}: damaged PDF that cannot be read ({type(e).__name__})") from e
    return PdfText(pages=pages, engine="pypdf", title_hint=title, page_count=n)


def read_pymupdf(data: bytes, name: str) -> PdfText:
    import pymupdf

    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except Exception as e:
        raise InputError(f"{name}: damaged PDF that cannot be read ({type(e).__name__})") from e
    with doc:
        if doc.needs_pass and not doc.authenticate(""):
            raise InputError(f"{name}: the PDF is encrypted and cannot be read without a password")
        pages: list[str] = []
        title = _largest_font_title(doc)
        meta_title = (doc.metadata or {}).get("title") or ""
        if plausible_title(meta_title):
            title = meta_title
        page: Any
        for i, page in enumerate(doc):  # type: ignore[arg-type,unused-ignore]
            if i >= MAX_PAGES:
                break
            pages.append(page.get_text())
        hidden, chunks = pdf_hidden_spans(doc, MAX_PAGES)
        return PdfText(
            pages=pages,
            engine="pymupdf",
            title_hint=title,
            page_count=doc.page_count,
            hidden=hidden,
            hidden_chunks=chunks,
        )


def _largest_font_title(doc: Any) -> str:
    """The largest-font lines in the top half of page 1, skipping journal headers."""
    if doc.page_count == 0:
        return ""
    page = doc[0]
    spans: list[tuple[float, float, str]] = []
    headers: list[str] = []
    for block in page.get_text("dict").get("blocks", []):
        for line in block.get("lines", []):
            text = "".join(s.get("text", "") for s in line.get("spans", [])).strip()
            if _HEADER_LINE.match(text):
                headers.append(text)
                continue
            if len(text) < 3 or any(text in h for h in headers):
                continue
            size = max((s.get("size", 0.0) for s in line.get("spans", [])), default=0.0)
            y = line.get("bbox", (0, 0, 0, 0))[1]
            if y < page.rect.height * 0.5:
                spans.append((size, y, text))
    if not spans:
        return ""
    top = max(s for s, _, _ in spans)
    lines = [t for s, _, t in sorted(spans, key=lambda x: x[1]) if s >= top - 0.5]
    return " ".join(lines)[:300]


def extract(data: bytes, name: str) -> PdfText:
    _check_header(data, name)
    best: PdfText | None = None
    if have_pymupdf():
        best = read_pymupdf(data, name)
        if quality("\n".join(best.pages)) < 0.8:
            alt = read_pypdf(data, name)
            if quality("\n".join(alt.pages)) > quality("\n".join(best.pages)):
                alt.title_hint = best.title_hint or alt.title_hint
                alt.hidden, alt.hidden_chunks = best.hidden, best.hidden_chunks
                best = alt
    else:
        best = read_pypdf(data, name)
    chars = sum(len(p.strip()) for p in best.pages)
    if best.page_count == 0:
        raise InputError(f"{name}: the PDF has no pages")
    if chars < 100 * min(best.page_count, 3) / 3 or chars < 20 * len(best.pages):
        raise InputError(f"{name}: no extractable text (a scanned or image-only PDF needs OCR first)")
    if best.page_count > MAX_PAGES:
        best.findings.append(
            Finding(
                kind="truncated", detail=f"only the first {MAX_PAGES} of {best.page_count} pages were read"
            )
        )
    return best


def plausible_title(t: str) -> bool:
    t = t.strip()
    low = t.lower()
    if len(t.split()) < 2 or len(t) > 300 or low.startswith(("untitled", "microsoft word", "title")):
        return False
    return not low.endswith((".pdf", ".dvi", ".doc", ".docx", ".tex"))


def _title_from_text(first_page: str) -> str:
    for line in first_page.splitlines():
        s = line.strip()
        if len(s) < 8 or _HEADER_LINE.match(s) or "@" in s:
            continue
        return s[:300]
    return ""


def parse_pdf_text(pdf: PdfText) -> tuple[str, str, list[Any], str]:
    text = dehyphenate("\n".join(pdf.pages))
    text = text.replace("\x00", "")
    sections = split_plain_sections(text)
    hint = re.sub(r"\s+", " ", pdf.title_hint).strip()
    title = (
        hint
        if hint and (pdf.engine == "pymupdf" or plausible_title(hint))
        else _title_from_text(pdf.pages[0] if pdf.pages else "")
    )
    abstract = ""
    m = re.search(
        r"(?is)\babstract\b[\s.:—-]*(.+?)(?=\n\s*(?:1\.?|I\.)?\s*introduction\b|\n\s*keywords\b|\n\s*index terms\b)",
        text,
    )
    if m:
        abstract = re.sub(r"\s+", " ", m.group(1)).strip()[:4000]
    if not abstract:
        for s in sections:
            if s.heading.lower().strip(" .:") == "abstract":
                abstract = re.sub(r"\s+", " ", s.text).strip()[:4000]
                break
    return title, abstract, sections, text


def read_pdf_file(path: Path) -> PdfText:
    return extract(path.read_bytes(), path.name)
