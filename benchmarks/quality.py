"""Planner arms on a development set, rescored from committed answers of a real model: no key, no network.

    python benchmarks/quality.py                       # the dev set (benchmarks/datasets/dev), every arm
    python benchmarks/quality.py --author DEV/author   # ... with all 21 author tasks (rebuild_author.py)
    python benchmarks/quality.py --suite devbench      # the first table, on ../shared/data/dev-bench
    python benchmarks/quality.py --suite holdout --author H/author   # the held-out check (rebuild_author.py --set holdout)
    python benchmarks/quality.py --out runs/quality    # keep the run folders (then: abplan bench report ...)
    python benchmarks/quality.py --against consensus-prior   # also paired against that arm

Each arm is an ordinary `abplan bench run --offline`, replayed from the answer folders by
`benchmarks/replay.py` (one shared cache, so arms that share samples share their answers). The answers were
written by instances of a frontier-class model acting as the LM under `../shared/lm-role.md`; the table
is printed in the layout of `benchmarks/quality.md`.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
from pathlib import Path

from abplan.bench.journal import read_records
from abplan.bench.layout import RunDir

sys.path.insert(0, str(Path(__file__).resolve().parent))
from replay import replay

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "dev-bench"
DEV = ROOT / "benchmarks" / "datasets" / "dev"
HOLDOUT = ROOT / "benchmarks" / "datasets" / "holdout"
HOLDOUT2 = ROOT / "benchmarks" / "datasets" / "holdout2"
MODEL = "local/frontier"  # the answers' model id; every request names it
JUDGE = ["--judge", "majority", "--judge-model", MODEL]

ARMS_DEVBENCH: list[tuple[str, str, list[str]]] = [
    ("author-lm", "author", ["--planner", "lm"]),
    ("author-consensus", "author", ["--planner", "consensus", "--samples", "5"]),
    ("author-consensus-all", "author", ["--planner", "consensus", "--samples", "5", "--min-support", "5"]),
    (
        "author-consensus-adaptive",
        "author",
        ["--planner", "consensus", "--samples", "5", "-O", "cut=adaptive"],
    ),
    ("author-consensus-prior", "author", ["--planner", "consensus", "--samples", "5", "-O", "prior=true"]),
    ("author-consensus3-prior", "author", ["--planner", "consensus", "--samples", "3", "-O", "prior=true"]),
    (
        "author-consensus3-prior-select",
        "author",
        ["--planner", "consensus", "--samples", "3", "-O", "prior=true", "-O", "cut=select"],
    ),
    (
        "author-consensus3-prior-select-add",
        "author",
        ["--planner", "consensus", "--samples", "3", "-O", "prior=true", "-O", "cut=select-add"],
    ),
    ("reviewer-lm", "reviewer", ["--planner", "lm"]),
    ("reviewer-consensus", "reviewer", ["--planner", "consensus", "--samples", "5"]),
    (
        "reviewer-consensus-top2",
        "reviewer",
        ["--planner", "consensus", "--samples", "5", "--min-support", "1"],
    ),
]

CONSENSUS3 = ["--planner", "consensus", "--samples", "3"]
PRIOR3 = [*CONSENSUS3, "-O", "prior=true"]
PRIOR5 = ["--planner", "consensus", "--samples", "5", "-O", "prior=true"]
ARMS_DEV: list[tuple[str, str, list[str]]] = [
    ("author-lm", "author", ["--planner", "lm"]),
    ("author-lm-prior", "author", ["--planner", "lm", "-O", "prior=true"]),
    ("author-consensus", "author", CONSENSUS3),
    ("author-consensus-prior", "author", PRIOR3),
    ("author-consensus-prior-2of3", "author", [*PRIOR3, "--min-support", "2"]),
    ("author-consensus-prior-adaptive", "author", [*PRIOR3, "-O", "cut=adaptive"]),
    ("author-consensus-prior-top", "author", [*PRIOR3, "--min-support", "1"]),
    ("author-consensus5-prior", "author", PRIOR5),
    ("author-consensus5-prior-all", "author", [*PRIOR5, "--min-support", "5"]),
    ("author-consensus5-prior-3of5", "author", [*PRIOR5, "--min-support", "3"]),
    ("author-consensus5-prior-adaptive", "author", [*PRIOR5, "-O", "cut=adaptive"]),
    ("author-consensus-prior-select", "author", [*PRIOR3, "-O", "cut=select"]),
    ("author-consensus-prior-select-add", "author", [*PRIOR3, "-O", "cut=select-add"]),
    ("author-staged-extract", "author", ["--planner", "staged-extract"]),
    ("author-staged", "author", ["--planner", "staged"]),
    ("reviewer-lm", "reviewer", ["--planner", "lm"]),
    ("reviewer-consensus", "reviewer", CONSENSUS3),
    ("reviewer-consensus-top2", "reviewer", [*CONSENSUS3, "--min-support", "1"]),
    ("reviewer-consensus-select", "reviewer", [*CONSENSUS3, "-O", "cut=select"]),
    ("reviewer-staged-extract", "reviewer", ["--planner", "staged-extract"]),
    ("reviewer-staged", "reviewer", ["--planner", "staged"]),
]
ARMS_HOLDOUT: list[tuple[str, str, list[str]]] = [
    ("author-lm", "author", ["--planner", "lm"]),
    ("author-staged-unanimity", "author", ["--planner", "staged", "--min-support", "3"]),
    ("author-staged", "author", ["--planner", "staged"]),
    ("author-staged-select-add", "author", ["--planner", "staged", "-O", "cut=select-add"]),
]
SUITES = {  # name: (answers, default dataset root, arms)
    "dev": (ROOT / "benchmarks" / "answers" / "quality-dev", DEV, ARMS_DEV),
    "devbench": (ROOT / "benchmarks" / "answers" / "quality-devbench", SHARED, ARMS_DEVBENCH),
    "holdout": (ROOT / "benchmarks" / "answers" / "quality-holdout", HOLDOUT, ARMS_HOLDOUT),
    "holdout2": (ROOT / "benchmarks" / "answers" / "quality-holdout2", HOLDOUT2, ARMS_HOLDOUT),
}


def arm_command(name: str, dataset: Path, args: list[str], out: Path) -> list[str]:
    return ["bench", "run", "--dataset", str(dataset), *args, "--model", MODEL, *JUDGE,
            "--out", str(out / name)]  # fmt: skip


def row(name: str, run: Path) -> str:
    res = json.loads((run / "results.json").read_text())
    sc = res["scores"]
    records = read_records(RunDir(run), res["config"]["judge"])  # each task's full plan, in its journal
    plans = [r.plan for _, r in sorted(records.items()) if r.plan is not None]
    calls = statistics.mean(p.usage.calls + p.usage.cached_calls for p in plans)
    size = statistics.mean(t["plan_size"] for t in res["per_task"])

    def f(kind: str, metric: str) -> str:
        m = sc[kind][metric]
        return f"{m['mean']:.3f} [{m['low']:.2f}, {m['high']:.2f}]" if metric == "f1" else f"{m['mean']:.3f}"

    return (
        f"| {name} | {res['scored']}/{res['tasks']} | {f('compat', 'f1')} | {f('strict', 'f1')} | "
        f"{f('compat', 'precision')} | {f('compat', 'recall')} | {size:.2f} | {calls:.1f} | "
        f"{res['cost']['plan_tokens_per_task'] / 1000:.1f}K |"
    )


def per_task(run: Path, metric: str) -> dict[str, float]:
    res = json.loads((run / "results.json").read_text())
    return {t["task_id"]: t[metric]["f1"] for t in res["per_task"]}


def paired(arm: Path, base: Path, metric: str, resamples: int = 10_000) -> str:
    """Mean per-task difference arm - base, its 95% bootstrap interval (seed 0), tasks won / lost."""
    a, b = per_task(arm, metric), per_task(base, metric)
    return bootstrap([a[t] - b[t] for t in sorted(a)], resamples)


def bootstrap(d: list[float], resamples: int = 10_000) -> str:
    """The mean of the per-task differences `d`, its 95% bootstrap interval (seed 0), tasks won / lost."""
    rng = random.Random(0)
    means = sorted(sum(d[rng.randrange(len(d))] for _ in d) / len(d) for _ in range(resamples))
    won, lost = sum(x > 1e-9 for x in d), sum(x < -1e-9 for x in d)
    lo, hi = means[int(0.025 * resamples)], means[int(0.975 * resamples)]
    return f"{sum(d) / len(d):+.3f} [{lo:+.3f}, {hi:+.3f}], {won} / {lost}"


def paired_lines(out: Path, arms: list[tuple[str, str, list[str]]], against: str = "lm") -> list[str]:
    """Every arm against its mode's `against` arm (`lm`, `consensus-prior` ...), on the same tasks."""
    lines = [f"| arm - {against} | F1 | strict F1 |", "|---|---|---|"]
    for name, mode, _ in arms:
        base = out / f"{mode}-{against}"
        if name != base.name and base.is_dir():
            cells = [paired(out / name, base, m) for m in ("compat", "strict")]
            lines.append(f"| {name} | {cells[0]} | {cells[1]} |")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", choices=sorted(SUITES), default="dev")
    ap.add_argument("--answers", type=Path, help="folder of answer rounds (default: the suite's)")
    ap.add_argument("--dataset-root", type=Path, help="holds author/ and reviewer/ (default: the suite's)")
    ap.add_argument("--author", type=Path, help="the author tasks (default: DATASET_ROOT/author)")
    ap.add_argument("--reviewer", type=Path, help="the reviewer tasks (default: DATASET_ROOT/reviewer)")
    ap.add_argument("--out", type=Path, help="where the run folders go (default: a temporary folder)")
    ap.add_argument(
        "--against",
        action="append",
        metavar="ARM",
        help="also print paired differences against this arm, named without its mode (repeatable; lm always)",
    )
    ns = ap.parse_args()
    answers, root, arms = SUITES[ns.suite]
    answers = ns.answers or answers
    root = ns.dataset_root or root
    datasets = {"author": ns.author or root / "author", "reviewer": ns.reviewer or root / "reviewer"}
    rounds = sorted(p for p in answers.iterdir() if (p / "index.jsonl").is_file())
    if not rounds:
        ap.error(f"no answer rounds under {answers}")
    with tempfile.TemporaryDirectory(prefix="abplan-quality-") as tmp:
        out = ns.out or Path(tmp) / "runs"
        cache = Path(tmp) / "cache"
        lines = [
            "| arm | tasks | F1 [95% CI] | strict F1 [95% CI] | P | R | items per plan | calls per paper | plan tokens per paper |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for name, mode, args in arms:
            rc = replay(arm_command(name, datasets[mode], args, out), rounds, cache)
            if rc != 0:
                print(f"quality: arm {name} did not finish from the committed answers (exit {rc})")
                return rc
            lines.append(row(name, out / name))
        print("\n".join(lines))
        for against in dict.fromkeys(["lm", *(ns.against or [])]):
            print(f"\nPaired differences against {against} (mean [95% CI], tasks won / lost):\n")
            print("\n".join(paired_lines(out, arms, against)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
