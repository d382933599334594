"""The `abplan` command. Thin: parse flags, call the API, print, exit with a documented code.

Exit codes: 0 success; 1 the model failed after retries; 2 bad input or configuration;
3 offline mode with LM requests pending (see `abplan lm export`); 130 interrupted.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text

from abplan import __version__
from abplan.api import aplan_paper, make_client, resolve_planner
from abplan.config import load_settings
from abplan.errors import AbplanError, ConfigError, InputError, PendingRequests
from abplan.lm.types import RequestPending
from abplan.papers import load_paper
from abplan.planners.base import get_planner, planner_names
from abplan.render import parse_formats, slug, write_plan
from abplan.schema import MODES, Plan

app = typer.Typer(
    name="abplan",
    help="Plan ablation experiments for empirical AI papers, and benchmark planners the AblationBench way.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)

F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(fn: F) -> F:
    """Turn known failures into one line on stderr and the documented exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except PendingRequests as e:  # batch mode's documented stop: a status line, not an error
            err.print(f"abplan: {escape(str(e))}", highlight=False, soft_wrap=True)
            raise typer.Exit(e.exit_code) from None
        except AbplanError as e:
            err.print(f"[bold red]abplan: error:[/] {escape(str(e))}", highlight=False, soft_wrap=True)
            raise typer.Exit(e.exit_code) from None
        except RequestPending:
            err.print(
                "[bold red]abplan: error:[/] LM requests pending (offline mode): run 'abplan lm export'",
                highlight=False,
            )
            raise typer.Exit(3) from None
        except PermissionError as e:
            err.print(
                f"[bold red]abplan: error:[/] permission denied: {escape(str(e.filename))}", highlight=False
            )
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            err.print("abplan: interrupted")
            raise typer.Exit(130) from None
        except typer.Exit:
            raise
        except Exception as e:
            if os.environ.get("ABPLAN_DEBUG"):
                raise
            err.print(
                f"[bold red]abplan: internal error:[/] {escape(type(e).__name__)}: {escape(str(e))} "
                "(set ABPLAN_DEBUG=1 for the traceback, and please report it)",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


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


def print_plan(plan: Plan) -> None:
    for f in plan.findings:
        err.print(f"[yellow]warning:[/] {f.kind}: {escape(f.detail)}", highlight=False)
    out.print(
        Panel(
            Text(plan.reasoning_trace.strip()),
            title="Reasoning Trace",
            border_style="blue",
            title_align="left",
        )
    )
    body = Text()
    for i, a in enumerate(plan.ablations, 1):
        body.append(f"{i}. {a.name}\n", style="bold")
        body.append(f"   Ablated part: {a.ablated_part}\n   Action: ")
        body.append(a.action, style="bold magenta")
        body.append("\n")
        if a.replacement:
            body.append(f"   Replacement: {'; '.join(a.replacement)}\n")
        body.append(f"   Metrics: {', '.join(a.metrics)}\n")
        if a.support is not None:
            body.append(f"   Support: {a.support}\n")
    colour = "magenta" if plan.mode == "author" else "green"
    out.print(
        Panel(
            body,
            title=f"Ablation Plan ({plan.mode} mode, {plan.planner}/{plan.model})",
            border_style=colour,
            title_align="left",
        )
    )


@app.command()
@handle_errors
def plan(
    source: Annotated[
        str,
        typer.Argument(
            help="A PDF, .tex, LaTeX folder, .tar.gz/.zip of sources, .md, .txt, or an arXiv id/URL."
        ),
    ],
    mode: Annotated[
        str,
        typer.Option(
            "--mode", "-m", help="author: ablations to run; reviewer: ablations missing from a full paper."
        ),
    ] = "author",
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            help="provider/model, e.g. openai/gpt-4o, anthropic/claude-sonnet-4-5, ollama/qwen3:8b; "
            "repeat to spread the staged planner's samples over several models.",
        ),
    ] = None,
    planner: Annotated[
        str,
        typer.Option("--planner", "-p", help="auto (lm with a model, else offline), lm, staged or offline."),
    ] = "auto",
    k: Annotated[
        int | None, typer.Option("-k", help="Maximum number of ablations (default 5 author, 2 reviewer).")
    ] = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="Comma-separated: md, html, jsonl, json.")
    ] = "md,html",
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for the plan files.")] = Path("plans"),
    base_url: Annotated[
        str | None, typer.Option("--base-url", help="Any OpenAI-compatible endpoint (vLLM, llama.cpp, ...).")
    ] = None,
    temperature: Annotated[
        float | None, typer.Option("--temperature", help="Sampling temperature (default 0).")
    ] = None,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline", help="Answer only from the cache; record misses for 'abplan lm export' (exit 3)."
        ),
    ] = False,
    cache_dir: Annotated[
        Path | None, typer.Option("--cache-dir", help="Where LM responses and downloads are cached.")
    ] = None,
    keep_hidden_text: Annotated[
        bool, typer.Option("--keep-hidden-text", help="Let the planner see text hidden from human readers.")
    ] = False,
    samples: Annotated[
        int | None, typer.Option("--samples", help="staged: independent candidate plans (default 5).")
    ] = None,
    min_support: Annotated[
        int | None,
        typer.Option("--min-support", help="staged: samples that must propose an experiment to keep it."),
    ] = None,
    length: Annotated[
        str, typer.Option("--length", help="staged: support (cut by support, k at most) or fixed (always k).")
    ] = "support",
    max_cost: Annotated[
        float | None, typer.Option("--max-cost", help="staged: spend at most this many USD on the paper.")
    ] = None,
    context_window: Annotated[
        int | None, typer.Option("--context-window", help="Override the model's context window (tokens).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="staged: print calls, tokens and cost, spend nothing.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Do not print the plan.")] = False,
) -> None:
    """Read a paper and plan its ablations."""
    if mode not in MODES:
        raise ConfigError(f"--mode must be 'author' or 'reviewer', not {mode!r}")
    formats = parse_formats(fmt)
    if length not in ("support", "fixed"):
        raise ConfigError(f"--length must be 'support' or 'fixed', not {length!r}")
    settings = load_settings(model=model[0] if model else None, base_url=base_url, cache_dir=cache_dir)
    name = resolve_planner(planner, settings.model)
    get_planner(name)  # an unknown name fails here, with a near-miss suggestion
    if planner == "auto" and name == "offline":
        err.print(
            "note: no model configured, so the offline planner is used; plan with an LM via --model provider/name or ABPLAN_MODEL",
            highlight=False,
        )
    with err.status("reading the paper…"):
        paper = load_paper(source, cache_dir=settings.cache_dir, keep_hidden_text=keep_hidden_text)
    extra = staged_options(model, samples, min_support, length, max_cost, context_window)
    if dry_run:
        from abplan.planners.base import PlanOptions
        from abplan.planners.staged import dry_run as estimate

        est = estimate(paper, PlanOptions(mode=mode, k=k, model=settings.model, extra=extra))  # type: ignore[arg-type]
        for row in est["stages"]:
            out.print(
                f"{row['stage']:<12} {row['calls']} calls × ~{row['input_tokens_each']:,} input + ~{row['output_tokens_each']:,} output tokens",
                highlight=False,
            )
        out.print(
            f"total: {est['calls']} calls, ~{est['input_tokens']:,} input and ~{est['output_tokens']:,} output tokens, ~${est['cost_usd']:.4f}",
            highlight=False,
        )
        for note in est["notes"]:
            out.print(f"note: {note}", highlight=False, markup=False)
        return

    async def run() -> Plan:
        client = make_client(settings, offline=offline) if name != "offline" else None
        try:
            return await aplan_paper(
                paper,
                mode=mode,
                planner=name,
                model=settings.model,
                k=k,
                temperature=temperature,
                lm=client,
                settings=settings,
                **extra,  # type: ignore[arg-type]
            )
        except RequestPending as e:
            raise PendingRequests(len(client.pending_keys) if client else 1) from e
        finally:
            if client is not None:
                await client.aclose()

    with err.status(
        f"planning with {name}{'/' + settings.model if settings.model and name != 'offline' else ''}…"
    ):
        result = asyncio.run(run())
    paths = write_plan(result, out_dir, formats, stem=slug(paper.title, 80))
    if not quiet:
        print_plan(result)
    u = result.usage
    cost = (
        f", {u.calls} LM calls ({u.cached_calls} cached), {u.input_tokens + u.output_tokens} tokens, ${u.cost_usd:.4f}"
        if u.calls or u.cached_calls
        else ""
    )
    err.print(
        f"wrote {', '.join(str(p) for p in paths)}{cost}", highlight=False, soft_wrap=True, markup=False
    )


def staged_options(
    models: list[str] | None,
    samples: int | None,
    min_support: int | None,
    length: str,
    max_cost: float | None,
    context_window: int | None,
) -> dict[str, Any]:
    """Planner options from flags (the staged planner reads them; the others ignore what they do not use)."""
    extra: dict[str, Any] = {"length": length}
    if models and len(models) > 1:
        extra["models"] = list(models)
    for key, value in (
        ("samples", samples),
        ("min_support", min_support),
        ("max_cost", max_cost),
        ("context_window", context_window),
    ):
        if value is not None:
            if isinstance(value, int | float) and value < (0 if key == "max_cost" else 1):
                raise ConfigError(f"--{key.replace('_', '-')} must be positive")
            extra[key] = value
    return extra


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
    out.print(Panel(Text(paper.abstract or "(no abstract found)"), title="Abstract", title_align="left"))
    for sec in paper.sections:
        out.print(
            f"{'  ' * (sec.level - 1)}{escape(sec.heading)}  [dim]{len(sec.text):,} chars[/]", highlight=False
        )
    for f in paper.findings:
        removed = " (removed from what planners see)" if f.removed else ""
        out.print(
            f"[yellow]{f.kind}[/]: {escape(f.detail)}{removed}"
            + (f" — {escape(f.excerpt)}" if f.excerpt else ""),
            highlight=False,
        )


@app.command("planners")
def list_planners() -> None:
    """List the registered planners."""
    for n in planner_names():
        out.print(n)


@app.command("judges")
def list_judges() -> None:
    """List the registered judges."""
    from abplan.judges import judge_names

    for n in judge_names():
        out.print(n)


def _register_subcommands() -> None:
    from abplan.cli_bench import bench_app
    from abplan.cli_lm import lm_app

    app.add_typer(bench_app, name="bench")
    app.add_typer(lm_app, name="lm")


_register_subcommands()


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err.print("abplan: interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()

__all__ = ["InputError", "app", "main"]
