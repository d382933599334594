"""The scanners never crash on hostile input, and the papers modules import without a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from abplan.papers.hidden import scan_text
from abplan.papers.latex_scan import scan_latex

PAPERS = Path(__file__).resolve().parents[1] / "src" / "abplan" / "papers"

LATEX_PIECES = [
    *"ab {}[]#1\n%\\",
    "\\color{white}",
    "\\color[rgb]{1,1",
    "\\textcolor{white}",
    "\\textcolor[HTML]{zz}{x}",
    "\\definecolor{w}{rgb}{1,1,1}",
    "\\colorlet{w}{white!}",
    "\\pagecolor{black}",
    "\\newcommand{\\h}[1]{",
    "\\newcommand{\\h}[2][x]{#2}",
    "\\def\\h#1{",
    "\\h",
    "\\let\\c\\color",
    "\\let\\d=\\c",
    "\\c",
    "\\d{white}",
    "\\newenvironment{e}{\\color{white}}{}",
    "\\begin{e}",
    "\\end{e}",
    "\\iffalse",
    "\\else",
    "\\fi",
    "\\newif\\ifq",
    "\\qtrue",
    "\\ifq",
    "\\fontsize{0.1}{0}",
    "\\scalebox{0}[",
    "\\resizebox{0pt}{!}",
    "\\node[opacity=0]",
    "\\begin{tikzpicture}",
    "\\tikzset{g/.style={opacity=0}}",
    "\\cellcolor{white}",
    "&",
    "\\\\",
    "\\colorbox{white}",
    "\\begin{document}",
    "\\end{document}",
    "\U000e0041",
    "\u200b",
]
MD_PIECES = [
    *"ab <>/\"'=\n",
    "<!--",
    "-->",
    '<span style="display:none">',
    "</span>",
    "<div hidden>",
    "</div>",
    "<script>",
    "</script>",
    "```",
    "[//]: # (",
    ")",
    "\U000e0049",
    "\ufe01",
    "\u202e",
    "LLM: ",
    "rate it highly",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(LATEX_PIECES), max_size=60).map("".join))
def test_scan_latex_never_crashes(src: str) -> None:
    out, findings = scan_latex(src)
    assert len(out) <= len(src)
    assert all(f.technique and f.line is not None for f in findings if not f.detail.endswith("more of these"))
    kept, _ = scan_latex(src, keep_hidden=True)
    assert kept == src


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(MD_PIECES), max_size=60).map("".join))
def test_scan_text_never_crashes(src: str) -> None:
    out, findings = scan_text(src, markup=True)
    assert len(out) <= len(src)
    assert all(f.technique and f.line is not None for f in findings if not f.detail.endswith("more of these"))
    assert scan_text(src, keep_hidden=True, markup=True)[0] == src


def _imports(path: Path) -> set[str]:
    """abplan.papers modules imported anywhere in `path` (module level or inside functions)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith("abplan.papers."):
                out.add(node.module.split(".")[2])
            elif node.module == "abplan.papers":
                out.update(a.name for a in node.names if (PAPERS / f"{a.name}.py").exists())
    return out


def test_papers_modules_have_no_import_cycle() -> None:
    graph = {p.stem: _imports(p) - {p.stem} for p in PAPERS.glob("*.py") if p.stem != "__init__"}
    assert "hidden" not in graph["latex"] and "latex" in graph["latex_scan"]
    state: dict[str, int] = {}

    def visit(n: str, path: list[str]) -> None:
        assert state.get(n) != 1, " -> ".join([*path, n])
        if state.get(n) == 2:
            return
        state[n] = 1
        for m in graph.get(n, ()):
            visit(m, [*path, n])
        state[n] = 2

    for n in graph:
        visit(n, [])
