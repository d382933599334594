"""`abplan lm export|import|pending`: batch mode for any executor (OpenAI or Anthropic batch APIs, vllm run-batch)."""

from __future__ import annotations

import typer

lm_app = typer.Typer(help="Batch mode: export pending LM requests, import answers.", no_args_is_help=True)
