"""Harness overhead: 1,000 tasks through `bench run` with a fake model at a set latency, against the ideal
(LM calls × latency / concurrency), at each concurrency given; then fully cached reruns.

Each figure is the median of `--repeat` runs, each with a fresh run folder and LM cache. Modules are
imported before the clock starts, so the figures are the run's own work. The first line also says what
creating one small file costs on the disk the runs use. A run creates none per task (each task is a line
appended to the run's journal, and its LM answer a row of the SQLite cache); before the journal it
created three, and on a busy disk that cost, not the harness, bounded the highest concurrency.

    python benchmarks/harness.py [--tasks 1000] [--latency 0.2] [--concurrency 8 32 128] [--repeat 3] [--dir DIR]

`--dir` puts the runs in a temporary folder inside DIR instead of the system's one: on a shared machine
creating a file in one place can cost ten times what it costs in another on the same disk.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

from abplan.bench.runner import RunConfig, Runner
from abplan.bench.tasks import load_dataset
from abplan.fsutil import write_file_atomic
from abplan.judges.base import get_judge
from abplan.lm import FakeModel, LMClient, LMRequest, register_fake
from abplan.planners.base import get_planner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from synthetic import make_dataset

REPLY = (
    "<discussion>A plan.</discussion>\n<predictions>\n"
    '{"name": "No gate", "ablated_part": "gate", "action": "REMOVE", "replacement": null, "metrics": ["accuracy"]}\n'
    '{"name": "Loss weight", "ablated_part": "loss weight", "action": "REPLACE", "replacement": ["0", "1"], "metrics": ["accuracy"]}\n'
    "</predictions>"
)


async def run_once(dataset: Path, out: Path, cache: Path, concurrency: int) -> tuple[float, float, float]:
    """Wall-clock seconds, CPU seconds of the event loop's thread, and of the whole process."""
    cfg = RunConfig(
        dataset=str(dataset), planner="lm", model="fake/harness", judge="lexical", concurrency=concurrency
    )
    tasks = load_dataset(str(dataset))
    lm = LMClient(cache_dir=cache, concurrency=concurrency)
    t, loop, cpu = time.perf_counter(), time.thread_time(), time.process_time()
    try:
        await Runner(cfg, tasks, out, lm).run()
    finally:
        await lm.aclose()
    return time.perf_counter() - t, time.thread_time() - loop, time.process_time() - cpu


def file_cost(folder: Path, n: int = 300) -> float:
    """Milliseconds to write one new 2 KB file atomically in `folder` (the median of three batches)."""
    folder.mkdir()
    data = b"x" * 2048
    batches = []
    for b in range(3):
        t = time.perf_counter()
        for i in range(n):
            write_file_atomic(str(folder / f"f{b}-{i}.json"), data)
        batches.append((time.perf_counter() - t) / n * 1000)
    return statistics.median(batches)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=1000)
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--concurrency", type=int, nargs="+", default=[8, 32, 128])
    ap.add_argument("--repeat", type=int, default=3, help="runs per figure; the median is printed")
    ap.add_argument("--dir", type=Path, help="where the runs go (default: the system's temporary folder)")
    args = ap.parse_args()
    if args.tasks < 1 or args.latency <= 0 or args.repeat < 1 or min(args.concurrency) < 1:
        ap.error("--tasks, --repeat and --concurrency must be at least 1, --latency positive")

    def reply(req: LMRequest) -> str:
        return REPLY

    fake = register_fake("harness", FakeModel(reply, latency=args.latency))
    get_planner("lm"), get_judge("lexical")  # import their modules before any clock starts
    print(
        f"{args.tasks} tasks, one LM call each at {args.latency * 1000:.0f} ms; median of {args.repeat} runs "
        "per line (wall clock: figures taken on a shared machine are noisy)"
    )
    print(
        f"{'concurrency':>11}  {'ideal s':>8}  {'wall s':>8}  {'ratio':>6}  {'CPU ms/task: loop':>17}  {'all':>5}  runs (s)"
    )
    if args.dir is not None and not args.dir.is_dir():
        ap.error(f"--dir {args.dir} is not a folder")
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        root = Path(tmp)
        print(f"disk: {file_cost(root / 'probe'):.2f} ms per new small file (none per task) in {tmp}")
        ds = make_dataset(root / "ds", args.tasks)
        for c in args.concurrency:
            walls, loops, cpus = [], [], []
            for i in range(args.repeat):
                before = len(fake.calls)
                w, loop, cpu = asyncio.run(run_once(ds, root / f"run-{c}-{i}", root / f"cache-{c}-{i}", c))
                walls.append(w)
                loops.append(loop)
                cpus.append(cpu)
                calls = len(fake.calls) - before
            wall = statistics.median(walls)
            ideal = calls * args.latency / c
            loop_ms = statistics.median(loops) / args.tasks * 1000
            cpu_ms = statistics.median(cpus) / args.tasks * 1000
            runs = ", ".join(f"{w:.2f}" for w in walls)
            print(
                f"{c:>11}  {ideal:>8.2f}  {wall:>8.2f}  {wall / ideal:>5.2f}x  {loop_ms:>17.2f}  {cpu_ms:>5.2f}  {runs}"
            )
        c = args.concurrency[-1]
        before = len(fake.calls)
        same, *_ = asyncio.run(run_once(ds, root / f"run-{c}-0", root / f"cache-{c}-0", c))
        warm, *_ = asyncio.run(run_once(ds, root / "run-warm", root / f"cache-{c}-0", c))
        print(
            f"cached reruns at concurrency {c}: same run folder (all done) {same:.2f} s = "
            f"{args.tasks / same:.0f} tasks/s; new run folder, warm LM cache {warm:.2f} s = "
            f"{args.tasks / warm:.0f} tasks/s; {len(fake.calls) - before} LM calls"
        )


if __name__ == "__main__":
    main()
