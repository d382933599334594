"""Reliability under provider faults: a benchmark run against a loopback server that injects each fault
kind at a set rate, then a second run; against a fault-free run.

Fault kinds (rate each): 429 (half with Retry-After), 5xx (500/502/503), hang past the timeout,
connection reset, invalid JSON, a reply that is not a plan, a reply cut off by max_tokens.

    python benchmarks/faults.py [--tasks 100] [--rate 0.1] [--timeout 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from abplan.bench.runner import RunConfig, Runner
from abplan.bench.tasks import load_dataset
from abplan.lm import LMClient
from abplan.testing import FaultServer

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from synthetic import make_dataset

MODEL = "local/test-model"


def rates_for(rate: float) -> dict[str, float]:
    return {
        "429": rate / 2,
        "429-retry-after": rate / 2,
        "500": rate / 3,
        "502": rate / 3,
        "503": rate / 3,
        "hang": rate,
        "reset": rate,
        "bad-json": rate,
        "not-a-plan": rate,
        "length": rate,
    }


def run(
    ds: Path, out: Path, cache: Path, server: FaultServer, timeout: float
) -> tuple[dict[str, Any], float]:
    cfg = RunConfig(dataset=str(ds), planner="lm", model=MODEL, judge="lexical", concurrency=32)
    lm = LMClient(
        cache_dir=cache,
        base_url=server.base_url,
        timeout=timeout,
        backoff=0.05,
        max_backoff=1.0,
        concurrency=32,
    )

    async def go() -> dict[str, Any]:
        try:
            return (await Runner(cfg, load_dataset(str(ds)), out, lm).run()).as_json()
        finally:
            await lm.aclose()

    t = time.perf_counter()
    res = asyncio.run(go())
    return res, time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tasks", type=int, default=100)
    ap.add_argument("--rate", type=float, default=0.1, help="fault rate per kind (7 kinds)")
    ap.add_argument("--timeout", type=float, default=1.0, help="client timeout; hangs last twice as long")
    ap.add_argument("--latency", type=float, default=0.05)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        ds = make_dataset(root / "ds", args.tasks)
        with FaultServer(latency=args.latency) as clean:
            base, t_base = run(ds, root / "clean", root / "clean-cache", clean, args.timeout)
            base_requests = clean.requests
        with FaultServer(rates_for(args.rate), seed=1, latency=args.latency, hang=2 * args.timeout) as server:
            first, t1 = run(ds, root / "run", root / "cache", server, args.timeout)
            r1 = server.requests
            second, t2 = run(ds, root / "run", root / "cache", server, args.timeout)
            faults = dict(server.faults)
        n = args.tasks
        print(
            f"{n} tasks, fault rate {args.rate:.0%} per kind x 7 kinds ({sum(rates_for(args.rate).values()):.0%} of attempts), timeout {args.timeout}s"
        )
        print(
            f"  fault-free run:  {base['scored']}/{n} completed, {base_requests / n:.2f} requests/task, {t_base:.1f} s"
        )
        print(
            f"  faulty, run 1:   {first['scored']}/{n} completed, {r1 / n:.2f} requests/task, {t1:.1f} s ({t1 / t_base:.1f}x the fault-free time)"
        )
        retried = n - first["scored"]  # the tasks run 1 left unfinished: run 2 asks only for these
        per = (
            f"{(server.requests - r1) / retried:.2f} requests per retried task ({retried} retried)"
            if retried
            else f"no task to retry, {server.requests - r1} requests"
        )
        print(f"  faulty, run 2:   {second['scored']}/{n} completed, {per}, {t2:.1f} s")
        print(f"  faults injected: {', '.join(f'{k} {v}' for k, v in sorted(faults.items()))}")


if __name__ == "__main__":
    main()
