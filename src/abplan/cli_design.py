"""`abplan design` (one ablation as a full protocol) and `abplan bench design-eval` (the design judge).

`cli.py` mounts both; errors go through `cli_common.handle_errors` there.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.text import Text

from abplan.api import aplan_paper, make_client
from abplan.bench.design_eval import (
    DesignTask,
    design_files,
    read_design,
    result_lines,
    run_design_eval,
    write_results,
)
from abplan.cli_common import err, out
from abplan.cli_plan import check_out_dir
from abplan.config import Settings, load_settings
from abplan.design.lm_design import lm_design
from abplan.design.protocol import part_ablation, pick_ablation, rule_design
from abplan.design.render import design_formats, design_markdown, write_design
from abplan.errors import ConfigError, PendingRequests
from abplan.lm.types import CacheMiss
from abplan.papers import load_paper
from abplan.render.safe import terminal_safe
from abplan.schema import MODES, Ablation, Design, Paper

PaperArg = Annotated[str, typer.Argument(metavar="PAPER", help="A paper, as for 'abplan plan'.")]
ModelOpt = Annotated[
    str | None,
    typer.Option("--model", metavar="MODEL", help="provider/model; without one the rules write the design."),
]
OfflineOpt = Annotated[
    bool, typer.Option("--offline", help="Answer only from the cache; record misses for 'abplan lm export'.")
]
CacheOpt = Annotated[Path | None, typer.Option("--cache-dir", metavar="DIR", help="The LM response cache.")]


def choose(paper: Paper, ablation: str | None, plan: Path | None, part: str | None, mode: str) -> Ablation:
    """The ablation to design: `--part`, or `--ablation` of `--plan` (default: the offline plan)."""
    if (ablation is None) == (part is None):
        raise ConfigError("give --ablation NAME_OR_INDEX (of a plan) or --part 'component', not both")
    if part is not None:
        if plan is not None:
            raise ConfigError("--plan goes with --ablation, not with --part")
        return part_ablation(paper, part)
    if plan is not None and plan.is_dir():
        raise ConfigError(f"--plan {plan}: a folder; give one plan file (.json or .jsonl)")
    if plan is not None and not plan.is_file():
        raise ConfigError(f"--plan {plan}: no such file")
    planner = "files" if plan else "offline"
    extra: dict[str, Any] = {"plans_dir": str(plan)} if plan else {}
    made = asyncio.run(aplan_paper(paper, mode=mode, planner=planner, **extra))  # type: ignore[arg-type]
    if plan is not None and made.paper_id != paper.id:
        err.print(
            f"warning: {plan} was made for paper {made.paper_id}, not this one ({paper.id})",
            markup=False,
            highlight=False,
        )
    if plan is not None and not made.ablations:
        raise ConfigError(
            f"--plan {plan}: no ablation could be read from it (an abplan .json or .jsonl plan?)"
        )
    return pick_ablation(made, ablation or "")[1]


def design(
    source: PaperArg,
    ablation: Annotated[
        str | None,
        typer.Option("--ablation", "-a", metavar="NAME_OR_INDEX", help="A plan item: its number or name."),
    ] = None,
    plan: Annotated[
        Path | None,
        typer.Option("--plan", metavar="PLAN", help="The plan (.json or .jsonl); default: the offline plan."),
    ] = None,
    part: Annotated[
        str | None,
        typer.Option(
            "--part",
            metavar="COMPONENT",
            help="Design the removal of this component (a replacement where it cannot be removed).",
        ),
    ] = None,
    mode: Annotated[
        str,
        typer.Option("--mode", "-m", metavar="MODE", help="Mode of the offline plan made when no --plan."),
    ] = "author",
    model: ModelOpt = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", metavar="FORMATS", help="md, html, json.")
    ] = "md,html,json",
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", metavar="DIR", help="Folder for the design.")
    ] = Path("designs"),
    force: Annotated[bool, typer.Option("--force", help="Overwrite a design of the same name.")] = False,
    offline: OfflineOpt = False,
    cache_dir: CacheOpt = None,
    base_url: Annotated[
        str | None, typer.Option("--base-url", metavar="URL", help="Any OpenAI-compatible endpoint.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Do not print the design.")] = False,
) -> None:
    """Design one ablation as a full protocol: question, baseline, variants, data, seeds, outcomes, cost."""
    formats = design_formats(fmt)
    if mode not in MODES:
        raise ConfigError(f"--mode must be 'author' or 'reviewer', not {mode!r}")
    check_out_dir(out_dir)
    settings = load_settings(model=model, base_url=base_url, cache_dir=cache_dir)
    paper = load_paper(source, cache_dir=settings.cache_dir)
    chosen = choose(paper, ablation, plan, part, mode)
    if settings.model:
        d = asyncio.run(_lm_design(paper, chosen, settings, offline))
    else:
        err.print(
            "note: no model configured, so the rules write the design ('unknown' where the paper is silent)"
        )
        d = rule_design(paper, chosen)
    for flag in d.flags:
        err.print(f"warning: {flag}", markup=False, highlight=False)
    paths = write_design(d, out_dir, formats, force=force)
    if not quiet:
        out.print(Text(terminal_safe(design_markdown(d).rstrip())), soft_wrap=True)
    err.print(f"wrote {', '.join(str(p) for p in paths)}", markup=False, highlight=False)


async def _lm_design(paper: Paper, chosen: Ablation, settings: Settings, offline: bool) -> Design:
    assert settings.model
    client = make_client(settings, offline=offline)
    try:
        return await lm_design(paper, chosen, client, settings.model)
    except CacheMiss as e:
        raise PendingRequests(len(client.pending_keys) or 1) from e
    finally:
        await client.aclose()


def design_eval(
    designs: Annotated[
        list[Path], typer.Argument(metavar="DESIGN...", help="Design .json files or folders.")
    ],
    judge_model: Annotated[
        list[str] | None,
        typer.Option("--judge-model", metavar="MODEL", help="provider/model; repeat for several judges."),
    ] = None,
    runs: Annotated[
        int, typer.Option("--runs", "-n", metavar="N", help="Judge runs per model and design.")
    ] = 3,
    temperature: Annotated[
        float, typer.Option("--temperature", metavar="T", help="Judge sampling temperature.")
    ] = 0.7,
    paper: Annotated[
        str | None,
        typer.Option("--paper", metavar="PAPER", help="The paper, if not the designs' own source."),
    ] = None,
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", metavar="DIR", help="Where design-eval.json goes.")
    ] = Path("runs/design-eval"),
    offline: OfflineOpt = False,
    cache_dir: CacheOpt = None,
) -> None:
    """Score designs on AbGen's criteria (importance, faithfulness, soundness; 1-5) and the agreement of runs."""
    if runs < 1:
        raise ConfigError(f"--runs must be at least 1, not {runs}")
    if not 0 <= temperature <= 2:
        raise ConfigError(f"--temperature must be from 0 to 2, not {temperature:g}")
    check_out_dir(out_dir)
    settings = load_settings(model=judge_model[0] if judge_model else None, cache_dir=cache_dir)
    models = list(judge_model or ([settings.model] if settings.model else []))
    if not models:
        raise ConfigError("the design judge needs a model: --judge-model provider/name or ABPLAN_MODEL")
    tasks = [DesignTask(id=p.stem, path=p, design=read_design(p)) for p in design_files(designs)]

    async def go() -> dict[str, object]:
        client = make_client(settings, offline=offline)
        try:
            return await run_design_eval(
                tasks, client, models, runs, temperature, paper_path=paper, cache_dir=settings.cache_dir
            )
        finally:
            await client.aclose()

    results = asyncio.run(go())
    path = write_results(results, out_dir)
    for line in result_lines(results):
        out.print(line, markup=False, highlight=False)
    err.print(f"wrote {path}", markup=False, highlight=False)
    if results["scored"] == 0:
        raise typer.Exit(1)
