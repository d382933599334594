"""`abplan dataset reviewer`: PeerRead and OpenReview reviews into a ReviewerAblation task."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from abplan.bench.builder.reviews import read_reviews
from abplan.bench.tasks import load_dataset
from abplan.cli import app
from abplan.errors import InputError
from abplan.lm import LMRequest
from abplan.testing import FakeModels
from test_dataset_author import markdown_paper

runner = CliRunner()

R1 = (
    "The gate is interesting.\nWhat happens without the auxiliary reconstruction loss? An experiment removing "
    "it would show whether it matters. How was the learning rate chosen?"
)
R2 = (
    "Please compare with the Transformer baseline of Smith et al. It would be good to see results on more "
    "datasets. I would like to see the effect of the gate temperature, e.g. 0.5 and 2.0."
)
R3 = "Solid work. Did you try removing the gate?"

MISSING = [
    {
        "name": "No auxiliary loss",
        "ablated_part": "auxiliary reconstruction loss",
        "action": "REMOVE",
        "replacement": None,
        "metrics": ["accuracy"],
        "evidence": "What happens without the auxiliary reconstruction loss?",
        "review": 1,
    },
    {
        "name": "Gate temperature",
        "ablated_part": "temperature of the sigmoid gate",
        "action": "REPLACE",
        "replacement": ["0.5", "2.0"],
        "metrics": ["accuracy"],
        "evidence": "I would like to see the effect of the gate temperature, e.g. 0.5 and 2.0.",
        "review": 1,  # wrong number: the quote is in review 2, which is where it is recorded
    },
    {
        "name": "Encoder depth",
        "ablated_part": "encoder depth",
        "action": "REPLACE",
        "metrics": ["accuracy"],
        "evidence": "Vary the encoder depth.",
        "review": 1,
    },
]
EXCLUDED = [
    {
        "request": "Please compare with the Transformer baseline of Smith et al.",
        "review": 2,
        "reason": "baseline",
    },
    {"request": "It would be good to see results on more datasets.", "review": 2, "reason": "new_dataset"},
    {"request": "How was the learning rate chosen?", "review": 1, "reason": "clarification"},
    {
        "request": "Did you try removing the gate?",
        "review": 3,
        "reason": "answered_in_paper",
        "note": "Section 4",
    },
]


def reviewer_reply(req: LMRequest) -> str:
    user = req.messages[1][1]
    assert len(re.findall(r'<review n="\d+">', user)) == 3
    assert "Without the gate, accuracy drops" in user  # the full paper, ablations included
    assert "4 Ablation study" in user  # the rules' list of what the paper already reports
    return (
        "<discussion>two requests stand</discussion>\n<missing_ablations>\n"
        + "\n".join(json.dumps(m) for m in MISSING)
        + "\n</missing_ablations>\n<excluded>\n"
        + "\n".join(json.dumps(e) for e in EXCLUDED)
        + "\n</excluded>"
    )


@pytest.fixture
def fake(fake_lm: FakeModels) -> Iterator[object]:
    fm = fake_lm("reviewer", reviewer_reply)
    yield fm


def peerread(path: Path) -> Path:
    reviews = [
        {"IS_META_REVIEW": True, "comments": R3},
        {
            "TITLE": "ICLR committee final decision",
            "IS_META_REVIEW": False,
            "comments": "Accept.",
            "OTHER_KEYS": "pcs",
        },
        {
            "OTHER_KEYS": "ICLR 2017 conference AnonReviewer1",
            "comments": R1,
            "IS_META_REVIEW": False,
            "RECOMMENDATION": 6,
        },
        {
            "OTHER_KEYS": "A. Reader",
            "comments": "A public comment asking for a new dataset.",
            "IS_META_REVIEW": False,
        },
        {
            "OTHER_KEYS": "ICLR 2017 conference AnonReviewer2",
            "comments": R2,
            "IS_META_REVIEW": False,
            "RECOMMENDATION": 5,
        },
        {
            "OTHER_KEYS": "ICLR 2017 conference AnonReviewer3",
            "comments": R3,
            "IS_META_REVIEW": False,
            "RECOMMENDATION": 7,
        },
        {"OTHER_KEYS": "ICLR 2017 conference AnonReviewer3", "comments": "", "IS_META_REVIEW": False},
        {
            "OTHER_KEYS": "ICLR 2017 conference AnonReviewer2",
            "comments": "I keep my score.",
            "IS_META_REVIEW": False,
        },
        {"OTHER_KEYS": "(anonymous)", "comments": R2 + "  ", "IS_META_REVIEW": False, "RECOMMENDATION": 5},
    ]
    data = {"title": "Gated Widgets for Sequence Models", "reviews": reviews + reviews, "id": "42"}
    path.write_text(json.dumps(data), "utf-8")
    return path


def openreview_v1(path: Path) -> Path:
    notes = [
        {
            "invitation": "ICLR.cc/2020/Conference/-/Blind_Submission",
            "content": {"title": "Gated Widgets", "abstract": "x"},
        },
        {
            "invitation": "ICLR.cc/2020/Conference/Paper42/-/Official_Review",
            "content": {"title": "Nice", "review": R1, "rating": "6: Weak Accept"},
        },
        {
            "invitation": "ICLR.cc/2020/Conference/Paper42/-/Official_Comment",
            "content": {"comment": "Thanks!"},
        },
        {
            "invitation": "ICLR.cc/2020/Conference/Paper42/-/Official_Review",
            "content": {"review": R2, "rating": "3: Weak Reject"},
        },
        {
            "invitation": "ICLR.cc/2020/Conference/Paper42/-/Official_Review",
            "content": {"review": R3, "confidence": "4"},
        },
    ]
    path.write_text(json.dumps(notes), "utf-8")
    return path


def openreview_v2(path: Path) -> Path:
    def note(kind: str, **content: str) -> dict[str, object]:
        return {
            "invitations": [f"ICLR.cc/2024/Conference/Submission42/-/{kind}"],
            "content": {k: {"value": v} for k, v in content.items()},
        }

    notes = [
        note(
            "Official_Review",
            summary="A gate.",
            weaknesses=R1,
            rating="6: marginally above",
            soundness="3 good",
        ),
        note("Decision", decision="Accept"),
        note("Official_Review", summary="Widgets.", questions=R2, rating="5"),
        note("Official_Review", summary="Fine.", weaknesses=R3, rating="8"),
    ]
    path.write_text(json.dumps({"notes": notes}), "utf-8")
    return path


def test_peerread_keeps_the_official_reviews_once_each(tmp_path: Path) -> None:
    got = read_reviews(peerread(tmp_path / "42.json"))
    assert got.format == "peerread" and got.texts == [R1, R2, R3]
    assert got.title == "Gated Widgets for Sequence Models"


def test_openreview_v1_and_v2_exports(tmp_path: Path) -> None:
    v1 = read_reviews(openreview_v1(tmp_path / "v1.json"))
    assert v1.format == "openreview" and v1.texts == [R1, R2, R3] and v1.title == "Gated Widgets"
    v2 = read_reviews(openreview_v2(tmp_path / "v2.json"))
    assert len(v2.texts) == 3 and "Weaknesses: " + R1 in v2.texts[0] and "Summary: A gate." in v2.texts[0]
    assert not any("marginally" in t or "3 good" in t or "Accept" in t for t in v2.texts)
    lines = tmp_path / "v1.jsonl"
    lines.write_text(
        "\n".join(json.dumps(n) for n in json.loads((tmp_path / "v1.json").read_text())), "utf-8"
    )
    assert read_reviews(lines).texts == [R1, R2, R3]


@pytest.mark.parametrize(
    ("content", "message"),
    [("{nope", "not JSON"), ('{"a": 1}', "not an OpenReview notes export"), ("[]", "no official review")],
)
def test_unreadable_reviews_are_input_errors(tmp_path: Path, content: str, message: str) -> None:
    p = tmp_path / "r.json"
    p.write_text(content, "utf-8")
    with pytest.raises(InputError, match=message):
        read_reviews(p)


def build(tmp_path: Path, reviews: Path, *extra: str) -> tuple[int, str]:
    paper = markdown_paper(tmp_path / "paper.md")
    res = runner.invoke(
        app,
        [
            "dataset",
            "reviewer",
            "--paper",
            str(paper),
            "--reviews",
            str(reviews),
            "--out",
            str(tmp_path / "ds"),
            *extra,
        ],
    )
    return res.exit_code, res.output


def test_reviewer_task_with_exclusions_and_a_bench_run(tmp_path: Path, fake: object) -> None:
    code, out = build(tmp_path, peerread(tmp_path / "42.json"), "--model", "fake/reviewer", "--id", "gw-rev")
    assert code == 0, out
    assert "2 missing ablations from 3 peerread reviews, 5 requests excluded" in out
    rec = json.loads((tmp_path / "ds" / "tasks.jsonl").read_text("utf-8"))
    assert rec["review_text"] == [R1, R2, R3] and rec["num_ablation_suggestions"] == 2
    assert [(m["name"], m["review"]) for m in rec["missing_ablations"]] == [
        ("No auxiliary loss", 1),
        ("Gate temperature", 2),
    ]
    assert all(m["evidence"] in rec["review_text"][m["review"] - 1] for m in rec["missing_ablations"])
    assert (
        rec["provenance"]["reviews_format"] == "peerread" and len(rec["provenance"]["reviews_sha256"]) == 64
    )
    ex = [json.loads(x) for x in (tmp_path / "ds" / "exclusions.jsonl").read_text("utf-8").splitlines()]
    reasons = sorted(e["reason"] for e in ex)
    assert reasons == ["answered_in_paper", "baseline", "clarification", "new_dataset", "unverified"]
    assert all(e["task_id"] == "gw-rev" for e in ex)
    assert next(e for e in ex if e["reason"] == "unverified")["item"]["name"] == "Encoder depth"
    assert next(e for e in ex if e["reason"] == "answered_in_paper")["review"] == 3
    task = load_dataset(str(tmp_path / "ds"))[0]
    assert task.mode == "reviewer" and task.missing_ablations and len(task.missing_ablations) == 2
    assert task.missing_ablations[0].evidence[0].quote.startswith("What happens without")
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
    assert json.loads((tmp_path / "run" / "results.json").read_text("utf-8"))["scored"] == 1


def test_openreview_input_end_to_end(tmp_path: Path, fake: object) -> None:
    code, out = build(tmp_path, openreview_v1(tmp_path / "notes.json"), "--model", "fake/reviewer")
    assert code == 0, out
    rec = json.loads((tmp_path / "ds" / "tasks.jsonl").read_text("utf-8"))
    assert rec["provenance"]["reviews_format"] == "openreview" and rec["num_ablation_suggestions"] == 2


def test_no_model_and_no_request_are_clear_errors(tmp_path: Path, fake_lm: FakeModels) -> None:
    code, out = build(tmp_path, peerread(tmp_path / "42.json"))
    assert code == 2 and "needs a model" in out
    fake_lm(
        "none",
        ["<discussion>nothing</discussion><missing_ablations></missing_ablations><excluded></excluded>"],
    )
    code, out = build(tmp_path, peerread(tmp_path / "42.json"), "--model", "fake/none")
    assert code == 2 and "no missing-ablation request" in out
    assert not (tmp_path / "ds" / "tasks.jsonl").exists()


def test_offline_reviewer_is_pending(tmp_path: Path) -> None:
    code, out = build(tmp_path, peerread(tmp_path / "42.json"), "--model", "fake/absent", "--offline")
    assert code == 3 and "1 LM request pending" in out
