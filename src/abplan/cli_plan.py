"""The pieces of `abplan plan` around the API call: option checks, the dry-run table, the plan printout.

Options are checked before the paper is read, so a bad flag costs nothing and says which flag it is.
Everything printed that came from a paper, a file name or a model passes through `terminal_safe`.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text

from abplan.errors import ConfigError
from abplan.planners.files import NEEDS as FILES_NEEDS
from abplan.render.safe import terminal_safe as safe
from abplan.schema import Plan, Usage


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def check_out_dir(out_dir: Path) -> None:
    """`--out` must be a folder or not exist yet; a file there (or above it) is a one-line error."""
    for p in (out_dir, *out_dir.parents):
        if p.exists():
            if not p.is_dir():
                what = "is a file" if p == out_dir else f"is inside {p}, which is a file"
                raise ConfigError(f"--out {out_dir} {what}, not a folder")
            return


def check_numbers(k: int | None, temperature: float | None, timeout: float | None) -> None:
    if k is not None and k < 1:
        raise ConfigError(f"-k/--ablations must be at least 1, not {k}")
    if temperature is not None and temperature < 0:
        raise ConfigError(f"--temperature must be 0 or more, not {temperature:g}")
    if timeout is not None and timeout <= 0:
        raise ConfigError(f"--timeout must be a positive number of seconds, not {timeout:g}")


def staged_options(
    models: list[str] | None,
    samples: int | None,
    min_support: int | None,
    length: str,
    max_cost: float | None,
    context_window: int | None,
) -> dict[str, Any]:
    """Planner options from flags (the staged planner reads them; the others ignore what they do not use)."""
    if length not in ("support", "fixed"):
        raise ConfigError(f"--length must be 'support' or 'fixed', not {length!r}")
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
            least = 0 if key == "max_cost" else 1
            if value < least:
                raise ConfigError(f"--{key.replace('_', '-')} must be at least {least}, not {value}")
            extra[key] = value
    return extra


# Planner options that have no flag of their own, given as `--option KEY=VALUE` (consensus planner).
OPTION_KEYS = ("cut", "adaptive_at", "prior", "angles")
OptionFlag = Annotated[
    list[str] | None,
    typer.Option(
        "--option",
        "-O",
        metavar="KEY=VALUE",
        help="prior=true (lm, consensus; author mode); consensus: cut=fixed|adaptive|select|select-add, adaptive_at=N, angles=false (reviewer).",
    ),
]


def planner_option_pairs(pairs: list[str] | None) -> dict[str, Any]:
    """`["cut=adaptive", "prior=true"]` as options: integers, numbers and true/false are typed."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise ConfigError(f"--option takes KEY=VALUE, not {pair!r}")
        if key not in OPTION_KEYS:
            near = difflib.get_close_matches(key, OPTION_KEYS, n=1)
            hint = f" (did you mean '{near[0]}'?)" if near else ""
            raise ConfigError(f"unknown planner option {key!r}{hint}; known: {', '.join(OPTION_KEYS)}")
        value: Any = raw.strip()
        if value.lower() in ("true", "yes", "on", "false", "no", "off"):
            value = value.lower() in ("true", "yes", "on")
        elif re.fullmatch(r"-?[0-9]+", value):
            value = int(value)
        out[key] = value
    return out


def files_options(planner: str, plans: Path | None) -> dict[str, Any]:
    if planner != "files":
        return {}
    if plans is None:
        raise ConfigError(FILES_NEEDS)
    if not plans.exists():
        raise ConfigError(f"--plans {plans}: no such file or folder")
    return {"plans_dir": str(plans)}


def print_estimate(out: Console, est: dict[str, Any], planner: str, model: str | None) -> None:
    """The dry run: calls and tokens per stage, the total and its cost, in plain lines."""
    who = f"{planner} planner, {model}" if est["calls"] else f"{planner} planner (no LM)"
    lines = [f"dry run: {who}"]
    for row in (r for r in est["stages"] if r["calls"]):
        lines.append(
            f"{row['stage']:<12} {plural(row['calls'], 'call')} × ~{row['input_tokens_each']:,} input"
            f" + ~{row['output_tokens_each']:,} output tokens"
        )
    if est["calls"]:
        cost = "cost unknown" if est["cost_usd"] is None else f"~${est['cost_usd']:.4f}"
        lines.append(
            f"total: {plural(est['calls'], 'call')}, ~{est['input_tokens']:,} input and"
            f" ~{est['output_tokens']:,} output tokens, {cost}"
        )
    else:
        lines.append("total: 0 calls, no tokens, no cost")
    lines += [f"note: {note}" for note in est["notes"]]
    for line in lines:
        out.print(line, highlight=False, markup=False)


def print_plan(out: Console, err: Console, plan: Plan) -> None:
    for f in plan.findings:
        err.print(f"[yellow]warning:[/] {escape(f.kind)}: {escape(f.detail)}", highlight=False)
    trace = Panel(
        Text(safe(plan.reasoning_trace.strip())),
        title="Reasoning Trace",
        border_style="blue",
        title_align="left",
    )
    out.print(trace, soft_wrap=False)
    body = Text()
    for i, a in enumerate(plan.ablations, 1):
        body.append(f"{i}. {safe(a.name)}\n", style="bold")
        body.append(f"   Ablated part: {safe(a.ablated_part)}\n   Action: ")
        body.append(safe(a.action), style="bold magenta")
        body.append("\n")
        if a.replacement:
            body.append(f"   Replacement: {safe('; '.join(a.replacement))}\n")
        body.append(f"   Metrics: {safe(', '.join(a.metrics))}\n")
        if a.support is not None:
            body.append(f"   Support: {a.support}\n")
    body.rstrip()
    title = Text(f"Ablation Plan ({plan.mode} mode, {safe(plan.planner)}/{safe(plan.model)})")
    colour = "magenta" if plan.mode == "author" else "green"
    out.print(Panel(body, title=title, border_style=colour, title_align="left"), soft_wrap=False)


def wrote_line(paths: list[Path], wanted: Path, usage: Usage) -> str:
    """`wrote plans/x.md, plans/x.html`, saying so when the wanted name was taken, and what it cost."""
    line = f"wrote {', '.join(str(p) for p in paths)}"
    if paths and paths[0].name != wanted.name:
        line += f" ({wanted} exists and was kept; --force overwrites)"
    u = usage
    if u.calls or u.cached_calls:
        line += (
            f", {plural(u.calls, 'LM call')} ({u.cached_calls} cached),"
            f" {u.input_tokens + u.output_tokens:,} tokens, ${u.cost_usd:.4f}"
        )
    return line
