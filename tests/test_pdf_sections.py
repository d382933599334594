"""Section headings in PDF text: reference entries of a two-column bibliography are not headings."""

from __future__ import annotations

import pytest

from abplan import load_paper
from abplan.papers import pdf as pdfmod
from abplan.papers.sections import split_plain_sections
from conftest import PDFS, need_shared

REFERENCES = """1. Introduction
We propose widgets.
2. Method
We gate widgets.
3. Experiments
It works.
References
[37] Monti,
F, Boscaini,
D. Geometric deep learning on graphs.
[38] Yang,
Y, Liu,
S, Pan,
H, Liu,
Y, Tong,
X. Pfcnn: Convolutional
neural networks on 3d surfaces using parallel frames.
[39] Huang, J, and
A. Texturenet: Consistent local parametrizations
"""


def test_reference_author_initials_are_not_headings() -> None:
    heads = [s.heading for s in split_plain_sections(REFERENCES)]
    assert heads == ["1. Introduction", "2. Method", "3. Experiments", "References"]
    refs = split_plain_sections(REFERENCES)[-1].text
    assert "X. Pfcnn: Convolutional" in refs and "A. Texturenet" in refs


def test_roman_headings_in_sequence_are_kept_and_a_stray_one_is_not() -> None:
    text = (
        "I. INTRODUCTION\nText.\nII. RELATED WORK\nText.\nIV. EXPERIMENTS\nText one is lost above.\n"
        "V. CONCLUSION\nDone.\nREFERENCES\nSmith.\nX. Pfcnn: Convolutional\nnets.\n"
    )
    heads = [s.heading for s in split_plain_sections(text)]
    assert heads == ["I. INTRODUCTION", "II. RELATED WORK", "IV. EXPERIMENTS", "V. CONCLUSION", "REFERENCES"]


@pytest.mark.parametrize("engine", ["pymupdf", "pypdf"])
def test_two_column_references_of_a_real_paper(monkeypatch: pytest.MonkeyPatch, engine: str) -> None:
    if engine == "pypdf":
        monkeypatch.setattr(pdfmod, "have_pymupdf", lambda: False)
    paper = load_paper(need_shared(PDFS / "mwformer.pdf"))
    heads = [s.heading for s in paper.sections]
    assert not any("Pfcnn" in h for h in heads), heads
    assert any(h.strip().lower() == "references" for h in heads)
    assert any("4.5" in h and "Ablation Study" in h for h in heads)
    refs = next(s for s in paper.sections if s.heading.strip().lower() == "references")
    assert "Pfcnn" in refs.text
