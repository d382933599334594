"""The `select` cut of the consensus planner: one more LM call, which reads the paper and the grouped
experiments with their support and chooses which to keep and how many.

A fixed support threshold cannot know how many ablations a paper calls for (papers with few claimed
components gain from unanimity, papers with many lose recall by it); the selector decides from the paper.
When its reply names no known experiment, even after one repair, the fixed cut is used and the plan says so.
"""

from __future__ import annotations

from typing import Any

from abplan import prompts
from abplan.lm.client import LMClient
from abplan.lm.repair import ask_twice
from abplan.lm.types import LMRequest, LMResponse
from abplan.parsing import split_reply
from abplan.planners.base import PlanOptions
from abplan.planners.lm_planner import fit_for
from abplan.planners.staged import Group, merge_group
from abplan.prompts import paper_source
from abplan.schema import Paper

SELECT_REPLY_TOKENS = 600


def experiment_line(gid: str, g: Group, n_ok: int) -> str:
    ab = merge_group(g)
    reps = f"; replacements: {', '.join(ab.replacement)}" if ab.replacement else ""
    return f"{gid} [proposed by {g.support} of {n_ok}] {ab.action} {ab.ablated_part}: {g.name}{reps}"


def select_request(paper: Paper, opts: PlanOptions, model: str, ranked: list[Group], n_ok: int) -> LMRequest:
    """The selection request over the groups, ranked by support (ids G1, G2, ... in that order)."""
    fitted, _ = fit_for(paper, opts, model, reserve=3000)  # room for the experiments' list
    user = prompts.render(
        "consensus_select",
        mode=opts.mode,
        n=n_ok,
        k=opts.top_k,
        title=fitted.title,
        abstract=fitted.abstract,
        paper_source=paper_source(fitted, opts.max_paper_chars),
        experiments="\n".join(experiment_line(f"G{i}", g, n_ok) for i, g in enumerate(ranked, 1)),
    )
    return LMRequest.chat(
        model,
        prompts.render("consensus_select_system"),
        user,
        temperature=0.0,
        max_tokens=opts.max_tokens,
        tag="select",
    )


def chosen_ids(text: str, n_groups: int, k: int) -> tuple[list[int], str | None]:
    """Indexes (0-based) of the known ids the reply names, in its order, repeats dropped, at most k."""
    chosen: list[int] = []
    for row in split_reply(text).items:
        raw = str(row.get("id", "")).strip().upper()
        if raw.startswith("G") and raw[1:].isdigit():
            i = int(raw[1:]) - 1
            if 0 <= i < n_groups and i not in chosen:
                chosen.append(i)
    chosen = chosen[:k]
    return (
        chosen,
        None if chosen else f'no line names a known experiment id (G1 to G{n_groups}) as {{"id": ...}}',
    )


async def select_groups(
    lm: LMClient, paper: Paper, opts: PlanOptions, model: str, ranked: list[Group], n_ok: int
) -> tuple[list[int] | None, str, list[LMResponse], list[str]]:
    """The indexes the selector keeps and its discussion, or None (with a note) when neither its reply
    nor the one repair names a known experiment. A provider failure is raised, never a silent fallback;
    every response, usable or not, is returned for the plan's usage."""
    got = await ask_twice(
        lm,
        select_request(paper, opts, model, ranked, n_ok),
        lambda t: chosen_ids(t, len(ranked), opts.top_k),
        lambda p: prompts.render("consensus_select_repair", problem=p),
    )
    if not got.usable:
        note = f"the selection call was unreadable ({got.problem}): kept the fixed support cut"
        return None, "", got.responses, [note]
    return got.value, split_reply(got.responses[-1].text).discussion.strip(), got.responses, []


def with_unanimous(ranked: list[Group], chosen: list[int], n_ok: int, k: int) -> list[int]:
    """`cut=select-add`: every group all samples proposed (in rank order), then the selector's other
    choices, at most k. The selector may add to what the samples agree on, never drop it."""
    unanimous = [i for i, g in enumerate(ranked) if g.support >= n_ok]
    return [*unanimous, *(i for i in chosen if i not in unanimous)][:k]


def selection_records(ranked: list[Group], chosen: list[int]) -> list[dict[str, Any]]:
    """`stages["groups"]` for a selection: every group with its support rank, kept or not chosen."""
    return [g.record(r, None if r - 1 in chosen else "not chosen") for r, g in enumerate(ranked, 1)]
