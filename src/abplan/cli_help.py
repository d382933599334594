"""Help output without type labels: `--quiet` rather than `--quiet <bool>`, `--samples N` rather than
`--samples <int>`. Options keep a metavar given in their declaration; others get one from their type,
flags (and `--help`) none, and arguments show their name alone."""

from __future__ import annotations

import re
from typing import Any

import typer
from typer.core import TyperArgument, TyperGroup, TyperOption

_LABELS = {"str": "TEXT", "int": "N", "float": "NUMBER", "path": "PATH", "file": "FILE", "directory": "DIR"}


class _Argument(TyperArgument):
    def display_type_rich(self, ctx: Any) -> str | None:
        return None


def metavar_for(option: TyperOption, ctx: Any) -> str:
    if option.is_flag or option.count:
        return ""
    label = re.sub(r"^list\[(.*)\]$", r"\1", option.display_type(ctx).strip("<>"))
    return _LABELS.get(label, label.upper())


def tidy(command: Any) -> None:
    """Set clean metavars on `command`'s options (its help option too) and on every subcommand's."""
    ctx = typer.Context(command)
    params = list(command.params)
    help_option = command.get_help_option(ctx)
    if help_option is not None:
        params.append(help_option)
    for p in params:
        if isinstance(p, TyperOption) and p.metavar is None:
            p.metavar = metavar_for(p, ctx)
        elif type(p) is TyperArgument:
            p.__class__ = _Argument  # the same argument, minus the `<str>` column
    for sub in getattr(command, "commands", {}).values():
        tidy(sub)


class TidyGroup(TyperGroup):
    """The root group: tidies the whole command tree once it is built."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        tidy(self)
