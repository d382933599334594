"""Context windows per model (tokens; override with --context-window) and fitting a paper into one.

Strategy, documented and reported in the plan: estimate tokens as characters / 4; drop the references,
then appendices and supplementary sections, then truncate the longest sections that are not the method
until the paper fits. The title, abstract and method are kept whole.
"""

from __future__ import annotations

import re

from abplan.schema import Paper, Section

WINDOWS: dict[str, int] = {
    "gpt-4o": 128_000,
    "gpt-4.1": 1_000_000,
    "gpt-5": 400_000,
    "o3": 200_000,
    "o4-mini": 200_000,
    "o1": 200_000,
    "claude": 200_000,
    "gemini": 1_000_000,
    "llama-3.1": 128_000,
    "llama-3.3": 128_000,
    "qwen3": 32_768,
    "qwen2.5": 32_768,
    "mistral": 32_768,
    "deepseek": 128_000,
}
DEFAULT_WINDOW = 128_000
LOCAL_DEFAULT = 32_768
CHARS_PER_TOKEN = 4
_REFS = re.compile(r"(?i)\b(references|bibliography)\b")
_APPENDIX = re.compile(r"(?i)\b(appendix|appendices|supplementary|supplemental)\b|^\s*[A-H](?:\.\d+)*\.?\s")
_METHOD = re.compile(r"(?i)\b(method|approach|model|architecture|framework|algorithm|proposed)\b")


def context_window(model: str, override: int | None = None) -> int:
    if override:
        return override
    provider, _, name = model.partition("/")
    low = name.lower()
    hits = [k for k in WINDOWS if k in low]
    if hits:
        return WINDOWS[max(hits, key=len)]
    return LOCAL_DEFAULT if provider in ("ollama", "llamacpp") else DEFAULT_WINDOW


def estimate_tokens(text: str) -> int:
    return len(text) // CHARS_PER_TOKEN + 1


def window_budget(model: str, reserve_tokens: int, override: int | None = None) -> int:
    """Tokens a paper may take in a prompt to `model`: its window less `reserve_tokens` (the reply and
    the rest of the prompt), never below 2,000."""
    return max(2000, context_window(model, override) - reserve_tokens)


def fit_paper(paper: Paper, budget_tokens: int) -> tuple[Paper, list[str]]:
    """A paper whose text fits `budget_tokens`, and notes of what was cut (none when it already fits)."""
    budget = budget_tokens * CHARS_PER_TOKEN
    if len(paper.text) <= budget:
        return paper, []
    notes = [
        f"the paper (~{estimate_tokens(paper.text):,} tokens) exceeds the budget of {budget_tokens:,} tokens"
    ]
    secs = list(paper.sections)
    if not secs:
        return paper.model_copy(update={"text": paper.text[:budget]}), [*notes, "truncated the text"]
    for label, rx in (("references", _REFS), ("appendices", _APPENDIX)):
        if sum(len(s.text) for s in secs) <= budget:
            break
        kept = [s for s in secs if not rx.search(s.heading)]
        if len(kept) < len(secs):
            notes.append(f"dropped {label} ({len(secs) - len(kept)} sections)")
            secs = kept
    total = sum(len(s.heading) + len(s.text) + 2 for s in secs)
    truncated: list[str] = []
    while total > budget:
        cands = [i for i, s in enumerate(secs) if not _METHOD.search(s.heading) and len(s.text) > 400] or [
            i for i, s in enumerate(secs) if len(s.text) > 400
        ]
        if not cands:
            break
        i = max(cands, key=lambda j: len(secs[j].text))
        s = secs[i]
        cut = max(400, len(s.text) - (total - budget) - 100, len(s.text) // 2)
        secs[i] = Section(heading=s.heading, text=s.text[:cut] + " [...]", level=s.level)
        total -= len(s.text) - cut - 6
        if s.heading not in truncated:
            truncated.append(s.heading)
    if truncated:
        notes.append("truncated: " + ", ".join(truncated[:8]) + (" ..." if len(truncated) > 8 else ""))
    text = "\n\n".join(f"{s.heading}\n{s.text}" if s.heading != "[front matter]" else s.text for s in secs)
    if len(text) > budget:
        text = text[:budget]
        notes.append("cut the remaining text at the budget")
    return paper.model_copy(update={"text": text, "sections": tuple(secs)}), notes
