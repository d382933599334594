"""The study section of a plan (`abplan plan --study`) as Markdown lines, read from `stages["study"]`."""

from __future__ import annotations

from functools import cache

import jinja2

from abplan.render.html import render_html
from abplan.render.markdown import BOX, esc_line, render_markdown
from abplan.schema import Plan, Study

STUDY = {"c1": "#e0f7fa", "c2": "#b2ebf2", "border": "#0097a7", "h2": "#00695c", "title": "🧭 Study"}


def study_of(plan: Plan) -> Study | None:
    raw = plan.stages.get("study")
    return Study.model_validate(raw) if raw else None


def claim_line(study: Study, j: int) -> str:
    c = study.claims[j]
    where = f" ({esc_line(c.section)})" if c.section else ""
    return f"\u201c{esc_line(c.quote)}\u201d{where}"


def study_md(study: Study) -> list[str]:
    """Run order, total cost, claims tested and untested, as Markdown lines (no box)."""
    out = ["#### Run order (cheapest and claim-testing first; the baseline is shared)", ""]
    for i, s in enumerate(study.steps, 1):
        item = "baseline" if s.item == 0 else f"item {s.item}"
        out.append(f"{i}. {esc_line(s.name)} ({item}): {esc_line(s.why)}")
    out += ["", f"**Total relative cost**: {esc_line(study.total)}", ""]
    out += [f"**Absolute cost**: {esc_line(study.absolute)}", ""]
    for f in study.figures:
        out.append(f"- {esc_line(f.kind)}: \u201c{esc_line(f.quote)}\u201d")
    if study.claims:
        out += ["#### Claimed contributions and the items that test them", ""]
        for j, c in enumerate(study.claims):
            by = ", ".join(f"item {n}" for n in c.tested_by) or "**untested**"
            out.append(f"{j + 1}. {claim_line(study, j)}: {by}")
        out.append("")
    untested = [j + 1 for j in study.untested]
    out.append(
        f"**Claims left untested**: {', '.join(f'claim {n}' for n in untested)}"
        if untested
        else "**Claims left untested**: none of those found"
    )
    out += [f"- note: {esc_line(n)}" for n in study.notes]
    return out


def markdown_with_study(plan: Plan) -> str:
    """The Markdown plan, with the study box after the ablations when the plan has a study."""
    text = render_markdown(plan)
    study = study_of(plan)
    if study is None:
        return text
    return text + "\n" + "\n".join([BOX.format(**STUDY), "", *study_md(study), "</div>"]) + "\n"


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("abplan", "render/templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    return env.get_template("study.html.j2")


def html_with_study(plan: Plan) -> str:
    """The HTML plan, with the study section before the end of the page when the plan has a study."""
    page = render_html(plan)
    study = study_of(plan)
    if study is None:
        return page
    section = _template().render(study=study, colors=STUDY)
    at = page.rfind("</body>")
    return page[:at] + section + "\n" + page[at:]
