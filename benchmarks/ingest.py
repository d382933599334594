"""Paper-reading speed: pages per second for PDFs, papers per second for LaTeX trees and Markdown.

python benchmarks/ingest.py [--shared ../shared] [--repeat 3]

PDF figures compare, in the same run, abplan's reading (text, hidden-text scan, sections) with raw
PyMuPDF `page.get_text()` and raw pypdf `page.extract_text()` over the same files.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from abplan import load_paper
from abplan.papers import pdf as pdfmod


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Best of `repeat` runs, in CPU seconds of this process: other work on the machine counts less."""
    runs = []
    for _ in range(repeat):
        t = time.process_time()
        fn()
        runs.append(time.process_time() - t)
    return min(runs)


def latex_tree(root: Path, sections: int = 12) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    inputs = "\n".join(f"\\input{{sec{i}}}" for i in range(sections))
    (root / "main.tex").write_text(
        "\\documentclass{article}\n\\title{A Synthetic Paper}\n\\begin{document}\n\\begin{abstract}We test speed.\\end{abstract}\n"
        f"{inputs}\n\\bibliography{{refs}}\n\\end{{document}}\n"
    )
    para = "We propose a widget loss weighted by $\\lambda = 0.1$ % a comment\n" * 40
    for i in range(sections):
        (root / f"sec{i}.tex").write_text(f"\\section{{Section {i}}}\n{para}\n\\subsection{{Part}}\n{para}\n")
    (root / "main.bbl").write_text("\\begin{thebibliography}{9}\\bibitem{x} X.\\end{thebibliography}\n")
    return root


def raw_pymupdf(path: Path) -> None:
    import pymupdf

    with pymupdf.open(path) as doc:
        for page in doc:
            page.get_text()


def raw_pypdf(path: Path) -> None:
    from pypdf import PdfReader

    for page in PdfReader(path).pages:
        page.extract_text()


def abplan_pdf(path: Path, use_mupdf: bool) -> None:
    real = pdfmod.have_pymupdf
    pdfmod.have_pymupdf = lambda: use_mupdf  # type: ignore[method-assign]
    try:
        load_paper(path)
    finally:
        pdfmod.have_pymupdf = real  # type: ignore[method-assign]


def pdf_report(pdfs: list[Path], repeat: int) -> None:
    """Per file and in total: abplan against raw PyMuPDF and raw pypdf text extraction, same run."""
    mupdf = pdfmod.have_pymupdf()
    runs: dict[str, Callable[[Path], None]] = {
        "raw pypdf": raw_pypdf,
        "abplan, pypdf only": lambda p: abplan_pdf(p, False),
    }
    if mupdf:
        runs = {"raw PyMuPDF": raw_pymupdf, "abplan": lambda p: abplan_pdf(p, True), **runs}
    pages = {p: load_paper(p).pages or 0 for p in pdfs}
    consulted = sum("pypdf" in pdfmod.read_pdf_file(p).engines for p in pdfs) if mupdf else 0
    times = {label: {p: timed(lambda p=p, f=f: f(p), repeat) for p in pdfs} for label, f in runs.items()}
    print(
        f"PDF: {len(pdfs)} files, {sum(pages.values())} pages; CPU seconds of this process, best of {repeat}"
    )
    print(f"  {'file':<22}{'pages':>6}" + "".join(f"{label:>20}" for label in runs) + "   (ms)")
    for p in pdfs:
        print(f"  {p.name:<22}{pages[p]:>6}" + "".join(f"{times[label][p] * 1000:>20.1f}" for label in runs))
    total = {label: sum(t.values()) for label, t in times.items()}
    n = sum(pages.values())
    if mupdf:
        label = (
            f"abplan (PyMuPDF text and hidden-text scan; pypdf also ran for {consulted} of {len(pdfs)} files)"
        )
        print(f"{label}: {n / total['abplan']:.1f} pages/s")
        print(
            f"  raw PyMuPDF text extraction: {n / total['raw PyMuPDF']:.1f} pages/s; abplan takes "
            f"{total['abplan'] / total['raw PyMuPDF']:.2f}x its time"
        )
        print(
            f"  raw pypdf text extraction: {n / total['raw pypdf']:.1f} pages/s; abplan takes "
            f"{total['abplan'] / total['raw pypdf']:.2f}x its time"
        )
    print(
        f"abplan, pypdf only: {n / total['abplan, pypdf only']:.1f} pages/s "
        f"({total['abplan, pypdf only'] / total['raw pypdf']:.2f}x raw pypdf's time)"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    default = os.environ.get("ABPLAN_SHARED") or Path(__file__).resolve().parents[2] / "shared"
    ap.add_argument("--shared", type=Path, default=Path(default))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    pdfs = sorted((args.shared / "data" / "pdfs").glob("*.pdf"))
    if pdfs:
        pdf_report(pdfs, args.repeat)
    with tempfile.TemporaryDirectory() as tmp:
        tree = latex_tree(Path(tmp) / "tree")
        t = timed(lambda: load_paper(tree), args.repeat)
        size = sum(f.stat().st_size for f in tree.iterdir())
        print(f"LaTeX: 13-file tree ({size // 1024} KB) in {t * 1000:.1f} ms = {1 / t:.1f} papers/s")
    mds = sorted((args.shared / "data" / "dev-bench").glob("*/papers/*/paper.md"))
    if mds:
        t = sum(timed(lambda m=m: load_paper(m), args.repeat) for m in mds)
        print(f"Markdown: {len(mds)} dev-bench papers in {t * 1000:.1f} ms = {len(mds) / t:.1f} papers/s")


if __name__ == "__main__":
    main()
