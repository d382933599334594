"""Pure parts of the task builder: reading a paper into blocks, roles, candidates, the cut and the leak check."""

from __future__ import annotations

from abplan.bench.builder.cut import cut_paper
from abplan.bench.builder.doc import Block, Doc, Part, assign_roles, doc_from_paper, refs_in, render_markdown
from abplan.bench.builder.evidence import quote_in
from abplan.bench.builder.find import draft_items, find_candidates
from abplan.bench.builder.leak import announces, find_leaks, sentence_leak
from abplan.fsutil import sha256_text
from abplan.papers.markdown import parse_markdown
from abplan.schema import Ablation, Evidence, Paper

GATE = Ablation(
    name="No gate",
    ablated_part="sigmoid gate",
    action="REMOVE",
    metrics=["accuracy"],
    evidence=[Evidence(quote="Without the gate, accuracy drops from 91.2% to 87.1%.")],
)


def md_paper(text: str) -> Paper:
    title, abstract, sections = parse_markdown(text)
    return Paper(
        title=title,
        abstract=abstract,
        sections=tuple(sections),
        text=text,
        source_kind="markdown",
        source="x.md",
        content_hash=sha256_text(text),
    )


def test_roles_follow_headings_subsections_and_position() -> None:
    roles = assign_roles(
        [
            ("Abstract", 1, ""),
            ("1 Introduction", 1, ""),
            ("2 Gated widgets", 1, ""),
            ("2.1 The gate", 2, ""),
            ("3 Experiments", 1, ""),
            ("3.1 Setup", 2, ""),
            ("4 What the gate does", 1, ""),
            ("5 Conclusion", 1, "\\appendix"),
            ("A Proofs", 1, ""),
            ("References", 1, ""),
            ("B More tables", 1, ""),
        ]
    )
    assert roles == [
        "abstract", "intro", "method", "method", "experiments", "experiments", "experiments",
        "conclusion", "appendix", "references", "appendix",
    ]  # fmt: skip


def test_markdown_table_and_caption_are_one_block_with_a_label() -> None:
    doc = doc_from_paper(
        md_paper(
            "# T\n\n## Abstract\n\nA.\n\n## 3 Results\n\nText first.\n\n"
            "Table 2: Ablations of the gate.\n| a | b |\n|---|---|\n| w/o gate | 1 |\n\nAfter.\n"
        )
    )
    blocks = doc.parts[1].blocks
    assert [b.kind for b in blocks] == ["paragraph", "table", "paragraph"]
    assert blocks[1].labels == ("table 2",) and "w/o gate" in blocks[1].text


def test_candidates_sections_with_subsections_captions_and_sentences() -> None:
    doc = doc_from_paper(
        md_paper(
            "# T\n\n## Abstract\n\nWe remove nothing here.\n\n## 2 Method\n\nWithout the gate we would fail.\n\n"
            "## 3 Results\n\nWe vary the width.\n\nMain numbers.\n\n"
            "## 4 Ablation study\n\nA.\n\n### 4.1 The gate\n\nB.\n\n## 5 Conclusion\n\nC.\n"
        )
    )
    cands = find_candidates(doc)
    assert [(c.id, c.kind, c.heading) for c in cands] == [
        ("P1", "paragraph", "3 Results"),
        ("P2", "section", "4 Ablation study"),
    ]  # the method's "Without" is not a result passage
    assert "4.1 The gate" in cands[1].text and cands[1].stop - cands[1].part == 2


def test_refs_in_latex_and_text() -> None:
    assert refs_in("see Table~\\ref{tab:a} and \\cref{fig:b,fig:c}, and Fig. 3") == {
        "tab:a", "fig:b", "fig:c", "figure 3",
    }  # fmt: skip


def _doc(*parts: tuple[str, str, list[Block]]) -> Doc:
    return Doc("T", "latex", tuple(Part(h, 1, r, tuple(b)) for h, r, b in parts))


def test_cut_removes_evidence_blocks_announcements_and_references_to_cut_tables() -> None:
    table = Block(
        "table", "\\begin{table}\\caption{Ablation}\\label{tab:abl}\\end{table}", ("tab:abl",), "Ablation"
    )
    doc = _doc(
        ("Abstract", "abstract", [Block("paragraph", "We add a gate. Ablations confirm each part helps.")]),
        (
            "Results",
            "experiments",
            [Block("paragraph", "Main results are good."), Block("paragraph", GATE.evidence[0].quote), table],
        ),
        (
            "Discussion",
            "experiments",
            [Block("paragraph", "The gate is cheap. Table~\\ref{tab:abl} has all variants.")],
        ),
    )
    cands = find_candidates(doc)
    cut, rep = cut_paper(doc, [GATE], cands, {c.id for c in cands if c.kind == "table"})
    text = render_markdown(cut)
    assert "Main results are good." in text and "The gate is cheap." in text and "We add a gate." in text
    for gone in ("87.1", "Ablations confirm", "tab:abl"):
        assert gone not in text, gone
    assert rep.labels == {"tab:abl"} and len(rep.sentences) == 2 and len(rep.blocks) == 2
    assert find_leaks(cut, [GATE], rep.labels) == []


def test_leak_signals() -> None:
    assert sentence_leak("As Table 4 shows, it helps.", [GATE], {"table 4"}) is not None
    assert sentence_leak("The w/o sigmoid gate row is lowest.", [GATE], set()) == (
        "w/o a gold component",
        "No gate",
    )
    hit = sentence_leak("Removing the sigmoid gate costs 4.1 points.", [GATE], set())
    assert hit is not None and hit[1] == "No gate"
    # The method may describe the gate, and results may mention it, without an ablation's contrast.
    assert sentence_leak("A sigmoid gate scales each update.", [GATE], set()) is None
    assert sentence_leak("Our gated model reaches 91.2% accuracy.", [GATE], set()) is None
    assert sentence_leak("Without dropout, accuracy drops by 2%.", [GATE], set()) is None


def test_evidence_left_in_the_text_is_a_leak() -> None:
    doc = _doc(("Method", "method", [Block("paragraph", f"The gate. {GATE.evidence[0].quote}")]))
    leaks = find_leaks(doc, [GATE], set())
    assert leaks and leaks[0].why == "evidence quote still in the text" and leaks[0].section == "Method"


def test_announcements() -> None:
    assert announces("Our ablation study confirms the design.", [GATE])
    assert announces("Removing the sigmoid gate lowers accuracy.", [GATE])
    assert not announces("We propose a sigmoid gate for encoders.", [GATE])


def test_quotes_match_up_to_white_space_only() -> None:
    assert quote_in("drops  from\n91.2%", "accuracy drops from 91.2% to 87.1%")
    assert not quote_in("drops from 91.3%", "accuracy drops from 91.2% to 87.1%")
    assert not quote_in("Drops from 91.2%", "accuracy drops from 91.2% to 87.1%")
    assert not quote_in("   ", "anything")


def test_draft_items_quote_the_source() -> None:
    doc = _doc(
        (
            "Ablations",
            "experiments",
            [Block("paragraph", "Without the gate, accuracy drops. We vary the widget width from 2 to 8.")],
        ),
    )
    items = draft_items(doc, find_candidates(doc))
    assert [(a.action, a.ablated_part) for a in items] == [("REMOVE", "gate"), ("REPLACE", "widget width")]
    assert items[0].evidence[0].quote == "Without the gate, accuracy drops."


def test_floats_only_cut_text_refers_to_go_too_and_section_numbers_count() -> None:
    abl_table = Block(
        "table", "\\begin{table}\\label{tab:abl}w/o gate\\end{table}", ("tab:abl",), "More numbers."
    )
    main_table = Block(
        "table", "\\begin{table}\\label{tab:main}ours 91.2\\end{table}", ("tab:main",), "Main."
    )
    doc = Doc(
        "T",
        "latex",
        (
            Part(
                "1 Introduction",
                1,
                "intro",
                (Block("paragraph", "Section 4 studies each part. We add a gate."),),
            ),
            Part(
                "3 Experiments",
                1,
                "experiments",
                (Block("paragraph", "Table~\\ref{tab:main} is our result."), main_table, abl_table),
            ),
            Part(
                "4 Ablation study",
                1,
                "experiments",
                (Block("paragraph", "See \\ref{tab:abl} and \\ref{tab:main}."),),
            ),
        ),
    )
    cands = find_candidates(doc)
    assert [c.kind for c in cands] == ["section"]  # the float's caption names no ablation
    cut, rep = cut_paper(doc, [], cands, {cands[0].id})
    text = render_markdown(cut)
    assert "tab:main" in text and "ours 91.2" in text  # the main table is also referred to from kept text
    assert "w/o gate" not in text and "Section 4 studies" not in text and "We add a gate." in text
    assert {"tab:abl", "section 4"} <= rep.labels


def test_flat_markdown_takes_levels_from_section_numbers() -> None:
    doc = doc_from_paper(
        md_paper(
            "# T\n\n## Abstract\n\nA.\n\n## 4 Ablation study\n\nB.\n\n## 4.1 The gate\n\nC.\n\n## 5 Conclusion\n\nD.\n"
        )
    )
    assert [p.level for p in doc.parts] == [1, 1, 2, 1]
    cands = find_candidates(doc)
    assert len(cands) == 1 and "4.1 The gate" in cands[0].text


def test_latex_tables_outside_a_float_are_blocks_with_their_caption() -> None:
    from abplan.bench.builder.doc import _latex_blocks

    text = (
        "Some text.\n\n\\begin{center}\n\\captionof{table}{Ablation study of the gate.}\n"
        "\\begin{tabular}{lc} w/o gate & 87.1 \\end{tabular}\\label{tab:abl}\n\\end{center}\n\nMore text."
    )
    blocks = _latex_blocks(text)
    assert [b.kind for b in blocks] == ["paragraph", "table", "paragraph"]
    assert blocks[1].caption == "Ablation study of the gate." and blocks[1].labels == ("tab:abl",)


def test_passages_shown_to_the_model_fit_its_window() -> None:
    from abplan.bench.builder.locate import author_request

    para = "We vary the width of the widget. " * 300  # ~10,000 characters, cut to 8,000 in the prompt
    doc = _doc(*[(f"{i} Results", "experiments", [Block("paragraph", para)]) for i in range(12)])
    cands = find_candidates(doc)
    assert len(cands) == 12
    small, n_small = author_request(doc, cands, "ollama/qwen3:8b")  # a 32K window
    _big, n_big = author_request(doc, cands, "openai/gpt-4o")
    assert n_big == 12 and 0 < n_small < 12
    assert (
        small.messages[1][1].count("<passage ") == n_small
        and f'id="P{n_small + 1}"' not in small.messages[1][1]
    )
