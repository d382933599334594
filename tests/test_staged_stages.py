"""Each stage of the staged planner on its own: the pure ones with plain data, the LM ones with a fake model."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from pathlib import Path
from typing import Any

import pytest

from abplan import load_paper
from abplan.errors import ConfigError
from abplan.lm import LMClient
from abplan.lm.types import ProviderError
from abplan.parsing import ParsedPlan
from abplan.planners.base import PlanOptions
from abplan.planners.staged import (
    Candidate,
    Component,
    ExistingAblation,
    Extraction,
    Group,
    StagedOptions,
    TraceFacts,
    affordable_samples,
    collect,
    consolidate,
    extraction_summary,
    ground,
    ground_all,
    merge_group,
    parse_extraction,
    propose,
    propose_requests,
    rank_and_cut,
    read,
    read_request,
    staged_trace,
)
from abplan.schema import Ablation, Evidence, Paper
from abplan.testing import FakeModels
from conftest import EXAMPLE
from test_staged import DROPOUT_QUOTE, item

EXTRACTION = {"contributions": ["c"], "components": [{"name": "dropout", "quote": DROPOUT_QUOTE}]}


def run(tmp_path: Path, make: Any) -> Any:
    """`await make(lm)` with a client over a fresh cache."""

    async def go() -> Any:
        lm = LMClient(cache_dir=tmp_path / "cache")
        try:
            coro: Coroutine[Any, Any, Any] = make(lm)
            return await coro
        finally:
            await lm.aclose()

    return asyncio.run(go())


@pytest.fixture(scope="module")
def paper() -> Paper:
    return load_paper(EXAMPLE)


def cand(sample: int, rank: int, part: str, **kw: Any) -> Candidate:
    ab = Ablation(name=kw.pop("name", part), ablated_part=part, action=kw.pop("action", "REMOVE"), **kw)
    return Candidate(id=f"S{sample + 1}-{rank}", sample=sample, rank=rank, ablation=ab)


# -- options --------------------------------------------------------------------------------------
def test_options_are_read_once_with_their_defaults() -> None:
    so = StagedOptions.from_plan_options(PlanOptions(model="fake/a"))
    assert so == StagedOptions(models=("fake/a",), samples=5, min_support=4, length="support")
    so = StagedOptions.from_plan_options(
        PlanOptions(
            model="fake/a",
            extra={
                "models": ["fake/a", "fake/b"],
                "samples": 3,
                "length": "fixed",
                "max_cost": 1,
                "context_window": 20_000,
            },
        )
    )
    assert (so.models, so.samples, so.min_support, so.length, so.max_cost) == (
        ("fake/a", "fake/b"),
        3,
        3,
        "fixed",
        1.0,
    )
    assert so.fit_budget == 8_000  # the window less 12K for the rest of the prompt and the reply


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"samples": 0}, r"^samples must be a whole number of at least 1, not 0$"),
        ({"min_support": True}, r"^min_support must be a whole number of at least 1, not True$"),
        ({"length": "longest"}, r"^length must be 'support' or 'fixed', not 'longest'$"),
    ],
)
def test_bad_options_are_one_line_errors(extra: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        StagedOptions.from_plan_options(PlanOptions(model="fake/a", extra=extra))


def test_options_need_a_model() -> None:
    with pytest.raises(ConfigError, match="needs a model"):
        StagedOptions.from_plan_options(PlanOptions())


# -- 1. read --------------------------------------------------------------------------------------
def test_parse_extraction_takes_the_largest_object_that_fits() -> None:
    text = (
        '<think>{"x": 1}</think> {"metrics": ["BPD"]} and {"contributions": ["a"], "datasets": ["CIFAR-10"]}'
    )
    ex = parse_extraction(text)
    assert ex is not None and ex.datasets == ["CIFAR-10"]
    assert parse_extraction("no JSON here") is None
    assert parse_extraction('{"components": "not a list"}') is None


@pytest.mark.parametrize(
    ("replies", "calls", "note"),
    [
        ([json.dumps(EXTRACTION)], 1, None),
        (["prose", json.dumps(EXTRACTION)], 2, "the first extraction was unreadable; repaired"),
        (["prose", "still prose"], 2, "even after one repair"),
    ],
)
def test_read_repairs_once(
    tmp_path: Path, fake_lm: FakeModels, paper: Paper, replies: list[str], calls: int, note: str | None
) -> None:
    fm = fake_lm("reader", replies)
    req = read_request(paper, PlanOptions(model="fake/reader"), "fake/reader", "SOURCE")
    assert req.tag == "read" and req.temperature == 0.0 and req.json_schema is not None
    ex, resp, notes = run(tmp_path, lambda lm: read(lm, req))
    assert len(fm.calls) == len(resp) == calls
    if note is None:
        assert notes == [] and [c.name for c in ex.components] == ["dropout"]
    else:
        assert len(notes) == 1 and note in notes[0]
        assert (ex == Extraction()) == ("even after" in note)


def test_extraction_summary() -> None:
    assert extraction_summary(Extraction()) == "(nothing extracted)"
    ex = Extraction(
        components=[Component(name="gate", description="a sigmoid"), Component(name="skip")],
        metrics=["BPD"],
        existing_ablations=[ExistingAblation(ablated_part="dropout")],
    )
    assert extraction_summary(ex) == (
        "Components: gate (a sigmoid); skip\nMetrics: BPD\nAblations the paper already reports: dropout"
    )


# -- 2. propose -----------------------------------------------------------------------------------
def test_propose_requests_are_distinct_samples(paper: Paper) -> None:
    opts = PlanOptions(model="fake/a", k=3)
    reqs = propose_requests(paper, opts, ["fake/a", "fake/b"], 3, Extraction(metrics=["BPD"]), "SRC")
    assert [(r.model, r.seed, r.temperature, r.tag) for r in reqs] == [
        ("fake/a", 0, 0.7, "propose"),
        ("fake/b", 1, 0.7, "propose"),
        ("fake/a", 2, 0.7, "propose"),
    ]
    assert "Metrics: BPD" in reqs[0].messages[1][1] and "6" in reqs[0].messages[1][1]  # 2k items
    cold = propose_requests(paper, PlanOptions(temperature=0.2), ["fake/a"], 1, Extraction(), "SRC")
    assert cold[0].temperature == 0.2


def test_collect_keeps_2k_items_per_sample_and_warns_on_failures() -> None:
    abl = [Ablation(name=f"n{i}", ablated_part=f"p{i}", action="REMOVE") for i in range(5)]
    ok = (ParsedPlan(reasoning="", ablations=abl), [])
    got = collect([ok, ProviderError("boom", retryable=False), ok], per_sample=4)
    assert got.ok_samples == 2 and got.warnings == ["sample 2 failed: boom"]
    assert [c.id for c in got.candidates][:5] == ["S1-1", "S1-2", "S1-3", "S1-4", "S3-1"]
    assert len(got.candidates) == 8 and {c.sample for c in got.candidates} == {0, 2}


def test_propose_sends_every_sample(tmp_path: Path, fake_lm: FakeModels, paper: Paper) -> None:
    reply = (
        "<predictions>\n"
        + "\n".join(json.dumps(item(f"n{i}", f"p{i}")) for i in range(6))
        + "\n</predictions>"
    )
    fm = fake_lm("proposer", [reply])
    opts = PlanOptions(model="fake/proposer", k=2)
    reqs = propose_requests(paper, opts, ["fake/proposer"], 3, Extraction(), "SRC")
    got = run(tmp_path, lambda lm: propose(lm, reqs, k=2))
    assert len(fm.calls) == 3 and got.ok_samples == 3 and len(got.responses) == 3
    assert len(got.candidates) == 12  # 2k = 4 of the 6 items from each sample


def test_affordable_samples(paper: Paper) -> None:
    reqs = propose_requests(paper, PlanOptions(), ["openai/gpt-4o"], 5, Extraction(), "x" * 40_000)
    assert affordable_samples(reqs, 100.0, 0.0) > 5  # may exceed N: the caller only ever lowers N
    assert affordable_samples(reqs, 0.0, 0.0) == 1  # never none
    one = affordable_samples(reqs, 0.1, 0.0)
    assert 1 < one < affordable_samples(reqs, 1.0, 0.0)
    assert affordable_samples(reqs, 1.0, 0.9) < affordable_samples(reqs, 1.0, 0.0)  # what the read spent
    unpriced = propose_requests(paper, PlanOptions(), ["fake/none"], 4, Extraction(), "SRC")
    assert affordable_samples(unpriced, 0.0, 0.0) == 4


# -- 3. consolidate and merge ---------------------------------------------------------------------
def test_consolidate_asks_once_and_falls_back_to_word_overlap(
    tmp_path: Path, fake_lm: FakeModels, paper: Paper
) -> None:
    cands = [cand(0, 1, "the gate network"), cand(1, 1, "the gate network"), cand(1, 2, "learning rate")]
    opts = PlanOptions(model="fake/grouper")
    fm = fake_lm("grouper", ['<predictions>{"ids": ["S1-1", "S2-1"], "name": "No gate"}</predictions>'])
    groups, resp, notes = run(
        tmp_path / "a", lambda lm: consolidate(lm, paper, cands, "fake/grouper", opts, 2)
    )
    assert [(g.name, g.support) for g in groups] == [("No gate", 2), ("learning rate", 1)]
    assert len(resp) == 1 and "left ungrouped" in notes[0] and len(fm.calls) == 1
    fake_lm("grouper", ["I cannot group these."])
    groups, _, notes = run(tmp_path / "b", lambda lm: consolidate(lm, paper, cands, "fake/grouper", opts, 2))
    assert [g.support for g in groups] == [2, 1] and "word overlap" in notes[0]
    fm = fake_lm("grouper", ["unused"])
    groups, resp, notes = run(
        tmp_path / "c", lambda lm: consolidate(lm, paper, cands[:1], "fake/grouper", opts, 1)
    )
    assert fm.calls == [] and resp == [] and notes == [] and len(groups) == 1  # one sample: nothing to group


def test_merge_group_merges_by_frequency() -> None:
    ev = Evidence(quote="q1")
    g = Group(
        name="Swap the loss",
        ablated_part="loss",
        action="REPLACE",
        members=[
            cand(1, 2, "loss", action="REPLACE", replacement=["L1", "L2"], metrics=["acc"], evidence=[ev]),
            cand(0, 1, "loss", action="REPLACE", replacement=["L2 "], metrics=["acc", "F1"], evidence=[ev]),
            cand(2, 3, "loss", action="REPLACE", replacement=["L3"], rationale="late"),
        ],
    )
    ab = merge_group(g)
    assert ab.replacement == ["L2", "L1", "L3"]  # L2 twice; ties in the order first seen (by rank)
    assert ab.metrics == ["acc", "F1"] and ab.evidence == [ev]
    assert (ab.support, ab.score, ab.name, ab.action) == (3, 2.0, "Swap the loss", "REPLACE")
    odd = merge_group(Group(name="x", ablated_part="p", action="DELETE", members=[cand(0, 1, "p")]))
    assert odd.action == "REMOVE" and odd.replacement is None  # an unknown action: the top member's


# -- 4. rank and cut ------------------------------------------------------------------------------
def groups_of(*spec: tuple[str, int]) -> list[Group]:
    """Groups named by their part, with `support` members from distinct samples at rank 1."""
    return [
        Group(name=p, ablated_part=p, action="REMOVE", members=[cand(s, 1, p) for s in range(n)])
        for p, n in spec
    ]


def test_rank_and_cut_by_support_and_k() -> None:
    groups = groups_of(("b", 2), ("a", 3), ("c", 1), ("d", 3))
    cut = rank_and_cut(groups, mode="author", k=5, length="support", min_support=2, existing=[])
    assert [g.name for g in cut.ranked] == ["a", "d", "b", "c"]
    assert [g.name for g in cut.kept] == ["a", "d", "b"]
    assert [r["cut"] for r in cut.records] == [None, None, None, "support 1 < 2"]
    cut = rank_and_cut(groups, mode="author", k=2, length="fixed", min_support=3, existing=[])
    assert [g.name for g in cut.kept] == ["a", "d"] and cut.records[2]["cut"] == "beyond k=2"


def test_rank_and_cut_reviewer_drops_what_the_paper_has_and_never_returns_none() -> None:
    existing = [ExistingAblation(ablated_part="dropout on the residual path")]
    groups = groups_of(("dropout on the residual path", 3), ("gating", 1))
    cut = rank_and_cut(groups, mode="reviewer", k=2, length="support", min_support=3, existing=existing)
    assert [g.name for g in cut.kept] == ["gating"]  # support 1 < 3, but the plan must not be empty
    assert cut.records[0]["cut"] == "already in the paper"
    author = rank_and_cut(groups, mode="author", k=2, length="support", min_support=3, existing=existing)
    assert [g.name for g in author.kept] == ["dropout on the residual path"]
    everything_in_paper = rank_and_cut(
        groups[:1], mode="reviewer", k=2, length="support", min_support=1, existing=existing
    )
    assert everything_in_paper.records[0] | {"members": []} == everything_in_paper.records[0] | {
        "kept": True,
        "cut": None,
        "note": "kept so the plan is not empty",
        "members": [],
    }


# -- 5. ground ------------------------------------------------------------------------------------
def test_ground_keeps_verified_quotes_then_falls_back(paper: Paper) -> None:
    real, fake = Evidence(quote=DROPOUT_QUOTE), Evidence(quote="a sentence the paper never contains")
    ab = Ablation(name="n", ablated_part="dropout", action="REMOVE", evidence=[fake, real])
    got, dropped = ground(ab, paper, Extraction())
    assert dropped == 1 and [(e.quote, e.verified) for e in got.evidence] == [(DROPOUT_QUOTE, True)]
    only_fake = ab.model_copy(update={"evidence": [fake]})
    ex = Extraction(components=[Component(name="dropout", quote=DROPOUT_QUOTE, section="2.5")])
    got, dropped = ground(only_fake, paper, ex)
    assert dropped == 1 and got.evidence == [Evidence(quote=DROPOUT_QUOTE, section="2.5", verified=True)]
    got, _ = ground(only_fake, paper, Extraction())  # no extraction quote: the best-matching sentence
    assert len(got.evidence) == 1 and "dropout" in got.evidence[0].quote.lower()
    none, _ = ground(
        only_fake.model_copy(update={"ablated_part": "zzqx"}),
        paper.model_copy(update={"text": "t", "sections": []}),
        Extraction(),
    )
    assert none.evidence == []


def test_ground_all_warns_on_what_nothing_supports(paper: Paper) -> None:
    groups = groups_of(("dropout", 2), ("zzqx frobnication", 1))
    ablations, dropped, warnings = ground_all(groups, paper, Extraction())
    assert [bool(a.evidence) for a in ablations] == [True, False] and dropped == 0
    assert warnings == [
        "no passage of the paper supports 'zzqx frobnication': check that it is part of the method"
    ]


# -- the trace ------------------------------------------------------------------------------------
def test_staged_trace_tells_each_stage() -> None:
    groups = groups_of(("a", 3), ("b", 1))
    ex = Extraction(metrics=["BPD"], existing_ablations=[ExistingAblation(ablated_part="x")])
    facts = TraceFacts("reviewer", 2, ex, 3, 3, 4, groups, groups[:1], 3, "support", 1, ["fake/a"])
    lines = staged_trace(facts).splitlines()
    assert lines[0].endswith("metrics: BPD. The paper already reports 1 ablations: x.")
    assert (
        lines[2]
        == "Proposals: 3 of 3 independent samples (fake/a) gave 4 candidate ablations, which group into 2 distinct experiments."
    )
    assert lines[4].endswith("kept the experiments proposed by at least 3 of 3 samples, at most 2.")
    assert lines[5:7] == ["1. a: support 3/3, mean rank 1.0", "Not kept: b (1/3)."]
    assert (
        lines[-1] == "Grounding: 1 quoted evidence passage could not be found in the paper and was dropped."
    )
    fixed = staged_trace(TraceFacts("author", 2, ex, 3, 2, 4, groups, groups, 3, "fixed", 2, ["fake/a"]))
    assert "kept the top 2." in fixed and "already reports" not in fixed and "passages could" in fixed
