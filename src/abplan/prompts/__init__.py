"""Jinja templates for every LM step; `render(name, **vars)` fills one.

Every value filled in is passed through `datablock.neutralise`, so text from a paper (or a review,
or a model's reply) cannot close the block it is placed in.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import jinja2

from abplan.prompts.datablock import finalize, neutralise
from abplan.schema import Paper


@cache
def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("abplan", "prompts"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=False,
        autoescape=False,
        finalize=finalize,
        auto_reload=False,  # package files: no stat of the template on every render (two per task in a run)
    )


@cache
def _template(name: str) -> tuple[jinja2.Template, dict[str, Any]]:
    """A template and its globals as one dict, built once: `Template.render` merges the globals'
    ChainMap into a new dict on every call (a few percent of a benchmark run's event loop)."""
    template = _env().get_template(f"{name}.j2")
    return template, dict(template.globals)


def render(name: str, **variables: Any) -> str:
    if not variables:
        return _render_fixed(name)
    template, globals_ = _template(name)
    # What `template.render(**variables)` does, with the globals merged once (`shared=True`: the
    # dict is the context as given, so it must hold the globals itself).
    return str(template.make_module({**globals_, **variables}, shared=True)).strip()


@cache
def _render_fixed(name: str) -> str:
    """A template without variables (a system prompt) renders to the same text every time: once."""
    return _env().get_template(f"{name}.j2").render().strip()


def paper_source(paper: Paper, max_chars: int | None = None) -> str:
    """The paper as the planner sees it: the text as read (LaTeX stays LaTeX), capped at `max_chars`.

    Templates place it, with the title and abstract, inside the `<paper_source>` block; delimiter
    tags in it are neutralised here and again by the template environment, so it cannot end the block.
    """
    text = paper.text
    if max_chars is not None and len(text) > max_chars:
        text = text[:max_chars] + "\n[... truncated ...]"
    return neutralise(text)
