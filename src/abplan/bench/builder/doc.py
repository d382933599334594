"""A paper as parts (sections) of blocks (paragraphs, tables, figures): what the builder searches, cuts and writes.

Each part has a role (abstract, intro, method, experiments, conclusion, references, appendix) from its
heading and position, so rules can treat the announcing sections differently from the experiments.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from statistics import median

from abplan.papers.latex import braced
from abplan.schema import Paper

FLOAT_ENV = re.compile(r"\\begin\{(table|figure|wraptable|wrapfigure|sidewaystable|sidewaysfigure)(\*?)\}")
CAPTION_START = re.compile(r"^\s*(?:\*\*)?(Table|Tab\.|Figure|Fig\.)\s*(\d+|[IVX]+)\s*[.:|]", re.I)
LATEX_REF = re.compile(r"\\(?:[cC]ref|ref|autoref|nameref|vref)\*?\{([^{}]*)\}")
TEXT_REF = re.compile(r"\b(Table|Tab\.|Figure|Fig\.|Section|Sec\.)\s*~?(\d+(?:\.\d+)*)", re.I)
_SENT_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\[\\0-9])")


@dataclass(frozen=True)
class Block:
    kind: str  # "paragraph", "table" or "figure"
    text: str
    labels: tuple[str, ...] = ()  # "tab:abl" for a LaTeX \label, "table 3" for a numbered caption
    caption: str = ""


@dataclass(frozen=True)
class Part:
    heading: str
    level: int
    role: str
    blocks: tuple[Block, ...]

    @property
    def text(self) -> str:
        return "\n\n".join(b.text for b in self.blocks)


@dataclass(frozen=True)
class Doc:
    title: str
    kind: str  # the paper's source_kind
    parts: tuple[Part, ...]

    @property
    def abstract(self) -> str:
        return next((p.text for p in self.parts if p.role == "abstract"), "")

    def with_parts(self, parts: list[Part]) -> Doc:
        return replace(self, parts=tuple(parts))


def label_key(kind: str, number: str) -> str:
    k = kind.lower()
    name = "table" if k.startswith("tab") else "section" if k.startswith("sec") else "figure"
    return f"{name} {number}"


def refs_in(text: str) -> set[str]:
    """Labels a text refers to: LaTeX \\ref keys and "Table 3"-style mentions."""
    out = {k.strip() for m in LATEX_REF.finditer(text) for k in m.group(1).split(",") if k.strip()}
    out |= {label_key(m.group(1), m.group(2)) for m in TEXT_REF.finditer(text)}
    return out


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, on the original text (so sentences can be cut out exactly)."""
    spans, start = [], 0
    for m in _SENT_END.finditer(text):
        spans.append((start, m.start()))
        start = m.end()
    if start < len(text):
        spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _captions(body: str) -> str:
    out = []
    for cap in re.finditer(r"\\caption(?:of)?\*?\s*(?:\{[a-z]*\})?\s*(?=[\[{])", body):
        got = braced(body, cap.end())
        if got:
            out.append(got[0])
    return " ".join(out)


def _latex_blocks(text: str) -> list[Block]:
    """Floats are blocks; so are bare tables and captions outside a float (\\begin{center}...\\caption)."""
    out = []
    for b in _latex_floats(text):
        if b.kind == "paragraph":
            labels = tuple(re.findall(r"\\label\{([^{}]*)\}", b.text))
            caption = _captions(b.text)
            if caption or "\\begin{tabular" in b.text:
                kind = (
                    "figure" if "\\includegraphics" in b.text and "\\begin{tabular" not in b.text else "table"
                )
                b = Block(kind, b.text, labels, caption)
            else:
                b = replace(b, labels=labels)
        out.append(b)
    return out


def _latex_floats(text: str) -> list[Block]:
    out: list[Block] = []
    pos = 0
    for m in FLOAT_ENV.finditer(text):
        if m.start() < pos:
            continue
        end_tok = f"\\end{{{m.group(1)}{m.group(2)}}}"
        stop = text.find(end_tok, m.end())
        stop = len(text) if stop == -1 else stop + len(end_tok)
        out += _paragraphs(text[pos : m.start()], "latex")
        body = text[m.start() : stop]
        labels = tuple(re.findall(r"\\label\{([^{}]*)\}", body))
        kind = "table" if "table" in m.group(1) else "figure"
        out.append(Block(kind, body.strip(), labels, _captions(body)))
        pos = stop
    return out + _paragraphs(text[pos:], "latex")


def _pseudo_paragraphs(text: str) -> list[str]:
    """PDF text has no blank lines: a paragraph ends at a short line ending a sentence."""
    lines = text.splitlines()
    width = median(len(ln) for ln in lines) if lines else 0
    paras: list[list[str]] = [[]]
    for ln in lines:
        if CAPTION_START.match(ln) and paras[-1]:
            paras.append([])
        paras[-1].append(ln)
        if ln.rstrip().endswith((".", ":", "!", "?")) and len(ln) < 0.8 * width:
            paras.append([])
    return ["\n".join(p) for p in paras if "".join(p).strip()]


def _paragraphs(text: str, kind: str) -> list[Block]:
    chunks = re.split(r"\n\s*\n", text)
    if kind in ("pdf", "text") and len(chunks) == 1 and text.count("\n") > 4:
        chunks = _pseudo_paragraphs(text)
    out: list[Block] = []
    for c in (c.strip() for c in chunks):
        if not c:
            continue
        cap = CAPTION_START.match(c)
        rows = sum(1 for ln in c.splitlines() if ln.lstrip().startswith("|"))
        if cap:
            kind_ = "table" if cap.group(1).lower().startswith("tab") else "figure"
            out.append(Block(kind_, c, (label_key(cap.group(1), cap.group(2)),), c.split("\n")[0]))
        elif rows >= 2 and rows >= 0.6 * len(c.splitlines()):
            prev = out[-1] if out else None
            if prev is not None and prev.kind == "table" and "|" not in prev.text:
                out[-1] = replace(prev, text=f"{prev.text}\n\n{c}")  # caption above the table
            else:
                out.append(Block("table", c))
        else:
            out.append(Block("paragraph", c))
    # A caption paragraph just below a Markdown table belongs to it.
    merged: list[Block] = []
    for b in out:
        if merged and b.labels and merged[-1].kind == "table" and not merged[-1].labels:
            merged[-1] = replace(b, text=f"{merged[-1].text}\n\n{b.text}")
        else:
            merged.append(b)
    return merged


_ROLE = [
    ("references", re.compile(r"(?i)^\W*(\d+\.?\s*)?(references|bibliography)\b")),
    ("appendix", re.compile(r"(?i)\b(appendix|appendices|supplementary)\b")),
    ("abstract", re.compile(r"(?i)^\W*abstract\W*$")),
    ("intro", re.compile(r"(?i)\bintroduction\b")),
    ("conclusion", re.compile(r"(?i)\b(conclusions?|concluding|summary|future work)\b")),
    (
        "experiments",
        re.compile(r"(?i)\b(experiments?|experimental|evaluation|results?|empirical|ablations?)\b"),
    ),
]


def assign_roles(parts: list[tuple[str, int, str]]) -> list[str]:
    """A role per (heading, level, text): by heading, subsections inherit, and position fills the rest."""
    roles: list[str] = []
    parent: tuple[str, int] | None = None  # (role, level) that deeper parts inherit
    seen_exp = in_appendix = False
    for heading, level, text in parts:
        explicit = next((r for r, rx in _ROLE if rx.search(heading)), "")
        deeper = parent is not None and level > parent[1]
        if heading == "[front matter]":
            role = "front"
        elif explicit:
            role = explicit
        elif deeper and parent is not None:
            role = parent[0]
        else:
            role = "experiments" if seen_exp else "method"
        if in_appendix and role not in ("references", "abstract"):
            role = "appendix"
        roles.append(role)
        if explicit or not deeper:
            parent = (role, level)
        seen_exp |= role == "experiments"
        in_appendix |= role in ("appendix", "references") or "\\appendix" in text
    return roles


def _levels(paper: Paper) -> list[int]:
    """Section levels; flat Markdown (every heading "##", as PeerRead's) takes them from "4.1.2"-style numbers."""
    levels = [s.level for s in paper.sections]
    if len(set(levels)) > 1:
        return levels
    out = []
    for s in paper.sections:
        m = re.match(r"\s*(\d+(?:\.\d+)*|[A-H](?:\.\d+)*)\.?\s", s.heading)
        out.append(m.group(1).count(".") + 1 if m else 1)
    return out


def doc_from_paper(paper: Paper) -> Doc:
    secs = [s.model_copy(update={"level": lv}) for s, lv in zip(paper.sections, _levels(paper), strict=True)]
    roles = assign_roles([(s.heading, s.level, s.text) for s in secs])
    parts: list[Part] = []
    if "abstract" not in roles and paper.abstract:
        parts.append(Part("Abstract", 1, "abstract", tuple(_paragraphs(paper.abstract, "markdown"))))
    for s, role in zip(secs, roles, strict=True):
        if role == "front":
            continue
        blocks = (
            _latex_blocks(s.text) if paper.source_kind == "latex" else _paragraphs(s.text, paper.source_kind)
        )
        parts.append(Part(s.heading, s.level, role, tuple(blocks)))
    return Doc(paper.title, paper.source_kind, tuple(parts))


def render_markdown(doc: Doc) -> str:
    """The paper as dev-bench's paper.md: `# title`, then one heading per part (deeper parts, more #)."""
    out = [f"# {doc.title}"]
    top = min((p.level for p in doc.parts), default=1)
    for p in doc.parts:
        if not p.blocks and p.role == "abstract":
            continue
        out.append(f"{'#' * min(6, p.level - top + 2)} {p.heading}")
        out.extend(b.text for b in p.blocks)
    return "\n\n".join(out) + "\n"
