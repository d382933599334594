"""The `abplan` command. Thin: parse flags, call the API, print, exit with a documented code.

Exit codes: 0 success; 1 the model failed after retries; 2 bad input or configuration;
3 offline mode with LM requests pending (see `abplan lm export`); 130 interrupted.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text

from abplan._version import __version__
from abplan.api import estimate, plan_setup, resolve_planner, run_plan
from abplan.cli_bench import bench_app
from abplan.cli_common import err, handle_errors, out
from abplan.cli_dataset import dataset_app
from abplan.cli_design import design, design_eval
from abplan.cli_help import TidyGroup
from abplan.cli_lm import lm_app
from abplan.cli_plan import (
    OptionFlag,
    check_numbers,
    check_out_dir,
    files_options,
    planner_option_pairs,
    print_estimate,
    print_plan,
    staged_options,
    wrote_line,
)
from abplan.cli_view import view
from abplan.config import load_settings
from abplan.design.study import with_study
from abplan.errors import ConfigError, InputError
from abplan.papers import load_paper
from abplan.planners import planner_summary
from abplan.planners.base import planner_names
from abplan.render import FORMATS, parse_formats, plan_stem, write_plan
from abplan.render.safe import terminal_safe
from abplan.render.study import study_of
from abplan.schema import MODES

app = typer.Typer(
    name="abplan",
    help="Plan ablation experiments for empirical AI papers, and benchmark planners the AblationBench way.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=TidyGroup,
)


def version_cb(value: bool) -> None:
    if value:
        out.print(f"abplan {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=version_cb, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """abplan: ablation plans for AI papers."""


@app.command()
@handle_errors
def plan(
    source: Annotated[
        str,
        typer.Argument(
            metavar="PAPER",
            help="A PDF, .tex, LaTeX folder, .tar.gz/.zip of sources, .md, .txt, or an arXiv id/URL.",
        ),
    ],
    mode: Annotated[
        str,
        typer.Option(
            "--mode",
            "-m",
            metavar="MODE",
            help="author: ablations to run; reviewer: ablations missing from a full paper.",
        ),
    ] = "author",
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            metavar="MODEL",
            help="provider/model, e.g. openai/gpt-4o, anthropic/claude-sonnet-4-5, ollama/qwen3:8b; "
            "repeat to spread the staged planner's samples over several models.",
        ),
    ] = None,
    planner: Annotated[
        str,
        typer.Option(
            "--planner",
            "-p",
            metavar="NAME",
            help="auto (staged with a model, else offline), lm, consensus, staged, offline or files (see 'abplan planners').",
        ),
    ] = "auto",
    k: Annotated[
        int | None,
        typer.Option(
            "--ablations",
            "-k",
            metavar="N",
            help="Maximum number of ablations (default 5 author, 2 reviewer).",
        ),
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            metavar="FORMATS",
            help="Comma-separated: md, html, jsonl, json, review (reviewer mode: review text).",
        ),
    ] = "md,html",
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", metavar="DIR", help="Folder for the plan files.")
    ] = Path("plans"),
    force: Annotated[
        bool,
        typer.Option("--force", help="Overwrite a plan of the same name (else a -2, -3 ... name is used)."),
    ] = False,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url", metavar="URL", help="Any OpenAI-compatible endpoint (vLLM, llama.cpp, ...)."
        ),
    ] = None,
    temperature: Annotated[
        float | None, typer.Option("--temperature", metavar="T", help="Sampling temperature (default 0).")
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", metavar="SECONDS", help="Per LM request (default 300, or ABPLAN_TIMEOUT)."),
    ] = None,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline", help="Answer only from the cache; record misses for 'abplan lm export' (exit 3)."
        ),
    ] = False,
    cache_dir: Annotated[
        Path | None,
        typer.Option("--cache-dir", metavar="DIR", help="Where LM responses and downloads are cached."),
    ] = None,
    keep_hidden_text: Annotated[
        bool, typer.Option("--keep-hidden-text", help="Let the planner see text hidden from human readers.")
    ] = False,
    samples: Annotated[
        int | None,
        typer.Option(
            "--samples",
            metavar="N",
            help="consensus, staged, staged-extract: independent samples (default 5; staged 3).",
        ),
    ] = None,
    min_support: Annotated[
        int | None,
        typer.Option(
            "--min-support",
            metavar="N",
            help="consensus, staged, staged-extract: samples that must propose an experiment to keep it.",
        ),
    ] = None,
    length: Annotated[
        str,
        typer.Option(
            "--length",
            metavar="RULE",
            help="staged-extract: support (cut by support, k at most) or fixed (always k).",
        ),
    ] = "support",
    max_cost: Annotated[
        float | None,
        typer.Option(
            "--max-cost", metavar="USD", help="staged-extract: spend at most this many USD on the paper."
        ),
    ] = None,
    context_window: Annotated[
        int | None,
        typer.Option("--context-window", metavar="TOKENS", help="Override the model's context window."),
    ] = None,
    option: OptionFlag = None,
    plans: Annotated[
        Path | None,
        typer.Option(
            "--plans",
            metavar="PATH",
            help="files: a plan (.json, .jsonl) or a folder of <paper id>.json/.jsonl plans to re-render.",
        ),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Print the LM calls, tokens and cost planning would take; spend nothing."
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Do not print the plan.")] = False,
    study: Annotated[
        bool,
        typer.Option(
            "--study",
            help="Add a study section: run order, total relative cost, claims tested (one more LM call with a model).",
        ),
    ] = False,
) -> None:
    """Read a paper and plan its ablations."""
    if mode not in MODES:
        raise ConfigError(f"--mode must be 'author' or 'reviewer', not {mode!r}")
    formats = parse_formats(fmt)
    if "review" in formats and mode != "reviewer":
        raise ConfigError("--format review writes reviewer-mode text: add --mode reviewer")
    check_numbers(k, temperature, timeout)
    check_out_dir(out_dir)
    extra = staged_options(model, samples, min_support, length, max_cost, context_window)
    extra |= planner_option_pairs(option)
    settings = load_settings(
        model=model[0] if model else None, base_url=base_url, cache_dir=cache_dir, timeout=timeout
    )
    extra |= files_options(resolve_planner(planner, settings.model), plans)
    # the planner name (an unknown one with a near miss) and its model, checked before the paper is read
    setup = plan_setup(
        mode=mode,  # type: ignore[arg-type]
        planner=planner,
        model=settings.model,
        k=k,
        temperature=temperature,
        extra=extra,
    )
    name, used_model = setup.name, setup.model
    if planner == "auto" and name == "offline":
        err.print(
            "note: no model configured, so the offline planner is used; plan with an LM via --model provider/name or ABPLAN_MODEL",
            highlight=False,
        )
    with err.status("reading the paper…"):
        paper = load_paper(source, cache_dir=settings.cache_dir, keep_hidden_text=keep_hidden_text)
    if dry_run:
        print_estimate(out, estimate(paper, name, setup.options, settings.prices), name, used_model)
        return
    with err.status(Text(terminal_safe(f"planning with {name}{'/' + used_model if used_model else ''}…"))):
        result = asyncio.run(run_plan(setup, paper, settings, offline=offline, study=study))
    if "study" not in result.stages and (study or "review" in formats):  # the review quotes its claims
        result = with_study(result, paper)
    stem = plan_stem(paper.title, mode, name, used_model)
    paths = write_plan(result, out_dir, formats, stem=stem, force=force)
    if not quiet:
        print_plan(out, err, result)
    wanted = out_dir / f"{stem}{FORMATS[formats[0]][0]}"  # the first format's name, had it been free
    if (s := study_of(result)) is not None:
        left = ", ".join(str(j + 1) for j in s.untested) or "none"
        err.print(f"study: {s.total}; claims left untested: {left}", highlight=False, markup=False)
    err.print(wrote_line(paths, wanted, result.usage), highlight=False, markup=False)


@app.command("read")
@handle_errors
def read(
    source: Annotated[str, typer.Argument(help="A paper, as for 'abplan plan'.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole Paper as JSON.")] = False,
    keep_hidden_text: Annotated[bool, typer.Option("--keep-hidden-text")] = False,
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir")] = None,
) -> None:
    """Show how abplan reads a paper: title, abstract, sections and findings."""
    settings = load_settings(cache_dir=cache_dir)
    paper = load_paper(source, cache_dir=settings.cache_dir, keep_hidden_text=keep_hidden_text)
    if as_json:
        print(paper.model_dump_json(indent=2))
        return
    out.print(
        f"[bold]{escape(paper.title)}[/] ({paper.source_kind}{f', {paper.pages} pages' if paper.pages else ''}, "
        f"{len(paper.text):,} characters, id {paper.id})",
        highlight=False,
    )
    out.print(
        Panel(
            Text(terminal_safe(paper.abstract or "(no abstract found)")), title="Abstract", title_align="left"
        )
    )
    for sec in paper.sections:
        out.print(
            f"{'  ' * (sec.level - 1)}{escape(sec.heading)}  [dim]{len(sec.text):,} chars[/]", highlight=False
        )
    for f in paper.findings:
        removed = " (removed from what planners see)" if f.removed else ""
        where = f"page {f.page}" if f.page is not None else f"line {f.line}" if f.line is not None else ""
        tag = ", ".join(x for x in (f.technique, where) if x)
        out.print(
            f"[yellow]{f.kind}[/]{escape(f' [{tag}]') if tag else ''}: {escape(f.detail)}{removed}"
            + (f" — {escape(f.excerpt)}" if f.excerpt else ""),
            highlight=False,
        )


@app.command("planners")
def list_planners() -> None:
    """List the registered planners, one a line: its name and what it does."""
    names = planner_names()
    width = max(map(len, names))
    for n in names:
        out.print(f"{n:<{width}}  {planner_summary(n)}", highlight=False, markup=False)


@app.command("judges")
def list_judges() -> None:
    """List the registered judges."""
    from abplan.judges import judge_names

    for n in judge_names():
        out.print(n)


app.command("design")(handle_errors(design))
bench_app.command("design-eval")(handle_errors(design_eval))
app.command("view")(handle_errors(view))
app.add_typer(bench_app, name="bench")
app.add_typer(lm_app, name="lm")
app.add_typer(dataset_app, name="dataset")


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("abplan: interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()

__all__ = ["InputError", "app", "err", "handle_errors", "main", "out", "staged_options"]
