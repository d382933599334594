"""`abplan bench run|eval|report|judge-eval`: run, judge and score planners over a dataset."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from abplan.api import make_client
from abplan.bench.report import compare_md, load_results, overall_md, plot
from abplan.bench.runner import RunConfig, Runner, RunState
from abplan.bench.tasks import load_dataset
from abplan.config import load_settings
from abplan.errors import ConfigError
from abplan.render.safe import SafeConsole

bench_app = typer.Typer(help="Run, judge and score planners the AblationBench way.", no_args_is_help=True)
out: Console = SafeConsole()  # strips escape sequences from what it prints
err: Console = SafeConsole(stderr=True)


def _run(
    cfg: RunConfig, out_dir: Path, cache_dir: Path | None, offline: bool, mode: str | None, split: str
) -> None:
    settings = load_settings(model=cfg.model, cache_dir=cache_dir)
    tasks = load_dataset(cfg.dataset, split=split, mode=mode)  # type: ignore[arg-type]
    needs_lm = cfg.planner not in ("offline", "files") or cfg.judge != "lexical"
    client = make_client(settings, offline=offline) if needs_lm else None
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
    ) as progress:
        bar = progress.add_task(
            f"{cfg.planner} → {cfg.judge}", total=min(len(tasks), cfg.limit or len(tasks)), info=""
        )

        def on_progress(s: RunState) -> None:
            info = (
                f"${s.spent:.4f}"
                + (f", {s.failed} failed" if s.failed else "")
                + (f", {s.pending} pending" if s.pending else "")
            )
            progress.update(bar, completed=s.done + s.failed + s.pending, info=info)

        runner = Runner(cfg, tasks, out_dir, client, on_progress)

        async def go() -> dict[str, Any]:
            try:
                return await runner.run()
            finally:
                if client is not None:
                    await client.aclose()

        results = asyncio.run(go())
    sc = results["scores"]
    f1 = sc["compat"].get("f1", {}).get("mean", 0.0)
    sf1 = sc["strict"].get("f1", {}).get("mean", 0.0)
    err.print(
        f"{results['scored']}/{results['tasks']} tasks scored: F1 {f1:.3f} (strict {sf1:.3f}); "
        f"{results['failed']} failed; report: {out_dir / 'report.md'}",
        highlight=False,
        markup=False,
    )
    if results.get("skipped_for_budget"):
        err.print(
            f"stopped at --max-cost: {results['skipped_for_budget']} tasks not started; rerun with a higher limit to continue"
        )
    if results["failed"]:
        raise typer.Exit(1)


def _common_cfg(
    dataset: str,
    planner: str,
    model: str | None,
    k: int | None,
    judge: str,
    judge_model: list[str] | None,
    top_k: int | None,
    seed: int,
    concurrency: int,
    limit: int | None,
    max_cost: float | None,
    options: dict[str, Any],
) -> RunConfig:
    if judge in ("lm", "majority") and not judge_model:
        raise ConfigError(f"--judge {judge} needs --judge-model provider/name (repeatable)")
    return RunConfig(
        dataset=dataset,
        planner=planner,
        model=model,
        k=k,
        judge=judge,
        judge_models=judge_model or [],
        top_k=top_k,
        seed=seed,
        concurrency=concurrency,
        limit=limit,
        max_cost=max_cost,
        planner_options=options,
    )


@bench_app.command("run")
def run(
    dataset: Annotated[
        str,
        typer.Option(
            "--dataset",
            "-d",
            help="A local task folder, a .parquet file, an AblationBench clone, or an HF dataset.",
        ),
    ],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="The run folder (rerun to resume).")],
    planner: Annotated[str, typer.Option("--planner", "-p")] = "offline",
    model: Annotated[
        list[str] | None, typer.Option("--model", help="Planner model; repeat to spread staged samples.")
    ] = None,
    judge: Annotated[
        str, typer.Option("--judge", help="lexical (no LM, approximate), lm or majority.")
    ] = "lexical",
    judge_model: Annotated[
        list[str] | None, typer.Option("--judge-model", help="Judge model; repeat for majority.")
    ] = None,
    k: Annotated[
        int | None, typer.Option("-k", help="Ablations per plan (default 5 author, 2 reviewer).")
    ] = None,
    top_k: Annotated[
        int | None, typer.Option("--top-k", help="Score only the planner's first k items.")
    ] = None,
    mode: Annotated[
        str | None, typer.Option("--mode", help="Task for .parquet files and AblationBench clones.")
    ] = None,
    split: Annotated[str, typer.Option("--split")] = "test",
    limit: Annotated[int | None, typer.Option("--limit")] = None,
    max_cost: Annotated[
        float | None, typer.Option("--max-cost", help="Stop starting tasks before spending more USD.")
    ] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", "-j")] = 8,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    samples: Annotated[
        int | None, typer.Option("--samples", help="staged: candidate plans per paper.")
    ] = None,
    min_support: Annotated[
        int | None, typer.Option("--min-support", help="staged: samples needed to keep an experiment.")
    ] = None,
    length: Annotated[str, typer.Option("--length", help="staged: support or fixed.")] = "support",
    context_window: Annotated[int | None, typer.Option("--context-window")] = None,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline", help="Only the cache answers; misses are exported with 'abplan lm export'."
        ),
    ] = False,
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir")] = None,
) -> None:
    """Plan every task, judge each plan, and score the run."""
    from abplan.cli import handle_errors, staged_options

    def go() -> None:
        opts = staged_options(model, samples, min_support, length, None, context_window)
        cfg = _common_cfg(
            dataset,
            planner,
            model[0] if model else None,
            k,
            judge,
            judge_model,
            top_k,
            seed,
            concurrency,
            limit,
            max_cost,
            opts,
        )
        _run(cfg, out_dir, cache_dir, offline, mode, split)

    handle_errors(go)()


@bench_app.command("eval")
def evaluate(
    dataset: Annotated[str, typer.Option("--dataset", "-d")],
    plans: Annotated[
        Path, typer.Option("--plans", help="A folder of <id>.jsonl plans (AblationBench's or ours).")
    ],
    out_dir: Annotated[
        Path | None, typer.Option("--out", "-o", help="The run folder (default: beside the plans).")
    ] = None,
    judge: Annotated[str, typer.Option("--judge")] = "majority",
    judge_model: Annotated[list[str] | None, typer.Option("--judge-model")] = None,
    top_k: Annotated[int | None, typer.Option("--top-k")] = None,
    mode: Annotated[str | None, typer.Option("--mode")] = None,
    split: Annotated[str, typer.Option("--split")] = "test",
    seed: Annotated[int, typer.Option("--seed")] = 0,
    concurrency: Annotated[int, typer.Option("--concurrency", "-j")] = 8,
    offline: Annotated[bool, typer.Option("--offline")] = False,
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir")] = None,
) -> None:
    """Judge and score existing plans."""
    from abplan.cli import handle_errors

    def go() -> None:
        if not plans.is_dir():
            raise ConfigError(f"--plans {plans}: no such folder")
        cfg = _common_cfg(
            dataset,
            "files",
            None,
            None,
            judge,
            judge_model,
            top_k,
            seed,
            concurrency,
            None,
            None,
            {"plans_dir": str(plans.resolve())},
        )
        _run(cfg, out_dir or plans.parent / f"eval-{judge}", cache_dir, offline, mode, split)

    handle_errors(go)()


@bench_app.command("report")
def report(
    runs: Annotated[list[Path], typer.Argument(help="Run folders to put side by side.")],
    plot_path: Annotated[
        Path | None, typer.Option("--plot", help="Where to draw the bar chart (needs abplan[plot]).")
    ] = None,
) -> None:
    """Put runs side by side: planner, model, judge, P/R/F1 with intervals, cost per paper."""
    from abplan.cli import handle_errors

    def go() -> None:
        loaded = [(r.name, load_results(r)) for r in runs]
        out.print(compare_md(loaded), markup=False, highlight=False, soft_wrap=True)
        overall = overall_md(loaded)
        if overall:
            out.print(overall, markup=False, highlight=False, soft_wrap=True)
        target = plot_path or Path("bench-report.png")
        if plot(loaded, target):
            err.print(f"wrote {target}", highlight=False, markup=False)
        else:
            err.print("no plot: pip install 'abplan[plot]' for the bar chart", highlight=False)

    handle_errors(go)()


@bench_app.command("judge-eval")
def judge_eval(
    labels: Annotated[
        Path, typer.Option("--labels", help="Human labels: our JSONL, or AblationBench's judge-eval parquet.")
    ],
    run_dir: Annotated[Path, typer.Option("--run", help="A run folder whose judgements to score.")],
    judge: Annotated[str, typer.Option("--judge")] = "majority",
) -> None:
    """Score a judge against human match labels (accuracy, precision, recall, F1)."""
    from abplan.bench.judge_eval import evaluate_judge
    from abplan.cli import handle_errors

    def go() -> None:
        res = evaluate_judge(labels, run_dir / "judgements" / judge)
        out.print(
            f"{res['instances']} instances, {res['labels']} labels: accuracy {res['accuracy']:.3f}, "
            f"precision {res['precision']:.3f}, recall {res['recall']:.3f}, F1 {res['f1']:.3f}",
            highlight=False,
        )

    handle_errors(go)()
