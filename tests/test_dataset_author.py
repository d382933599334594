"""`abplan dataset author` end to end with a scripted model, on LaTeX, a tarball, a PDF and Markdown."""

from __future__ import annotations

import json
import re
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from abplan.bench.builder import cut as cut_module
from abplan.bench.tasks import load_dataset, load_task_paper
from abplan.cli import app
from abplan.lm import LMRequest
from abplan.testing import FakeModels
from conftest import need_module

runner = CliRunner()

TITLE = "Gated Widgets for Sequence Models"
ABSTRACT = (
    "We propose gated widgets, a gating mechanism for sequence models. Gated widgets reach 91.2% accuracy "
    "on the Widget benchmark. Ablations show that removing the gate costs four points of accuracy."
)
INTRO = (
    "Sequence models update their state at every token. We introduce a sigmoid gate and an auxiliary "
    "reconstruction loss. Our ablations show that both the gate and the auxiliary loss matter."
)
METHOD = (
    "The widget encoder reads one token at a time. A sigmoid gate scales each update of the state. "
    "An auxiliary reconstruction loss with weight 0.5 regularises training."
)
EXPERIMENTS = "We train on the Widget benchmark. Our model reaches 91.2% accuracy on the test set."
Q_GATE = "Without the gate, accuracy drops from 91.2% to 87.1%."
Q_LOSS = "Replacing the auxiliary reconstruction loss with an L1 loss lowers accuracy to 89.0%."
ABLATION = f"{Q_GATE} {Q_LOSS}"
CONCLUSION = (
    "Gated widgets are simple to add to any encoder. Removing the gate lowers accuracy by four points."
)

ITEMS = [
    {
        "name": "No gate",
        "ablated_part": "sigmoid gate",
        "action": "REMOVE",
        "replacement": None,
        "metrics": ["accuracy"],
        "evidence": Q_GATE,
    },
    {
        "name": "L1 instead of the auxiliary loss",
        "ablated_part": "auxiliary reconstruction loss",
        "action": "REPLACE",
        "replacement": ["L1 loss"],
        "metrics": ["accuracy"],
        "evidence": Q_LOSS,
    },
]


def tex(s: str) -> str:
    return s.replace("%", "\\%")


def squash(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def reply_for(user: str, items: list[dict[str, object]]) -> str:
    """The reply a careful model would give: each item cites the passage its evidence is in."""
    passages = re.findall(r'<passage id="(P\d+)"[^>]*>(.*?)</passage>', user, re.S)
    lines = []
    for it in items:
        quote = str(it["evidence"])
        if tex(quote) in user and quote not in user:  # LaTeX source: the model quotes it as written
            quote = tex(quote)
        ids = [pid for pid, text in passages if squash(quote) in squash(text)]
        lines.append(json.dumps({**it, "evidence": quote, "passages": ids}))
    return (
        "<discussion>the ablation section</discussion>\n<ablations>\n" + "\n".join(lines) + "\n</ablations>"
    )


def scripted(items: list[dict[str, object]]) -> object:
    def answer(req: LMRequest) -> str:
        return reply_for(req.messages[1][1], items)

    return answer


@pytest.fixture
def fake(fake_lm: FakeModels) -> Iterator[object]:
    fm = fake_lm("builder", scripted(ITEMS))  # type: ignore[arg-type]
    yield fm


def markdown_paper(path: Path, method: str = METHOD, ablation: bool = True) -> Path:
    abl = (
        f"## 4 Ablation study\n\n{ABLATION}\n\nTable 2: Ablations of gated widgets.\n"
        "| variant | accuracy |\n|---|---|\n| full | 91.2 |\n| w/o gate | 87.1 |\n\n"
        if ablation
        else ""
    )
    path.write_text(
        f"# {TITLE}\n\n## Abstract\n\n{ABSTRACT if ablation else ABSTRACT.rsplit(' Ablations', 1)[0]}\n\n"
        f"## 1 Introduction\n\n{INTRO}\n\n## 2 Method\n\n{method}\n\n## 3 Experiments\n\n{EXPERIMENTS}\n\n"
        f"{abl}## 5 Conclusion\n\n{CONCLUSION if ablation else 'Gated widgets are simple.'}\n",
        "utf-8",
    )
    return path


def latex_tree(root: Path) -> Path:
    (root / "sections").mkdir(parents=True)
    (root / "main.tex").write_text(
        "\\documentclass{article}\n\\title{" + TITLE + "}\n\\begin{document}\n\\maketitle\n"
        "\\begin{abstract}\n" + tex(ABSTRACT) + "\n\\end{abstract}\n"
        "\\section{Introduction}\n" + INTRO + " Section~\\ref{sec:abl} studies each part.\n\n"
        "\\section{Method}\n" + METHOD + "\n\\iffalse Secret draft notes on the gate.\n\\fi\n\n"
        "\\section{Experiments}\n" + tex(EXPERIMENTS) + "\n\n\\input{sections/ablation}\n"
        "\\section{Conclusion}\n" + CONCLUSION + "\n\\end{document}\n",
        "utf-8",
    )
    (root / "sections" / "ablation.tex").write_text(
        "\\section{Ablation study}\\label{sec:abl}\n"
        + tex(ABLATION)
        + " Table~\\ref{tab:abl} lists all variants.\n\n"
        "\\begin{table}[t]\n\\caption{Ablations of gated widgets.}\\label{tab:abl}\n"
        "\\begin{tabular}{lc}\nfull & 91.2 \\\\\nw/o gate & 87.1 \\\\\n\\end{tabular}\n\\end{table}\n",
        "utf-8",
    )
    return root


def tarball(tmp: Path) -> Path:
    tree = latex_tree(tmp / "tree")
    out = tmp / "paper.tar.gz"
    with tarfile.open(out, "w:gz") as tf:
        for p in sorted(tree.rglob("*")):
            tf.add(p, arcname=str(p.relative_to(tree)))
    return out


def pdf_paper(path: Path) -> Path:
    need_module("pymupdf", "pdf")
    from pdfmaker import text_pdf

    def lines(text: str) -> list[str]:
        words, out, cur = text.split(), [], ""
        for w in words:
            if len(cur) + len(w) > 80:
                out.append(cur)
                cur = w
            else:
                cur = f"{cur} {w}".strip()
        return [*out, cur]

    body = [TITLE, "Abstract", *lines(ABSTRACT), "1 Introduction", *lines(INTRO), "2 Method", *lines(METHOD)]
    body2 = ["3 Experiments", *lines(EXPERIMENTS), "4 Ablation study", *lines(ABLATION)]
    body2 += ["5 Conclusion", *lines(CONCLUSION)]
    return text_pdf(path, [[(ln, {}) for ln in body], [(ln, {}) for ln in body2]])


def build(tmp: Path, *sources: str, extra: tuple[str, ...] = ()) -> tuple[int, str]:
    res = runner.invoke(
        app, ["dataset", "author", *sources, "--out", str(tmp / "ds"), "--model", "fake/builder", *extra]
    )
    return res.exit_code, res.output


def only_task(tmp: Path) -> dict[str, object]:
    lines = (tmp / "ds" / "tasks.jsonl").read_text("utf-8").splitlines()
    assert len(lines) == 1
    rec: dict[str, object] = json.loads(lines[0])
    return rec


def test_latex_tree_gold_cut_and_provenance(tmp_path: Path, fake: object) -> None:
    src = latex_tree(tmp_path / "src")
    code, out = build(
        tmp_path, str(src), extra=("--id", "gw", "--license", "CC-BY-4.0", "--source-note", "v2")
    )
    assert code == 0, out
    rec = only_task(tmp_path)
    gold = rec["ablations_in_paper"]
    assert isinstance(gold, list) and [g["name"] for g in gold] == [
        "No gate",
        "L1 instead of the auxiliary loss",
    ]
    assert (
        gold[0]["evidence"][0]["verified"] is True and gold[0]["evidence"][0]["section"] == "Ablation study"
    )
    prov = rec["provenance"]
    assert isinstance(prov, dict)
    assert prov["license"] == "CC-BY-4.0" and prov["version"] == "v2" and prov["method"] == "lm"
    assert len(str(prov["source_text_sha256"])) == 64 and prov["source_kind"] == "latex"
    assert prov["findings"] == ["hidden-text"]
    paper = (tmp_path / "ds" / "papers" / "gw" / "paper.md").read_text("utf-8")
    assert "Secret draft notes" not in paper
    for gone in (
        "Ablation study",
        "87.1",
        "tab:abl",
        "Ablations show",
        "Our ablations",
        "sec:abl",
        "Removing the gate",
    ):
        assert gone not in paper, gone
    for kept in ("A sigmoid gate scales each update", "accuracy on the test set", "## Method"):
        assert kept in paper, kept
    assert "Ablations show" not in str(rec["paper_abstract"]) and "Gated widgets reach" in str(
        rec["paper_abstract"]
    )
    task = load_dataset(str(tmp_path / "ds"))[0]
    assert task.mode == "author" and len(task.ablations_in_paper) == 2
    assert "sigmoid gate" in load_task_paper(task).text


@pytest.mark.parametrize("kind", ["latex", "tarball", "markdown", "pdf"])
def test_every_input_kind_gives_a_task(tmp_path: Path, fake: object, kind: str) -> None:
    make = {
        "latex": lambda: latex_tree(tmp_path / "src"),
        "tarball": lambda: tarball(tmp_path),
        "markdown": lambda: markdown_paper(tmp_path / "paper.md"),
        "pdf": lambda: pdf_paper(tmp_path / "paper.pdf"),
    }[kind]
    code, out = build(tmp_path, str(make()))
    assert code == 0, out
    rec = only_task(tmp_path)
    assert [g["name"] for g in rec["ablations_in_paper"]] == ["No gate", "L1 instead of the auxiliary loss"]  # type: ignore[union-attr]
    paper = next((tmp_path / "ds" / "papers").glob("*/paper.md")).read_text("utf-8")
    assert "87.1" not in paper and "drops from" not in paper
    assert "sigmoid gate scales" in squash(paper)


def test_leak_in_the_method_is_cut_or_fails_loudly(
    tmp_path: Path, fake: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    leaky = METHOD + " In early tests, without the gate the accuracy fell by 3%."
    paper = str(markdown_paper(tmp_path / "paper.md", method=leaky))
    monkeypatch.setattr(cut_module, "LEAK_ROUNDS", 0)  # no cutting after the check: the leak stays
    code, out = build(tmp_path, paper)
    assert code == 1, out
    assert "leak check failed, task not written" in out and "2 Method" in out and "No gate" in out
    assert not (tmp_path / "ds" / "tasks.jsonl").exists()
    monkeypatch.undo()
    code, out = build(tmp_path, paper)
    assert code == 0, out
    cut = next((tmp_path / "ds" / "papers").glob("*/paper.md")).read_text("utf-8")
    assert "fell by 3%" not in cut and METHOD in cut  # the reported result goes, the description stays
    assert any("fell by 3%" in s and "(leak check)" in s for s in only_task(tmp_path)["cut"]["sentences"])  # type: ignore[index]


def test_quote_not_in_the_source_is_rejected_and_recorded(tmp_path: Path, fake_lm: FakeModels) -> None:
    made_up = {**ITEMS[1], "name": "No encoder", "evidence": "Removing the encoder halves accuracy."}
    fake_lm("inventor", scripted([ITEMS[0], made_up]))  # type: ignore[arg-type]
    res = runner.invoke(
        app,
        [
            "dataset",
            "author",
            str(markdown_paper(tmp_path / "p.md")),
            "--out",
            str(tmp_path / "ds"),
            "--model",
            "fake/inventor",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "rejected 'No encoder': evidence not found in the source" in res.output
    assert [g["name"] for g in only_task(tmp_path)["ablations_in_paper"]] == ["No gate"]  # type: ignore[union-attr]
    ex = [json.loads(x) for x in (tmp_path / "ds" / "exclusions.jsonl").read_text("utf-8").splitlines()]
    assert len(ex) == 1 and ex[0]["item"]["name"] == "No encoder" and "not found" in ex[0]["reason"]


def test_only_invented_quotes_is_a_clear_error(tmp_path: Path, fake_lm: FakeModels) -> None:
    fake_lm("liar", scripted([{**ITEMS[0], "evidence": "Nothing like this is in the paper."}]))  # type: ignore[arg-type]
    res = runner.invoke(
        app,
        [
            "dataset",
            "author",
            str(markdown_paper(tmp_path / "p.md")),
            "-o",
            str(tmp_path / "ds"),
            "--model",
            "fake/liar",
        ],
    )
    assert res.exit_code == 2 and "no ablation with verifiable evidence" in res.output
    assert not (tmp_path / "ds" / "tasks.jsonl").exists()


def test_paper_without_ablations_is_a_one_line_error(tmp_path: Path, fake: object) -> None:
    code, out = build(tmp_path, str(markdown_paper(tmp_path / "p.md", ablation=False)))
    assert code == 2 and "no ablation found" in out and "Traceback" not in out
    assert len([ln for ln in out.splitlines() if "error" in ln]) == 1
    assert fake.calls == []  # type: ignore[attr-defined]


def test_offline_leaves_requests_pending_then_finishes_from_the_cache(tmp_path: Path) -> None:
    from abplan.lm.cache import ResponseCache

    paper = str(markdown_paper(tmp_path / "p.md"))
    cmd = ["dataset", "author", paper, "--out", str(tmp_path / "ds"), "--model", "openai/gpt-4o", "--offline"]
    first = runner.invoke(app, cmd, env={"OPENAI_API_KEY": "sk-test"})
    assert first.exit_code == 3 and "1 LM request pending" in first.output
    assert not (tmp_path / "ds" / "tasks.jsonl").exists()
    exported = runner.invoke(app, ["lm", "export", "--out", str(tmp_path / "batch")])
    assert exported.exit_code == 0, exported.output
    line = json.loads((tmp_path / "batch" / "openai_gpt-4o.jsonl").read_text("utf-8").splitlines()[0])
    user = line["body"]["messages"][1]["content"]
    answer = {
        "custom_id": line["custom_id"],
        "response": {
            "status_code": 200,
            "body": {"choices": [{"message": {"content": reply_for(user, ITEMS)}, "finish_reason": "stop"}]},
        },
    }
    (tmp_path / "results.jsonl").write_text(json.dumps(answer) + "\n", "utf-8")
    assert runner.invoke(app, ["lm", "import", str(tmp_path / "results.jsonl")]).exit_code == 0
    again = runner.invoke(app, cmd, env={"OPENAI_API_KEY": "sk-test"})
    assert again.exit_code == 0, again.output
    assert len(only_task(tmp_path)["ablations_in_paper"]) == 2  # type: ignore[arg-type]
    assert ResponseCache.in_dir(tmp_path / "cache").pending() == []


def test_rules_only_draft_is_labelled(tmp_path: Path) -> None:
    res = runner.invoke(
        app, ["dataset", "author", str(markdown_paper(tmp_path / "p.md")), "-o", str(tmp_path / "ds")]
    )
    assert res.exit_code == 0, res.output
    assert "rules-only draft" in res.output and "DRAFT" in res.output
    rec = only_task(tmp_path)
    assert "draft" in rec and rec["provenance"]["method"] == "rules"  # type: ignore[index]
    parts = [g["ablated_part"] for g in rec["ablations_in_paper"]]  # type: ignore[union-attr]
    assert "gate" in parts and "auxiliary reconstruction loss" in parts


def test_several_sources_one_dataset_that_bench_runs(tmp_path: Path, fake: object) -> None:
    md = markdown_paper(tmp_path / "p.md")
    tree = latex_tree(tmp_path / "tree")
    bad = markdown_paper(tmp_path / "none.md", ablation=False)
    code, out = build(tmp_path, str(md), str(tree), str(bad))
    assert code == 2 and "none.md: no ablation found" in out and out.count("wrote task") == 2
    assert len(load_dataset(str(tmp_path / "ds"))) == 2
    res = runner.invoke(
        app,
        [
            "bench",
            "run",
            "--dataset",
            str(tmp_path / "ds"),
            "--planner",
            "offline",
            "--judge",
            "lexical",
            "--out",
            str(tmp_path / "run"),
        ],
    )
    assert res.exit_code == 0, res.output
    results = json.loads((tmp_path / "run" / "results.json").read_text("utf-8"))
    assert results["scored"] == 2 and results["failed"] == 0
    # Building the same paper again replaces its task rather than adding a second one.
    assert build(tmp_path, str(md))[0] == 0
    assert len(load_dataset(str(tmp_path / "ds"))) == 2


def test_readme_worked_example_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import EXAMPLE, ROOT

    readme = (ROOT / "README.md").read_text("utf-8")
    section = readme.split("## Building benchmark tasks from new papers", 1)[1].split("\n## ", 1)[0]
    cmds = [ln for ln in section.splitlines() if ln.startswith("abplan dataset author examples/")]
    assert cmds, "the README shows no worked example"
    shown = [
        ln for ln in section.splitlines() if ln.startswith(("wrote task", "note: no model", "1/1 tasks"))
    ]
    monkeypatch.chdir(EXAMPLE.parent.parent)
    out_dir = tmp_path / "ds"
    args = cmds[0].split()[1:]
    args[args.index("--out") + 1] = str(out_dir)
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    got = res.output.replace(str(out_dir), "datasets/pixelcnnpp")
    for line in shown[:2]:
        assert line in got, line
    rec = json.loads((out_dir / "tasks.jsonl").read_text("utf-8"))
    assert (
        rec["ablations_in_paper"][0]["name"] in section
        and rec["provenance"]["source_text_sha256"][:8] in section
    )


@pytest.mark.shared
def test_rules_only_on_real_full_papers(tmp_path: Path) -> None:
    """dev-bench's reviewer papers are full papers: each becomes a draft whose quotes are verbatim, or a clear error."""
    from abplan.papers import load_paper
    from conftest import DEV_BENCH, need_shared

    papers = sorted(need_shared(DEV_BENCH / "reviewer" / "papers").glob("*/paper.md"))
    written = 0
    for p in papers:
        out = tmp_path / p.parent.name
        res = runner.invoke(app, ["dataset", "author", str(p), "--out", str(out), "--rules-only"])
        if res.exit_code != 0:
            assert res.exit_code == 2 and "no ablation" in res.output, res.output
            continue
        written += 1
        source = squash(load_paper(p).text)
        for task in load_dataset(str(out)):
            for a in task.ablations_in_paper:
                assert all(squash(e.quote) in source for e in a.evidence)
                cut = squash(load_task_paper(task).text)
                assert all(squash(e.quote) not in cut for e in a.evidence)
    assert written >= 2


def test_an_uncited_result_paragraph_that_leaks_is_cut_too(tmp_path: Path, fake: object) -> None:
    paper = markdown_paper(tmp_path / "p.md")
    text = paper.read_text("utf-8").replace(
        EXPERIMENTS, EXPERIMENTS + "\n\nWithout the sigmoid gate, our model loses 4.1 points on the test set."
    )
    paper.write_text(text, "utf-8")
    code, out = build(tmp_path, str(paper))
    assert code == 0, out
    assert "also cut paragraph P1 in '3 Experiments': it reports a gold ablation" in out
    cut = next((tmp_path / "ds" / "papers").glob("*/paper.md")).read_text("utf-8")
    assert "loses 4.1 points" not in cut and "reaches 91.2% accuracy on the test set" in cut


def test_a_key_in_a_rejected_item_never_reaches_the_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_lm: FakeModels
) -> None:
    monkeypatch.setenv("WIDGET_API_KEY", "wk-0123456789abcdef")
    bad = {**ITEMS[1], "name": "Leaky wk-0123456789abcdef", "evidence": "Not in the paper at all."}
    fake_lm("keyed", scripted([ITEMS[0], bad]))  # type: ignore[arg-type]
    res = runner.invoke(
        app,
        [
            "dataset",
            "author",
            str(markdown_paper(tmp_path / "p.md")),
            "-o",
            str(tmp_path / "ds"),
            "--model",
            "fake/keyed",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "wk-0123456789abcdef" not in res.output and "[redacted]" in res.output
    ex = (tmp_path / "ds" / "exclusions.jsonl").read_text("utf-8")
    assert "wk-0123456789abcdef" not in ex and "Leaky [redacted]" in ex
