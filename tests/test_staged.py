from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from abplan import load_paper
from abplan.cli import app
from abplan.errors import PendingRequests
from abplan.lm import FakeModel, LMClient, LMRequest, ResponseCache
from abplan.lm.batch import export_lines, import_results
from abplan.planners.base import PlanOptions
from abplan.planners.staged import StagedPlanner, default_min_support, groups_from_reply, lexical_groups
from abplan.schema import Plan
from abplan.testing import FakeModels
from conftest import EXAMPLE
from run_files import records
from scripted import group_by_part

DROPOUT_QUOTE = "we apply standard binary dropout on the residual path"


def item(
    name: str, part: str, action: str = "REMOVE", quote: str = DROPOUT_QUOTE, reps: list[str] | None = None
) -> dict[str, Any]:
    return {
        "name": name,
        "ablated_part": part,
        "action": action,
        "replacement": reps,
        "metrics": ["bits per dimension"],
        "rationale": "because",
        "evidence": {"quote": quote, "section": "2.5"},
    }


class StagedScript:
    """Read: a fixed extraction. Propose: A and B in every sample, C in samples 0-1, D in sample 2 only.
    Consolidate: groups by identical ablated part."""

    def __init__(self) -> None:
        self.stages: list[str] = []

    def __call__(self, req: LMRequest) -> str:
        user = req.messages[-1][1] if req.messages[-1][0] == "user" else req.messages[1][1]
        if "extract, as one JSON object" in req.messages[1][1]:
            self.stages.append("read")
            return json.dumps(
                {
                    "contributions": ["a discretized logistic mixture likelihood"],
                    "components": [
                        {
                            "name": "dropout",
                            "description": "on the residual path",
                            "quote": DROPOUT_QUOTE,
                            "section": "2.5",
                        },
                        {
                            "name": "short-cut connections",
                            "quote": "The short-cut connections run from the ResNet layers in the first block",
                        },
                    ],
                    "hyperparameters": [{"name": "mixture components", "value": "5"}],
                    "datasets": ["CIFAR-10"],
                    "metrics": ["bits per dimension"],
                    "existing_ablations": [{"ablated_part": "dropout on the residual path"}],
                }
            )
        if "Group together the proposals" in user:
            self.stages.append("consolidate")
            return group_by_part(user)
        self.stages.append("propose")
        seed = req.seed or 0
        items = [
            item("No dropout", "dropout on the residual path"),
            item(
                "No short-cuts",
                "short-cut connections",
                quote="a sentence that the paper never contains at all",
            ),
        ]
        if seed in (0, 1):
            items.append(
                item(
                    "Softmax output",
                    "discretized logistic mixture likelihood",
                    "REPLACE",
                    quote="we use a discretized logistic mixture likelihood",
                    reps=["256-way softmax"],
                )
            )
        if seed == 2:
            items.append(item("No downsampling", "downsampling"))
        return (
            "<discussion>sample</discussion>\n<predictions>\n"
            + "\n".join(json.dumps(i) for i in items)
            + "\n</predictions>"
        )


@pytest.fixture
def script(fake_lm: FakeModels) -> Any:
    s = StagedScript()
    fm = fake_lm("staged", FakeModel(s))
    yield s, fm


def plan_with(tmp_path: Path, mode: str = "author", offline: bool = False, **extra: Any) -> Plan:
    paper = load_paper(EXAMPLE)
    opts = PlanOptions(mode=mode, model="fake/staged", extra={"samples": 3, **extra})  # type: ignore[arg-type]

    async def go() -> Plan:
        lm = LMClient(cache_dir=tmp_path / "cache", offline=offline)
        try:
            return await StagedPlanner().plan(paper, opts, lm)
        finally:
            await lm.aclose()

    return asyncio.run(go())


def test_pipeline_contracts(tmp_path: Path, script: Any) -> None:
    s, fm = script
    plan = plan_with(tmp_path)
    assert s.stages == ["read", "propose", "propose", "propose", "consolidate"]
    assert len({r.seed for r in fm.calls[1:4]}) == 3  # distinct samples, distinct cache entries
    ex = plan.stages["extraction"]
    assert [c["name"] for c in ex["components"]] == ["dropout", "short-cut connections"]
    groups = {g["ablated_part"]: g for g in plan.stages["groups"]}
    assert (
        groups["dropout on the residual path"]["support"] == 3
        and len(groups["dropout on the residual path"]["members"]) == 3
    )
    assert groups["discretized logistic mixture likelihood"]["support"] == 2
    assert groups["downsampling"]["support"] == 1
    assert len(groups) == 4  # duplicates merged, distinct experiments apart
    # N = 3: all samples must agree
    assert [a.ablated_part for a in plan.ablations] == [
        "dropout on the residual path",
        "short-cut connections",
    ]
    assert [a.support for a in plan.ablations] == [3, 3]
    assert groups["discretized logistic mixture likelihood"]["cut"] == "support 2 < 3"
    # grounding: the invented quote is dropped, and the fallback finds a real sentence
    assert plan.stages["evidence_dropped"] == 1  # the three samples share one invented quote
    for a in plan.ablations:
        assert a.evidence and all(e.verified for e in a.evidence)
    assert "never contains" not in json.dumps([a.model_dump() for a in plan.ablations])
    assert set(plan.stages["usage"]) == {"read", "propose", "consolidate"}
    assert "3 of 3 independent samples" in plan.reasoning_trace


def test_fixed_length_and_min_support(tmp_path: Path, script: Any) -> None:
    _, fm = script
    fixed = plan_with(tmp_path, length="fixed")
    assert len(fixed.ablations) == 4  # k = 5, four distinct experiments
    two = plan_with(tmp_path, min_support=2)
    assert [a.support for a in two.ablations] == [3, 3, 2]
    assert len(fm.calls) == 5  # other thresholds re-cut the same cached samples: no new LM call


def test_reviewer_mode_drops_what_the_paper_has(tmp_path: Path, script: Any) -> None:
    plan = plan_with(tmp_path, mode="reviewer", length="fixed")
    parts = [a.ablated_part for a in plan.ablations]
    assert "dropout on the residual path" not in parts
    cut = {g["ablated_part"]: g["cut"] for g in plan.stages["groups"]}
    assert cut["dropout on the residual path"] == "already in the paper"


def test_batch_rounds_equal_the_live_plan(tmp_path: Path, script: Any) -> None:
    live = plan_with(tmp_path / "live")
    answer = StagedScript()
    rounds = 0
    while True:
        try:
            batch = plan_with(tmp_path / "batch", offline=True)
            break
        except Exception as e:  # CacheMiss from the planner itself
            from abplan.lm.types import CacheMiss

            assert isinstance(e, (CacheMiss, PendingRequests))
            rounds += 1
            cache = ResponseCache.in_dir(tmp_path / "batch" / "cache")
            results = []
            for group in export_lines(cache).values():
                for line in group:
                    key = json.loads(line)["custom_id"]
                    raw = cache.pending_request(key)
                    assert raw is not None
                    text = answer(LMRequest.from_json(raw))
                    results.append(
                        {
                            "custom_id": key,
                            "response": {
                                "status_code": 200,
                                "body": {
                                    "choices": [{"message": {"content": text}, "finish_reason": "stop"}],
                                    "usage": {},
                                },
                            },
                        }
                    )
            f = tmp_path / f"r{rounds}.jsonl"
            f.write_text("".join(json.dumps(r) + "\n" for r in results))
            assert import_results(cache, f).imported == len(results)
            assert rounds < 6
    assert rounds == 3  # read, propose (all samples at once), consolidate
    assert [a.model_dump() for a in batch.ablations] == [a.model_dump() for a in live.ablations]


def test_default_min_support() -> None:
    assert [default_min_support(n) for n in (1, 2, 3, 4, 5, 10)] == [1, 2, 3, 3, 4, 7]


def test_grouping_fallbacks() -> None:
    from abplan.planners.staged import Candidate
    from abplan.schema import Ablation

    cands = [
        Candidate(
            id=f"S{i}-1",
            sample=i,
            rank=1,
            ablation=Ablation(name="x", ablated_part="the gate network", action="REMOVE"),
        )
        for i in range(3)
    ]
    cands.append(
        Candidate(
            id="S0-2",
            sample=0,
            rank=2,
            ablation=Ablation(name="y", ablated_part="learning rate", action="REPLACE"),
        )
    )
    groups, notes = groups_from_reply('<predictions>{"ids": ["S0-1", "S1-1", "S9-9"]}</predictions>', cands)
    assert [len(g.members) for g in groups] == [2, 1, 1] and "left ungrouped" in notes[0]
    lex = lexical_groups(cands)
    assert [g.support for g in lex] == [3, 1]


def test_cli_dry_run_prints_calls_and_spends_nothing(tmp_path: Path, script: Any) -> None:
    _, fm = script
    res = CliRunner().invoke(
        app,
        [
            "plan",
            str(EXAMPLE),
            "--planner",
            "staged-extract",
            "--model",
            "openai/gpt-4o",
            "--samples",
            "4",
            "--dry-run",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "total: 6 calls" in res.output and "$" in res.output
    assert fm.calls == []


def test_cli_staged_plan(tmp_path: Path, script: Any) -> None:
    res = CliRunner().invoke(
        app,
        [
            "plan",
            str(EXAMPLE),
            "--planner",
            "staged-extract",
            "--model",
            "fake/staged",
            "--samples",
            "3",
            "-f",
            "md,json",
            "-o",
            str(tmp_path),
            "-q",
        ],
    )
    assert res.exit_code == 0, res.output
    md = next(tmp_path.glob("*.md")).read_text()
    assert "- **Support**: 3" in md and "- **Evidence**" in md


def test_long_paper_is_fitted_to_the_context(tmp_path: Path, script: Any) -> None:
    _, fm = script
    plan = plan_with(tmp_path, context_window=14_000)
    assert any("exceeds the budget" in w for w in plan.warnings)
    assert all(len(c.messages[-1][1]) < 14_000 * 4 for c in fm.calls)


def test_bench_run_with_the_staged_planner(tmp_path: Path, script: Any) -> None:
    from conftest import DEV_BENCH, need_shared

    need_shared(DEV_BENCH)
    res = CliRunner().invoke(
        app,
        [
            "bench",
            "run",
            "--dataset",
            str(DEV_BENCH / "author"),
            "--planner",
            "staged-extract",
            "--model",
            "fake/staged",
            "--samples",
            "3",
            "--min-support",
            "2",
            "--out",
            str(tmp_path / "run"),
        ],
    )
    assert res.exit_code == 0, res.output
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["complete"] and results["config"]["planner_options"]["samples"] == 3
    planned = [r.plan for r in records(tmp_path / "run").values() if r.plan is not None]
    assert planned, "no plan in the run's journal"
    plan = planned[0].model_dump(mode="json")
    assert [a["support"] for a in plan["ablations"]] == [3, 3, 2]
    for a in plan["ablations"]:  # grounded in the paper, or flagged: never an invented quote
        assert a["evidence"] or any(a["ablated_part"] in w for w in plan["warnings"])
        assert all(e["verified"] for e in a["evidence"])
