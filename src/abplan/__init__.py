"""abplan: plan ablation experiments for empirical AI papers, and benchmark planners the AblationBench way."""

from abplan._version import __version__
from abplan.api import aplan_paper, plan_paper
from abplan.errors import AbplanError, InputError, PendingRequests
from abplan.papers import load_paper
from abplan.schema import Ablation, Evidence, Finding, Paper, Plan, Section, Usage

__all__ = [
    "Ablation",
    "AbplanError",
    "Evidence",
    "Finding",
    "InputError",
    "Paper",
    "PendingRequests",
    "Plan",
    "Section",
    "Usage",
    "__version__",
    "aplan_paper",
    "load_paper",
    "plan_paper",
]
