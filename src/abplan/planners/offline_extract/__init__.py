"""Extraction rules of the offline planner: the method sections, components, hyperparameters, named
alternatives, metrics and existing ablations that a paper's text states.

`text` holds the `MethodPart` record and the phrase clean-up; `sections` finds the method;
`components`, `hyperparameters` and `reported` (metrics, ablations already in the paper) read it.
"""

from __future__ import annotations

from abplan.planners.offline_extract.components import (
    attach_alternatives,
    find_components,
    merge_candidates,
    own_model_name,
    standard_alternative,
)
from abplan.planners.offline_extract.hyperparameters import find_hyperparameters, weight_families
from abplan.planners.offline_extract.reported import existing_ablations, find_metrics
from abplan.planners.offline_extract.sections import method_sections
from abplan.planners.offline_extract.text import MethodPart, clean_heading, heading_text

__all__ = [
    "MethodPart",
    "attach_alternatives",
    "clean_heading",
    "existing_ablations",
    "find_components",
    "find_hyperparameters",
    "find_metrics",
    "heading_text",
    "merge_candidates",
    "method_sections",
    "own_model_name",
    "standard_alternative",
    "weight_families",
]
