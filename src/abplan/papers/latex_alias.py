"""Aliases of hiding commands (`\\let\\c\\color`, `\\newcommand{\\c}{\\textcolor}`): scan a canonical copy
of the source with every alias spelled as its command, and map positions back to the source."""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable

from abplan.papers.textutil import Span

HIDING = frozenset(
    [
        "color",
        "textcolor",
        "pagecolor",
        "fontsize",
        "scalefont",
        "relscale",
        "scalebox",
        "resizebox",
        "transparent",
        "texttransparent",
        "phantom",
        "hphantom",
        "vphantom",
        "raisebox",
        "iffalse",
        "iftrue",
    ]
)
_ALIAS = re.compile(
    r"\\(?:let|global\\let)\s*\\([a-zA-Z@]+)\s*=?\s*\\([a-zA-Z@]+)(?![a-zA-Z@])"
    r"|\\(?:(?:re)?newcommand|providecommand|[gex]?def)\*?\s*\{?\s*\\([a-zA-Z@]+)\s*\}?\s*\{\s*\\([a-zA-Z@]+)\s*\}"
)


_DEFINING = re.compile(r"(?:\\let|def|command\*?)\s*\{?\s*\Z")


def aliases(text: str) -> dict[str, str]:
    """Alias name -> the hiding command it stands for (chains followed)."""
    raw: dict[str, str] = {}
    for m in _ALIAS.finditer(text):
        name, target = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        if name not in HIDING:
            raw[name] = target
    out: dict[str, str] = {}
    for name in raw:
        target, seen = raw[name], {name}
        while target in raw and target not in seen:
            seen.add(target)
            target = raw[target]
        if target in HIDING:
            out[name] = target
    return out


def canonical(text: str, names: dict[str, str]) -> tuple[str, Callable[[int], int]]:
    """`text` with each alias use replaced by its command, and a map from its positions to `text`'s."""
    if not names:
        return text, lambda p: p
    rx = re.compile(
        r"\\(" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + r")(?![a-zA-Z@])"
    )
    parts: list[str] = []
    # (canonical start, original start, original end or -1 for text copied as is)
    segs: list[tuple[int, int, int]] = []
    pos = clen = 0
    for m in rx.finditer(text):
        if _DEFINING.search(text, max(0, m.start() - 24), m.start()):
            continue  # the definition itself
        segs.append((clen, pos, -1))
        parts.append(text[pos : m.start()])
        clen += m.start() - pos
        token = "\\" + names[m.group(1)]
        segs.append((clen, m.start(), m.end()))
        parts.append(token)
        clen += len(token)
        pos = m.end()
    segs.append((clen, pos, -1))
    parts.append(text[pos:])
    starts = [s[0] for s in segs]

    def back(p: int) -> int:
        c, o, o_end = segs[bisect.bisect_right(starts, p) - 1]
        if o_end == -1:
            return o + (p - c)
        return o if p == c else o_end

    return "".join(parts), back


def mapped(spans: list[Span], back: Callable[[int], int]) -> list[Span]:
    return [Span(back(s.start), back(s.end), s.technique, s.detail, s.kind) for s in spans]
