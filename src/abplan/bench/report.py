"""Reports: results.json, results.csv and report.md per run; `bench report` puts runs side by side."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from abplan.bench.layout import RunDir
from abplan.bench.results import VARIANTS, RunResults, read_results, results_json
from abplan.bench.scoring import Interval
from abplan.fsutil import atomic_write_bytes, atomic_write_text

__all__ = ["compare_md", "load_results", "overall_md", "plot", "report_md", "results_csv", "write_reports"]
__all__ += ["results_json"]


def _fmt(iv: Interval | None) -> str:
    if iv is None:
        return "–"
    return f"{iv.mean:.3f} [{iv.low:.2f}, {iv.high:.2f}]"


def _num(value: float | None, digits: int) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def results_csv(results: RunResults) -> str:
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
    for t in results.per_task:
        c, s = t.compat, t.strict
        w.writerow(
            [
                t.task_id,
                t.mode,
                t.plan_size,
                t.gold_size,
                f"{c.precision:.4f}",
                f"{c.recall:.4f}",
                f"{c.f1:.4f}",
                _num(c.ndcg, 4),
                f"{s.precision:.4f}",
                f"{s.recall:.4f}",
                f"{s.f1:.4f}",
                _num(s.ndcg, 4),
                f"{t.plan_cost_usd:.6f}",
                f"{t.judge_cost_usd:.6f}",
            ]
        )
    return buf.getvalue()


def _cost_line(results: RunResults) -> str:
    c = results.cost
    if c.plan_usd_per_task is None or c.judge_usd_per_task is None:
        return "Cost per task: unknown (no task scored)."
    return (
        f"Cost per task: planning ${c.plan_usd_per_task:.4f} ({c.plan_tokens_per_task or 0:.0f} tokens), "
        f"judging ${c.judge_usd_per_task:.4f} ({c.judge_tokens_per_task or 0:.0f} tokens)."
    )


def _scores_md(results: RunResults) -> list[str]:
    lines = ["| scores (mean [95% CI]) | precision | recall | F1 | NDCG |", "|---|---|---|---|---|"]
    for variant in VARIANTS:
        label = "AblationBench-compatible" if variant == "compat" else "strict (1:1 matching)"
        cells = [_fmt(results.score(variant, m)) for m in ("precision", "recall", "f1", "ndcg")]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += [
        "",
        _cost_line(results),
        "",
        "| task | plan | gold | P | R | F1 | strict F1 |",
        "|---|---|---|---|---|---|---|",
    ]
    for t in results.per_task:
        lines.append(
            f"| {t.task_id} | {t.plan_size} | {t.gold_size} | {t.compat.precision:.2f} | "
            f"{t.compat.recall:.2f} | {t.compat.f1:.2f} | {t.strict.f1:.2f} |"
        )
    return lines


def report_md(results: RunResults) -> str:
    cfg = results.config
    judge = cfg.judge + (f" ({', '.join(cfg.judge_models)})" if cfg.judge_models else "")
    lines = [
        f"# abplan run: {cfg.planner}{'/' + cfg.model if cfg.model else ''} on {cfg.dataset}",
        "",
        f"- judge: {judge}{' — approximate, no LM' if cfg.judge == 'lexical' else ''}",
        f"- tasks: {results.scored} scored of {results.tasks}"
        + (f", {results.failed} failed" if results.failed else "")
        + (f", {results.skipped_for_budget} skipped at --max-cost" if results.skipped_for_budget else "")
        + ("" if results.complete else " (incomplete: rerun the same command to finish)"),
        f"- k = {cfg.k or 'mode default'}, top-k = {cfg.top_k or 'all'}, seed = {cfg.seed}",
        "",
    ]
    if results.scored == 0:
        lines.append("**No task scored**: there is no precision, recall or F1 to report (see the failures).")
    else:
        lines += _scores_md(results)
    if results.failures:
        lines += ["", "## Failures (retried on the next run)", ""]
        lines += [f"- {tid}: {why}" for tid, why in sorted(results.failures.items())]
    return "\n".join(lines) + "\n"


def write_reports(run: RunDir, results: RunResults) -> None:
    atomic_write_text(run.results, results_json(results))
    atomic_write_text(run.results_csv, results_csv(results))
    atomic_write_text(run.report, report_md(results))


def load_results(run: Path) -> tuple[RunResults, str | None]:
    """The results of the run folder `run`, and a note when its results.json predates versions."""
    return read_results(RunDir(run).results)


def _cost_per_paper(r: RunResults) -> str:
    """Planning plus judging per scored paper; "–" when no task was scored (nothing to divide by)."""
    plan, judge = r.cost.plan_usd_per_task, r.cost.judge_usd_per_task
    if not r.scored or plan is None or judge is None:
        return "–"
    return f"{plan + judge:.4f}"


def compare_md(runs: list[tuple[str, RunResults]]) -> str:
    lines = [
        "| run | planner | model | judge | tasks | P | R | F1 | strict F1 | $/paper (plan+judge) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in runs:
        cfg = r.config
        cells = [_fmt(r.score("compat", m)) for m in ("precision", "recall", "f1")]
        cells += [_fmt(r.score("strict", "f1")), _cost_per_paper(r)]
        lines.append(
            f"| {name} | {cfg.planner} | {cfg.model or '–'} | {cfg.judge} | {r.scored} | "
            + " | ".join(cells)
            + " |"
        )
    return "\n".join(lines) + "\n"


def overall_md(runs: list[tuple[str, RunResults]]) -> str:
    """AblationBench's headline: the mean of the author and reviewer F1 of one system (same planner,
    model and judge), for every system given with one run of each task."""
    systems: dict[tuple[str, str, str], dict[str, float]] = {}
    for _, r in runs:
        cfg = r.config
        key = (cfg.planner, cfg.model or "–", cfg.judge)
        f1 = r.score("compat", "f1")
        if len(r.modes) == 1 and f1 is not None:
            systems.setdefault(key, {})[r.modes[0]] = f1.mean
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


def plot(runs: list[tuple[str, RunResults]], path: Path) -> bool:
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
    for i, variant in enumerate(VARIANTS):
        # a run with no task scored has no bar (NaN), not a bar at zero
        f1s = [r.score(variant, "f1") for _, r in runs]
        means = [iv.mean if iv else math.nan for iv in f1s]
        lows = [iv.mean - iv.low if iv else math.nan for iv in f1s]
        highs = [iv.high - iv.mean if iv else math.nan for iv in f1s]
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
