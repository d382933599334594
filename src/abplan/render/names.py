"""File names for plans: readable, safe on every file system, and distinct per mode, planner and model.

`plans/pixelcnnpp-author-offline.md`: the title (the part before a colon when there is one, which is
the name papers are known by), lower-case, with `++` as `pp` and `&` as `and`, every other run of
characters that is not a letter or digit as one `-`, cut at a word boundary; then the mode, the
planner and the model. Lengths are counted in UTF-8 bytes, since file systems limit bytes (255 a
name), and a CJK character takes three.
"""

from __future__ import annotations

import re
import unicodedata

TITLE_BYTES = 60
MODEL_BYTES = 48
_REPLACE = (("++", "pp"), ("&", " and "), ("+", " plus "), ("#", " sharp "))
_WORD_SEP = re.compile(r"[\W_]+", re.UNICODE)


def _bytes(s: str) -> int:
    return len(s.encode("utf-8"))


def _cut_bytes(word: str, limit: int) -> str:
    while _bytes(word) > limit:
        word = word[:-1]
    return word


def name_part(text: str, limit: int) -> str:
    """`text` as lower-case words joined by `-`, at most `limit` UTF-8 bytes, cut between words
    (inside the first word only when that one alone is too long)."""
    s = unicodedata.normalize("NFKC", text).lower()
    for old, new in _REPLACE:
        s = s.replace(old, new)
    words = [w for w in _WORD_SEP.split(s) if w]
    out = ""
    for w in words:
        joined = f"{out}-{w}" if out else w
        if _bytes(joined) > limit:
            if not out:
                out = _cut_bytes(w, limit)
            break
        out = joined
    return out


def title_part(title: str, limit: int = TITLE_BYTES) -> str:
    head, sep, _ = title.partition(":")
    short = name_part(head, limit) if sep else ""
    return short or name_part(title, limit) or "paper"


def plan_stem(title: str, mode: str, planner: str, model: str | None = None) -> str:
    """`pixelcnnpp-author-offline`, `attention-is-all-you-need-reviewer-lm-openai-gpt-4o`."""
    parts = [title_part(title), name_part(mode, 16), name_part(planner, 24)]
    if model and model != planner:
        parts.append(name_part(model, MODEL_BYTES))
    return "-".join(p for p in parts if p)
