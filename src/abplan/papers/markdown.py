"""Markdown and plain-text papers."""

from __future__ import annotations

import re

from abplan.papers.sections import first_paragraph, split_plain_sections
from abplan.schema import Section

_ATX = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")


def split_markdown(text: str) -> tuple[str, list[Section]]:
    """Return (title, sections). The title is the first level-1 heading (or the first heading)."""
    title = ""
    sections: list[Section] = []
    heading: str | None = None
    level = 1
    buf: list[str] = []
    in_fence = False
    fences = "```" in text or "~~~" in text  # else no line opens one: skip the check per line

    def flush() -> None:
        body = "\n".join(buf).strip()
        if heading is not None:
            sections.append(Section(heading=heading, text=body, level=level))
        elif body:
            sections.append(Section(heading="[front matter]", text=body, level=1))

    for line in text.splitlines():
        if fences and line.lstrip().startswith(("```", "~~~")):
            in_fence = not in_fence
        m = None if in_fence or line[:1] != "#" else _ATX.match(line)  # a heading starts with "#"
        if m is None:
            buf.append(line)
            continue
        h_level, h_text = len(m.group(1)), m.group(2).strip()
        if not title and (h_level == 1 or (not sections and heading is None)):
            flush()
            title, heading, buf = h_text, None, []
            continue
        flush()
        heading, level, buf = h_text, h_level, []
    flush()
    return title, sections


_ABSTRACT_HEADING = re.compile(r"(?i)\W*abstract\W*")
_ABSTRACT_IN_TEXT = re.compile(r"(?is)\babstract\b[\s:.\-—]*(.+?)(?:\n\s*\n|$)")


def abstract_of(sections: list[Section], text: str) -> str:
    for s in sections:
        if _ABSTRACT_HEADING.fullmatch(s.heading):
            return s.text.strip()
    for s in sections:
        if s.heading == "[front matter]" and len(s.text) > 200:
            m = _ABSTRACT_IN_TEXT.search(s.text)
            if m:
                return m.group(1).strip()
    body = next((s.text for s in sections if s.text.strip()), text)
    return first_paragraph(body)


def parse_markdown(text: str) -> tuple[str, str, list[Section]]:
    title, sections = split_markdown(text)
    return title, abstract_of(sections, text), sections


def parse_plain(text: str) -> tuple[str, str, list[Section]]:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    title = lines[0][:200] if lines else ""
    sections = split_plain_sections(text)
    return title, abstract_of(sections, text), sections
