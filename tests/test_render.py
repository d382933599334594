from __future__ import annotations

import json
from pathlib import Path

import pytest

from abplan.errors import ConfigError
from abplan.render import parse_formats, render_html, render_json, render_jsonl, render_markdown, write_plan
from abplan.render.markdown import read_markdown_plan
from abplan.schema import Ablation, Evidence, Finding, Plan

PLAN = Plan(
    paper_id="abc",
    paper_title="Gated <Widgets> & Co",
    mode="author",
    planner="lm",
    model="openai/gpt-4o",
    k=5,
    reasoning_trace="First point.\n\n1. one\n2. two",
    ablations=[
        Ablation(
            name="No gate",
            ablated_part="gate",
            action="REMOVE",
            metrics=["accuracy", "F1"],
            evidence=[Evidence(quote="we use a gate", section="2 Method")],
            support=3,
            rationale="It matters.",
        ),
        Ablation(
            name="Gate type",
            ablated_part="gate fn",
            action="REPLACE",
            replacement=["tanh", "relu"],
            metrics=["accuracy"],
        ),
    ],
    findings=[Finding(kind="hidden-text", detail="LaTeX white text", excerpt="ignore all", removed=True)],
)


def test_markdown_round_trip() -> None:
    md = render_markdown(PLAN)
    title, trace, items = read_markdown_plan(md)
    assert title == "lm/openai/gpt-4o/Gated_Widgets_Co"
    assert trace == PLAN.reasoning_trace
    assert items == [a.core() for a in PLAN.ablations]
    assert (
        "#f3e5f5" in md and "- **Support**: 3" in md and "Evidence** (2 Method)" in md and "⚠️ Warnings" in md
    )


def test_reviewer_plan_box_is_green() -> None:
    assert "#e8f5e8" in render_markdown(PLAN.model_copy(update={"mode": "reviewer"}))


def test_jsonl_core_fields_first() -> None:
    lines = [json.loads(x) for x in render_jsonl(PLAN).splitlines()]
    assert list(lines[0])[:5] == ["name", "ablated_part", "action", "replacement", "metrics"]
    assert lines[0]["replacement"] is None and lines[0]["support"] == 3
    assert "support" not in lines[1]


def test_json_is_the_whole_plan() -> None:
    assert Plan.model_validate_json(render_json(PLAN)) == PLAN


def test_html_escapes_and_contains_everything() -> None:
    page = render_html(PLAN)
    assert page.startswith("<!DOCTYPE html>") and "Gated &lt;Widgets&gt; &amp; Co" in page
    assert "<ol><li>one</li><li>two</li></ol>" in page
    assert page.count('class="ablation"') == 2 and "ignore all" in page


def test_formats() -> None:
    assert parse_formats("md, html,JSONL") == ["md", "html", "jsonl"]
    with pytest.raises(ConfigError, match="unknown format"):
        parse_formats("md,pdf")


def test_write_plan_is_atomic_and_complete(tmp_path: Path) -> None:
    paths = write_plan(PLAN, tmp_path / "out", ["md", "html", "jsonl", "json"])
    assert [p.suffix for p in paths] == [".md", ".html", ".jsonl", ".json"]
    assert not list((tmp_path / "out").glob(".*tmp"))
