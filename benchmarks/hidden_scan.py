"""False positives and speed of the hidden-text and instruction scans on the shared corpora.

    python benchmarks/hidden_scan.py            # needs ../shared beside the checkout (or ABPLAN_SHARED)

Prints, per corpus, the files, MB, findings and MB/s: the dev-bench papers and the bundled example
through `load_paper` (every finding counts), the AblationBench trajectories (LM-written text about
papers, full of "reviewer", "model", "evaluate": instruction detector only), and a synthetic LaTeX
paper through the LaTeX scan.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from abplan import load_paper  # noqa: E402
from abplan.papers.instructions import find_instructions  # noqa: E402
from abplan.papers.latex_scan import scan_latex  # noqa: E402

SHARED = Path(os.environ.get("ABPLAN_SHARED", ROOT.parent / "shared"))


def report(name: str, files: int, chars: int, findings: list[str], seconds: float) -> None:
    mb = chars / 1e6
    print(f"{name:<34} {files:>5} files {mb:7.2f} MB {len(findings):>4} findings {mb / seconds:7.2f} MB/s")
    for f in findings[:10]:
        print(f"    {f}")


def main() -> None:
    papers = [
        *sorted((SHARED / "data" / "dev-bench").glob("*/papers/*/paper.md")),
        ROOT / "examples" / "pixelcnnpp.md",
    ]
    t, chars, found = time.perf_counter(), 0, []
    for p in papers:
        paper = load_paper(p)
        chars += len(paper.text)
        found += [f"{p.parent.name}: {f.technique} line {f.line}: {f.excerpt[:90]}" for f in paper.findings]
    report("dev-bench + example (load_paper)", len(papers), chars, found, time.perf_counter() - t)

    trajs = sorted((SHARED / "data" / "ablationbench-trajectories" / "raw").glob("*/*.md"))
    t, chars, found = time.perf_counter(), 0, []
    for p in trajs:
        text = p.read_text("utf-8", "replace")
        chars += len(text)
        found += [f"{p.name[:40]}: {f.technique}: {f.excerpt[:90]}" for f in find_instructions(text)]
    report("trajectories (instruction detector)", len(trajs), chars, found, time.perf_counter() - t)

    body = (ROOT / "examples" / "pixelcnnpp.md").read_text()
    pre = "\\newcommand{\\R}{\\mathbb{R}}\\definecolor{g}{RGB}{0,128,0}\\newcommand{\\hide}[1]{\\textcolor{white}{#1}}"
    chunk = "{\\color{g} x} \\textcolor{red}{y} {\\fontsize{9}{10}\\selectfont z} \\hide{w} " + body
    flat = "\\documentclass{article}\n" + pre + "\n\\begin{document}\n" + chunk * 20 + "\n\\end{document}\n"
    t = time.perf_counter()
    _out, findings = scan_latex(flat)
    report(
        "synthetic LaTeX (scan_latex)",
        1,
        len(flat),
        [f.technique for f in findings][:3],
        time.perf_counter() - t,
    )


if __name__ == "__main__":
    main()
