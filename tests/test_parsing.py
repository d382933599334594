from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from abplan.parsing import normalize_action, parse_plan, split_reply
from conftest import TRAJ, need_shared


def trajectories() -> list[dict[str, Any]]:
    root = need_shared(TRAJ)
    rows = []
    for f in sorted(root.glob("*.jsonl")):
        rows += [json.loads(line) for line in f.read_text().splitlines()]
    return rows


def raw_reply(row: dict[str, Any]) -> str:
    lines = "\n".join(json.dumps(a) for a in row["plan"])
    return f"<discussion>\n{row['reasoning_trace']}\n</discussion>\n<predictions>\n{lines}\n</predictions>"


def test_reads_back_the_trajectories_exactly() -> None:
    rows = trajectories()
    total = exact = 0
    for row in rows:
        parsed = parse_plan(raw_reply(row))
        got = [a.core() for a in parsed.ablations]
        for i, a in enumerate(row["plan"]):
            total += 1
            exact += i < len(got) and got[i] == a
        assert parsed.reasoning == row["reasoning_trace"].strip()
    assert total > 5000
    assert exact / total >= 0.99


def corrupt(text: str, rng: random.Random) -> str:
    ops = [
        lambda t: t.replace("<predictions>", "```json\n").replace("</predictions>", "\n```"),
        lambda t: t.replace("</predictions>", ""),
        lambda t: t.replace("</discussion>", "</discussion></discussion>"),
        lambda t: t.replace('"REMOVE"', '"remove"').replace('"REPLACE"', '"Replce"'),
        lambda t: t.replace("}\n", "},\n"),
        lambda t: t[: rng.randrange(len(t) + 1)],
        lambda t: t.replace('"metrics"', '"metric"'),
        lambda t: "".join(c for c in t if rng.random() > 0.02),
        lambda t: t.replace("\n{", "\n- {"),
    ]
    for _ in range(rng.randint(1, 3)):
        text = rng.choice(ops)(text)
    return text


def test_corrupted_trajectories_never_crash() -> None:
    rng = random.Random(7)
    rows = trajectories()
    for row in rng.sample(rows, 400):
        parsed = parse_plan(corrupt(raw_reply(row), rng))
        for a in parsed.ablations:
            assert a.action in ("REMOVE", "REPLACE", "ADD")


def test_messy_reply_is_repaired_with_warnings() -> None:
    text = """Here is my analysis.
<discussion>The method has a gate.</discussion>
<predictions>
```json
[
  {"name": "No gate", "ablated_part": "gate", "action": "remove", "metrics": "accuracy, F1"},
  {"name": "No gate", "ablated_part": "gate bias", "action": "Replce", "replacement": "zero bias", "metrics": ["accuracy"],},
  {"name": "Bad", "ablated_part": "x", "action": "DESTROY", "metrics": []},
  {"name": "Dict", "ablated_part": "optimizer", "action": "REPLACE", "replacement": {"SGD": true, "Adam": true}}
]
```
</predictions>"""
    p = parse_plan(text)
    assert p.reasoning == "The method has a gate."
    assert [a.name for a in p.ablations] == ["No gate", "No gate (2)", "Dict"]
    assert p.ablations[0].action == "REMOVE" and p.ablations[0].metrics == ["accuracy", "F1"]
    assert p.ablations[1].action == "REPLACE" and p.ablations[1].replacement == ["zero bias"]
    assert p.ablations[2].replacement == ["SGD", "Adam"] and p.ablations[2].metrics == []
    joined = " ".join(p.warnings)
    assert "DESTROY" in joined and "duplicate name" in joined and "no metrics" in joined


def test_no_tags_at_all() -> None:
    p = parse_plan(
        'I suggest:\n{"name": "A", "ablated_part": "a", "action": "ADD", "replacement": ["b"], "metrics": ["m"]}'
    )
    assert len(p.ablations) == 1 and p.reasoning == "I suggest:"


def test_empty_predictions_block() -> None:
    reply = split_reply("<discussion>x</discussion><predictions></predictions>")
    assert reply.items == [] and any("empty" in w for w in reply.warnings)


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("remove", "REMOVE"),
        ("Replace ", "REPLACE"),
        ("REPALCE", "REPLACE"),
        ("addition", "ADD"),
        ("frobnicate", None),
        (3, None),
    ],
)
def test_action_normalisation(raw: object, want: str | None) -> None:
    assert normalize_action(raw) == want


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                *'{}[]",:<>/\n ab',
                "<predictions>",
                "</predictions>",
                "<discussion>",
                '"action"',
                '"REMOVE"',
                '"name"',
                '"ablated_part"',
                "null",
            ]
        ),
        max_size=100,
    ).map("".join)
)
def test_parser_never_crashes(text: str) -> None:
    p = parse_plan(text)
    assert isinstance(p.ablations, list)


def test_thinking_blocks_of_local_reasoning_models_are_ignored() -> None:
    text = (
        '<think>Maybe {"name": "Wrong", "ablated_part": "x", "action": "REMOVE"}? No.</think>\n'
        "<discussion>Real reasoning.</discussion>\n<predictions>\n"
        '{"name": "Right", "ablated_part": "gate", "action": "REMOVE", "metrics": ["acc"]}\n</predictions>'
    )
    p = parse_plan(text)
    assert [a.name for a in p.ablations] == ["Right"] and p.reasoning == "Real reasoning."
