"""Stages 4 and 5: rank and cut the groups, then ground each kept ablation in the paper. No LM.

Groups are ranked by support, then mean rank. Reviewer mode drops the groups the paper already
covers; `length="support"` keeps those proposed by at least `min_support` samples, at most k, and
never an empty plan; `length="fixed"` keeps k. Every group is recorded with the rule that cut it.
Grounding keeps only quotes found in the paper, falling back to the extraction's, then to the
best-matching sentence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from abplan.grounding import best_sentence, quote_in_text
from abplan.planners.staged.consolidate import merge_group
from abplan.planners.staged.groups import Group
from abplan.planners.staged.read import ExistingAblation, Extraction
from abplan.schema import Ablation, Evidence, Mode, Paper
from abplan.text_match import overlap


@dataclass
class Cut:
    ranked: list[Group]  # every group, best first
    kept: list[Group]
    records: list[dict[str, Any]]  # `Group.record` of each ranked group


def rank_and_cut(
    groups: list[Group],
    *,
    mode: Mode,
    k: int,
    length: str,
    min_support: int,
    existing: list[ExistingAblation],
) -> Cut:
    """The groups ranked, the ones kept and why each of the others was cut."""
    ranked = sorted(groups, key=lambda g: (-g.support, g.mean_rank, g.name.lower()))
    records: list[dict[str, Any]] = []
    kept: list[Group] = []
    for rank, g in enumerate(ranked, 1):
        rule = None
        if mode == "reviewer" and any(overlap(g.ablated_part, e.ablated_part) >= 0.6 for e in existing):
            rule = "already in the paper"
        elif len(kept) >= k:
            rule = f"beyond k={k}"
        elif length == "support" and g.support < min_support and kept:
            rule = f"support {g.support} < {min_support}"
        if rule is None:
            kept.append(g)
        records.append(g.record(rank, rule))
    if not kept and ranked:
        kept = [ranked[0]]
        records[0].update(kept=True, cut=None, note="kept so the plan is not empty")
    return Cut(ranked, kept, records)


def ground(ab: Ablation, paper: Paper, ex: Extraction) -> tuple[Ablation, int]:
    """Keep only verified quotes; fall back to the extraction's quote, then the best-matching sentence."""
    kept = [
        e.model_copy(update={"verified": True}) for e in ab.evidence if quote_in_text(e.quote, paper.text)
    ]
    dropped = len(ab.evidence) - len(kept)
    if not kept:
        for c in ex.components:
            if c.quote and overlap(c.name, ab.ablated_part) >= 0.5 and quote_in_text(c.quote, paper.text):
                kept = [Evidence(quote=c.quote, section=c.section, verified=True)]
                break
    if not kept and (fallback := best_sentence(paper, ab.ablated_part)) is not None:
        kept = [fallback]
    return ab.model_copy(update={"evidence": kept[:2]}), dropped


def ground_all(kept: list[Group], paper: Paper, ex: Extraction) -> tuple[list[Ablation], int, list[str]]:
    """Each kept group merged and grounded: the ablations, the quotes dropped, a warning per unsupported one."""
    ablations: list[Ablation] = []
    dropped = 0
    warnings: list[str] = []
    for g in kept:
        ab, d = ground(merge_group(g), paper, ex)
        dropped += d
        ablations.append(ab)
        if not ab.evidence:
            warnings.append(
                f"no passage of the paper supports {ab.ablated_part!r}: check that it is part of the method"
            )
    return ablations, dropped, warnings
