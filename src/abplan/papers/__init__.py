"""Read a paper from a file, folder, archive or arXiv id into a `Paper`."""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx

from abplan.errors import InputError
from abplan.fsutil import default_cache_dir, sha256_text
from abplan.papers import archive, latex, markdown, pdf
from abplan.papers.arxiv import download, parse_arxiv_id
from abplan.papers.hidden import scan_latex, scan_text
from abplan.papers.sections import decode_text
from abplan.papers.textutil import file_name, file_suffix
from abplan.schema import Finding, Paper, Section

__all__ = ["TEXT_SUFFIXES", "default_cache_dir", "load_paper", "load_text_paper"]

TEXT_SUFFIXES = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".mmd": "markdown",
    ".txt": "text",
    ".text": "text",
}


def _paper(
    title: str,
    abstract: str,
    sections: list[Section],
    text: str,
    kind: str,
    source: str,
    findings: list[Finding],
    pages: int | None = None,
    given: tuple[str, str] = ("", ""),
) -> Paper:
    """The paper; `given` is a (title, abstract) that replaces the paper's where it is not empty."""
    if not text.strip():
        raise InputError(f"{source}: no text found in the paper")
    return Paper(
        title=given[0] or title.strip() or Path(source).stem,
        abstract=given[1] or abstract.strip(),
        sections=tuple(sections),
        text=text,
        source_kind=kind,  # type: ignore[arg-type]
        source=source,
        content_hash=sha256_text(text),
        findings=tuple(findings),
        pages=pages,
    )


def _load_text_file(
    path: Path | str,
    kind: str,
    keep_hidden: bool,
    data: bytes | None = None,
    given: tuple[str, str] = ("", ""),
) -> Paper:
    text = decode_text(latex.read_capped(path) if data is None else data, file_name(path))
    text, findings = scan_text(text, keep_hidden=keep_hidden, markup=kind == "markdown")
    parse = markdown.parse_markdown if kind == "markdown" else markdown.parse_plain
    title, abstract, sections = parse(text)
    return _paper(title, abstract, sections, text, kind, str(path), findings, given=given)


def load_text_paper(
    path: Path | str, data: bytes, *, keep_hidden_text: bool = False, title: str = "", abstract: str = ""
) -> Paper:
    """The Markdown or plain-text paper `path` (a suffix in `TEXT_SUFFIXES`) from its bytes, read by a
    caller that already checked the file (a benchmark task's paper): the checks of `load_paper` again,
    for every task of a run, would cost more than the parsing. A `title` or `abstract` given (a
    dataset's) replaces the paper's own. A string `path` is one written as pathlib writes paths
    (`str(Path(...))`): the paper's source is that string, as it would be of the Path."""
    if not data:
        raise InputError(f"{path}: the file is empty")
    kind = TEXT_SUFFIXES[file_suffix(path).lower()]
    return _load_text_file(path, kind, keep_hidden_text, data, given=(title, abstract))


def _load_latex_tree(root: Path, source: str, keep_hidden: bool, main: Path | None = None) -> Paper:
    flat, _main, findings = latex.flatten_tree(root, main)
    flat, hidden = scan_latex(flat, keep_hidden=keep_hidden)
    title, abstract, sections, body = latex.parse_latex_text(flat)
    return _paper(title, abstract, sections, body, "latex", source, findings + hidden)


def _load_pdf(path: Path, keep_hidden: bool) -> Paper:
    got = pdf.read_pdf_file(path, keep_hidden)
    title, abstract, sections, text = pdf.parse_pdf_text(got)
    text, findings = scan_text(text, keep_hidden=keep_hidden)
    hidden, removed = got.hidden, got.hidden_chunks
    if keep_hidden:
        hidden, removed = [f.model_copy(update={"removed": False}) for f in hidden], []
    findings = hidden + findings
    if removed:
        text = _drop(text, removed)
        sections = [Section(heading=s.heading, text=_drop(s.text, removed), level=s.level) for s in sections]
    return _paper(
        title, abstract, sections, text, "pdf", str(path), got.findings + findings, pages=got.page_count
    )


def _drop(text: str, chunks: list[str]) -> str:
    for c in chunks:
        text = text.replace(c, " ")
    return text


def _load_path(path: Path, source: str, keep_hidden: bool) -> Paper:
    if path.is_dir():
        return _load_latex_tree(path, source, keep_hidden)
    if not path.is_file():
        raise InputError(f"{source}: not a regular file")
    if path.stat().st_size == 0:
        raise InputError(f"{source}: the file is empty")
    suffix = path.suffix.lower()
    if archive.is_archive(path):
        with tempfile.TemporaryDirectory(prefix="abplan-src-") as tmp:
            root = archive.extract(path, Path(tmp))
            return _load_latex_tree(root, source, keep_hidden)
    if suffix == ".pdf":
        return _load_pdf(path, keep_hidden)
    if suffix == ".tex":
        return _load_latex_tree(path.parent, source, keep_hidden, main=path)
    if suffix in TEXT_SUFFIXES:
        return _load_text_file(path, TEXT_SUFFIXES[suffix], keep_hidden)
    head = path.read_bytes()[:8]
    if head.startswith(b"%PDF-"):
        return _load_pdf(path, keep_hidden)
    raise InputError(
        f"{source}: unsupported file type '{suffix or path.name}' (use .pdf, .tex, .md, .txt, a LaTeX folder, "
        ".tar.gz/.zip of sources, or an arXiv id)"
    )


def load_paper(
    source: str | Path,
    *,
    cache_dir: Path | None = None,
    keep_hidden_text: bool = False,
    transport: httpx.BaseTransport | None = None,
) -> Paper:
    """Read a paper from a path (PDF, .tex, LaTeX folder or archive, Markdown, text) or an arXiv id/URL."""
    src = str(source)
    path = Path(src).expanduser()
    if path.exists():
        return _load_path(path, src, keep_hidden_text)
    aid = parse_arxiv_id(src)
    if aid is not None:
        local = download(aid, cache_dir or default_cache_dir(), transport=transport)
        paper = _load_path(local, f"arXiv:{aid}", keep_hidden_text)
        return paper
    if src.startswith(("http://", "https://")):
        raise InputError(f"{src}: only arXiv URLs are supported; download the PDF and pass its path")
    raise InputError(f"{src}: no such file, and not an arXiv id")
