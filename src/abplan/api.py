"""The Python API: `load_paper` and `plan_paper` with the CLI's options."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from abplan.config import Settings, load_settings
from abplan.design.study_lm import with_lm_study
from abplan.errors import ConfigError, PendingRequests
from abplan.lm.client import LMClient
from abplan.lm.types import CacheMiss
from abplan.papers import load_paper
from abplan.planners.base import Planner, PlanOptions, get_planner
from abplan.schema import MODES, Mode, Paper, Plan


def resolve_planner(name: str, model: str | None) -> str:
    if name == "auto":
        return "staged" if model else "offline"
    return name


LM_REPLY_TOKENS = 2000  # a discussion and up to k ablations, as AblationBench's LM-Planner replies


def estimate(
    paper: Paper,
    planner: str,
    opts: PlanOptions,
    prices: dict[str, tuple[float, float]] | None = None,
) -> dict[str, Any]:
    """What planning `paper` would spend, before spending anything: calls, tokens and USD (`cost_usd`
    None when the model has no known price), per stage, with notes. Offline planners spend nothing."""
    impl = get_planner(planner)
    if not impl.needs_model:
        return {"calls": 0, "input_tokens": 0, "output_tokens": 0, "cost_usd": 0.0, "stages": [], "notes": []}
    if not opts.model:
        raise ConfigError(f"the {planner} planner needs a model: --model provider/name or ABPLAN_MODEL")
    if planner == "staged":
        from abplan.planners.recipe import dry_run as recipe_dry_run

        return recipe_dry_run(paper, opts, prices)
    if planner == "staged-extract":
        from abplan.planners.staged import dry_run

        return dry_run(paper, opts, prices)
    if planner == "consensus":
        from abplan.planners.consensus import dry_run as consensus_dry_run

        return consensus_dry_run(paper, opts, prices)
    if planner != "lm":
        raise ConfigError(f"--dry-run has no estimate for the {planner} planner")
    from abplan.lm.context import estimate_tokens
    from abplan.lm.pricing import total_cost
    from abplan.planners.lm_planner import planner_request

    req, notes = planner_request(paper, opts, opts.model)
    tin = estimate_tokens("".join(m for _, m in req.messages))
    cost, unpriced = total_cost([(opts.model, tin, LM_REPLY_TOKENS)], prices)
    notes += unpriced
    notes.append("one more call if no ablation can be read from the reply (the repair request)")
    return {
        "calls": 1,
        "input_tokens": tin,
        "output_tokens": LM_REPLY_TOKENS,
        "cost_usd": cost,
        "stages": [
            {"stage": "plan", "calls": 1, "input_tokens_each": tin, "output_tokens_each": LM_REPLY_TOKENS}
        ],
        "notes": notes,
    }


def make_client(settings: Settings, *, offline: bool = False, **overrides: Any) -> LMClient:
    return LMClient(
        cache_dir=settings.cache_dir,
        offline=offline,
        concurrency=settings.concurrency,
        rpm=settings.rpm,
        max_retries=settings.max_retries,
        timeout=settings.timeout,
        base_url=settings.base_url,
        prices=settings.prices,
        **overrides,
    )


@dataclass(frozen=True)
class PlanSetup:
    """A planner chosen and its options checked: everything that can fail before the paper is read."""

    name: str  # the planner, `auto` resolved
    planner: Planner
    options: PlanOptions

    @property
    def model(self) -> str | None:
        """The model that plans, or None for a planner that uses none."""
        return self.options.model if self.planner.needs_model else None


def plan_setup(
    *,
    mode: Mode = "author",
    planner: str = "auto",
    model: str | None = None,
    k: int | None = None,
    temperature: float | None = None,
    extra: dict[str, Any] | None = None,
) -> PlanSetup:
    """Check the mode, k and planner name (an unknown one with a near miss) and that a planner that
    needs a model has one, before anything is read or sent."""
    if mode not in MODES:
        raise ConfigError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if k is not None and k < 1:
        raise ConfigError("k must be at least 1")
    name = resolve_planner(planner, model)
    impl = get_planner(name)
    if impl.needs_model and not model:
        raise ConfigError(f"the {name} planner needs a model: --model provider/name or ABPLAN_MODEL")
    opts = PlanOptions(mode=mode, k=k, model=model, temperature=temperature, extra=dict(extra or {}))
    return PlanSetup(name, impl, opts)


async def run_plan(
    setup: PlanSetup,
    paper: Paper,
    settings: Settings,
    *,
    lm: LMClient | None = None,
    offline: bool = False,
    study: bool = False,
) -> Plan:
    """Plan `paper`. A planner with a model gets `lm`, or a client made from `settings` and closed
    after; `study` adds the LM study (one more call). Offline, a request missing from the cache
    stops the run as `PendingRequests`, counting every request recorded for export."""
    if not setup.planner.needs_model:
        return await setup.planner.plan(paper, setup.options, None)
    own = lm is None
    client = lm or make_client(settings, offline=offline)
    try:
        made = await setup.planner.plan(paper, setup.options, client)
        if study and setup.model:
            made = await with_lm_study(made, paper, client, setup.model)
        return made
    except CacheMiss as e:
        raise PendingRequests(len(client.pending_keys)) from e
    finally:
        if own:
            await client.aclose()


async def aplan_paper(
    paper: Paper,
    *,
    mode: Mode = "author",
    planner: str = "auto",
    model: str | None = None,
    k: int | None = None,
    temperature: float | None = None,
    lm: LMClient | None = None,
    settings: Settings | None = None,
    offline: bool = False,
    **extra: Any,
) -> Plan:
    settings = settings or load_settings(model=model)
    setup = plan_setup(
        mode=mode, planner=planner, model=model or settings.model, k=k, temperature=temperature, extra=extra
    )
    return await run_plan(setup, paper, settings, lm=lm, offline=offline)


def plan_paper(
    source: str | Path | Paper,
    *,
    mode: Mode = "author",
    planner: str = "auto",
    model: str | None = None,
    k: int | None = None,
    temperature: float | None = None,
    base_url: str | None = None,
    cache_dir: Path | None = None,
    offline: bool = False,
    keep_hidden_text: bool = False,
    lm: LMClient | None = None,
    **extra: Any,
) -> Plan:
    """Plan the ablations of a paper (a path, an arXiv id, or a loaded `Paper`)."""
    settings = load_settings(model=model, base_url=base_url, cache_dir=cache_dir)
    paper = (
        source
        if isinstance(source, Paper)
        else load_paper(source, cache_dir=settings.cache_dir, keep_hidden_text=keep_hidden_text)
    )
    return asyncio.run(
        aplan_paper(
            paper,
            mode=mode,
            planner=planner,
            model=model,
            k=k,
            temperature=temperature,
            lm=lm,
            settings=settings,
            offline=offline,
            **extra,
        )
    )
