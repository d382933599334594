"""`abplan bench run|eval|report|judge-eval`: run, judge and score planners over a dataset."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from abplan.api import make_client
from abplan.bench.layout import RunDir
from abplan.bench.report import compare_md, load_results, overall_md, plot
from abplan.bench.results import NO_SCORE, RunResults
from abplan.bench.runner import RunConfig, Runner, RunState
from abplan.bench.tasks import load_dataset
from abplan.cli_common import handle_errors
from abplan.cli_plan import OptionFlag, planner_option_pairs, staged_options
from abplan.config import load_settings
from abplan.errors import ConfigError
from abplan.render.safe import SafeConsole

bench_app = typer.Typer(help="Run, judge and score planners the AblationBench way.", no_args_is_help=True)
out: Console = SafeConsole()  # strips escape sequences from what it prints
err: Console = SafeConsole(stderr=True)


def check_number(flag: str, value: float | None, low: float, *, above: bool = False) -> None:
    """A numeric flag is a finite number at least `low` (above it with `above`), or a one-line error."""
    if value is None:
        return
    ok = math.isfinite(value) and (value > low if above else value >= low)
    if not ok:
        bound = f"greater than {low:g}" if above else f"at least {low:g}"
        raise ConfigError(f"{flag} must be {bound}, not {value:g}")


def check_paths(*paths: tuple[str, Path | str | None]) -> None:
    for label, value in paths:
        if value is not None and "\x00" in str(value):
            raise ConfigError(f"{label} contains a NUL character")


def headline(results: RunResults, out_dir: Path) -> str:
    """The console summary; a run in which no task was scored says so rather than 'F1 0.000'."""
    n, scored, failed = results.tasks, results.scored, results.failed
    report_path = RunDir(out_dir).report
    f1, sf1 = results.score("compat", "f1"), results.score("strict", "f1")
    if scored == 0 or f1 is None or sf1 is None:
        return f"{NO_SCORE} (0/{n}), so no F1; {failed} failed; report: {report_path}"
    return (
        f"{scored}/{n} tasks scored: F1 {f1.mean:.3f} (strict {sf1.mean:.3f}); {failed} failed; "
        f"report: {report_path}"
    )


def _run(
    cfg: RunConfig,
    out_dir: Path,
    cache_dir: Path | None,
    offline: bool,
    mode: str | None,
    split: str,
    timeout: float | None,
    jobs: int | None,
) -> None:
    # -j bounds both the tasks in flight and the LM requests; without it, the configured concurrency.
    settings = load_settings(model=cfg.model, cache_dir=cache_dir, timeout=timeout, concurrency=jobs)
    cfg = cfg.model_copy(update={"concurrency": settings.concurrency})
    tasks = load_dataset(cfg.dataset, split=split, mode=mode)  # type: ignore[arg-type]
    needs_lm = cfg.planner not in ("offline", "files") or cfg.judge != "lexical"
    runner = Runner(cfg, tasks, out_dir, None)
    runner.check_config()  # the folder, its lock and its config, before any output or LM client
    try:
        runner.lm = make_client(settings, offline=offline) if needs_lm else None
    except BaseException:
        runner.lock.release()
        raise
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

        runner.progress = on_progress

        async def go() -> RunResults:
            try:
                return await runner.run()
            finally:
                if runner.lm is not None:
                    await runner.lm.aclose()

        results = asyncio.run(go())
    err.print(headline(results, out_dir), highlight=False, markup=False, soft_wrap=True)
    if results.skipped_for_budget:
        err.print(
            f"stopped at --max-cost: {results.skipped_for_budget} tasks not started; rerun with a higher limit to continue"
        )
    if results.failed:
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
    concurrency: int | None,
    limit: int | None,
    max_cost: float | None,
    options: dict[str, Any],
) -> RunConfig:
    for flag, value in (("-k", k), ("--top-k", top_k), ("--concurrency", concurrency), ("--limit", limit)):
        check_number(flag, value, 1)
    check_number("--seed", seed, 0)
    check_number("--max-cost", max_cost, 0)
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
        concurrency=concurrency or 8,
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
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency", "-j", help="Tasks and LM requests in flight (default: the config's, 8)."
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed")] = 0,
    timeout: Annotated[
        float | None, typer.Option("--timeout", help="Seconds per LM request (default: the config's, 300).")
    ] = None,
    samples: Annotated[
        int | None, typer.Option("--samples", help="consensus, staged, staged-extract: samples per paper.")
    ] = None,
    min_support: Annotated[
        int | None,
        typer.Option(
            "--min-support", help="consensus, staged, staged-extract: samples needed to keep an experiment."
        ),
    ] = None,
    length: Annotated[str, typer.Option("--length", help="staged-extract: support or fixed.")] = "support",
    context_window: Annotated[int | None, typer.Option("--context-window")] = None,
    option: OptionFlag = None,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline", help="Only the cache answers; misses are exported with 'abplan lm export'."
        ),
    ] = False,
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir")] = None,
) -> None:
    """Plan every task, judge each plan, and score the run."""

    def go() -> None:
        check_paths(("--dataset", dataset))  # Path options are checked by the option parser
        check_number("--timeout", timeout, 0, above=True)
        opts = staged_options(model, samples, min_support, length, None, context_window)
        opts |= planner_option_pairs(option)
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
        _run(cfg, out_dir, cache_dir, offline, mode, split, timeout, concurrency)

    handle_errors(go)()


@bench_app.command("eval")
def evaluate(
    dataset: Annotated[str, typer.Option("--dataset", "-d")],
    plans: Annotated[
        Path,
        typer.Option(
            "--plans", help="A folder of <id>.jsonl plans (AblationBench's, or a run's from `bench export`)."
        ),
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
    concurrency: Annotated[int | None, typer.Option("--concurrency", "-j")] = None,
    timeout: Annotated[float | None, typer.Option("--timeout")] = None,
    offline: Annotated[bool, typer.Option("--offline")] = False,
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir")] = None,
) -> None:
    """Judge and score existing plans."""

    def go() -> None:
        check_paths(("--dataset", dataset))
        check_number("--timeout", timeout, 0, above=True)
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
        folder = out_dir or plans.parent / f"eval-{judge}"
        _run(cfg, folder, cache_dir, offline, mode, split, timeout, concurrency)

    handle_errors(go)()


@bench_app.command("export")
def export(
    run_dir: Annotated[Path, typer.Argument(help="A run folder.")],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Where the <id>.jsonl files go.")],
    force: Annotated[bool, typer.Option("--force", help="Write into a folder that is not empty.")] = False,
) -> None:
    """Write a run's plans as AblationBench's files: <id>.jsonl per task."""
    from abplan.bench.export import export_plans

    def go() -> None:
        n = export_plans(run_dir, out_dir, force)
        err.print(f"wrote {n} plans to {out_dir}", highlight=False, markup=False)

    handle_errors(go)()


@bench_app.command("report")
def report(
    runs: Annotated[list[Path], typer.Argument(help="Run folders to put side by side.")],
    plot_path: Annotated[
        Path | None, typer.Option("--plot", help="Where to draw the bar chart (needs abplan[plot]).")
    ] = None,
) -> None:
    """Put runs side by side: planner, model, judge, P/R/F1 with intervals, cost per paper."""

    def go() -> None:
        loaded: list[tuple[str, RunResults]] = []
        for r in runs:
            results, note = load_results(r)
            if note:
                err.print(f"note: {note}", highlight=False, markup=False, soft_wrap=True)
            loaded.append((r.name, results))
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
    judge: Annotated[
        str | None, typer.Option("--judge", help="The judge the run used (checked; default: the run's).")
    ] = None,
) -> None:
    """Score a judge against human match labels (accuracy, precision, recall, F1)."""
    from abplan.bench.judge_eval import evaluate_judge, run_judgements

    def go() -> None:
        res = evaluate_judge(labels, run_judgements(run_dir, judge), f"--run {run_dir}")
        out.print(
            f"{res['instances']} instances, {res['labels']} labels: accuracy {res['accuracy']:.3f}, "
            f"precision {res['precision']:.3f}, recall {res['recall']:.3f}, F1 {res['f1']:.3f}",
            highlight=False,
        )

    handle_errors(go)()
