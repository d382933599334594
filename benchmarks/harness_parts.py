"""What each part of `bench run` costs the wall clock at high concurrency: the harness benchmark's run
(benchmarks/harness.py: 1,000 tasks, a fake model at 200 ms) with one part stubbed out at a time, the
arms alternating so that a busy machine weighs on each alike.

    python benchmarks/harness_parts.py [--concurrency 128] [--rounds 2] [--tasks 1000]

Arms: `base` (nothing stubbed); `no-commit` (the LM cache commits nothing); `no-gc` (the garbage
collector is off during the run); `no-finish` (no results or reports at the end). A stub that does not
move the wall clock beyond the spread of `base` is not worth engineering away. Each figure is the median
of 3 runs in a fresh process.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

ARMS = ("base", "no-commit", "no-gc", "no-finish")
HERE = Path(__file__).resolve().parent

CHILD = r"""
import asyncio, gc, os, statistics, sys, tempfile
from pathlib import Path
sys.path[:0] = [os.environ["BENCH_DIR"], os.environ["TESTS_DIR"]]
import harness as H
import abplan.bench.runner as R
import abplan.lm.cache as C
from abplan.lm import FakeModel, register_fake
from synthetic import make_dataset

arm, conc, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
if arm == "no-commit":
    C.ResponseCache._write = lambda self, rows: None
if arm == "no-finish":
    R.Runner.finish = lambda self: None
if arm == "no-gc":
    run = R.Runner._run
    async def _run(self):
        gc.disable()
        try:
            return await run(self)
        finally:
            gc.enable()
    R.Runner._run = _run
register_fake("harness", FakeModel(lambda r: H.REPLY, latency=0.2))
with tempfile.TemporaryDirectory() as tmp:
    root = Path(tmp)
    ds = make_dataset(root / "ds", n)
    asyncio.run(H.run_once(ds, root / "warm", root / "cache-warm", conc))
    walls = [asyncio.run(H.run_once(ds, root / f"r{i}", root / f"c{i}", conc))[0] for i in range(3)]
    print(statistics.median(walls))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--concurrency", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=2, help="times each arm is run (alternating)")
    ap.add_argument("--tasks", type=int, default=1000)
    args = ap.parse_args()
    if args.concurrency < 1 or args.rounds < 1 or args.tasks < 1:
        ap.error("--concurrency, --rounds and --tasks must be at least 1")
    env = {**os.environ, "BENCH_DIR": str(HERE), "TESTS_DIR": str(HERE.parent / "tests")}
    ideal = args.tasks * 0.2 / args.concurrency
    walls: dict[str, list[float]] = {a: [] for a in ARMS}
    for _ in range(args.rounds):
        for arm in ARMS:
            out = subprocess.run(
                [sys.executable, "-c", CHILD, arm, str(args.concurrency), str(args.tasks)],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            walls[arm].append(float(out.split()[-1]))
    print(f"{args.tasks} tasks at concurrency {args.concurrency}, 200 ms per LM call: ideal {ideal:.2f} s")
    print(f"{'arm':>10}  {'wall s (median of rounds)':>26}  {'ratio':>6}  rounds (s)")
    for arm in ARMS:
        w = statistics.median(walls[arm])
        rounds = ", ".join(f"{x:.2f}" for x in walls[arm])
        print(f"{arm:>10}  {w:>26.2f}  {w / ideal:>5.2f}x  {rounds}")


if __name__ == "__main__":
    main()
