"""Table rows, list items and caption sentences named after a gold ablation's variant.

A kept main-results table often carries the ablated variants as rows ("Ours w/o X", "X only", the
variant's own name): those rows give the gold result away, the rest of the table does not. The leak
check flags such a row and the cutter removes just that row, so the two agree.
"""

from __future__ import annotations

import re

from abplan.schema import Ablation
from abplan.text_match import content_tokens

_TABULAR = re.compile(r"\\begin\{(tabular\*?|tabularx|longtable|tabulary)\}")
_ROW_END = re.compile(r"\\\\(?:\s*\[[^\]]*\])?")
_RULES = re.compile(
    r"(?:\s|\\(?:hline|hdashline|toprule|midrule|bottomrule|cline|cmidrule|rowcolor|addlinespace)\b"
    r"(?:\([^)]*\))?(?:\[[^\]]*\])?(?:\{[^{}]*\})*)*"
)
_VARIANT = re.compile(
    r"(?i)(?:\bw/o|\bwithout|\bno|\bonly|\bremov\w*|\bminus)\s+([^;,()]+)|([^;,()]+?)\s+(?:only|alone|removed)\b"
)
_CMD = re.compile(r"\\[A-Za-z]+\*?")


_CUE_WORDS = frozenset(
    """no without w/o remove removing replace replacing instead effect impact vary varying number size single
    only alone using use sensitivity choice choices vs vs. versus sweep adding add disable""".split()  # noqa: SIM905
)


def keys_of(a: Ablation, title: str = "") -> list[frozenset[str]]:
    """Token sets that name a gold ablation: its name without cue words, and the head of its part.

    Words of the paper's title name its own method or task ("ASR" in an ASR paper, "BID-LoRA"), so they
    do not count towards naming an ablated part, unless fewer than two words would be left.
    """
    name = " ".join(w for w in re.split(r"\s+", a.name) if w.lower().strip(".,:;()") not in _CUE_WORDS)
    head = re.split(r"(?i)\s+(?:used|of|in|for|that|which|on|at|with|\()\s*", a.ablated_part, maxsplit=1)[0]
    common = content_tokens(title)
    keys = [frozenset(content_tokens(name)), frozenset(content_tokens(head))]
    return [k - common if len(k - common) >= 2 else k for k in keys if k]


def mentions(tokens: set[str], key: frozenset[str]) -> bool:
    need = len(key) if len(key) <= 2 else max(2, round(0.6 * len(key)))
    return len(key & tokens) >= need


def plain(latex: str) -> str:
    """A row label or item head as words: commands, braces, `$`, `~` and extra space gone."""
    text = _CMD.sub(" ", latex)
    text = re.sub(r"[{}$~\\]", " ", text)
    return re.sub(r"\s+", " ", text).strip(" :.,;")


def _norm(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", s.lower()).strip()


def _gold_strings(a: Ablation) -> set[str]:
    out = {a.name, a.name.split(":")[0], a.ablated_part, *(a.replacement or [])}
    out |= {n.split(" (")[0] for n in out}
    out |= set(re.findall(r"\(([^()]{3,40})\)", a.name))  # "Bottleneck Encoder only (ASR-BN)"
    return {n for n in map(_norm, out) if len(n) >= 3}


def variant_named(label: str, gold: list[Ablation], title: str = "") -> Ablation | None:
    """The gold ablation a row label or item head names: "w/o X", "no X", "X only" for a gold
    component X, or a gold `name` / `ablated_part` / `replacement` string itself (normalised)."""

    text = plain(label)
    if not text:
        return None
    norm = _norm(text)
    for a in gold:
        if norm in _gold_strings(a):
            return a
    for m in _VARIANT.finditer(text):
        toks = content_tokens(m.group(1) or m.group(2) or "") - content_tokens(title)
        for a in gold:  # "no Reflex": a short name inside a gold key counts too
            if any(mentions(toks, k) or (toks and toks <= k) for k in keys_of(a, title)):
                return a
    return None


def _row_ends(text: str, start: int, stop: int) -> list[tuple[int, int]]:
    """(start, end) of each `\\\\` at brace depth 0 (a `\\shortstack{a\\\\b}` line break is not a row end)."""
    out, depth, k = [], 0, start
    while k < stop:
        c = text[k]
        if c == "\\" and text.startswith("\\\\", k) and depth == 0:
            m = _ROW_END.match(text, k)
            end = m.end() if m else k + 2
            nl = re.match(r"[ \t]*\n", text[end:stop])
            out.append((k, end + (nl.end() if nl else 0)))
            k = end
            continue
        if c == "\\":
            k += 2
            continue
        depth += (c == "{") - (c == "}")
        k += 1
    return out


def _skip_args(text: str, k: int, n: int) -> int:
    """Past a `[pos]` and `n` brace groups (the column spec, after a width for tabularx)."""
    m = re.match(r"\s*\[[^\]]*\]", text[k:])
    k += m.end() if m else 0
    for _ in range(n):
        m = re.match(r"\s*\{", text[k:])
        if not m:
            break
        depth, k = 1, k + m.end()
        while k < len(text) and depth:
            depth += (text[k] == "{") - (text[k] == "}")
            k += 1
    return k


def table_rows(text: str) -> list[tuple[int, int, str]]:
    """(start, end, label) of each data row of the LaTeX tabulars (and Markdown tables) in a block;
    the span runs from after the row's leading rules through its `\\\\` and line end."""
    out: list[tuple[int, int, str]] = []
    for m in _TABULAR.finditer(text):
        stop = text.find(f"\\end{{{m.group(1)}}}", m.end())
        stop = len(text) if stop == -1 else stop
        start = _skip_args(text, m.end(), 2 if m.group(1) in ("tabular*", "tabularx", "tabulary") else 1)
        for end_at, end in [*_row_ends(text, start, stop), (stop, stop)]:
            lead = _RULES.match(text, start, end_at)
            a = lead.end() if lead else start
            body = text[a:end_at]
            if "&" in body:
                line = text.rfind("\n", 0, a) + 1  # the row's own indentation goes with it
                a = line if not text[line:a].strip() else a
                out.append((a, end, body.split("&")[0]))
            start = end
    for m in re.finditer(r"(?m)^\|([^|\n]*)\|.*\n?", text):
        if not re.fullmatch(r"[\s:\-]*", m.group(1)):
            out.append((m.start(), m.end(), m.group(1)))
    return out


def caption_span(text: str) -> tuple[int, int] | None:
    """Where the argument of the block's `\\caption{...}` lies (braces matched)."""
    m = re.search(r"\\caption(?:of\{[^{}]*\})?\s*(?:\[[^\]]*\])?\s*\{", text)
    if not m:
        return None
    depth, k = 1, m.end()
    while k < len(text) and depth:
        if text[k] in "{}" and text[k - 1] != "\\":
            depth += 1 if text[k] == "{" else -1
        k += 1
    return m.end(), k - 1


def item_head(item: str) -> str:
    """The head of a list item: its `\\textbf{...}` lead or the words before a colon."""
    body = re.sub(r"^\s*\\item\s*(?:\[[^\]]*\])?", "", item)
    m = re.match(r"\s*\\(?:textbf|textit|emph|underline)\{([^{}]*)\}", body)
    if m:
        return m.group(1)
    head = body.split(":", 1)
    return head[0] if len(head) == 2 and len(head[0]) <= 60 else ""


def short_names(a: Ablation) -> list[str]:
    """A gold variant's own short name, the bracketed acronym of its `name` ("... only (ASR-BN)")."""
    return [n for n in re.findall(r"\(([A-Za-z][\w\-+]{1,20})\)", a.name) if re.search(r"[A-Z]", n)]


def names_variant(sent: str, gold: list[Ablation]) -> Ablation | None:
    """A gold ablation whose short name stands in the sentence as a whole word (not ASR-BN of ASR-BN-ROB)."""
    for a in gold:
        for n in short_names(a):
            if re.search(rf"(?<![\w\-]){re.escape(n)}(?![\w\-])", sent):
                return a
    return None
