"""Planners, registered by name: `lm` (AblationBench's LM-Planner), `consensus`, `staged` (a consensus recipe), `staged-extract`, `offline`, `files`."""

from abplan.planners.base import PLANNERS, Planner, PlanOptions, get_planner, planner_names, register_planner

SUMMARIES = {
    "consensus": "N LM-Planner samples, grouped by one call, cut by how many agree (or chosen by one more call): N+1 calls; needs --model",
    "files": "re-read existing plans, no LM: --plans DIR (<id>.json or <id>.jsonl) or --plans FILE",
    "lm": "AblationBench's LM-Planner: one chain-of-thought call (+1 repair if unreadable); needs --model",
    "offline": "rules over the text: no LM, deterministic; the default with no model",
    "staged": "the measured best, and the default with a model: 3 LM-Planner samples, 1 grouping call, then author prior + 1 selection call (5 calls) / reviewer top-k (4 calls)",
    "staged-extract": "read, N proposals of 2k, consolidation by support, cut, grounding: 1+N+1 calls",
}


def planner_summary(name: str) -> str:
    """One line on what a planner does (a registered planner's docstring when it is not built in)."""
    if name in SUMMARIES:
        return SUMMARIES[name]
    doc = (type(get_planner(name)).__doc__ or "").strip()
    return doc.splitlines()[0] if doc else ""


__all__ = [
    "PLANNERS",
    "SUMMARIES",
    "PlanOptions",
    "Planner",
    "get_planner",
    "planner_names",
    "planner_summary",
    "register_planner",
]
