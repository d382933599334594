"""Rows, list items and caption sentences named after a gold variant: the leak check flags them, the
cutter removes just them (the table, its other rows and the method text stay), and the cut record
says what was really removed."""

from __future__ import annotations

from abplan.bench.builder.cut import CutReport, _drop_sentences, cut_leaks
from abplan.bench.builder.doc import Block, Doc, Part
from abplan.bench.builder.leak import ROW_WHY, find_leaks
from abplan.bench.builder.rows import item_head, table_rows, variant_named
from abplan.schema import Ablation

STATE = Ablation(name="Without State-Awareness", ablated_part="state tracker", action="REMOVE")
BN = Ablation(name="Bottleneck Encoder only (ASR-BN)", ablated_part="text branch", action="REMOVE")
REFLEX = Ablation(name="Without Dual-Stream (no Reflex)", ablated_part="dual stream pacing", action="REMOVE")
GOLD = [STATE, BN, REFLEX]

TABLE = r"""\begin{table}[t]
\centering
\caption{Latency and quality of the systems. Lower latency is better.}
\label{tab:main}
\begin{tabular}{lcc}
\toprule
Method & TTFT & Score \\
\midrule
    Baseline & 610 & 55 \\
    Cascade & 700 & 50 \\
    Retrieval agent & 640 & 58 \\
    \shortstack[l]{Ours w/o\\State-Awareness} & \textbf{285} & 67 \\
    ASR-BN & 80.81 & 4.72 \\
    Single 8B only (no Reflex) & 850 & 12.5 \\ \hline
    \textbf{Ours (Full)} & 378 & \textbf{90} \\
\bottomrule
\end{tabular}
\end{table}"""


def _doc(*blocks: Block, role: str = "experiments") -> Doc:
    return Doc(title="A Fast Talker", kind="latex", parts=(Part("4 Results", 1, role, blocks),))


def test_rows_of_a_latex_table_with_their_labels() -> None:
    rows = table_rows(TABLE)
    labels = [lab.strip() for _a, _e, lab in rows]
    assert labels == [
        "Method",
        "Baseline",
        "Cascade",
        "Retrieval agent",
        r"\shortstack[l]{Ours w/o\\State-Awareness}",  # a line break in braces is not a row end
        "ASR-BN",
        "Single 8B only (no Reflex)",
        r"\textbf{Ours (Full)}",
    ]
    a, e, _ = rows[5]
    assert TABLE[a:e] == "    ASR-BN & 80.81 & 4.72 \\\\\n"  # its indentation and line end go with it


def test_a_label_names_a_gold_variant_by_pattern_or_by_its_own_name() -> None:
    assert variant_named(r"\shortstack[l]{Ours w/o\\State-Awareness}", GOLD) is STATE
    assert variant_named("ASR-BN", GOLD) is BN  # the name in brackets
    assert variant_named("Single 8B only (no Reflex)", GOLD) is REFLEX  # "no X", X inside a gold key
    assert variant_named(r"\textbf{Ours (Full)}", GOLD) is None
    assert variant_named("Baseline", GOLD) is None
    assert variant_named("ASR-BN-ROB", GOLD) is None  # the full model's longer name is not the variant


def test_the_check_flags_the_rows_and_the_cut_keeps_the_table_and_its_other_rows() -> None:
    doc = _doc(Block("table", TABLE, ("tab:main",)))
    leaks = find_leaks(doc, GOLD, set())
    assert sorted(lk.item for lk in leaks if lk.why == ROW_WHY) == sorted(g.name for g in GOLD)
    rep = CutReport()
    out = cut_leaks(doc, GOLD, rep)
    text = out.parts[0].blocks[0].text
    assert "State-Awareness" not in text and "ASR-BN" not in text and "no Reflex" not in text
    assert "    Baseline & 610 & 55 \\\\\n" in text and r"\textbf{Ours (Full)}" in text
    assert r"\end{tabular}" in text and r"\caption{Latency" in text
    assert find_leaks(out, GOLD, rep.labels) == []  # the check and the cutter agree
    assert sum("table row in 4 Results" in b for b in rep.blocks) == 3
    assert not any(b.startswith("table in") for b in rep.blocks)  # the table itself was not cut


def test_markdown_rows_too() -> None:
    md = "Table 2: Results.\n| system | score |\n|---|---|\n| base | 70 |\n| full | 90 |\n| ASR-BN | 81 |\n"
    out = cut_leaks(_doc(Block("table", md)), GOLD, CutReport())
    text = out.parts[0].blocks[0].text
    assert "| full | 90 |" in text and "| base | 70 |" in text and "ASR-BN" not in text


def test_a_table_of_mostly_variants_goes_whole() -> None:
    md = "Table 3: Ablation.\n| system | score |\n|---|---|\n| full | 90 |\n| ASR-BN | 81 |\n"
    rep = CutReport()
    out = cut_leaks(_doc(Block("table", md), Block("paragraph", "We train for ten epochs.")), GOLD, rep)
    assert [b.kind for b in out.parts[0].blocks] == ["paragraph"]  # one full-model row would be left
    assert rep.blocks == ["table in 4 Results (leak check)"]


def test_a_caption_sentence_on_a_gold_variant_goes_alone() -> None:
    cap = (
        r"\begin{figure}\includegraphics{f.pdf}\caption{Latency over turns. Without the state tracker, "
        r"latency rises from 285 to 378 ms.}\label{fig:lat}\end{figure}"
    )
    rep = CutReport()
    out = cut_leaks(_doc(Block("figure", cap, ("fig:lat",))), GOLD, rep)
    text = out.parts[0].blocks[0].text
    assert text.startswith(r"\begin{figure}") and r"\caption{Latency over turns. }" in text
    assert "285" not in text and "fig:lat" not in rep.labels  # the figure was kept


def test_a_list_item_named_after_a_gold_variant_with_a_number_goes() -> None:
    items = r"\begin{itemize} \item Baseline: $25.3M$ \item ASR-BN: $25.45M$ \item Proposed: $31.4M$ \end{itemize}"
    assert item_head(r"\item \textbf{ASR-BN} reaches 80.81") == "ASR-BN"
    out = cut_leaks(_doc(Block("paragraph", items)), GOLD, CutReport())
    text = out.parts[0].blocks[0].text
    assert "ASR-BN" not in text and "Baseline: $25.3M$" in text and "Proposed" in text
    # In the method an item describing the variant stays (no result is reported there).
    method = cut_leaks(_doc(Block("paragraph", items), role="method"), GOLD, CutReport())
    assert "ASR-BN" in method.parts[0].blocks[0].text


def test_the_record_holds_what_was_removed_when_a_label_brace_shortens_the_cut() -> None:
    text = r"\textbf{2. Component Optimization:} Some ablations outperform the full model. Future: tuning."
    start = text.index("Component")
    stop = text.index("Future") - 1
    kept, gone = _drop_sentences(text, [(start, stop)])
    assert gone == ["Some ablations outperform the full model."]
    assert kept == r"\textbf{2. Component Optimization:} Future: tuning."
    # A caption's last sentence still stops before the float's closing brace.
    cap = r"\caption{Intro words. The last sentence here.}"
    kept, gone = _drop_sentences(cap, [(cap.index("The"), len(cap))])
    assert kept == r"\caption{Intro words. }" and gone == ["The last sentence here."]


def test_a_sentence_giving_a_variant_by_its_short_name_with_numbers_goes() -> None:
    para = (
        "The ASR-BN model reaches 80.81% accuracy. Our ASR-BN-ROB model reaches 81.63%. "
        "The variants (ASR-BN) need no dialect IDs."
    )
    out = cut_leaks(_doc(Block("paragraph", para)), GOLD, CutReport())
    text = out.parts[0].blocks[0].text
    assert "80.81" not in text and "ASR-BN-ROB model reaches 81.63%" in text  # a longer name is not it
    assert "The variants (ASR-BN) need no dialect IDs." in text  # no number: nothing given away


def test_an_announcing_sentence_naming_the_gold_alternative_with_a_comparison_is_cut() -> None:
    from abplan.bench.builder.leak import announces

    charge = Ablation(
        name="Charging strategy ablation",
        ablated_part="charging station selection strategy",
        action="REPLACE",
        replacement=["Nearest charging station strategy (distance only)"],
    )
    said = "Charging strategy design matters, with the optimal strategy outperforming the nearest station approach."
    assert announces(said, [charge])
    assert not announces(said.replace("outperforming", "differing from"), [charge])  # no comparison word
    assert not announces("We route fleets with a learned scheduler that outperforms EDF.", [charge])
