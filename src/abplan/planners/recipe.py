"""The `staged` planner: the recipe that won on the development set, built on the consensus planner.

Measured with a real model on 21 author and 12 reviewer papers (`benchmarks/quality.md`): three
LM-Planner samples at temperature 0.7, one grouping call, then
- author mode: every sample told what authors usually ablate (`prior`), and one selection call that
  reads the paper and the grouped experiments with their support and keeps the ones the authors would
  run, as many as the paper calls for (`cut=select`, at most k): 5 calls;
- reviewer mode: each sample reviews from its own angle, and the top k groups by support are kept:
  4 calls (the selection call lost there).

The extraction-based pipeline that `staged` named before (read, 2k-item proposals, consolidation) lost
to the single LM-Planner call in both modes and is kept as `staged-extract`. Every option of the
consensus planner can still be given (`--samples`, `--min-support`, `-O prior=false` ...); these are only
the defaults.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from abplan.errors import ConfigError
from abplan.lm.client import LMClient
from abplan.planners.base import PlanOptions, register_planner
from abplan.planners.consensus import ConsensusPlanner
from abplan.planners.consensus import dry_run as consensus_dry_run
from abplan.schema import Paper, Plan

SAMPLES = 3


def recipe_options(opts: PlanOptions) -> PlanOptions:
    """The consensus options of the recipe, under whatever the user gave explicitly."""
    if opts.extra.get("max_cost") is not None:
        raise ConfigError(
            "--max-cost is for the staged-extract planner; staged makes a fixed number of calls (5 author, 4 reviewer): "
            "see --dry-run"
        )
    extra: dict[str, Any] = {"samples": SAMPLES}
    explicit_cut = "cut" in opts.extra or opts.extra.get("min_support") is not None
    if opts.mode == "author":
        extra["prior"] = True
        if not explicit_cut:  # a threshold or another cut replaces the selection call
            extra["cut"] = "select"
    elif not explicit_cut:  # an explicit cut replaces the recipe's top-k
        extra["min_support"] = 1
    extra.update(opts.extra)
    extra.pop("length", None)  # a staged-extract flag the consensus planner has no use for
    return replace(opts, extra=extra)


@register_planner("staged")
class StagedPlanner(ConsensusPlanner):
    """The measured winner: 3 LM-Planner samples, one grouping call, then author prior and a selection
    call / reviewer angles and top-k."""

    async def plan(self, paper: Paper, opts: PlanOptions, lm: LMClient | None) -> Plan:
        return await super().plan(paper, recipe_options(opts), lm)


def dry_run(
    paper: Paper, opts: PlanOptions, prices: dict[str, tuple[float, float]] | None = None
) -> dict[str, Any]:
    return consensus_dry_run(paper, recipe_options(opts), prices)
