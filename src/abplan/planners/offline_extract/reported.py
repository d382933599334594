"""What the paper reports: the metrics it measures with, and the ablations it already has."""

from __future__ import annotations

import re
from collections import Counter

from abplan.planners.offline_extract.text import clean_np, heading_text, usable
from abplan.planners.offline_patterns import (
    ABLATION_HEAD,
    METRIC_RES,
    RESULT_HEAD,
    WITHOUT,
)
from abplan.schema import Paper
from abplan.text_match import split_sentences


def find_metrics(paper: Paper) -> list[str]:
    counts: Counter[str] = Counter()
    weights = [(s.text, 3 if RESULT_HEAD.search(s.heading) else 1) for s in paper.sections]
    weights.append((paper.abstract, 2))
    for text, w in weights:
        for name, rx in METRIC_RES:
            n = len(rx.findall(text))
            if n:
                counts[name] += n * w
    # "top-1 accuracy" subsumes "accuracy" when both are found.
    if counts.get("top-1 accuracy") and "accuracy" in counts:
        counts["accuracy"] = 0
    if counts.get("negative log-likelihood") and counts.get("log-likelihood"):
        counts["log-likelihood"] = 0
    ranked = counts.most_common()
    if not ranked or ranked[0][1] == 0:
        return []
    top = ranked[0][1]
    # A metric mentioned once in passing is not one the paper reports.
    return [m for m, c in ranked if c > 0 and c >= max(2, 0.25 * top)][:3] or [ranked[0][0]]


def existing_ablations(paper: Paper) -> list[tuple[str, str]]:
    """(phrase, section) of ablations the paper already reports."""
    found: list[tuple[str, str]] = []
    for s in paper.sections:
        if ABLATION_HEAD.search(s.heading):
            found.append((heading_text(s.heading), s.heading))
            for m in WITHOUT.finditer(s.text):
                np = clean_np(m.group("np"))
                if usable(np):
                    found.append((np, s.heading))
        for sent in split_sentences(s.text):
            if re.search(
                r"(?i)\bablat|\bw/o\b|we (?:remove|vary|replace)\b|sensitivity to|effect of (?:the|varying)",
                sent,
            ):
                hit = re.search(
                    r"(?i)(?:ablat\w*|w/o|remov\w*|vary\w*|replac\w*|effect of|sensitivity to)\s+(?:the\s+|of the\s+|of\s+)?(?P<np>[\w\-]+(?:\s+[\w\-]+){0,4})",
                    sent,
                )
                if hit:
                    np = clean_np(hit.group("np"))
                    if usable(np):
                        found.append((np, s.heading))
    seen: set[str] = set()
    out = []
    for np, sec in found:
        if np.lower() not in seen:
            seen.add(np.lower())
            out.append((np, sec))
    return out
