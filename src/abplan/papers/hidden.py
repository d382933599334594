"""Text a human reader would not see but a model would, in Markdown, plain text and PDF extractions.

Findings are reported in the plan, each with its technique and line. Hidden text is removed from what
the planner sees unless `keep_hidden` is set; visible instructions stay (they are part of the paper)
but are flagged, and prompts always pass paper text as delimited data that the model is told never
to obey. LaTeX has its own scanner (`latex_scan.scan_latex`), re-exported here.
"""

from __future__ import annotations

import bisect
import re

from abplan.papers.instructions import find_instructions
from abplan.papers.invisible import scan_characters, smuggled_instructions
from abplan.papers.latex_scan import scan_latex
from abplan.papers.textutil import Span, cut, excerpt, outermost, span_findings, without_invisible
from abplan.schema import Finding

__all__ = ["excerpt", "find_instructions", "scan_characters", "scan_latex", "scan_markup", "scan_text"]

_HTML_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.S)
_RAW_ELEMENT = re.compile(r"<(script|style|template)\b[^>]*>.*?(?:</\1\s*>|$)", re.S | re.I)
_HIDING_STYLE = re.compile(
    r"display\s*:\s*none|visibility\s*:\s*hidden"
    r"|font-size\s*:\s*(?:0+(?:\.\d+)?|\.\d+|1(?:\.\d+)?)\s*(?:px|pt)\b"
    r"|font-size\s*:\s*0*(?:\.0\d*)?\s*(?:em|rem|%)?\s*(?:[;\"']|$)"
    r"|opacity\s*:\s*0*(?:\.0\d*)?\s*(?:[;\"']|$)|(?:height|width|max-height)\s*:\s*0(?:px)?\s*[;\"']"
    r"|(?:left|top|text-indent|margin-left)\s*:\s*-\d{4,}(?:\.\d+)?(?:px|pt)|clip\s*:\s*rect\(\s*0",
    re.I,
)
# White text, unless the element sets its own background.
_WHITE_TEXT = re.compile(
    r"(?<![-\w])color\s*[:=]\s*[\"']?\s*(?:white|#f{3}\b|#f{6}\b|rgba?\(\s*255\s*,\s*255\s*,\s*255\s*[,)])",
    re.I,
)
# An HTML open tag as CommonMark reads one (tag name, then whitespace-separated attributes): "a_{t,<k}"
# in a formula is text, not a <k> element whose attributes run on to the next ">" of the paper.
_OPEN_TAG = re.compile(
    r"<([a-zA-Z][a-zA-Z0-9-]*)"
    r"((?:\s+[a-zA-Z_:][a-zA-Z0-9_.:-]*(?:\s*=\s*(?:[^\s\"'=<>`]+|'[^']*'|\"[^\"]*\"))?)*)\s*(/?)>"
)
# Elements without content or end tag: hiding one hides nothing after it.
_VOID = frozenset(
    ["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"]
)
_REF_COMMENT = re.compile(
    r"^[ \t]*\[[^\]\n]*\]:[ \t]*(?:#|<>)[ \t]*(?:\(([^)\n]*)\)|\"([^\"\n]*)\")[ \t]*$", re.M
)


def _element_end(text: str, tag: str, pos: int) -> int:
    """The end of the element whose start tag ends at `pos` (same-name nesting counted)."""
    rx = re.compile(rf"<(/?){re.escape(tag)}\b[^>]*>", re.I)
    depth = 1
    for m in rx.finditer(text, pos):
        depth += -1 if m.group(1) else 1
        if depth == 0:
            return m.end()
    return len(text)


def scan_markup(text: str) -> list[Span]:
    """Markdown/HTML constructs a renderer does not show (outside fenced code)."""
    if "<" not in text and "]:" not in text:  # every construct below has one or the other
        return []
    fenced = [(m.start(), m.end()) for m in re.finditer(r"(?ms)^[ \t]*(```|~~~).*?(?:^[ \t]*\1|\Z)", text)]

    starts = [a for a, _b in fenced]

    def in_code(pos: int) -> bool:
        j = bisect.bisect_right(starts, pos) - 1
        return j >= 0 and pos < fenced[j][1]

    spans: list[Span] = []
    for m in _HTML_COMMENT.finditer(text):
        spans.append(Span(m.start(), m.end(), "html-comment", "HTML comment"))
    for m in _RAW_ELEMENT.finditer(text):
        spans.append(
            Span(m.start(), m.end(), f"html-{m.group(1).lower()}", f"<{m.group(1).lower()}> content")
        )
    covered = 0  # elements inside a hidden one are hidden with it: never search for their ends
    for m in _OPEN_TAG.finditer(text):
        attrs = m.group(2)
        if m.start() < covered:
            continue
        hiding = _HIDING_STYLE.search(attrs) if "style" in attrs.lower() else None
        white = None if hiding or "background" in attrs.lower() else _WHITE_TEXT.search(attrs)
        technique = "html-white-text" if white else "html-hidden-element"
        if hiding or white or re.search(r"(?:^|\s)hidden(?:\s|=|/|$)|type\s*=\s*[\"']?hidden", attrs, re.I):
            found = hiding or white
            why = found.group(0).rstrip(";\"' ") if found else "hidden attribute"
            void = m.group(3) or m.group(1).lower() in _VOID
            end = m.end() if void else _element_end(text, m.group(1), m.end())
            spans.append(Span(m.start(), end, technique, f"<{m.group(1)}> with {why}"))
            covered = end
    for m in _REF_COMMENT.finditer(text):
        spans.append(Span(m.start(), m.end(), "markdown-comment", "Markdown link-reference comment"))
    return [s for s in spans if not in_code(s.start)]


def scan_text(text: str, keep_hidden: bool = False, markup: bool = False) -> tuple[str, list[Finding]]:
    """Plain text and PDF extractions (`markup=False`) or Markdown (`markup=True`).

    Returns the text the planner sees and the findings; instructions inside hidden spans are reported
    as removed with them.
    """
    char_spans, decoded = scan_characters(text)
    raw = char_spans + (scan_markup(text) if markup else [])
    spans = outermost(raw)
    findings = span_findings(text, raw, removed=not keep_hidden)
    findings += smuggled_instructions(text, decoded, keep_hidden)
    findings += visible_instructions(text, spans if not keep_hidden else [], bool(char_spans))
    if not keep_hidden and spans:
        text = cut(text, spans)
    return text, findings


def visible_instructions(text: str, hidden: list[Span], has_invisible: bool) -> list[Finding]:
    """Instructions in the text; also those split by invisible characters ("ig\u200bnore ...")."""
    found = find_instructions(text, hidden=hidden)
    if has_invisible:
        lines = {f.line for f in found}
        # Invisible characters are never line breaks, so line numbers still hold.
        found += [f for f in find_instructions(without_invisible(text)) if f.line not in lines]
    return found
