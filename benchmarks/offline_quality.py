"""Offline-planner quality on dev-bench with the lexical judge, next to two trivial baselines:
one REMOVE per method subsection heading, and k random noun phrases from the method section.

    python benchmarks/offline_quality.py [--shared ../shared] [--seeds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import time
from collections.abc import Callable
from pathlib import Path

from abplan.bench.scoring import score_task
from abplan.bench.tasks import Task, load_dataset, load_task_paper
from abplan.judges.base import JudgeOptions
from abplan.judges.lexical import LexicalJudge
from abplan.planners.base import PlanOptions
from abplan.planners.offline import find_metrics, heading_text, method_sections, plan_offline
from abplan.schema import Ablation, Paper

Baseline = Callable[[Paper, Task, int, random.Random], list[Ablation]]


def headings_baseline(paper: Paper, task: Task, k: int, rng: random.Random) -> list[Ablation]:
    metrics = find_metrics(paper)
    secs = method_sections(paper)
    return [
        Ablation(
            name=f"Without {heading_text(s.heading)}",
            ablated_part=heading_text(s.heading),
            action="REMOVE",
            metrics=metrics,
        )
        for s in secs[1:] or secs
    ][:k]


def noun_phrase_baseline(paper: Paper, task: Task, k: int, rng: random.Random) -> list[Ablation]:
    text = " ".join(s.text for s in method_sections(paper))
    phrases = sorted(set(re.findall(r"\b[a-z]+(?:[ -][a-z]+){1,2}\b", text.lower())))
    pick = rng.sample(phrases, min(k, len(phrases)))
    return [
        Ablation(name=f"Without {p}", ablated_part=p, action="REMOVE", metrics=find_metrics(paper))
        for p in pick
    ]


def offline(paper: Paper, task: Task, k: int, rng: random.Random) -> list[Ablation]:
    return plan_offline(paper, PlanOptions(mode=task.mode, k=k)).ablations


def evaluate(
    planner: Baseline, tasks: list[Task], papers: dict[str, Paper], seed: int
) -> tuple[float, float, float, float]:
    rng = random.Random(seed)
    judge = LexicalJudge()
    ps, rs, fs, ss = [], [], [], []
    elapsed = 0.0
    for t in tasks:
        k = 5 if t.mode == "author" else 2
        t0 = time.perf_counter()
        plan = planner(papers[t.id], t, k, rng)
        elapsed += time.perf_counter() - t0
        j = asyncio.run(judge.judge(t, plan, None, JudgeOptions(), None))
        s = score_task(j, None, t.num_ablation_suggestions)
        ps.append(s.compat.precision)
        rs.append(s.compat.recall)
        fs.append(s.compat.f1)
        ss.append(s.strict.f1)
    n = len(tasks)
    return sum(ps) / n, sum(rs) / n, sum(fs) / n, sum(ss) / n, elapsed / n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2] / "shared")
    ap.add_argument("--seeds", type=int, default=5, help="seeds for the random baseline")
    args = ap.parse_args()
    for mode in ("author", "reviewer"):
        tasks = load_dataset(str(args.shared / "data" / "dev-bench" / mode))
        papers = {t.id: load_task_paper(t) for t in tasks}
        print(
            f"dev-bench/{mode} ({len(tasks)} papers), lexical judge (approximate): AblationBench-compatible P, R, F1 and strict F1"
        )
        print(f"  {'planner':<44} {'P':>6} {'R':>6} {'F1':>6} {'strict':>7} {'ms/paper':>9}")
        rows: list[tuple[str, Baseline, int]] = [
            ("offline", offline, 1),
            ("baseline: subsection REMOVE", headings_baseline, 1),
            ("baseline: random phrases", noun_phrase_baseline, args.seeds),
        ]
        for name, fn, seeds in rows:
            got = [evaluate(fn, tasks, papers, s) for s in range(seeds)]
            p, r, f, sf, ms = (sum(x[i] for x in got) / len(got) for i in range(5))
            label = name + (f" (mean of {seeds} seeds)" if seeds > 1 else "")
            print(f"  {label:<44} {p:6.3f} {r:6.3f} {f:6.3f} {sf:7.3f} {ms * 1000:9.1f}")


if __name__ == "__main__":
    main()
