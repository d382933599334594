"""Where a LaTeX switch stops applying, argument groups, option lists and sizes: pure text functions."""

from __future__ import annotations

import bisect
import re
from functools import lru_cache

from abplan.papers.latex import braced

_TOKEN = re.compile(
    r"\\(begin|end)\s*\{([^{}]*)\}|\\(begingroup|endgroup|bgroup|egroup)(?![a-zA-Z@])|\\[a-zA-Z@]+|\\.|[{}]"
)
PT_PER = {
    "pt": 1.0,
    "bp": 1.00375,
    "px": 1.00375,
    "mm": 2.84528,
    "cm": 28.4528,
    "in": 72.27,
    "pc": 12.0,
    "dd": 1.07,
    "cc": 12.84,
    "sp": 1 / 65536,
    "em": 10.0,
    "ex": 4.3,
    "mu": 10 / 18,
    "textwidth": 390.0,
    "linewidth": 390.0,
    "columnwidth": 240.0,
    "hsize": 390.0,
    "textheight": 590.0,
    "paperwidth": 614.0,
    "paperheight": 794.0,
    "baselineskip": 12.0,
}
_DIM = re.compile(r"^\s*([-+]?(?:\d+\.?\d*|\.\d+))\s*\\?(pt|bp|px|mm|cm|in|pc|dd|cc|sp|em|ex|mu|[a-z]+)?\s*$")


def scope_end(text: str, pos: int, stop: re.Pattern[str] | None = None, limit: int | None = None) -> int:
    """The end of the group or environment that contains `pos` (or of the text, or `limit`), or an earlier
    `stop` match at the same level (e.g. the next `\\color`, which replaces the current one)."""
    depth = 0
    end = len(text) if limit is None else limit
    for m in _TOKEN.finditer(text, pos, end):
        tok = m.group(0)
        if depth == 0 and stop is not None and stop.match(tok):
            return m.start()
        if tok == "{" or m.group(1) == "begin" or m.group(3) in ("begingroup", "bgroup"):
            depth += 1
        elif tok == "}" or m.group(1) == "end" or m.group(3) in ("endgroup", "egroup"):
            depth -= 1
            if depth < 0:
                return m.start()
    return end


def env_end(text: str, name: str, pos: int) -> tuple[int, int]:
    """(start, end) of the `\\end{name}` matching the last `\\begin{name}` ending at or before `pos`
    (the end of the text if it is never closed)."""
    ends, matches = _env_matches(text, name)
    j = bisect.bisect_right(ends, pos) - 1
    return matches[j] if j >= 0 else (len(text), len(text))


@lru_cache(maxsize=16)
def _env_matches(text: str, name: str) -> tuple[list[int], list[tuple[int, int]]]:
    """Every `\\begin{name}` (by where it ends) with its matching `\\end{name}`: one pass, so that many
    unclosed environments cost linear time, not a scan to the end of the text each."""
    rx = re.compile(r"\\(begin|end)\s*\{" + re.escape(name) + r"\}")
    ends: list[int] = []
    matches: list[tuple[int, int]] = []
    stack: list[int] = []
    for m in rx.finditer(text):
        if m.group(1) == "begin":
            stack.append(len(ends))
            ends.append(m.end())
            matches.append((len(text), len(text)))
        elif stack:
            matches[stack.pop()] = (m.start(), m.end())
    return ends, matches


def forget() -> None:
    """Drop the cached environment matches (they hold the scanned text)."""
    _env_matches.cache_clear()


def args(text: str, pos: int, n: int) -> list[tuple[int, int]] | None:
    """(start, end) of the contents of `n` brace groups from `pos` (spaces between allowed)."""
    out: list[tuple[int, int]] = []
    for _ in range(n):
        i = pos
        while i < len(text) and text[i] in " \t\n":
            i += 1
        if i >= len(text) or text[i] != "{":
            return None
        got = braced(text, i)
        if got is None:
            return None
        out.append((i + 1, got[1] - 1))
        pos = got[1]
    return out


def option(text: str, pos: int) -> tuple[str, int] | None:
    """A `[...]` option list at `pos` (after spaces), brackets inside braces allowed: (content, end)."""
    i = pos
    while i < len(text) and text[i] in " \t\n":
        i += 1
    if i >= len(text) or text[i] != "[":
        return None
    depth = 0
    for j in range(i + 1, min(len(text), i + 5000)):
        c = text[j]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c == "]" and depth <= 0:
            return text[i + 1 : j], j + 1
    return None


def points(dim: str) -> float | None:
    """A TeX dimension in points (`0.1pt`, `1sp`, `0.01\\textwidth`, `3` = 3pt); None if not a plain one."""
    m = _DIM.match(dim)
    if not m:
        return None
    unit = m.group(2) or "pt"
    if unit not in PT_PER:
        return None
    return float(m.group(1)) * PT_PER[unit]


def number(s: str) -> float | None:
    try:
        return float(s.strip())
    except ValueError:
        return None
