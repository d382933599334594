"""Plan file names: readable, safe, distinct per mode/planner/model, never silently overwritten."""

from __future__ import annotations

import re
from pathlib import Path

from abplan.render import plan_stem, write_plan
from abplan.render.names import TITLE_BYTES, title_part
from abplan.schema import Ablation, Plan

PIXEL = (
    "PixelCNN++: Improving the PixelCNN with Discretized Logistic Mixture Likelihood and Other Modifications"
)
LONG = "Deep Residual Learning of Extremely Long Titles for Benchmarking the Truncation Rules of File Names"
SAFE = re.compile(r"^[\w-]+$")


def a_plan(title: str = PIXEL, mode: str = "author", reasoning: str = "why") -> Plan:
    return Plan(
        paper_id="p1",
        paper_title=title,
        mode=mode,  # type: ignore[arg-type]
        planner="offline",
        model="rules",
        k=5,
        reasoning_trace=reasoning,
        ablations=[Ablation(name="No gate", ablated_part="gate", action="REMOVE", metrics=["acc"])],
    )


def test_names_carry_title_mode_planner_and_model() -> None:
    assert plan_stem(PIXEL, "author", "offline") == "pixelcnnpp-author-offline"
    assert plan_stem(PIXEL, "reviewer", "lm", "openai/gpt-4o") == "pixelcnnpp-reviewer-lm-openai-gpt-4o"
    assert (
        plan_stem(PIXEL, "author", "staged", "ollama/qwen3:8b") == "pixelcnnpp-author-staged-ollama-qwen3-8b"
    )
    assert (
        plan_stem("Attention Is All You Need", "author", "offline")
        == "attention-is-all-you-need-author-offline"
    )
    assert plan_stem("C++ & C#: a comparison", "author", "offline") == "cpp-and-c-sharp-author-offline"


def test_long_titles_are_cut_at_a_word_boundary() -> None:
    part = title_part(LONG)
    assert len(part.encode()) <= TITLE_BYTES and len(part) > 30
    title_words = LONG.lower().split()
    assert part.split("-") == title_words[: len(part.split("-"))]  # whole words only, none cut


def test_cjk_titles_are_capped_in_bytes() -> None:
    title = "深度学习中的消融实验规划方法研究" * 5  # 80 characters, 240 UTF-8 bytes, no spaces
    assert len(title) == 80
    part = title_part(title)
    assert 0 < len(part.encode()) <= TITLE_BYTES and part == title[: len(part)]
    stem = plan_stem(title, "reviewer", "staged", "openrouter/google/gemini-2.5-flash")
    assert len(stem.encode()) < 200


def test_hostile_titles_give_safe_names() -> None:
    for title in ["../../etc/passwd", "<script>alert(1)</script>", "a\x1b]0;x\x07b", ".hidden", "::", "CON"]:
        stem = plan_stem(title, "author", "lm", "openai/gpt-4o")
        assert SAFE.match(stem), stem
        assert not stem.startswith(("-", "."))
    assert plan_stem("::", "author", "offline") == "paper-author-offline"


def test_an_existing_plan_is_never_overwritten(tmp_path: Path) -> None:
    first = write_plan(a_plan(reasoning="first"), tmp_path, ["md", "html"])
    second = write_plan(a_plan(reasoning="second"), tmp_path, ["md", "html"])
    assert [p.name for p in first] == [
        "pixelcnnpp-author-offline-rules.md",
        "pixelcnnpp-author-offline-rules.html",
    ]
    assert [p.name for p in second] == [
        "pixelcnnpp-author-offline-rules-2.md",
        "pixelcnnpp-author-offline-rules-2.html",
    ]
    assert "first" in first[0].read_text() and "second" in second[0].read_text()
    forced = write_plan(a_plan(reasoning="third"), tmp_path, ["md", "html"], force=True)
    assert forced == first and "third" in first[0].read_text()
    assert not list(tmp_path.glob(".*tmp"))


def test_formats_of_one_plan_share_a_free_name(tmp_path: Path) -> None:
    (tmp_path / "x-author-offline.html").write_text("someone else's")
    paths = write_plan(a_plan(), tmp_path, ["md", "html"], stem="x-author-offline")
    assert [p.name for p in paths] == ["x-author-offline-2.md", "x-author-offline-2.html"]
    assert (tmp_path / "x-author-offline.html").read_text() == "someone else's"
    assert not (tmp_path / "x-author-offline.md").exists()


def test_modes_do_not_collide(tmp_path: Path) -> None:
    a = write_plan(a_plan(mode="author"), tmp_path, ["md"], stem=plan_stem(PIXEL, "author", "offline"))
    r = write_plan(a_plan(mode="reviewer"), tmp_path, ["md"], stem=plan_stem(PIXEL, "reviewer", "offline"))
    assert a[0].name == "pixelcnnpp-author-offline.md" and r[0].name == "pixelcnnpp-reviewer-offline.md"


def test_a_cjk_title_plan_is_written(tmp_path: Path) -> None:
    title = "深度学习中的消融实验规划方法研究" * 5
    paths = write_plan(a_plan(title=title), tmp_path, ["md", "html", "jsonl", "json"])
    assert all(p.is_file() and len(p.name.encode()) <= 120 for p in paths)  # 80 CJK chars are 240 bytes
