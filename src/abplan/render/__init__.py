"""Plan renderers: Markdown (seed layout), HTML, JSONL and JSON."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from abplan.errors import ConfigError
from abplan.fsutil import atomic_write_text
from abplan.render.html import render_html
from abplan.render.jsonl import render_json, render_jsonl
from abplan.render.markdown import read_markdown_plan, render_markdown, slug
from abplan.render.names import plan_stem
from abplan.render.review import render_review
from abplan.render.study import html_with_study, markdown_with_study
from abplan.schema import Plan

FORMATS: dict[str, tuple[str, Callable[[Plan], str]]] = {
    "md": (".md", markdown_with_study),
    "html": (".html", html_with_study),
    "jsonl": (".jsonl", render_jsonl),
    "json": (".json", render_json),
    "review": (".review.md", render_review),  # reviewer mode: one paragraph per missing ablation
}

__all__ = [
    "FORMATS",
    "parse_formats",
    "plan_stem",
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


def write_plan(
    plan: Plan, out_dir: Path, formats: list[str], stem: str | None = None, *, force: bool = False
) -> list[Path]:
    """Write `plan` in each format as `<stem>.<suffix>`. An existing plan is never overwritten unless
    `force`: the first `<stem>-2`, `<stem>-3`, ... under which no format's file exists is used instead."""
    stem = stem or plan_stem(plan.paper_title, plan.mode, plan.planner, plan.model)
    texts = [(FORMATS[f][0], FORMATS[f][1](plan)) for f in formats]
    if force:
        for suffix, text in texts:
            atomic_write_text(out_dir / f"{stem}{suffix}", text)
        return [out_dir / f"{stem}{suffix}" for suffix, _ in texts]
    for n in range(1, 10_000):
        name = stem if n == 1 else f"{stem}-{n}"
        paths = [out_dir / f"{name}{suffix}" for suffix, _ in texts]
        if any(p.exists() for p in paths):
            continue
        written: list[Path] = []
        try:
            for path, (_, text) in zip(paths, texts, strict=True):
                atomic_write_text(path, text, overwrite=False)
                written.append(path)
        except FileExistsError:  # another process took this name meanwhile: undo, try the next
            for path in written:
                path.unlink(missing_ok=True)
            continue
        return paths
    raise ConfigError(f"{out_dir}: 10,000 plans named {stem} already; use --force or another --out")
