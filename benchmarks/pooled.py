"""Paired differences of two arms pooled over several task sets (run folders of `bench run`).

    python benchmarks/pooled.py --pair runs/dev/author-staged runs/dev/author-lm \\
                                --pair runs/holdout/author-staged runs/holdout/author-lm

Each pair is (arm, base) on the same tasks; the per-task differences of all pairs are pooled and
resampled together (95% bootstrap, 10,000 resamples, seed 0), for the compatible and the strict F1.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality import bootstrap, per_task


def pooled(pairs: list[tuple[Path, Path]], metric: str) -> str:
    d: list[float] = []
    for arm, base in pairs:
        a, b = per_task(arm, metric), per_task(base, metric)
        if set(a) != set(b):
            raise SystemExit(f"pooled: {arm} and {base} were not run on the same tasks")
        d += [a[t] - b[t] for t in sorted(a)]
    return f"{bootstrap(d)} of {len(d)} tasks"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pair", nargs=2, type=Path, action="append", required=True, metavar=("ARM", "BASE"))
    ns = ap.parse_args()
    for arm, base in ns.pair:
        for run in (arm, base):
            if not (run / "results.json").is_file():
                ap.error(f"{run} is not a finished run folder (no results.json)")
    pairs = [(a, b) for a, b in ns.pair]
    print(f"F1:        {pooled(pairs, 'compat')}")
    print(f"strict F1: {pooled(pairs, 'strict')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
