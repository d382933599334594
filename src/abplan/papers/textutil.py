"""Small pure helpers shared by the LaTeX reader and the hidden-text scanners (no imports of either)."""

from __future__ import annotations

import bisect
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from abplan.schema import Finding

MAX_PER_TECHNIQUE = 20
# Invisible format characters removed before matching phrases (the text itself is left alone).
INVISIBLE = "\u00ad\u034f\u061c\u115f\u1160\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff"
_INVISIBLE_RE = re.compile(f"[{INVISIBLE}\U000e0000-\U000e007f]+")


def file_name(path: Path | str) -> str:
    """`Path(path).name`, for a string written as pathlib writes paths without making the Path."""
    if isinstance(path, Path):
        return path.name
    name = path.rpartition("/")[2]
    return "" if name == "." else name  # pathlib writes the current folder as "."


def file_suffix(path: Path | str) -> str:
    """`Path(path).suffix`, as `file_name`."""
    if isinstance(path, Path):
        return path.suffix
    name = file_name(path)
    i = name.rfind(".")
    return name[i:] if 0 < i < len(name) - 1 else ""


def excerpt(s: str, n: int = 160) -> str:
    s = re.sub(r"\s+", " ", s).strip()
    return s if len(s) <= n else s[: n - 1] + "…"


def without_invisible(s: str) -> str:
    return _INVISIBLE_RE.sub("", s)


class LineIndex:
    """1-based line numbers of character offsets, in O(log n) each. The line starts are found on the
    first lookup: most texts scanned have nothing to report, so they are never needed."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._starts: list[int] | None = None

    def line(self, pos: int) -> int:
        if self._starts is None:
            self._starts = [m.end() for m in re.finditer("\n", self._text)]
        return bisect.bisect_right(self._starts, pos) + 1


@dataclass(frozen=True)
class Span:
    """A stretch of text [start, end) hidden by `technique`; `detail` says how, for the reader."""

    start: int
    end: int
    technique: str
    detail: str
    kind: str = "hidden-text"


def outermost(spans: list[Span]) -> list[Span]:
    """The spans not inside an earlier-starting one, in order (overlaps are joined into the first)."""
    out: list[Span] = []
    for s in sorted(spans, key=lambda s: (s.start, -s.end)):
        if out and s.start < out[-1].end:
            if s.end > out[-1].end:
                last = out[-1]
                out[-1] = Span(last.start, s.end, last.technique, last.detail, last.kind)
            continue
        out.append(s)
    return out


def cut(text: str, spans: list[Span], keep: str = "") -> str:
    """`text` without the (outermost, sorted) spans, each replaced by `keep`."""
    parts: list[str] = []
    pos = 0
    for s in spans:
        parts.append(text[pos : s.start])
        parts.append(keep)
        pos = s.end
    parts.append(text[pos:])
    return "".join(parts)


def span_findings(text: str, spans: list[Span], removed: bool) -> list[Finding]:
    """One finding per hidden span (at most MAX_PER_TECHNIQUE per technique, then a count)."""
    lines = LineIndex(text)
    counts: Counter[str] = Counter()
    out: list[Finding] = []
    for s in sorted(spans, key=lambda s: s.start):
        counts[s.technique] += 1
        if counts[s.technique] > MAX_PER_TECHNIQUE:
            continue
        out.append(
            Finding(
                kind=s.kind,
                detail=s.detail,
                excerpt=excerpt(text[s.start : s.end]),
                removed=removed,
                technique=s.technique,
                line=lines.line(s.start),
            )
        )
    for technique, n in counts.items():
        if n > MAX_PER_TECHNIQUE:
            out.append(
                Finding(
                    kind="hidden-text",
                    detail=f"{n - MAX_PER_TECHNIQUE} more of these",
                    removed=removed,
                    technique=technique,
                )
            )
    return out
