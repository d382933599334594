"""A single self-contained HTML page with the same content as the Markdown plan."""

from __future__ import annotations

import html
import re

from abplan.render.markdown import PLAN_COLORS, REASONING, WARN, title_line, warnings_of
from abplan.schema import Plan

CSS = """
body { font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       max-width: 920px; margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; line-height: 1.5; background: #fafafa; }
h1 { font-size: 1.4rem; word-break: break-all; }
.meta { color: #555; font-size: 0.9rem; }
.box { padding: 20px; margin: 20px 0; border-radius: 8px; box-shadow: 0 2px 8px rgba(0,0,0,0.1); }
.box h2 { margin-top: 0; font-size: 1.3em; }
.ablation { background: rgba(255,255,255,0.6); border-radius: 6px; padding: 10px 14px; margin: 12px 0; }
.ablation h3 { margin: 0 0 6px 0; font-size: 1.1em; }
.ablation dl { display: grid; grid-template-columns: 9em 1fr; gap: 4px 12px; margin: 0; }
.ablation dt { font-weight: 600; }
.ablation dd { margin: 0; }
.action { font-family: monospace; font-weight: bold; padding: 1px 6px; border-radius: 4px; background: #eee; }
.evidence { font-style: italic; color: #333; }
.where { color: #555; font-size: 0.9em; }
.trace p { margin: 0.5em 0; }
"""


_BULLET = re.compile(r"^\s*(?:[-*]|\d+[.)])\s+")


def _box_style(c: dict[str, str]) -> str:
    return f"background: linear-gradient(135deg, {c['c1']} 0%, {c['c2']} 100%); border-left: 5px solid {c['border']};"


def _paragraphs(text: str) -> str:
    out = []
    for para in re.split(r"\n\s*\n", text.strip()):
        lines = [ln for ln in para.splitlines() if ln.strip()]
        if lines and all(re.match(r"\s*(?:[-*]|\d+[.)])\s+", ln) for ln in lines):
            tag = "ol" if re.match(r"\s*\d", lines[0]) else "ul"
            items = "".join("<li>" + html.escape(_BULLET.sub("", ln)) + "</li>" for ln in lines)
            out.append(f"<{tag}>{items}</{tag}>")
        else:
            out.append("<p>" + "<br>".join(html.escape(ln) for ln in lines) + "</p>")
    return "\n".join(out)


def render_html(plan: Plan, paper_slug: str | None = None) -> str:
    e = html.escape
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Ablation plan: {e(plan.paper_title)}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{e(title_line(plan, paper_slug))}</h1>",
        f'<p class="meta">{e(plan.paper_title)} · mode: {e(plan.mode)} · planner: {e(plan.planner)} · model: {e(plan.model)} · '
        f"k = {plan.k} · {len(plan.ablations)} ablations · cost ${plan.usage.cost_usd:.4f}</p>",
    ]
    warns = warnings_of(plan)
    if warns:
        parts.append(
            f'<section class="box warnings" style="{_box_style(WARN)}"><h2 style="color:{WARN["h2"]}">{WARN["title"]}</h2><ul>'
        )
        parts += [f"<li>{e(w)}</li>" for w in warns]
        parts.append("</ul></section>")
    parts.append(
        f'<section class="box trace" style="{_box_style(REASONING)}"><h2 style="color:{REASONING["h2"]}">{REASONING["title"]}</h2>'
    )
    parts.append(_paragraphs(plan.reasoning_trace))
    parts.append("</section>")
    c = PLAN_COLORS[plan.mode]
    parts.append(
        f'<section class="box plan" style="{_box_style(c)}"><h2 style="color:{c["h2"]}">{c["title"]}</h2>'
    )
    for a in plan.ablations:
        rows = [("Ablated Part", e(a.ablated_part)), ("Action", f'<span class="action">{e(a.action)}</span>')]
        if a.replacement:
            rows.append(
                ("Replacement", "<ul>" + "".join(f"<li>{e(r)}</li>" for r in a.replacement) + "</ul>")
            )
        rows.append(("Metrics", e(", ".join(a.metrics))))
        if a.support is not None:
            rows.append(("Support", str(a.support)))
        if a.rationale:
            rows.append(("Rationale", e(a.rationale)))
        for ev in a.evidence:
            where = f' <span class="where">({e(ev.section)})</span>' if ev.section else ""
            rows.append(("Evidence", f'<span class="evidence">\u201c{e(ev.quote)}\u201d</span>{where}'))
        dl = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
        parts.append(f'<article class="ablation"><h3>{e(a.name)}</h3><dl>{dl}</dl></article>')
    parts.append("</section></body></html>")
    return "\n".join(parts) + "\n"
