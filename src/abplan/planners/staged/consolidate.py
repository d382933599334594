"""Stage 3, consolidate: one LM call groups the candidates that are the same experiment; and the merge
of each group into one ablation.

A group's support is the number of samples that proposed it. An unreadable reply falls back to
grouping by word overlap; a single sample needs no call at all.
"""

from __future__ import annotations

from collections import Counter

from abplan import prompts
from abplan.lm.client import LMClient
from abplan.lm.types import LMRequest, LMResponse
from abplan.parsing import split_reply
from abplan.planners.base import PlanOptions
from abplan.planners.staged.groups import Candidate, Group
from abplan.schema import Ablation, Evidence, Paper
from abplan.text_match import overlap


def candidate_line(c: Candidate) -> str:
    a = c.ablation
    rep = f" with {', '.join(a.replacement[:4])}" if a.replacement else ""
    return f"{c.id}: {a.name} | {a.action} {a.ablated_part}{rep}"


def consolidate_request(paper: Paper, cands: list[Candidate], model: str, opts: PlanOptions) -> LMRequest:
    user = prompts.render(
        "staged_consolidate", title=paper.title, candidates="\n".join(candidate_line(c) for c in cands)
    )
    return LMRequest.chat(
        model,
        "You group duplicate experiment proposals. Be precise.",
        user,
        temperature=0.0,
        max_tokens=opts.max_tokens,
        tag="consolidate",
    )


def groups_from_reply(text: str, cands: list[Candidate]) -> tuple[list[Group], list[str]]:
    """The groups the reply names (unknown and repeated ids ignored); candidates it leaves out stand alone."""
    by_id = {c.id: c for c in cands}
    notes: list[str] = []
    taken: set[str] = set()
    groups: list[Group] = []
    for row in split_reply(text).items:
        ids = [i for i in row.get("ids", []) if isinstance(i, str) and i in by_id and i not in taken]
        if not ids:
            continue
        taken.update(ids)
        first = min((by_id[i] for i in ids), key=lambda c: (c.rank, c.sample))
        groups.append(
            Group(
                name=str(row.get("name") or first.ablation.name),
                ablated_part=str(row.get("ablated_part") or first.ablation.ablated_part),
                action=str(row.get("action") or first.ablation.action).upper(),
                members=[by_id[i] for i in ids],
            )
        )
    missing = [c for c in cands if c.id not in taken]
    if missing:
        notes.append(
            f"{len(missing)} proposals were left ungrouped by the model: kept as groups of their own"
        )
    groups += [Group.single(c) for c in missing]
    return groups, notes


def lexical_groups(cands: list[Candidate]) -> list[Group]:
    """Fallback grouping without an LM: same action family and strongly overlapping ablated parts."""
    groups: list[Group] = []
    for c in sorted(cands, key=lambda c: (c.rank, c.sample)):
        for g in groups:
            if overlap(g.ablated_part, c.ablation.ablated_part) >= 0.75:
                g.members.append(c)
                break
        else:
            groups.append(Group.single(c))
    return groups


async def consolidate(
    lm: LMClient, paper: Paper, cands: list[Candidate], model: str, opts: PlanOptions, n_ok: int
) -> tuple[list[Group], list[LMResponse], list[str]]:
    """One grouping call over the candidates of `n_ok` samples (none for a single sample), with the
    lexical fallback when the reply cannot be read."""
    if n_ok < 2:
        return [Group.single(c) for c in cands], [], []
    res = await lm.complete(consolidate_request(paper, cands, model, opts))
    groups, notes = groups_from_reply(res.text, cands)
    if len(groups) == len(cands) and not split_reply(res.text).items:
        groups = lexical_groups(cands)
        notes = ["the grouping reply was unreadable: grouped by word overlap instead"]
    return groups, [res], notes


def merge_group(g: Group) -> Ablation:
    """The group as one ablation: the top member's fields, replacements and metrics merged by frequency."""
    top = min(g.members, key=lambda c: (c.rank, c.sample)).ablation
    reps: Counter[str] = Counter()
    mets: Counter[str] = Counter()
    order: dict[str, int] = {}
    for m in sorted(g.members, key=lambda c: (c.rank, c.sample)):
        for r in m.ablation.replacement or []:
            key = r.strip()
            reps[key] += 1
            order.setdefault(key, len(order))
        for x in m.ablation.metrics:
            mets[x.strip()] += 1
            order.setdefault(x.strip(), len(order))
    action = g.action if g.action in ("REMOVE", "REPLACE", "ADD") else top.action
    replacement = sorted(reps, key=lambda r: (-reps[r], order[r]))[:8] or None
    metrics = sorted(mets, key=lambda r: (-mets[r], order[r]))[:6]
    evidence: list[Evidence] = []
    for m in g.members:
        for ev in m.ablation.evidence:
            if all(ev.quote != e.quote for e in evidence):
                evidence.append(ev)
    rationale = top.rationale
    return Ablation(
        name=g.name,
        ablated_part=g.ablated_part,
        action=action,  # type: ignore[arg-type]
        replacement=replacement if action != "REMOVE" or replacement else None,
        metrics=metrics,
        rationale=rationale,
        evidence=evidence,
        support=g.support,
        score=round(g.mean_rank, 3),
    )
