"""The leak pass after the cut: what it flags outside the method is cut, the method keeps its
descriptions, LaTeX stays balanced, and the number of rounds is bounded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from abplan.bench.builder.cut import CutReport, cut_leaks
from abplan.bench.builder.doc import Block, Doc, Part
from abplan.bench.builder.leak import find_leaks, sentence_leak
from abplan.cli import app
from abplan.schema import Ablation, Evidence
from abplan.testing import FakeModels
from test_dataset_author import EXPERIMENTS, ITEMS, markdown_paper, scripted

runner = CliRunner()
GATE = Ablation(
    name="No gate",
    ablated_part="sigmoid gate",
    action="REMOVE",
    metrics=["accuracy"],
    evidence=[Evidence(quote="Without the gate, accuracy drops from 91.2% to 87.1%.")],
)
DESCRIBES = "Instead of a plain sum, the sigmoid gate scales each update, with a reward of 0.4 per step."


@pytest.fixture
def lm(fake_lm: FakeModels) -> Iterator[None]:
    fake_lm("leaky", scripted(ITEMS))  # type: ignore[arg-type]
    yield


def _build(tmp: Path, paper: Path) -> tuple[int, str, dict[str, object], str]:
    out = tmp / "ds"
    res = runner.invoke(app, ["dataset", "author", str(paper), "--out", str(out), "--model", "fake/leaky"])
    if res.exit_code != 0:
        return res.exit_code, res.output, {}, ""
    rec = json.loads((out / "tasks.jsonl").read_text("utf-8").splitlines()[0])
    return 0, res.output, rec, next((out / "papers").glob("*/paper.md")).read_text("utf-8")


def test_results_outside_the_method_are_cut_and_the_task_is_written(tmp_path: Path, lm: None) -> None:
    paper = markdown_paper(tmp_path / "p.md")
    keep = "Training takes two hours on one card, and we use the standard splits of the benchmark throughout."
    leak = "When the sigmoid gate is dropped, accuracy falls by 4.1 points versus the full model."
    table = (
        "Table 5: Accuracy with the sigmoid gate versus a plain update; the gate adds 4.1 points.\n"
        "| update | accuracy |\n|---|---|\n| gate | 91.2 |\n| plain | 87.1 |"
    )
    cites = "Table 5 gives the numbers."
    text = paper.read_text("utf-8").replace(
        EXPERIMENTS, f"{EXPERIMENTS} {keep} {leak}\n\n{table}\n\n{keep} {cites}"
    )
    paper.write_text(text, "utf-8")
    code, out, rec, cut = _build(tmp_path, paper)
    assert code == 0, out
    assert leak not in cut and "plain | 87.1" not in cut and cites not in cut  # round 2 caught the citation
    assert "reaches 91.2% accuracy on the test set" in cut and cut.count(keep) == 2
    record = rec["cut"]
    assert isinstance(record, dict)
    assert any("falls by 4.1 points" in s and "(leak check)" in s for s in record["sentences"])
    assert any(b.startswith("table in 3 Experiments (leak check)") for b in record["blocks"])


def test_a_method_sentence_describing_a_component_is_not_a_leak(tmp_path: Path, lm: None) -> None:
    assert sentence_leak(DESCRIBES, [GATE], set(), method=True) is None
    question = "Does removing the sigmoid gate hurt accuracy by more than 2 points?"
    assert sentence_leak(question, [GATE], set(), method=True) is None  # it asks, it reports nothing
    assert sentence_leak(
        question.replace("Does removing", "Removing").replace("?", "."), [GATE], set(), method=True
    )
    # The same words outside the method read as a result (a metric noun next to a contrast).
    assert sentence_leak(DESCRIBES, [GATE], set()) is not None
    code, out, _rec, cut = _build(tmp_path, markdown_paper(tmp_path / "p.md", method=DESCRIBES))
    assert code == 0, out
    assert DESCRIBES in cut


def test_a_method_sentence_reporting_a_result_is_cut() -> None:
    method = "The sigmoid gate scales each update. Removing the sigmoid gate costs 4.1 points of accuracy."
    doc = Doc("Gated widgets", "latex", (Part("2 Method", 1, "method", (Block("paragraph", method),)),))
    rep = CutReport()
    out = cut_leaks(doc, [GATE], rep)
    assert out.parts[0].blocks[0].text == "The sigmoid gate scales each update."
    assert rep.rounds == 1 and find_leaks(out, [GATE], rep.labels) == []


def test_title_words_do_not_name_the_ablated_part() -> None:
    only_bn = Ablation(
        name="Bottleneck encoder only (ASR-BN)", ablated_part="RoBERTa branch", action="REMOVE"
    )
    headline = "The proposed ASR-BN-ROB model lowers WER by 5.2% compared to the ASR-DID-ROB baseline."
    assert sentence_leak(headline, [only_bn], set()) is not None
    assert sentence_leak(headline, [only_bn], set(), title="Dialect identification and ASR") is None


def _chain() -> Doc:
    fig = Block(
        "figure",
        "\\begin{figure}\\caption{Accuracy of the sigmoid gate versus a sum: 4.1 points lower.}"
        "\\label{fig:gate}\\end{figure}",
        ("fig:gate",),
    )
    main = Block(
        "figure",
        "\\begin{figure}\\caption{Main results. Breakdown in Figure~\\ref{fig:gate}.}"
        "\\label{fig:main}\\end{figure}",
        ("fig:main",),
    )
    return Doc("Gated widgets", "latex", (Part("4 Results", 1, "experiments", (fig, main)),))


def test_the_iteration_is_bounded_and_keeps_latex_balanced() -> None:
    rep = CutReport()
    once = cut_leaks(_chain(), [GATE], rep, rounds=1)  # round 1 cuts the figure; its citation remains
    assert rep.rounds == 1 and [lk.why for lk in find_leaks(once, [GATE], rep.labels)] == [
        "refers to a cut table, figure or section"
    ]
    rep = CutReport()
    twice = cut_leaks(_chain(), [GATE], rep, rounds=5)
    assert rep.rounds == 2 and find_leaks(twice, [GATE], rep.labels) == []
    (main,) = twice.parts[0].blocks  # the main-results figure stays, without the citing sentence
    assert main.text == "\\begin{figure}\\caption{Main results. }\\label{fig:main}\\end{figure}"


def test_an_experiments_sentence_announcing_the_ablations_goes_but_not_for_a_label_key() -> None:
    from abplan.bench.builder.cut import cut_paper

    text = "We train for ten epochs. We also run ablations of the widget encoder. See \\ref{app:ablation}."
    doc = Doc("Gated widgets", "latex", (Part("4 Results", 1, "experiments", (Block("paragraph", text),)),))
    out, rep = cut_paper(doc, [GATE], [], set())
    assert out.parts[0].blocks[0].text == "We train for ten epochs. See \\ref{app:ablation}."
    assert rep.sentences == ["4 Results: We also run ablations of the widget encoder."]
