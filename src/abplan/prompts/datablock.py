"""Paper-derived text cannot open or close a prompt's delimited blocks.

Every value placed into a template goes through `neutralise`: a tag that names one of the delimiters
the templates use (`</paper_source>`, `<side_A>`, ...), in any case, with spaces, attributes,
fullwidth or escaped brackets, or invisible characters inside the name, gets its brackets replaced
by ‹ › so it reads the same to the model but cannot end (or start) a block.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

INVISIBLE = "\u00ad\u034f\u061c\u115f\u1160\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff"
_TAG = re.compile(r"</?([A-Za-z_][\w-]*)>")
# The delimiters every template may rely on, whether or not it is installed alongside this module.
BASE = frozenset(
    {"paper_source", "side_a", "side_b", "official_review", "suggested_plan", "discussion", "predictions"}
)
_OPEN = r"(?:<|＜|﹤|&lt;|&#0*60;|&#x0*3c;|\\u003c)"
_CLOSE = r"(?:>|＞|﹥|&gt;|&#0*62;|&#x0*3e;|\\u003e)"


def _may_open(text: str) -> bool:
    """Has `text` a character every `_OPEN` starts with? Without one there is no tag to neutralise."""
    return "<" in text or "&" in text or "\\" in text or "＜" in text or "﹤" in text


@cache
def delimiters() -> frozenset[str]:
    """The tag names used as delimiters by the bundled templates (lower case)."""
    names = set(BASE)
    for entry in resources.files("abplan.prompts").iterdir():
        if entry.name.endswith(".j2"):
            names.update(
                m.group(1).lower() for m in _TAG.finditer(entry.read_text("utf-8")) if "</" in m.group(0)
            )
    return frozenset(names)


@cache
def _pattern() -> re.Pattern[str]:
    gap = f"[{INVISIBLE}]*"
    names = "|".join(
        gap.join(re.escape(c) for c in name) for name in sorted(delimiters(), key=len, reverse=True)
    )
    return re.compile(
        rf"{_OPEN}{gap}\s*{gap}/?{gap}\s*{gap}(?:{names}){gap}(?![\w-])[^<>＜＞﹤﹥\n]{{0,200}}?{_CLOSE}",
        re.IGNORECASE,
    )


def neutralise(text: str) -> str:
    """`text` with every delimiter tag made inert (idempotent; other text unchanged)."""
    if not text or not _may_open(text):
        return text
    return _pattern().sub(
        lambda m: "‹" + re.sub(f"^{_OPEN}|{_CLOSE}$", "", m.group(0), flags=re.I) + "›", text
    )


def finalize(value: object) -> object:
    """Jinja `finalize` hook: neutralise every string placed into a prompt."""
    return neutralise(value) if isinstance(value, str) else value
