"""`abplan bench ...`: run, judge and score planners over a dataset."""

from __future__ import annotations

import typer

bench_app = typer.Typer(help="Run, judge and score planners the AblationBench way.", no_args_is_help=True)
