"""Paper and LM text can neither run in a plan viewer nor drive the terminal."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from abplan.cli import app
from abplan.render import render_html, render_markdown
from abplan.render.markdown import read_markdown_plan
from abplan.render.safe import terminal_safe
from abplan.schema import Ablation, Evidence, Finding, Plan
from abplan.testing import FakeModels

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
HOSTILE = Plan(
    paper_id="h",
    paper_title=f"Gated {SCRIPT} Widgets",
    mode="author",
    planner="lm",
    model="openai/<b>gpt</b>",
    k=5,
    reasoning_trace=f"Consider {SCRIPT}.\n\n- first {IMG}\n- second & more\n\n</div><div onclick=alert(2)>",
    ablations=[
        Ablation(
            name=f"No gate {IMG}",
            ablated_part="gate <svg onload=alert(3)>",
            action="REPLACE",
            replacement=[f"tanh {SCRIPT}", "relu"],
            metrics=["accuracy <i>", "F1"],
            rationale="<iframe src=javascript:alert(4)>",
            evidence=[Evidence(quote=f"we said {IMG}", section="2 <u>Method</u>")],
        ),
        Ablation(name="Split\n- **Metrics**: injected", ablated_part="x", action="REMOVE", metrics=["m"]),
    ],
    findings=[Finding(kind="hidden-text", detail=f"white text {SCRIPT}", excerpt=IMG, removed=True)],
)


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attrs: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attrs |= {name for name, _ in attrs}


def tags_of(text: str) -> Tags:
    t = Tags()
    t.feed(text)
    return t


def test_markdown_escapes_paper_and_lm_text() -> None:
    md = render_markdown(HOSTILE)
    found = tags_of(md)
    assert found.tags == {"style", "div", "h2"}  # only the layout's own boxes
    assert found.attrs == {"style", "class"}
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md and "&lt;img src=x onerror=alert(1)&gt;" in md
    assert "second &amp; more" in md


def test_markdown_round_trips_hostile_text() -> None:
    title, trace, items = read_markdown_plan(render_markdown(HOSTILE))
    assert title == "lm/openai/<b>gpt</b>/Gated_script_alert_1_script_Widgets"
    assert trace == HOSTILE.reasoning_trace
    assert items[0] == HOSTILE.ablations[0].core()
    assert items[1]["name"] == "Split - **Metrics**: injected" and items[1]["metrics"] == ["m"]


def test_html_is_autoescaped_and_self_contained() -> None:
    page = render_html(HOSTILE)
    found = tags_of(page)
    allowed = {"html", "head", "meta", "title", "style", "body", "h1", "p", "section", "h2", "ul", "ol", "li"}
    assert found.tags <= allowed | {"br", "article", "h3", "dl", "dt", "dd", "span"}
    assert not {a for a in found.attrs if a.startswith("on")} and "src" not in found.attrs
    assert "href" not in found.attrs  # nothing fetched or linked: the page stands alone
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert page.count("<title>") == 1 and "Ablation plan: Gated &lt;script&gt;" in page


def test_html_keeps_the_layout() -> None:
    page = render_html(HOSTILE)
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "#f3e5f5" in page and "⚠️ Warnings" in page and "🧠 Reasoning Trace" in page
    assert page.count('class="ablation"') == 2 and page.count("<ul><li>first") == 1
    assert 'font-family: -apple-system, BlinkMacSystemFont, "Segoe UI"' in page  # CSS not escaped


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("a\x1b[2Jb", "ab"),  # clear screen
        ("x\x1b]0;owned\x07y", "xy"),  # window title
        ("p\x1b]52;c;ZWNobyBoaQ==\x1b\\q", "pq"),  # clipboard write
        ("c\x9b31md", "cd"),  # 8-bit CSI
        ("e\x9d0;t\x9cf", "ef"),  # 8-bit OSC
        ("\x1bcreset", "reset"),
        ("keep\n\ttabs\r\x00\x7f", "keep\n\ttabs"),
        ("\u202eevil", "evil"),
        ("PixelCNN++ 深度学习", "PixelCNN++ 深度学习"),
    ],
)
def test_terminal_safe(raw: str, clean: str) -> None:
    assert terminal_safe(raw) == clean


HOSTILE_TITLE = "Gated\x1b]0;owned\x07 Widgets\x1b[2J"
REPLY = (
    "<discussion>\nReasoning\x1b]52;c;ZXZpbA==\x07 here.\n</discussion>\n<predictions>\n"
    + json.dumps(
        {
            "name": "No gate\x1b[31m\x1b]8;;http://x\x1b\\",
            "ablated_part": "gate\x9b2J",
            "action": "REMOVE",
            "replacement": None,
            "metrics": ["accuracy\x1bc"],
        }
    )
    + "\n</predictions>"
)


def test_console_output_carries_no_escape_sequences(tmp_path: Path, fake_lm: FakeModels) -> None:
    paper = tmp_path / "paper.md"
    paper.write_text(
        f"# {HOSTILE_TITLE}\n\n## Abstract\n\nWe gate widgets.\n\n## 1 Method\n\nThe gate uses a sigmoid.\n"
    )
    fake_lm("hostile", [REPLY])
    res = CliRunner().invoke(app, ["plan", str(paper), "--model", "fake/hostile", "-o", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert "No gate" in res.output and "Reasoning here." in res.output  # the plan was printed
    assert not any(c in res.output for c in "\x1b\x07\x9b\x9c\x9d"), repr(res.output)


def test_error_lines_carry_no_escape_sequences(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["plan", str(tmp_path / "x\x1b]0;owned\x07.md")])
    assert res.exit_code == 2 and "no such file" in res.output
    assert "\x1b" not in res.output and "\x07" not in res.output


def test_every_cli_console_strips_escape_sequences() -> None:
    from abplan import cli, cli_bench, cli_lm

    for console in (cli.out, cli.err, cli_bench.out, cli_bench.err, cli_lm.err):
        with console.capture() as cap:
            console.print("run \x1b]0;owned\x07name\x1b[2J", markup=False, highlight=False)
        assert cap.get() == "run name\n"


def test_read_shows_a_hostile_abstract_without_escape_sequences(tmp_path: Path) -> None:
    paper = tmp_path / "paper.md"
    paper.write_text(
        "# Title\x1b]0;owned\x07\n\n## Abstract\n\nWe gate\x1b[2J widgets\x1b]52;c;aGk=\x07.\n\n"
        "## 1 Method\n\nThe gate uses a sigmoid.\n"
    )
    res = CliRunner().invoke(app, ["read", str(paper)])
    assert res.exit_code == 0, res.output
    assert "We gate" in res.output and "widgets" in res.output  # the abstract was printed
    assert not any(c in res.output for c in "\x1b\x07\x9b\x9c\x9d"), repr(res.output)
