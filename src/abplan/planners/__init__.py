"""Planners, registered by name: `lm` (AblationBench's LM-Planner), `staged`, `offline`."""

from abplan.planners.base import Planner, PlanOptions, get_planner, planner_names, register_planner

__all__ = ["PlanOptions", "Planner", "get_planner", "planner_names", "register_planner"]
