"""Markdown in the layout of AblationBench's rendered trajectories (the seed files), and a reader for it."""

from __future__ import annotations

import html
import re

from abplan.schema import Ablation, Plan

STYLE = """<style>
.trajectory-box strong {
  color: #1a1a1a !important;
}
.trajectory-box h3 {
  color: #1a1a1a !important;
}
</style>"""
BOX = (
    '<div style="background: linear-gradient(135deg, {c1} 0%, {c2} 100%); border-left: 5px solid {border}; '
    'padding: 20px; margin: 20px 0; border-radius: 8px; box-shadow: 0 2px 8px rgba(0,0,0,0.1); color: #1a1a1a;" '
    'class="trajectory-box">\n<h2 style="color: {h2}; margin-top: 0; margin-bottom: 15px; font-size: 1.3em;">{title}</h2>'
)
REASONING = {
    "c1": "#e3f2fd",
    "c2": "#bbdefb",
    "border": "#2196f3",
    "h2": "#1976d2",
    "title": "🧠 Reasoning Trace",
}
PLAN_COLORS = {
    "author": {
        "c1": "#f3e5f5",
        "c2": "#e1bee7",
        "border": "#9c27b0",
        "h2": "#7b1fa2",
        "title": "📋 Ablation Plan",
    },
    "reviewer": {
        "c1": "#e8f5e8",
        "c2": "#c8e6c9",
        "border": "#4caf50",
        "h2": "#2e7d32",
        "title": "📋 Ablation Plan",
    },
}
WARN = {"c1": "#fff8e1", "c2": "#ffecb3", "border": "#ff9800", "h2": "#e65100", "title": "⚠️ Warnings"}


def slug(text: str, limit: int = 120) -> str:
    s = re.sub(r"[^\w]+", "_", text.strip(), flags=re.UNICODE).strip("_")
    return s[:limit] or "paper"


def title_line(plan: Plan, paper_slug: str | None = None) -> str:
    return f"{plan.planner}/{plan.model}/{paper_slug or slug(plan.paper_title)}"


def esc(text: str) -> str:
    """Paper or LM text as Markdown that shows it and never runs it: Markdown viewers render raw HTML
    (`<script>`, `<img onerror>`), so `&`, `<` and `>` become entities, which every viewer shows as is."""
    return html.escape(text, quote=False)


def esc_line(text: str) -> str:
    """`esc` for one-line fields: a newline inside a name or quote cannot start a new plan field."""
    return esc(" ".join(text.split()))


def ablation_md(a: Ablation) -> str:
    lines = [
        f"### {esc_line(a.name)}",
        f"- **Ablated Part**: {esc_line(a.ablated_part)}",
        f"- **Action**: {esc_line(a.action)}",
    ]
    if a.replacement:
        lines.append("- **Replacement**: ")
        lines += [f"  - {esc_line(r)}" for r in a.replacement]
    lines.append(f"- **Metrics**: {esc_line(', '.join(a.metrics))}")
    if a.support is not None:
        lines.append(f"- **Support**: {a.support}")
    if a.rationale:
        lines.append(f"- **Rationale**: {esc_line(a.rationale)}")
    for ev in a.evidence:
        where = f" ({esc_line(ev.section)})" if ev.section else ""
        lines.append(f"- **Evidence**{where}: \u201c{esc_line(ev.quote)}\u201d")
    return "\n".join(lines)


def warnings_of(plan: Plan) -> list[str]:
    out = [
        f"{f.kind}: {f.detail}"
        + (f" — \u201c{f.excerpt}\u201d" if f.excerpt else "")
        + (" (removed from what the planner saw)" if f.removed else "")
        for f in plan.findings
    ]
    return out + list(plan.warnings)


def render_markdown(plan: Plan, paper_slug: str | None = None) -> str:
    parts = [STYLE, "", f"# {esc_line(title_line(plan, paper_slug))}", ""]
    warns = warnings_of(plan)
    if warns:
        parts += [BOX.format(**WARN), "", *[f"- {esc_line(w)}" for w in warns], "</div>", ""]
    parts += [BOX.format(**REASONING), "", esc(plan.reasoning_trace.strip()), "</div>", ""]
    parts += [BOX.format(**PLAN_COLORS[plan.mode]), ""]
    for a in plan.ablations:
        parts += [ablation_md(a), ""]
    parts.append("</div>")
    return "\n".join(parts) + "\n"


def _box(text: str, title: str) -> str | None:
    m = re.search(rf"<h2[^>]*>[^<]*{re.escape(title)}</h2>\s*(.*?)</div>", text, re.S)
    return m.group(1).strip() if m else None


def read_markdown_plan(text: str) -> tuple[str, str, list[dict[str, object]]]:
    """(title line, reasoning trace, ablations as AblationBench dicts) from a plan in the seed layout."""
    m = re.search(r"^# (.+)$", text, re.M)
    title = html.unescape(m.group(1).strip()) if m else ""
    reasoning = html.unescape(_box(text, "Reasoning Trace") or "")
    plan_box = _box(text, "Ablation Plan") or ""
    items: list[dict[str, object]] = []
    for block in re.split(r"^### ", plan_box, flags=re.M)[1:]:
        lines = block.splitlines()
        item: dict[str, object] = {
            "name": html.unescape(lines[0].strip()),
            "ablated_part": "",
            "action": "",
            "replacement": None,
            "metrics": [],
        }
        reps: list[str] = []
        in_rep = False
        for ln in lines[1:]:
            if ln.startswith("  - ") and in_rep:
                reps.append(html.unescape(ln[4:].strip()))
                continue
            in_rep = False
            fm = re.match(r"- \*\*(.+?)\*\*(?: \([^)]*\))?:\s?(.*)$", ln)
            if not fm:
                continue
            key, val = fm.group(1), html.unescape(fm.group(2).strip())
            if key == "Ablated Part":
                item["ablated_part"] = val
            elif key == "Action":
                item["action"] = val
            elif key == "Replacement":
                in_rep = True
            elif key == "Metrics":
                item["metrics"] = [v.strip() for v in re.split(r",(?![^()\[\]]*[)\]])", val) if v.strip()]
        if reps:
            item["replacement"] = reps
        items.append(item)
    return title, reasoning, items
