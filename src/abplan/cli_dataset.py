"""`abplan dataset author|reviewer`: build fresh benchmark tasks from papers (and their reviews)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from abplan.api import make_client
from abplan.cli_common import handle_errors
from abplan.config import load_settings
from abplan.errors import AbplanError, ConfigError, PendingRequests
from abplan.lm.types import CacheMiss
from abplan.papers import load_paper
from abplan.redact import redact

dataset_app = typer.Typer(
    help="Build benchmark tasks (AuthorAblation, ReviewerAblation) from papers and reviews.",
    no_args_is_help=True,
)
err = Console(stderr=True)

ModelOpt = Annotated[str | None, typer.Option("--model", help="provider/model that reads the passages.")]
OfflineOpt = Annotated[
    bool,
    typer.Option(
        "--offline", help="Answer only from the cache; record misses for 'abplan lm export' (exit 3)."
    ),
]
BaseUrlOpt = Annotated[
    str | None, typer.Option("--base-url", help="Any OpenAI-compatible endpoint (vLLM, llama.cpp, ...).")
]
CacheOpt = Annotated[Path | None, typer.Option("--cache-dir", help="Where LM responses are cached.")]
NoteOpt = Annotated[
    str | None,
    typer.Option("--source-note", help="Version or commit of the source (else read from a git checkout)."),
]
LicenceOpt = Annotated[
    str | None, typer.Option("--license", help="Licence of the source, recorded in provenance.")
]
IdOpt = Annotated[
    str | None, typer.Option("--id", help="Task id (one source only; default: title slug + hash).")
]
OutOpt = Annotated[
    Path, typer.Option("--out", "-o", help="Dataset folder (tasks.jsonl, papers/<id>/paper.md).")
]


def _n(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _say(msg: str) -> None:
    err.print(redact(msg), highlight=False, markup=False, soft_wrap=True)


def _finish(failures: list[tuple[str, AbplanError]], pending: int, single: bool) -> None:
    if pending:
        raise PendingRequests(pending)
    if not failures:
        return
    if single:
        raise failures[0][1]
    for _src, e in failures:
        err.print(f"[bold red]abplan: error:[/] {escape(str(e))}", highlight=False, soft_wrap=True)
    raise typer.Exit(max(e.exit_code for _, e in failures))


@dataset_app.command("author")
def author(
    sources: Annotated[list[str], typer.Argument(help="Papers, as for 'abplan plan' (LaTeX preferred).")],
    out: OutOpt,
    model: ModelOpt = None,
    rules_only: Annotated[
        bool, typer.Option("--rules-only", help="No model: a labelled draft read by patterns alone.")
    ] = False,
    offline: OfflineOpt = False,
    cache_dir: CacheOpt = None,
    base_url: BaseUrlOpt = None,
    source_note: NoteOpt = None,
    licence: LicenceOpt = None,
    task_id: IdOpt = None,
) -> None:
    """Turn each paper into an AuthorAblation task: the gold ablations, and the paper without them."""
    from abplan.bench.builder.author import AuthorOptions, build_author_task
    from abplan.bench.builder.write import check_id, write_task

    @handle_errors
    def go() -> None:
        if task_id is not None and len(sources) > 1:
            raise ConfigError("--id names one task: give one source with it")
        settings = load_settings(model=model, base_url=base_url, cache_dir=cache_dir)
        use = None if rules_only else settings.model
        if use is None:
            _say("note: no model, so the gold list is a rules-only draft (labelled as such in the task)")
        opts = AuthorOptions(
            model=use,
            task_id=check_id(task_id) if task_id else None,
            source_note=source_note,
            licence=licence,
        )
        failures: list[tuple[str, AbplanError]] = []

        async def run() -> int:
            client = make_client(settings, offline=offline) if use else None
            try:
                for src in sources:
                    try:
                        paper = load_paper(src, cache_dir=settings.cache_dir)
                        built = await build_author_task(paper, src, opts, client)
                    except CacheMiss:
                        continue
                    except AbplanError as e:
                        failures.append((src, e))
                        continue
                    path = write_task(out, built.record, built.paper_md, built.exclusions)
                    for note in built.notes:
                        _say(f"note: {built.record['id']}: {note}")
                    draft = " (DRAFT: review it)" if "draft" in built.record else ""
                    _say(
                        f"wrote task {built.record['id']}{draft}: {_n(len(built.record['ablations_in_paper']), 'ablation')}, "
                        f"{built.report.summary()}; paper {path}"
                    )
                return len(client.pending_keys) if client else 0
            finally:
                if client is not None:
                    await client.aclose()

        pending = asyncio.run(run())
        _finish(failures, pending, len(sources) == 1)

    go()


@dataset_app.command("reviewer")
def reviewer(
    paper_src: Annotated[str, typer.Option("--paper", help="The full paper, as for 'abplan plan'.")],
    reviews: Annotated[
        Path, typer.Option("--reviews", help="OpenReview notes export (JSON) or PeerRead reviews/<n>.json.")
    ],
    out: OutOpt,
    model: ModelOpt = None,
    offline: OfflineOpt = False,
    cache_dir: CacheOpt = None,
    base_url: BaseUrlOpt = None,
    source_note: NoteOpt = None,
    licence: LicenceOpt = None,
    task_id: IdOpt = None,
) -> None:
    """Turn a paper and its official reviews into a ReviewerAblation task (requests the paper leaves open)."""
    from abplan.bench.builder.reviewer import ReviewerOptions, build_reviewer_task
    from abplan.bench.builder.reviews import read_reviews
    from abplan.bench.builder.write import check_id, write_task

    @handle_errors
    def go() -> None:
        settings = load_settings(model=model, base_url=base_url, cache_dir=cache_dir)
        if not settings.model:
            raise ConfigError("dataset reviewer needs a model to read the requests: --model provider/name")
        revs = read_reviews(reviews)
        paper = load_paper(paper_src, cache_dir=settings.cache_dir)
        opts = ReviewerOptions(
            model=settings.model,
            task_id=check_id(task_id) if task_id else None,
            source_note=source_note,
            licence=licence,
        )

        async def run() -> None:
            client = make_client(settings, offline=offline)
            try:
                built = await build_reviewer_task(paper, paper_src, revs, reviews, opts, client)
            except CacheMiss as e:
                raise PendingRequests(len(client.pending_keys)) from e
            finally:
                await client.aclose()
            path = write_task(out, built.record, built.paper_md, built.exclusions)
            for note in built.notes:
                _say(f"note: {built.record['id']}: {note}")
            _say(
                f"wrote task {built.record['id']}: {_n(built.record['num_ablation_suggestions'], 'missing ablation')} "
                f"from {_n(len(revs.texts), revs.format + ' review')}, {_n(len(built.exclusions), 'request')} excluded "
                f"(see {out / 'exclusions.jsonl'}); paper {path}"
            )

        asyncio.run(run())

    go()
