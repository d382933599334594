"""Text a human reader would not see but a model would, and instructions addressed to AI systems.

Findings are reported in the plan. Hidden text is removed from what the planner sees unless
`keep_hidden` is set; visible instructions stay (they are part of the paper) but are flagged, and
prompts always pass paper text as delimited data that the model is told never to obey.
"""

from __future__ import annotations

import re

from abplan.papers.latex import braced, remove_iffalse
from abplan.schema import Finding

_AI_INSTRUCTION = re.compile(
    r"(?i)\b(ignore (?:all |any )?(?:the )?(?:previous|prior|above|earlier) (?:instructions|prompts?|directions)"
    r"|disregard (?:all |any )?(?:previous|prior|above) (?:instructions|prompts?)"
    r"|as an? (?:ai|llm|language model)(?: reviewer| assistant| system)?"
    r"|(?:give|write|provide) (?:a |only )?(?:positive|favou?rable|glowing) (?:review|assessment|evaluation)"
    r"|(?:llm|ai) reviewers?"
    r"|do not (?:mention|highlight|point out) (?:any )?(?:weaknesses|limitations|negatives)"
    r"|you are (?:now )?(?:a|an) (?:helpful )?(?:assistant|ai|reviewer)"
    r"|system prompt)"
)
_WHITE = r"(?:white|White|gray!?[0-9]?|[Ww]hite!\d+)"


def excerpt(s: str, n: int = 160) -> str:
    s = re.sub(r"\s+", " ", s).strip()
    return s if len(s) <= n else s[: n - 1] + "…"


def find_instructions(text: str) -> list[Finding]:
    out: list[Finding] = []
    seen: set[str] = set()
    for m in _AI_INSTRUCTION.finditer(text):
        start = max(0, m.start() - 80)
        ex = excerpt(text[start : m.end() + 80])
        if ex in seen:
            continue
        seen.add(ex)
        out.append(
            Finding(kind="ai-instruction", detail=f"text addressed to AI systems: {m.group(0)!r}", excerpt=ex)
        )
        if len(out) >= 20:
            break
    return out


def scan_text(text: str, keep_hidden: bool = False) -> tuple[str, list[Finding]]:
    """Plain text, Markdown, PDF extractions: only visible instructions can be found here."""
    findings = find_instructions(text)
    # Zero-width and bidi control characters hide text in plain files.
    hidden = re.findall(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]+", text)
    if hidden:
        findings.append(
            Finding(
                kind="invisible-characters",
                detail=f"{len(hidden)} runs of zero-width or bidi control characters",
                removed=not keep_hidden,
            )
        )
        if not keep_hidden:
            text = re.sub(r"[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]+", "", text)
    return text, findings


def scan_latex(flat: str, keep_hidden: bool = False) -> tuple[str, list[Finding]]:
    findings: list[Finding] = []
    removed_spans: list[tuple[int, int, str]] = []
    # \textcolor{white}{...}, \color{white} inside a group, tiny \fontsize, \phantom-like hiding.
    for m in re.finditer(rf"\\textcolor\s*\{{{_WHITE}\}}\s*(?=\{{)", flat):
        got = braced(flat, m.end())
        if got:
            removed_spans.append((m.start(), got[1], "white text"))
    for m in re.finditer(rf"\{{\s*\\color\s*\{{{_WHITE}\}}", flat):
        got = braced(flat, m.start())
        if got:
            removed_spans.append((m.start(), got[1], "white text"))
    for m in re.finditer(r"\{\s*\\fontsize\s*\{\s*0*(?:\.\d+|[0-2](?:\.\d+)?)\s*(?:pt)?\s*\}", flat):
        got = braced(flat, m.start())
        if got:
            removed_spans.append((m.start(), got[1], "tiny font"))
    for m in re.finditer(r"\\(?:phantom|hphantom|vphantom)\s*(?=\{)", flat):
        got = braced(flat, m.end())
        if got and len(got[0]) > 20:
            removed_spans.append((m.start(), got[1], "phantom text"))
    out = flat
    if removed_spans:
        removed_spans.sort()
        merged: list[tuple[int, int, str]] = []
        for s, e, why in removed_spans:
            if merged and s < merged[-1][1]:
                continue
            merged.append((s, e, why))
        for s, e, why in merged:
            findings.append(
                Finding(
                    kind="hidden-text",
                    detail=f"LaTeX {why}",
                    excerpt=excerpt(flat[s:e]),
                    removed=not keep_hidden,
                )
            )
        if not keep_hidden:
            parts, pos = [], 0
            for s, e, _ in merged:
                parts.append(out[pos:s])
                pos = e
            parts.append(out[pos:])
            out = "".join(parts)
    without, dropped = remove_iffalse(out)
    for d in dropped:
        if d.strip():
            findings.append(
                Finding(
                    kind="hidden-text",
                    detail="LaTeX \\iffalse block",
                    excerpt=excerpt(d),
                    removed=not keep_hidden,
                )
            )
    if not keep_hidden:
        out = without
    findings.extend(find_instructions(flat))
    return out, findings
