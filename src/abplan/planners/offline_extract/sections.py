"""Which sections of a paper are its method: between the background and the experiments, and method-named ones."""

from __future__ import annotations

import re

from abplan.planners.offline_patterns import (
    ABLATION_HEAD,
    BEFORE_HEAD,
    END_HEAD,
    METHOD_HEAD,
    RESULT_HEAD,
    SKIP_HEAD,
)
from abplan.schema import Paper, Section


def heading_number(heading: str) -> str | None:
    m = re.match(r"^\s*(\d+(?:\.\d+)*)\.?\s", heading)
    return m.group(1) if m else None


def section_depth(s: Section) -> int:
    num = heading_number(s.heading)
    return num.count(".") + 1 if num else s.level


def method_sections(paper: Paper) -> list[Section]:
    """The method: the span between the background sections and the experiments, plus method-named
    sections elsewhere (not under a skipped section, not after the references), with their subsections."""
    secs = list(paper.sections)
    end = next((i for i, s in enumerate(secs) if END_HEAD.search(s.heading)), len(secs))
    secs = secs[:end]
    levels = [s.level for s in secs if s.heading != "[front matter]"]
    base = min(levels) if levels else 1

    def top(s: Section) -> bool:
        num = heading_number(s.heading)
        return "." not in num if num else s.level <= base

    tops = [(i, s) for i, s in enumerate(secs) if top(s) and s.heading != "[front matter]"]
    last_before = max((i for i, s in tops if BEFORE_HEAD.search(s.heading)), default=-1)
    # The span starts at the first top-level section after the background (its subsections excluded).
    start = next((i for i, _ in tops if i > last_before), len(secs)) - 1 if last_before >= 0 else -1
    stop = next(
        (
            i
            for i, s in tops
            if i > start and RESULT_HEAD.search(s.heading) and not METHOD_HEAD.search(s.heading)
        ),
        len(secs),
    )
    span = set(range(start + 1, stop)) if start >= 0 or stop < len(secs) else set()
    skipped = False
    taking = False  # inside a method-named top-level section: its subsections come along
    picked: list[Section] = []
    for i, s in enumerate(secs):
        if top(s):
            skipped = bool(SKIP_HEAD.search(s.heading)) and not METHOD_HEAD.search(s.heading)
            taking = bool(METHOD_HEAD.search(s.heading)) and not skipped
        if s.heading == "[front matter]" or ABLATION_HEAD.search(s.heading):
            continue
        in_span = i in span and not (top(s) and SKIP_HEAD.search(s.heading))
        named = bool(METHOD_HEAD.search(s.heading)) and not SKIP_HEAD.search(s.heading) and not skipped
        if in_span or named or taking:
            picked.append(s)
    if not picked:
        picked = [
            s
            for s in secs
            if s.text.strip() and not SKIP_HEAD.search(s.heading) and s.heading != "[front matter]"
        ]
    return picked or [s for s in paper.sections if s.text.strip()]
