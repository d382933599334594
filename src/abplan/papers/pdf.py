"""PDF papers: text from pypdf (core) and PyMuPDF (the `pdf` extra), whichever reads the document better."""

from __future__ import annotations

import importlib.util
import io
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from abplan import limits
from abplan.errors import InputError
from abplan.papers.pdf_hidden import scan_page
from abplan.papers.sections import dehyphenate, split_plain_sections
from abplan.redact import redact
from abplan.schema import Finding

QUALITY_FLOOR = 0.8  # below this share of word-like tokens pypdf is asked too, and the better text kept
_MAX_BAD_RUN = 50  # unreadable pages in a row after which reading stops
_MAX_FINDINGS = 50
_HEADER_LINE = re.compile(
    r"(?i)^(arxiv:|preprint|published as|under review|proceedings of|journal of|vol\.|volume|"
    r".*\(\d{4}\)$|.*\bconference\b|.*\bworkshop\b|contents lists available|\d+$|page \d+)"
)


class _Damaged(InputError):
    """PyMuPDF could not read the document: pypdf may still."""

    def __init__(self, name: str, error: Exception) -> None:
        self.reason = f"PyMuPDF: {redact(str(error))[:160] or type(error).__name__}"
        super().__init__(f"{name}: damaged PDF that cannot be read ({type(error).__name__})")


@dataclass
class PdfText:
    pages: list[str]
    engine: str
    title_hint: str = ""
    page_count: int = 0
    findings: list[Finding] = field(default_factory=list)
    # Text a reader would not see (PyMuPDF's scan; it applies whichever engine's text is kept).
    hidden: list[Finding] = field(default_factory=list)
    # Hidden texts still in `pages` that the caller must cut out (pypdf's text only).
    hidden_chunks: list[str] = field(default_factory=list)
    # The engines that ran, in order ("pymupdf", then "pypdf" when the text's quality was low).
    engines: list[str] = field(default_factory=list)
    # Whether the hidden text was already left out of `pages` (PyMuPDF reads span by span).
    visible_done: bool = False

    def __post_init__(self) -> None:
        if not self.engines:
            self.engines = [self.engine]


def quality(text: str, sample: int = 4000) -> float:
    """Share of tokens that look like words: low for glyph soup or text with the spaces lost.
    Judged on at most `sample` tokens spread evenly over the text."""
    toks = text.split()
    if not toks:
        return 0.0
    toks = toks[:: max(1, len(toks) // sample)]
    good = sum(
        1
        for t in toks
        if (len(t) <= 18 and t.isalpha())
        or (1 <= len(t.strip(".,;:()[]\"'")) <= 18 and any(c.isalpha() for c in t))
    )
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
            if i >= limits.MAX_PDF_PAGES:
                break
            try:
                pages.append(page.extract_text() or "")
            except Exception:  # a broken content stream on one page should not lose the paper
                pages.append("")
        title = ""
        meta = reader.metadata
        if meta is not None and meta.title:
            title = str(meta.title)
        root: Any = reader.trailer["/Root"]
        claimed = root["/Pages"].get("/Count")
    except InputError:
        raise
    except Exception as e:  # pypdf raises many types (PdfReadError, KeyError, RecursionError...) on damage
        raise InputError(f"{name}: damaged PDF that cannot be read ({type(e).__name__})") from e
    out = PdfText(pages=pages, engine="pypdf", title_hint=title, page_count=n)
    if isinstance(claimed, int) and claimed != n:
        out.findings.append(
            Finding(kind="damaged", detail=f"the page tree claims {claimed} pages but holds {n}")
        )
    return out


def read_pymupdf(data: bytes, name: str, keep_hidden: bool = False) -> PdfText:
    import pymupdf

    pymupdf.TOOLS.mupdf_display_errors(False)  # damage is reported as an InputError or a finding
    pymupdf.TOOLS.mupdf_display_warnings(False)
    try:
        doc = pymupdf.open(stream=data, filetype="pdf")
    except Exception as e:
        raise _Damaged(name, e) from e
    with doc:
        try:
            if doc.needs_pass and not doc.authenticate(""):
                raise InputError(f"{name}: the PDF is encrypted and cannot be read without a password")
            return _read_doc(doc, name, keep_hidden)
        except InputError:
            raise
        except Exception as e:  # MuPDF raises RuntimeError subclasses for broken page trees and objects
            raise _Damaged(name, e) from e


def _read_doc(doc: Any, name: str, keep_hidden: bool) -> PdfText:
    """Each page read once (text and hidden-text scan in one pass), up to the page limit."""
    claimed = doc.page_count
    out = PdfText(pages=[], engine="pymupdf", page_count=claimed)
    bad = run = 0
    for pno in range(min(claimed, limits.MAX_PDF_PAGES)):
        try:
            page = doc.load_page(pno)
            scan = scan_page(page, pno)
        except Exception:  # one broken page should not lose the paper
            bad, run = bad + 1, run + 1
            out.pages.append("")
            if run >= _MAX_BAD_RUN:
                break  # a page count that the page tree does not hold
            continue
        run = 0
        out.pages.append(scan.full_text if keep_hidden else scan.text)
        out.hidden.extend(scan.findings)
        out.hidden_chunks.extend(scan.hidden)
        if pno == 0:
            out.title_hint = _largest_font_title(scan.lines, page.rect.height)
    if bad and bad == len(out.pages):
        raise _Damaged(name, RuntimeError("no page of the page tree could be loaded"))
    meta_title = (doc.metadata or {}).get("title") or ""
    if plausible_title(meta_title):
        out.title_hint = meta_title
    if bad:
        out.findings.append(
            Finding(kind="damaged", detail=f"{bad} of {len(out.pages)} pages could not be read")
        )
        out.pages = out.pages[: len(out.pages) - run]  # trailing pages that are not there
    out.hidden = out.hidden[:_MAX_FINDINGS]
    if keep_hidden:
        out.hidden_chunks = []
    out.visible_done = True
    return out


def _largest_font_title(lines: list[tuple[float, float, str]], height: float) -> str:
    """The largest-font lines in the top half of page 1, skipping journal headers."""
    spans: list[tuple[float, float, str]] = []
    headers: list[str] = []
    for size, y, text in lines:
        if _HEADER_LINE.match(text):
            headers.append(text)
            continue
        if len(text) < 3 or any(text in h for h in headers):
            continue
        if y < height * 0.5:
            spans.append((size, y, text))
    if not spans:
        return ""
    top = max(s for s, _, _ in spans)
    picked = [t for s, _, t in sorted(spans, key=lambda x: x[1]) if s >= top - 0.5]
    return " ".join(picked)[:300]


def extract(data: bytes, name: str, keep_hidden: bool = False) -> PdfText:
    _check_header(data, name)
    if len(data) > limits.MAX_PDF_BYTES:
        raise InputError(f"{name}: the PDF is over {limits.MAX_PDF_BYTES // limits.MIB} MiB")
    best = _with_pymupdf(data, name, keep_hidden) if have_pymupdf() else read_pypdf(data, name)
    chars = sum(len(p.strip()) for p in best.pages)
    if best.page_count == 0:
        raise InputError(f"{name}: the PDF has no pages")
    if chars < 100 * min(best.page_count, 3) / 3 or chars < 20 * len(best.pages):
        raise InputError(f"{name}: no extractable text (a scanned or image-only PDF needs OCR first)")
    if best.page_count > limits.MAX_PDF_PAGES:
        best.findings.append(
            Finding(
                kind="truncated",
                detail=f"the PDF claims {best.page_count} pages; only the first {limits.MAX_PDF_PAGES} were read",
            )
        )
    if best.visible_done:
        best.hidden_chunks = []  # already left out of the page texts
    return best


def _with_pymupdf(data: bytes, name: str, keep_hidden: bool) -> PdfText:
    """PyMuPDF's text, or pypdf's where PyMuPDF cannot read the document or pypdf reads it better."""
    try:
        best = read_pymupdf(data, name, keep_hidden)
    except _Damaged as e:  # e.g. a page tree MuPDF refuses; pypdf walks the tree it holds
        alt = read_pypdf(data, name)
        alt.engines = ["pymupdf", "pypdf"]
        alt.findings.append(
            Finding(kind="damaged", detail=f"{e.reason}; read with pypdf alone, without the hidden-text scan")
        )
        return alt
    if quality("\n".join(best.pages)) >= QUALITY_FLOOR:
        return best
    alt = read_pypdf(data, name)
    best.engines.append("pypdf")
    if quality("\n".join(alt.pages)) <= quality("\n".join(best.pages)):
        return best
    alt.title_hint = best.title_hint or alt.title_hint
    alt.hidden, alt.engines, alt.findings = best.hidden, best.engines, best.findings + alt.findings
    # pypdf's text still holds the hidden spans: they are cut out by text.
    alt.hidden_chunks = [] if keep_hidden else [c for c in best.hidden_chunks if len(c) >= 4]
    return alt


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


def read_pdf_file(path: Path, keep_hidden: bool = False) -> PdfText:
    """Read a PDF file; the pages hold only what a reader sees unless keep_hidden."""
    size = path.stat().st_size
    if size > limits.MAX_PDF_BYTES:
        raise InputError(
            f"{path.name}: the PDF is over {limits.MAX_PDF_BYTES // limits.MIB} MiB ({size} bytes)"
        )
    return extract(path.read_bytes(), path.name, keep_hidden)
