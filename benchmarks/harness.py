"""Harness overhead: 1,000 tasks through `bench run` with a fake model at a set latency, against the ideal
(tasks × latency / concurrency), then a fully cached rerun.

    python benchmarks/harness.py [--tasks 1000] [--latency 0.2] [--concurrency 32]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

from abplan.bench.runner import RunConfig, Runner
from abplan.bench.tasks import load_dataset
from abplan.lm import FakeModel, LMClient, LMRequest, register_fake

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from synthetic import make_dataset

REPLY = (
    "<discussion>A plan.</discussion>\n<predictions>\n"
    '{"name": "No gate", "ablated_part": "gate", "action": "REMOVE", "replacement": null, "metrics": ["accuracy"]}\n'
    '{"name": "Loss weight", "ablated_part": "loss weight", "action": "REPLACE", "replacement": ["0", "1"], "metrics": ["accuracy"]}\n'
    "</predictions>"
)


async def run_once(dataset: Path, out: Path, cache: Path, concurrency: int) -> float:
    cfg = RunConfig(
        dataset=str(dataset), planner="lm", model="fake/harness", judge="lexical", concurrency=concurrency
    )
    tasks = load_dataset(str(dataset))
    lm = LMClient(cache_dir=cache, concurrency=concurrency)
    t = time.perf_counter()
    try:
        await Runner(cfg, tasks, out, lm).run()
    finally:
        await lm.aclose()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=1000)
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--concurrency", type=int, default=32)
    args = ap.parse_args()

    def reply(req: LMRequest) -> str:
        return REPLY

    fake = register_fake("harness", FakeModel(reply, latency=args.latency))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ds = make_dataset(root / "ds", args.tasks)
        wall = asyncio.run(run_once(ds, root / "run", root / "cache", args.concurrency))
        calls = len(fake.calls)
        ideal = calls * args.latency / args.concurrency
        print(
            f"{args.tasks} tasks, {calls} LM calls at {args.latency * 1000:.0f} ms, concurrency {args.concurrency}"
        )
        print(
            f"  first run:   {wall:.2f} s (ideal {ideal:.2f} s; overhead {wall - ideal:.2f} s = {(wall - ideal) / args.tasks * 1000:.2f} ms/task; {args.tasks / wall:.0f} tasks/s)"
        )
        cached_folder = asyncio.run(run_once(ds, root / "run", root / "cache", args.concurrency))
        print(
            f"  rerun, same run folder (all done):  {cached_folder:.2f} s = {args.tasks / cached_folder:.0f} tasks/s, {len(fake.calls) - calls} LM calls"
        )
        cached_cache = asyncio.run(run_once(ds, root / "run2", root / "cache", args.concurrency))
        print(
            f"  new run folder, warm LM cache:      {cached_cache:.2f} s = {args.tasks / cached_cache:.0f} tasks/s, {len(fake.calls) - calls} LM calls"
        )


if __name__ == "__main__":
    main()
