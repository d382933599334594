"""`abplan view`: serve runs and plans on 127.0.0.1, or export them as static pages."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from abplan.cli_common import out
from abplan.errors import ConfigError, InputError
from abplan.view.export import check_target, export
from abplan.view.load import load_sources
from abplan.view.pages import Site
from abplan.view.server import make_server, url_of


def view(
    sources: Annotated[
        list[Path],
        typer.Argument(
            metavar="RUN_OR_PLAN...", help="Run folders, plan .json files or `abplan plan` folders."
        ),
    ],
    port: Annotated[
        int, typer.Option("--port", metavar="N", help="Port on 127.0.0.1 (0: a free one, printed).")
    ] = 0,
    export_dir: Annotated[
        Path | None,
        typer.Option("--export", metavar="DIR", help="Write the pages as static HTML into DIR and exit."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Export into a folder that is not empty.")] = False,
    paper: Annotated[
        Path | None,
        typer.Option("--paper", metavar="FILE", help="The paper to show beside a plan .json."),
    ] = None,
) -> None:
    """Look at runs and plans in a browser: gold against plan, votes, evidence in the paper (read-only)."""
    if not 0 <= port <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535, not {port}")
    if export_dir is not None:
        check_target(export_dir, force)  # before reading anything: a refusal costs nothing
    runs, plans = load_sources(sources, paper)
    site = Site(runs, plans)
    if export_dir is not None:
        written = export(site, export_dir, force)
        out.print(
            f"wrote {len(written)} files to {export_dir}; open {export_dir / 'index.html'}",
            highlight=False,
            markup=False,
        )
        return
    try:
        server = make_server(site, port)
    except OSError as e:
        raise InputError(f"--port {port}: cannot listen on 127.0.0.1 ({e.strerror or e})") from None
    out.print(f"abplan view: serving on {url_of(server)} (Ctrl-C stops it)", highlight=False, markup=False)
    try:
        server.serve_forever()
    finally:
        server.server_close()
