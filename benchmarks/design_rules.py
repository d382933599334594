"""What the offline design rules find per paper, and how long a design and a study take.

For the bundled example and each dev-bench paper (when `../shared` is there): the datasets, main-setting
sentences, compute figures and claims found, how many a study links to plan items, and the median time
of one rule design (with its Markdown and HTML) and one study, in process (no start-up).

    python benchmarks/design_rules.py [--shared ../shared] [--repeats 5]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from abplan.api import plan_paper
from abplan.design import facts
from abplan.design.protocol import rule_design
from abplan.design.render import design_html, design_markdown
from abplan.design.study import build_study
from abplan.papers import load_paper
from abplan.schema import Paper, Plan

ROOT = Path(__file__).resolve().parents[1]


def median_ms(fn: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def one_design(paper: Paper, plan: Plan) -> None:
    d = rule_design(paper, plan.ablations[0])
    design_markdown(d)
    design_html(d)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    papers = [ROOT / "examples" / "pixelcnnpp.md"]
    dev = args.shared / "data" / "dev-bench" / "author" / "papers"
    papers += sorted(dev.glob("*/paper.md")) if dev.is_dir() else []
    print("paper | datasets | setting | figures | claims | tested | design ms | study ms")
    for path in papers:
        paper = load_paper(path)
        plan = plan_paper(paper, planner="offline")
        names, _ = facts.find_datasets(paper)
        study = build_study(plan, paper)
        tested = sum(bool(c.tested_by) for c in study.claims)

        d_ms = median_ms(functools.partial(one_design, paper, plan), args.repeats)
        s_ms = median_ms(functools.partial(build_study, plan, paper), args.repeats)
        print(
            f"{path.parent.name if path.name == 'paper.md' else path.stem} | {', '.join(names) or '-'} | "
            f"{len(facts.main_setting(paper))} | {len(facts.find_figures(paper))} | {len(study.claims)} | "
            f"{tested} | {d_ms:.0f} | {s_ms:.0f}"
        )


if __name__ == "__main__":
    main()
