"""Invisible characters: zero-width, bidi controls, and text smuggled in Unicode tags or variation selectors."""

from __future__ import annotations

import re

from abplan.papers.instructions import find_instructions
from abplan.papers.textutil import LineIndex, Span, excerpt
from abplan.schema import Finding

_CHARS: list[tuple[str, re.Pattern[str], str]] = [
    ("unicode-tags", re.compile("[\U000e0000-\U000e007f]+"), "Unicode tag characters (invisible)"),
    (
        "variation-selectors",
        re.compile("[\ufe00-\ufe0f\U000e0100-\U000e01ef]{4,}"),
        "runs of variation selectors",
    ),
    (
        "bidi-controls",
        re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]+"),
        "bidi control characters",
    ),
    ("zero-width", re.compile("[\u200b-\u200d\u2060-\u2064\ufeff\u180e]+"), "zero-width characters"),
]


def _decode_variation(run: str) -> str:
    out = bytearray()
    for ch in run:
        cp = ord(ch)
        out.append(cp - 0xFE00 if cp <= 0xFE0F else cp - 0xE0100 + 16)
    return out.decode("utf-8", "replace")


def scan_characters(text: str) -> tuple[list[Span], list[tuple[int, str]]]:
    """Runs of invisible characters, and the text smuggled in tags or variation selectors, decoded."""
    spans: list[Span] = []
    decoded: list[tuple[int, str]] = []
    if text.isascii():  # every character searched for is outside ASCII
        return spans, decoded
    for technique, rx, what in _CHARS:
        for m in rx.finditer(text):
            detail = what
            if technique == "unicode-tags":
                plain = "".join(chr(ord(c) - 0xE0000) for c in m.group(0) if 0xE0020 <= ord(c) <= 0xE007E)
            elif technique == "variation-selectors":
                plain = _decode_variation(m.group(0))
            else:
                plain = ""
            if plain.strip():
                detail = f"{what} spelling {excerpt(plain, 80)!r}"
                decoded.append((m.start(), plain))
            spans.append(Span(m.start(), m.end(), technique, detail, "invisible-characters"))
    return spans, decoded


def smuggled_instructions(text: str, decoded: list[tuple[int, str]], keep_hidden: bool) -> list[Finding]:
    """The instruction detector run on text decoded from invisible characters."""
    lines = LineIndex(text)
    out: list[Finding] = []
    for pos, plain in decoded:
        found = find_instructions(plain, technique_prefix="smuggled-", line=lines.line(pos))
        out += [f.model_copy(update={"removed": not keep_hidden}) for f in found]
    return out
