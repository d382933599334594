"""The staged planner's options, read once from `PlanOptions.extra` and shared by `plan` and `dry_run`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from abplan.errors import ConfigError
from abplan.lm.context import window_budget
from abplan.planners.base import PlanOptions, positive_option

LENGTHS = ("support", "fixed")
Length = Literal["support", "fixed"]


def default_min_support(n: int) -> int:
    """All samples for N <= 3, otherwise a clear majority (4 of 5, 7 of 10)."""
    return n if n <= 3 else math.ceil(0.7 * n)


@dataclass(frozen=True)
class StagedOptions:
    """`models`: the samples are spread over them (the first reads and groups); `samples`: N;
    `min_support`: the support a group needs under `length="support"`; `max_cost`: USD for the
    paper, which may lower N; `context_window`: overrides the first model's."""

    models: tuple[str, ...]
    samples: int = 5
    min_support: int = 5
    length: Length = "support"
    max_cost: float | None = None
    context_window: int | None = None

    @staticmethod
    def from_plan_options(opts: PlanOptions) -> StagedOptions:
        if not opts.model:
            raise ConfigError(
                "the staged-extract planner needs a model: --model provider/name or ABPLAN_MODEL"
            )
        x = opts.extra
        models = tuple(str(m) for m in x.get("models") or [opts.model])
        n = positive_option(x, "samples", 5)
        min_support = positive_option(x, "min_support", default_min_support(n))
        length = str(x.get("length") or "support")
        if length not in LENGTHS:
            raise ConfigError(f"length must be 'support' or 'fixed', not {length!r}")
        max_cost = x.get("max_cost")
        return StagedOptions(
            models=models,
            samples=n,
            min_support=min_support,
            length="fixed" if length == "fixed" else "support",
            max_cost=None if max_cost is None else float(max_cost),
            context_window=x.get("context_window"),
        )

    @property
    def fit_budget(self) -> int:
        """Tokens the paper may take in a prompt: the first model's window less room for the rest."""
        return window_budget(self.models[0], 12_000, self.context_window)
