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
def _template(name: str) -> jinja2.Template:
    """A template whose globals are one plain dict. A loaded template's globals are a ChainMap of its
    own and the environment's, which every render iterates twice (to build the context and its key
    set): a few percent of a benchmark run's event loop. This environment is private and its
    globals never change, so the merged copy holds the same names and values."""
    template = _env().get_template(f"{name}.j2")
    template.globals = dict(template.globals)
    return template


def render(name: str, **variables: Any) -> str:
    if not variables:
        return _render_fixed(name)
    return _template(name).render(**variables).strip()


@cache
def _render_fixed(name: str) -> str:
    """A template without variables (a system prompt) renders to the same text every time: once."""
    return _template(name).render().strip()


def paper_source(paper: Paper, max_chars: int | None = None) -> str:
    """The paper as the planner sees it: the text as read (LaTeX stays LaTeX), capped at `max_chars`.

    Templates place it, with the title and abstract, inside the `<paper_source>` block; delimiter
    tags in it are neutralised here and again by the template environment, so it cannot end the block.
    """
    text = paper.text
    if max_chars is not None and len(text) > max_chars:
        text = text[:max_chars] + "\n[... truncated ...]"
    return neutralise(text)
