"""Reports: results.json, results.csv and report.md per run; `bench report` puts runs side by side."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from abplan.errors import InputError
from abplan.fsutil import atomic_write_bytes, atomic_write_text


def _fmt(iv: dict[str, float] | None) -> str:
    if not iv:
        return "–"
    return f"{iv['mean']:.3f} [{iv['low']:.2f}, {iv['high']:.2f}]"


def results_csv(results: dict[str, Any]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        [
            "task_id",
            "mode",
            "plan_size",
            "gold_size",
            "precision",
            "recall",
            "f1",
            "ndcg",
            "strict_precision",
            "strict_recall",
            "strict_f1",
            "strict_ndcg",
            "plan_cost_usd",
            "judge_cost_usd",
        ]
    )
    for t in results["per_task"]:
        c, s = t["compat"], t["strict"]
        w.writerow(
            [
                t["task_id"],
                t["mode"],
                t["plan_size"],
                t["gold_size"],
                f"{c['precision']:.4f}",
                f"{c['recall']:.4f}",
                f"{c['f1']:.4f}",
                "" if c["ndcg"] is None else f"{c['ndcg']:.4f}",
                f"{s['precision']:.4f}",
                f"{s['recall']:.4f}",
                f"{s['f1']:.4f}",
                "" if s["ndcg"] is None else f"{s['ndcg']:.4f}",
                f"{t['plan_cost_usd']:.6f}",
                f"{t['judge_cost_usd']:.6f}",
            ]
        )
    return buf.getvalue()


def _scores_md(results: dict[str, Any]) -> list[str]:
    lines = ["| scores (mean [95% CI]) | precision | recall | F1 | NDCG |", "|---|---|---|---|---|"]
    for variant in ("compat", "strict"):
        sc = results["scores"].get(variant, {})
        label = "AblationBench-compatible" if variant == "compat" else "strict (1:1 matching)"
        lines.append(
            f"| {label} | {_fmt(sc.get('precision'))} | {_fmt(sc.get('recall'))} | {_fmt(sc.get('f1'))} | {_fmt(sc.get('ndcg'))} |"
        )
    c = results["cost"]
    lines += [
        "",
        f"Cost per task: planning ${c['plan_usd_per_task']:.4f} ({c['plan_tokens_per_task']:.0f} tokens), "
        f"judging ${c['judge_usd_per_task']:.4f} ({c['judge_tokens_per_task']:.0f} tokens).",
        "",
        "| task | plan | gold | P | R | F1 | strict F1 |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in results["per_task"]:
        lines.append(
            f"| {t['task_id']} | {t['plan_size']} | {t['gold_size']} | {t['compat']['precision']:.2f} | "
            f"{t['compat']['recall']:.2f} | {t['compat']['f1']:.2f} | {t['strict']['f1']:.2f} |"
        )
    return lines


def report_md(results: dict[str, Any]) -> str:
    cfg = results["config"]
    judge = cfg["judge"] + (f" ({', '.join(cfg['judge_models'])})" if cfg["judge_models"] else "")
    lines = [
        f"# abplan run: {cfg['planner']}{'/' + cfg['model'] if cfg.get('model') else ''} on {cfg['dataset']}",
        "",
        f"- judge: {judge}{' — approximate, no LM' if cfg['judge'] == 'lexical' else ''}",
        f"- tasks: {results['scored']} scored of {results['tasks']}"
        + (f", {results['failed']} failed" if results["failed"] else "")
        + (
            f", {results['skipped_for_budget']} skipped at --max-cost"
            if results.get("skipped_for_budget")
            else ""
        )
        + ("" if results["complete"] else " (incomplete: rerun the same command to finish)"),
        f"- k = {cfg.get('k') or 'mode default'}, top-k = {cfg.get('top_k') or 'all'}, seed = {cfg['seed']}",
        "",
    ]
    if results["scored"] == 0:
        lines.append("**No task scored**: there is no precision, recall or F1 to report (see the failures).")
    else:
        lines += _scores_md(results)
    if results["failures"]:
        lines += ["", "## Failures (retried on the next run)", ""]
        lines += [f"- {tid}: {why}" for tid, why in sorted(results["failures"].items())]
    return "\n".join(lines) + "\n"


def results_json(results: dict[str, Any]) -> str:
    """results.json: indented, but one line per task, since indenting thousands of rows with the
    standard encoder (pure Python once `indent` is set) would cost a noticeable part of a short run."""
    parts = []
    for key, value in results.items():
        if key == "per_task" and value:
            rows = ",\n    ".join(json.dumps(t, ensure_ascii=False) for t in value)
            text = "[\n    " + rows + "\n  ]"
        else:
            text = json.dumps(value, indent=2, ensure_ascii=False).replace("\n", "\n  ")
        parts.append(f"  {json.dumps(key)}: {text}")
    return "{\n" + ",\n".join(parts) + "\n}\n"


def write_reports(out: Path, results: dict[str, Any]) -> None:
    atomic_write_text(out / "results.json", results_json(results))
    atomic_write_text(out / "results.csv", results_csv(results))
    atomic_write_text(out / "report.md", report_md(results))


class _Interval(BaseModel):
    mean: float
    low: float
    high: float


class _Config(BaseModel):
    planner: str
    judge: str
    model: str | None = None


class _Scores(BaseModel):
    compat: dict[str, _Interval]
    strict: dict[str, _Interval]


class _Cost(BaseModel):
    plan_usd_per_task: float
    judge_usd_per_task: float


class _Results(BaseModel):
    """What `bench report` reads from a results.json (other fields are kept as they are)."""

    config: _Config
    tasks: int
    scored: int
    modes: list[str] = []
    scores: _Scores
    cost: _Cost


def load_results(run: Path) -> dict[str, Any]:
    path = run / "results.json"
    if not path.is_file():
        raise InputError(f"{run}: no results.json (is it a finished run folder?)")
    try:
        data = json.loads(path.read_bytes())
        _Results.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        where = ".".join(str(x) for x in err["loc"]) or "the top level"
        raise InputError(f"{path}: not a results file (field '{where}': {err['msg']})") from None
    except (OSError, ValueError) as e:
        raise InputError(f"{path}: not a results file ({type(e).__name__})") from None
    return data  # type: ignore[no-any-return]


def compare_md(runs: list[tuple[str, dict[str, Any]]]) -> str:
    lines = [
        "| run | planner | model | judge | tasks | P | R | F1 | strict F1 | $/paper (plan+judge) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in runs:
        cfg, sc = r["config"], r["scores"]
        cost = r["cost"]["plan_usd_per_task"] + r["cost"]["judge_usd_per_task"]
        shown = f"{cost:.4f}" if r["scored"] else "–"  # no task scored: no cost per scored paper
        lines.append(
            f"| {name} | {cfg['planner']} | {cfg.get('model') or '–'} | {cfg['judge']} | {r['scored']} | "
            f"{_fmt(sc['compat'].get('precision'))} | {_fmt(sc['compat'].get('recall'))} | {_fmt(sc['compat'].get('f1'))} | "
            f"{_fmt(sc['strict'].get('f1'))} | {shown} |"
        )
    return "\n".join(lines) + "\n"


def overall_md(runs: list[tuple[str, dict[str, Any]]]) -> str:
    """AblationBench's headline: the mean of the author and reviewer F1 of one system (same planner,
    model and judge), for every system given with one run of each task."""
    systems: dict[tuple[str, str, str], dict[str, float]] = {}
    for _, r in runs:
        cfg = r["config"]
        key = (cfg["planner"], cfg.get("model") or "–", cfg["judge"])
        modes = r.get("modes", [])
        f1 = r["scores"]["compat"].get("f1", {}).get("mean")
        if len(modes) == 1 and f1 is not None:
            systems.setdefault(key, {})[modes[0]] = f1
    lines = [
        f"| {p} | {m} | {j} | {s['author']:.3f} | {s['reviewer']:.3f} | {(s['author'] + s['reviewer']) / 2:.3f} |"
        for (p, m, j), s in systems.items()
        if {"author", "reviewer"} <= set(s)
    ]
    if not lines:
        return ""
    head = (
        "| planner | model | judge | author F1 | reviewer F1 | overall (mean) |\n|---|---|---|---|---|---|\n"
    )
    return head + "\n".join(lines) + "\n"


def plot(runs: list[tuple[str, dict[str, Any]]], path: Path) -> bool:
    """A bar chart of F1 (compat and strict) with 95% intervals. False when matplotlib is absent."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    names = [n for n, _ in runs]
    fig, ax = plt.subplots(figsize=(max(4.0, 1.6 * len(runs) + 2), 3.6), dpi=120)
    width = 0.38
    for i, variant in enumerate(("compat", "strict")):
        # a run with no task scored has no bar (NaN), not a bar at zero
        means = [r["scores"][variant].get("f1", {}).get("mean", math.nan) for _, r in runs]
        lows = [
            m - r["scores"][variant].get("f1", {}).get("low", m)
            for m, (_, r) in zip(means, runs, strict=True)
        ]
        highs = [
            r["scores"][variant].get("f1", {}).get("high", m) - m
            for m, (_, r) in zip(means, runs, strict=True)
        ]
        xs = [x + (i - 0.5) * width for x in range(len(runs))]
        ax.bar(
            xs,
            means,
            width,
            yerr=[lows, highs],
            capsize=3,
            label="F1" if variant == "compat" else "strict F1",
        )
    ax.set_xticks(range(len(runs)), names, rotation=15, ha="right")
    ax.set_ylim(0, 1)
    ax.set_ylabel("F1 (mean, 95% CI)")
    ax.legend(frameon=False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())
    return True
