"""`abplan lm export|import|pending`: batch mode for any executor (OpenAI or Anthropic batch APIs,
vllm run-batch) and for answering by hand (readable prompt files, one per request)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from abplan.cli_common import handle_errors
from abplan.config import load_settings
from abplan.errors import InputError
from abplan.fsutil import atomic_write_text
from abplan.lm.batch import export_lines, import_results, model_file_name
from abplan.lm.cache import ResponseCache
from abplan.lm.prompt_files import Entry, export_prompts, largest_group
from abplan.lm.prompt_import import import_prompts
from abplan.render.safe import SafeConsole

lm_app = typer.Typer(help="Batch mode: export pending LM requests, import answers.", no_args_is_help=True)
err: Console = SafeConsole(stderr=True)  # strips escape sequences from what it prints


def _cache(cache_dir: Path | None) -> ResponseCache:
    return ResponseCache.in_dir(load_settings(cache_dir=cache_dir).cache_dir)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


def _say(text: str) -> None:
    err.print(text, highlight=False, markup=False, soft_wrap=True)


def _export_prompts(cache: ResponseCache, out: Path | None, shards: int) -> None:
    if out is None:
        raise InputError("--format prompts needs --out DIR (one file per request)")
    entries: list[Entry] = export_prompts(cache, out, shards)
    if not entries:
        _say("no LM requests pending: nothing exported")
        return
    where = f"{shards} shards (shard-01/ ... shard-{shards:02d}/)" if shards > 1 else str(out)
    _say(
        f"exported {_plural(len(entries), 'pending request')} as prompt files into {where}; see {out}/README.txt"
    )
    if shards > 1:
        sizes = [sum(e.size for e in entries if e.shard == s) for s in range(1, shards + 1)]
        counts = [sum(1 for e in entries if e.shard == s) for s in range(1, shards + 1)]
        _say("per shard: " + ", ".join(f"{c} ({z:,} chars)" for c, z in zip(counts, sizes, strict=True)))
    _, biggest = largest_group([e.group for e in entries])
    if shards <= 1 and biggest > 1:
        _say(
            f"note: up to {biggest} requests are samples of one prompt or judge runs of one task, and one"
            f" answerer sees them all; use --shards {biggest} for independent answers"
        )


@lm_app.command("export")
def export(
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            help="openai (also vllm run-batch), anthropic, or prompts (readable files to answer by hand).",
        ),
    ] = "openai",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write one file per model into this folder (else stdout).")
    ] = None,
    shards: Annotated[
        int,
        typer.Option(
            "--shards",
            help="prompts: split over N answerers (shard-01/ ...); samples of one prompt never share one.",
        ),
    ] = 1,
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir")] = None,
) -> None:
    """Write every LM request pending in the cache as batch JSONL or as prompt files."""

    @handle_errors
    def go() -> None:
        if shards < 1:
            raise InputError(f"--shards must be at least 1, not {shards}")
        if fmt == "prompts":
            _export_prompts(_cache(cache_dir), out, shards)
            return
        if shards != 1:
            raise InputError("--shards applies to --format prompts only")
        groups = export_lines(_cache(cache_dir), fmt)
        total = sum(len(v) for v in groups.values())
        if out is None:
            for lines in groups.values():
                for line in lines:
                    sys.stdout.write(line + "\n")
        else:
            for model, lines in groups.items():
                atomic_write_text(out / model_file_name(model), "".join(x + "\n" for x in lines))
        _say(f"exported {_plural(total, 'pending request')} for {_plural(len(groups), 'model')}")

    go()


@lm_app.command("import")
def import_(
    files: Annotated[
        list[Path],
        typer.Argument(help="Batch result files (OpenAI or Anthropic format), or folders of prompt files."),
    ],
    price_factor: Annotated[
        float, typer.Option("--price-factor", help="Cost multiplier for batch discounts, e.g. 0.5.")
    ] = 1.0,
    answered_by: Annotated[
        str, typer.Option("--answered-by", help="prompts: who answered, recorded as the reply's model.")
    ] = "hand",
    cache_dir: Annotated[Path | None, typer.Option("--cache-dir")] = None,
) -> None:
    """Validate answers and put them in the cache; then rerun the same command to continue.

    Exit code 2 when a reply file was rejected (empty, binary, too large, or for no pending request);
    the good replies are imported all the same.
    """

    @handle_errors
    def go() -> None:
        settings = load_settings(cache_dir=cache_dir)
        cache = ResponseCache.in_dir(settings.cache_dir)
        rejected = 0
        for f in files:
            if f.is_dir():
                summary = import_prompts(cache, f, answered_by)
                for line in summary.lines():
                    _say(f"{f.name}: {line}")
                rejected += len(summary.rejected)
            else:
                _say(f"{f.name}: {import_results(cache, f, price_factor, settings.prices).line()}")
        if rejected:
            raise InputError(f"{_plural(rejected, 'reply file')} rejected (listed above): fix or remove them")

    go()


@lm_app.command("pending")
def pending(cache_dir: Annotated[Path | None, typer.Option("--cache-dir")] = None) -> None:
    """Count the requests waiting for an answer."""

    @handle_errors
    def go() -> None:
        print(len(_cache(cache_dir).pending()))

    go()
