"""The Python API: `load_paper` and `plan_paper` with the CLI's options."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from abplan.config import Settings, load_settings
from abplan.errors import ConfigError
from abplan.lm.client import LMClient
from abplan.papers import load_paper
from abplan.planners.base import PlanOptions, get_planner
from abplan.schema import MODES, Mode, Paper, Plan


def resolve_planner(name: str, model: str | None) -> str:
    if name == "auto":
        return "lm" if model else "offline"
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
    if mode not in MODES:
        raise ConfigError(f"mode must be one of {', '.join(MODES)}, not {mode!r}")
    if k is not None and k < 1:
        raise ConfigError("k must be at least 1")
    settings = settings or load_settings(model=model)
    model = model or settings.model
    name = resolve_planner(planner, model)
    impl = get_planner(name)
    opts = PlanOptions(mode=mode, k=k, model=model, temperature=temperature, extra=extra)
    if not impl.needs_model:
        return await impl.plan(paper, opts, None)
    if not model:
        raise ConfigError(f"the {name} planner needs a model: --model provider/name or ABPLAN_MODEL")
    own = lm is None
    client = lm or make_client(settings, offline=offline)
    try:
        return await impl.plan(paper, opts, client)
    finally:
        if own:
            await client.aclose()


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
