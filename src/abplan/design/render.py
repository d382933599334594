"""A design as Markdown, HTML (a Jinja2 template with autoescape) and JSON, and writing them."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

import jinja2

from abplan.errors import ConfigError
from abplan.fsutil import atomic_write_text
from abplan.render.markdown import esc, esc_line
from abplan.render.names import name_part, title_part
from abplan.schema import Design, Evidence


def _quote_lines(quotes: list[Evidence]) -> list[str]:
    return [
        f"> \u201c{esc_line(e.quote)}\u201d" + (f" ({esc_line(e.section)})" if e.section else "") + "\n"
        for e in quotes
    ]


def design_markdown(d: Design, *, blind: bool = False) -> str:
    """The design as Markdown; `blind` leaves out who wrote it and its flags (what a judge sees)."""
    a = d.ablation
    who = "rules (no LM)" if d.method == "rules" else f"lm ({esc_line(d.model)})"
    byline = "" if blind else f" · written by: {who}"
    out = [
        f"# Ablation design: {esc_line(a.name)}",
        "",
        f"*{esc_line(d.paper_title)}* · part: {esc_line(a.ablated_part)} · action: {a.action}{byline}",
        "",
    ]
    if d.flags and not blind:
        out += ["**Flags**", "", *[f"- {esc_line(f)}" for f in d.flags], ""]
    out += ["## Research question", "", esc(d.research_question), "", "## Baseline configuration", ""]
    out += _quote_lines(d.baseline) or ["unknown: the paper states no main setting", ""]
    out += ["## Variants", ""]
    for i, v in enumerate(d.variants, 1):
        tag = " *(null control)*" if v.null_control else ""
        desc = f": {esc_line(v.description)}" if v.description else ""
        out.append(f"{i}. **{esc_line(v.name)}**{tag}{desc}")
    datasets = ", ".join(d.dataset_names) or "unknown"
    metrics = ", ".join(d.metrics) or "unknown"
    out += [
        "",
        "## Datasets and metrics",
        "",
        f"Datasets: {esc_line(datasets)}. Metrics: {esc_line(metrics)}.",
        "",
    ]
    out += _quote_lines(d.datasets)
    out += ["## Seeds and repeats", "", esc(d.seeds), "", "## Expected outcome", ""]
    out += [f"- **If {esc_line(a.ablated_part)} matters**: {esc_line(d.expected_if_matters)}"]
    out += [f"- **If it does not**: {esc_line(d.expected_if_not)}", "", "## Confounds to control", ""]
    out += [f"- {esc_line(c)}" for c in d.confounds] or ["- unknown"]
    out += ["", "## Cost", "", f"- Relative to one main training run: {esc_line(d.cost.relative)}"]
    out += [f"- Absolute: {esc_line(d.cost.absolute)}", ""]
    quotes = {f.quote: Evidence(quote=f.quote, section=f.section) for f in d.cost.figures}  # one a sentence
    out += _quote_lines(list(quotes.values()))
    return "\n".join(out).rstrip() + "\n"


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("abplan", "design/templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def design_html(d: Design) -> str:
    return _env().get_template("design.html.j2").render(d=d)


def design_json(d: Design) -> str:
    return json.dumps(d.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"


FORMATS: dict[str, tuple[str, Callable[[Design], str]]] = {
    "md": (".md", design_markdown),
    "html": (".html", design_html),
    "json": (".json", design_json),
}


def design_formats(spec: str) -> list[str]:
    fmts = [
        "md" if f == "markdown" else f for f in (x.strip().lower().lstrip(".") for x in spec.split(",")) if f
    ]
    bad = [f for f in fmts if f not in FORMATS]
    if bad or not fmts:
        raise ConfigError(f"unknown format '{','.join(bad) or spec}' (choose from {', '.join(FORMATS)})")
    return list(dict.fromkeys(fmts))


def design_stem(d: Design) -> str:
    """`pixelcnnpp-design-without-dropout`, with the model when one wrote it."""
    parts = [title_part(d.paper_title), "design", name_part(d.ablation.name, 60)]
    if d.method == "lm":
        parts.append(name_part(d.model, 48))
    return "-".join(p for p in parts if p)


def write_design(d: Design, out_dir: Path, formats: list[str], *, force: bool = False) -> list[Path]:
    """Write each format as `<stem>.<suffix>`; an existing design is kept (the next `-2` name is used)
    unless `force`."""
    stem = design_stem(d)
    texts = [(FORMATS[f][0], FORMATS[f][1](d)) for f in formats]
    for n in range(1, 10_000):
        name = stem if n == 1 else f"{stem}-{n}"
        paths = [out_dir / f"{name}{suffix}" for suffix, _ in texts]
        if not force and any(p.exists() for p in paths):
            continue
        for path, (_, text) in zip(paths, texts, strict=True):
            atomic_write_text(path, text)
        return paths
    raise ConfigError(f"{out_dir}: 10,000 designs named {stem} already; use --force or another --out")
