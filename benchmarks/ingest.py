"""Paper-reading speed: pages per second for PDFs, papers per second for LaTeX trees and Markdown.

python benchmarks/ingest.py [--shared ../shared] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from abplan import load_paper
from abplan.papers import pdf as pdfmod


def timed(fn: object, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        runs.append(time.perf_counter() - t)
    return statistics.median(runs)


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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    pdfs = sorted((args.shared / "data" / "pdfs").glob("*.pdf"))
    engines = (
        [("pymupdf+pypdf", True), ("pypdf only", False)] if pdfmod.have_pymupdf() else [("pypdf only", False)]
    )
    real_have = pdfmod.have_pymupdf
    for label, use_mupdf in engines:
        pdfmod.have_pymupdf = lambda v=use_mupdf: v  # type: ignore[assignment]
        pages = 0
        total = 0.0
        for p in pdfs:
            paper = load_paper(p)
            pages += paper.pages or 0
            total += timed(lambda p=p: load_paper(p), args.repeat)
        if pdfs:
            print(
                f"PDF ({label}): {len(pdfs)} files, {pages} pages in {total:.2f}s = {pages / total:.1f} pages/s"
            )
    pdfmod.have_pymupdf = real_have
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
