from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from abplan import load_paper
from abplan.errors import InputError
from abplan.papers.latex import strip_comments

MAIN = r"""\documentclass{article}
\usepackage{amsmath}
\title{Gated Widgets for Better Models\thanks{Work done elsewhere.}}
\begin{document}
\maketitle
\begin{abstract}
We propose gated widgets. They help 50\% of the time.
\end{abstract}
\input{sections/intro}
\include{method}
\bibliography{refs}
\end{document}
"""


def make_tree(root: Path) -> Path:
    (root / "sections").mkdir(parents=True)
    (root / "main.tex").write_text(MAIN)
    (root / "sections" / "intro.tex").write_text(
        "\\section{Introduction}\nWidgets matter. % a private remark\n% whole-line comment\n"
    )
    (root / "method.tex").write_text(
        "\\section{Method}\nThe gate $g$ uses a sigmoid.\n\\subsection{Loss}\nWe add a widget loss.\n"
    )
    (root / "main.bbl").write_text(
        "\\begin{thebibliography}{1}\\bibitem{a} A. Author.\\end{thebibliography}\n"
    )
    (root / "notes.tex").write_text("scratch notes, not included\n")
    return root


def test_folder_flattening(tmp_path: Path) -> None:
    paper = load_paper(make_tree(tmp_path / "src"))
    assert paper.source_kind == "latex"
    assert paper.title == "Gated Widgets for Better Models"
    assert paper.abstract.startswith("We propose gated widgets")
    assert "Widgets matter." in paper.text and "private remark" not in paper.text
    assert "whole-line comment" not in paper.text
    assert "The gate $g$" in paper.text
    assert "thebibliography" in paper.text  # the .bbl is inlined
    assert "scratch notes" not in paper.text
    assert [s.heading for s in paper.sections] == ["[front matter]", "Introduction", "Method", "Loss"]
    assert "50\\%" in paper.text  # escaped percent is not a comment


def test_single_tex_file(tmp_path: Path) -> None:
    root = make_tree(tmp_path / "src")
    paper = load_paper(root / "main.tex")
    assert "widget loss" in paper.text


@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
def test_archives(tmp_path: Path, kind: str) -> None:
    root = make_tree(tmp_path / "src")
    arc = tmp_path / f"paper.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(arc, "w") as zf:
            for f in root.rglob("*"):
                if f.is_file():
                    zf.write(f, f.relative_to(root))
    else:
        with tarfile.open(arc, "w:gz") as tf:
            tf.add(root, arcname=".")
    paper = load_paper(arc)
    assert paper.title == "Gated Widgets for Better Models"
    assert "widget loss" in paper.text


def test_input_cycle_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "main.tex").write_text(
        "\\documentclass{article}\\begin{document}\n\\input{a}\n\\end{document}\n"
    )
    (tmp_path / "a.tex").write_text("A\n\\input{b}\n")
    (tmp_path / "b.tex").write_text("B\n\\input{a}\n")
    with pytest.raises(InputError, match=r"\\input cycle: main.tex -> a.tex -> b.tex -> a.tex"):
        load_paper(tmp_path)


def test_missing_input_is_reported_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "main.tex").write_text(
        "\\documentclass{article}\\title{T T}\\begin{document}\nHello world text.\n\\input{gone}\n\\end{document}\n"
    )
    paper = load_paper(tmp_path)
    assert any(f.kind == "missing-input" for f in paper.findings)


def test_no_main_file(tmp_path: Path) -> None:
    (tmp_path / "a.tex").write_text("\\section{A}\nno documentclass here\n")
    with pytest.raises(InputError, match=r"no main \.tex file"):
        load_paper(tmp_path)


def test_comment_stripping_rules() -> None:
    src = "a % c\n% only\nb \\% kept % gone\n\\begin{verbatim}\n% literal\n\\end{verbatim}\n\\begin{comment}\nhidden\n\\end{comment}\nz"
    got = strip_comments(src)
    assert got == "a %\nb \\% kept %\n\\begin{verbatim}\n% literal\n\\end{verbatim}\nz"


def test_escaped_backslash_before_percent_is_a_comment() -> None:
    assert strip_comments("line\\\\% comment") == "line\\\\%"


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [*"ab %\\\n{}", "\\begin{verbatim}", "\\end{verbatim}", "\\begin{comment}", "\\end{comment}"]
        ),
        max_size=80,
    ).map("".join)
)
def test_strip_comments_never_crashes_and_is_idempotent(src: str) -> None:
    once = strip_comments(src)
    assert strip_comments(once) == once


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.sampled_from([*"ab %\\\n{}", "\\input{x}", "\\section{S}", "\\title{T}"]), max_size=60).map(
        "".join
    )
)
def test_flatten_never_crashes_and_is_idempotent(tmp_path_factory: pytest.TempPathFactory, body: str) -> None:
    from abplan.papers.latex import Flattener

    d = tmp_path_factory.mktemp("flat")
    (d / "x.tex").write_text("X content\n")
    (d / "main.tex").write_text("\\documentclass{article}\\begin{document}\n" + body + "\n\\end{document}")
    fl = Flattener(root=d.resolve())
    once = fl.flatten((d / "main.tex").resolve())
    (d / "flat.tex").write_text(once)
    twice = Flattener(root=d.resolve()).flatten((d / "flat.tex").resolve())
    assert twice == once


def test_tar_member_with_traversal_is_refused(tmp_path: Path) -> None:
    arc = tmp_path / "evil.tar.gz"
    with tarfile.open(arc, "w:gz") as tf:
        data = b"\\documentclass{article}\\begin{document}x\\end{document}"
        info = tarfile.TarInfo("../../escape.tex")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    with pytest.raises(InputError, match="unsafe archive member"):
        load_paper(arc)
    assert not (tmp_path.parent / "escape.tex").exists()
