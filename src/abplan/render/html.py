"""A single self-contained HTML page with the same content as the Markdown plan.

The page is a Jinja2 template rendered with autoescaping, so paper and LM text (titles, quotes,
ablation names, the reasoning trace) can never become markup.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import jinja2

from abplan.render.markdown import PLAN_COLORS, REASONING, WARN, title_line, warnings_of
from abplan.schema import Plan

_BULLET = re.compile(r"^\s*(?:[-*]|\d+[.)])\s+")


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("abplan", "render/templates"),
        autoescape=jinja2.select_autoescape(["html", "html.j2"], default_for_string=True, default=True),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def trace_blocks(text: str) -> list[dict[str, Any]]:
    """The reasoning trace as paragraphs and lists: a paragraph whose every line is a bullet or a
    numbered item becomes a list (`ul` or `ol`), any other one a paragraph of lines."""
    blocks: list[dict[str, Any]] = []
    for para in re.split(r"\n\s*\n", text.strip()):
        lines = [ln for ln in para.splitlines() if ln.strip()]
        if lines and all(_BULLET.match(ln) for ln in lines):
            tag = "ol" if re.match(r"\s*\d", lines[0]) else "ul"
            blocks.append({"tag": tag, "lines": [_BULLET.sub("", ln) for ln in lines]})
        else:
            blocks.append({"tag": "p", "lines": lines})
    return blocks


def render_html(plan: Plan, paper_slug: str | None = None) -> str:
    return (
        _env()
        .get_template("plan.html.j2")
        .render(
            plan=plan,
            heading=title_line(plan, paper_slug),
            warnings=warnings_of(plan),
            trace=trace_blocks(plan.reasoning_trace),
            warn_colors=WARN,
            reasoning_colors=REASONING,
            plan_colors=PLAN_COLORS[plan.mode],
        )
    )
