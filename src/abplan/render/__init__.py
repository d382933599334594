"""Plan renderers: Markdown (seed layout), HTML, JSONL and JSON."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from abplan.errors import ConfigError
from abplan.fsutil import atomic_write_text
from abplan.render.html import render_html
from abplan.render.jsonl import render_json, render_jsonl
from abplan.render.markdown import read_markdown_plan, render_markdown, slug
from abplan.schema import Plan

FORMATS: dict[str, tuple[str, Callable[[Plan], str]]] = {
    "md": (".md", render_markdown),
    "html": (".html", render_html),
    "jsonl": (".jsonl", render_jsonl),
    "json": (".json", render_json),
}

__all__ = [
    "FORMATS",
    "parse_formats",
    "read_markdown_plan",
    "render_html",
    "render_json",
    "render_jsonl",
    "render_markdown",
    "slug",
    "write_plan",
]


def parse_formats(spec: str) -> list[str]:
    fmts = [f.strip().lower().lstrip(".") for f in spec.split(",") if f.strip()]
    fmts = ["md" if f == "markdown" else f for f in fmts]
    bad = [f for f in fmts if f not in FORMATS]
    if bad or not fmts:
        raise ConfigError(f"unknown format '{','.join(bad) or spec}' (choose from {', '.join(FORMATS)})")
    return list(dict.fromkeys(fmts))


def write_plan(plan: Plan, out_dir: Path, formats: list[str], stem: str | None = None) -> list[Path]:
    stem = stem or slug(plan.paper_title, 80)
    written = []
    for f in formats:
        suffix, fn = FORMATS[f]
        path = out_dir / f"{stem}{suffix}"
        atomic_write_text(path, fn(plan))
        written.append(path)
    return written
