"""The staged planner: read, propose N times, consolidate by support, cut, ground.

1. Read (`read.py`): one structured-output call extracts contributions, components (with quotes),
   hyperparameters, datasets, metrics and, in reviewer mode, the ablations the paper already has.
2. Propose (`propose.py`): N independent candidate plans (2k items each) at a diversity temperature,
   optionally across several models.
3. Consolidate (`consolidate.py`): one LM call groups candidates that are the same experiment; each
   group's support is the number of samples that proposed it, and its mean rank their average position.
   Each group is merged into one ablation.
4. Rank and cut (`cut.py`): by support, then mean rank; reviewer mode drops groups the paper already
   covers; `length=support` keeps groups whose support reaches `min_support` (never an empty plan),
   `length=fixed` keeps k. Every group is recorded with its support, rank and the rule that cut it.
5. Ground (`cut.py`): each kept ablation's quotes are checked against the paper; unverifiable ones are
   dropped.

`planner.py` runs them in order with the `StagedOptions` read once from `PlanOptions.extra`
(`options.py`). Every step is an ordinary cached request, so the pipeline also runs through batch
export/import, one round per stage.
"""

from __future__ import annotations

from abplan.planners.base import positive_option
from abplan.planners.staged.consolidate import (
    candidate_line,
    consolidate,
    consolidate_request,
    groups_from_reply,
    lexical_groups,
    merge_group,
)
from abplan.planners.staged.cut import Cut, ground, ground_all, rank_and_cut
from abplan.planners.staged.groups import Candidate, Group
from abplan.planners.staged.options import StagedOptions, default_min_support
from abplan.planners.staged.planner import StagedPlanner, TraceFacts, dry_run, staged_trace
from abplan.planners.staged.propose import (
    Proposals,
    affordable_samples,
    collect,
    estimate_cost,
    gather_all,
    propose,
    propose_requests,
)
from abplan.planners.staged.read import (
    SYSTEM,
    Component,
    ExistingAblation,
    Extraction,
    Hyperparameter,
    extraction_summary,
    parse_extraction,
    read,
    read_request,
)

__all__ = [
    "SYSTEM",
    "Candidate",
    "Component",
    "Cut",
    "ExistingAblation",
    "Extraction",
    "Group",
    "Hyperparameter",
    "Proposals",
    "StagedOptions",
    "StagedPlanner",
    "TraceFacts",
    "affordable_samples",
    "candidate_line",
    "collect",
    "consolidate",
    "consolidate_request",
    "default_min_support",
    "dry_run",
    "estimate_cost",
    "extraction_summary",
    "gather_all",
    "ground",
    "ground_all",
    "groups_from_reply",
    "lexical_groups",
    "merge_group",
    "parse_extraction",
    "positive_option",
    "propose",
    "propose_requests",
    "rank_and_cut",
    "read",
    "read_request",
    "staged_trace",
]
