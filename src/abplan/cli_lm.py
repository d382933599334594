"""`abplan lm export|import|pending`: batch mode for any executor (OpenAI or Anthropic batch APIs, vllm run-batch)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from abplan.config import load_settings
from abplan.fsutil import atomic_write_text
from abplan.lm.batch import export_lines, import_results, model_file_name
from abplan.lm.cache import ResponseCache

lm_app = typer.Typer(help="Batch mode: export pending LM requests, import answers.", no_args_is_help=True)
err = Console(stderr=True)


def _cache(cache_dir: Path | None) -> ResponseCache:
    return ResponseCache.in_dir(load_settings(cache_dir=cache_dir).cache_dir)


@lm_app.command("export")
def export(
    fmt: Annotated[
        str, typer.Option("--format", help="openai (also vllm run-batch) or anthropic.")
    ] = "openai",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write one file per model into this folder (else stdout).")
    ] = None,
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir")] = None,
) -> None:
    """Write every LM request pending in the cache as batch JSONL."""
    from abplan.cli import handle_errors

    @handle_errors
    def go() -> None:
        groups = export_lines(_cache(cache_dir), fmt)
        total = sum(len(v) for v in groups.values())
        if out is None:
            for lines in groups.values():
                for line in lines:
                    sys.stdout.write(line + "\n")
        else:
            for model, lines in groups.items():
                atomic_write_text(out / model_file_name(model), "".join(x + "\n" for x in lines))
        err.print(
            f"exported {total} pending request{'s' if total != 1 else ''} for {len(groups)} model{'s' if len(groups) != 1 else ''}",
            highlight=False,
        )

    go()


@lm_app.command("import")
def import_(
    files: Annotated[list[Path], typer.Argument(help="Batch result files (OpenAI or Anthropic format).")],
    price_factor: Annotated[
        float, typer.Option("--price-factor", help="Cost multiplier for batch discounts, e.g. 0.5.")
    ] = 1.0,
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir")] = None,
) -> None:
    """Validate batch results and put them in the cache; then rerun the same command to continue."""
    from abplan.cli import handle_errors

    @handle_errors
    def go() -> None:
        settings = load_settings(cache_dir=cache_dir)
        cache = ResponseCache.in_dir(settings.cache_dir)
        for f in files:
            summary = import_results(cache, f, price_factor, settings.prices)
            err.print(f"{f.name}: {summary.line()}", highlight=False, markup=False)

    go()


@lm_app.command("pending")
def pending(cache_dir: Annotated[Path | None, typer.Option("--cache-dir")] = None) -> None:
    """Count the requests waiting for an answer."""
    from abplan.cli import handle_errors

    handle_errors(lambda: print(len(_cache(cache_dir).pending())))()
