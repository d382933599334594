"""Provider faults, interrupted runs and concurrent cache writers, against a real loopback HTTP server."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from abplan.bench.runner import RunConfig, Runner
from abplan.bench.tasks import load_dataset
from abplan.lm import LMClient, LMRequest, LMResponse, ResponseCache
from abplan.testing import FAULT_KINDS, FakeModels, FaultServer
from run_files import records
from synthetic import make_dataset

MODEL = "local/test-model"
PRICES = {MODEL: (1.0, 1.0)}  # USD per million tokens; the server bills 1e-6 per token
MAX_RETRIES = 3


def bench(
    ds: Path, out: Path, cache: Path, server: FaultServer, **kw: Any
) -> tuple[dict[str, Any], LMClient]:
    cfg = RunConfig(dataset=str(ds), planner="lm", model=MODEL, judge="lexical", concurrency=16)
    lm = LMClient(
        cache_dir=cache,
        base_url=server.base_url,
        timeout=0.5,
        max_retries=MAX_RETRIES,
        backoff=0.01,
        prices=PRICES,
        concurrency=16,
        **kw,
    )

    async def go() -> dict[str, Any]:
        try:
            return (await Runner(cfg, load_dataset(str(ds)), out, lm).run()).as_json()
        finally:
            await lm.aclose()

    return asyncio.run(go()), lm


@pytest.mark.slow
def test_fault_matrix(tmp_path: Path) -> None:
    ds = make_dataset(tmp_path / "ds", 50)
    rates = dict.fromkeys(FAULT_KINDS, 0.03)
    with FaultServer(rates, seed=3, hang=1.0) as server:
        res1, lm1 = bench(ds, tmp_path / "run", tmp_path / "cache", server)
        assert sum(server.faults.values()) > 10  # faults really happened
        recs = records(tmp_path / "run")
        plans = {tid for tid, r in recs.items() if r.plan is not None}
        failed = {tid for tid, r in recs.items() if r.error is not None}
        assert len(plans) + len(failed) == 50 and not plans & failed  # none lost, none duplicated
        assert all(recs[f].error for f in failed)
        assert max(server.attempts.values()) <= MAX_RETRIES + 1  # retries stop at the limit
        assert server.requests <= 50 * 4 * (MAX_RETRIES + 1)  # plan + repair, each possibly escalated once
        assert res1["scored"] == len(plans)
        requests_1 = server.requests

        res2, lm2 = bench(ds, tmp_path / "run", tmp_path / "cache", server)
        assert res2["complete"] and res2["failed"] == 0 and res2["scored"] == 50
        assert server.requests - requests_1 <= len(failed) * 4 * (
            MAX_RETRIES + 1
        )  # only the failed ones were asked again
        # every response the server billed was counted once, by the run that paid for it
        spent = lm1.stats.usage.cost_usd + lm2.stats.usage.cost_usd
        assert spent == pytest.approx(server.billed_usd, rel=1e-9)
        assert res2["cost"]["plan_usd_total"] <= server.billed_usd + 1e-12


def test_truncated_reply_is_never_parsed_as_a_short_plan(tmp_path: Path) -> None:
    with FaultServer({"length": 1.0}) as server:
        lm = LMClient(cache_dir=tmp_path, base_url=server.base_url, timeout=2, backoff=0)

        async def go() -> Any:
            try:
                return await lm.complete(LMRequest.chat(MODEL, "s", "u", max_tokens=100))
            finally:
                await lm.aclose()

        from abplan.errors import LMError

        with pytest.raises(LMError, match="cut off"):
            asyncio.run(go())
        assert server.requests == 2  # the original and one with a doubled limit


def test_hang_past_timeout_is_retried(tmp_path: Path) -> None:
    with FaultServer({"hang": 0.5}, seed=1, hang=1.0) as server:
        lm = LMClient(cache_dir=tmp_path, base_url=server.base_url, timeout=0.3, backoff=0, max_retries=6)

        async def go() -> LMResponse:
            try:
                return await lm.complete(LMRequest.chat(MODEL, "s", "u"))
            finally:
                await lm.aclose()

        t = time.perf_counter()
        resp = asyncio.run(go())
        assert "<predictions>" in resp.text and time.perf_counter() - t < 6
        assert server.requests == lm.stats.requests


def _run_cli(ds: Path, out: Path, cache: Path, base_url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ABPLAN_CACHE_DIR": str(cache), "ABPLAN_BASE_URL": base_url}
    args = [
        sys.executable,
        "-m",
        "abplan",
        "bench",
        "run",
        "--dataset",
        str(ds),
        "--planner",
        "lm",
        "--model",
        MODEL,
        "--out",
        str(out),
        "-j",
        "4",
    ]
    return subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _readable(out: Path) -> None:
    for f in out.rglob("*"):
        if not f.is_file() or f.name.startswith("."):
            continue
        text = f.read_text("utf-8")
        if f.suffix == ".json":
            json.loads(text)
        elif f.name == "journal.jsonl":  # a kill may tear its last line, which has no newline then
            for line in text.splitlines(keepends=True):
                if line.endswith("\n"):
                    json.loads(line)
        elif f.suffix == ".jsonl":
            for line in text.splitlines():
                json.loads(line)


@pytest.mark.slow
def test_kill_and_resume_loop(tmp_path: Path) -> None:
    ds = make_dataset(tmp_path / "ds", 24)
    rng = random.Random(11)
    with FaultServer(latency=0.05) as server:
        ref = _run_cli(ds, tmp_path / "ref", tmp_path / "ref-cache", server.base_url)
        assert ref.wait(120) == 0
        reference = json.loads((tmp_path / "ref" / "results.json").read_text())
        requests_before = server.requests
        for i in range(6):
            p = _run_cli(ds, tmp_path / "run", tmp_path / "cache", server.base_url)
            time.sleep(rng.uniform(0.3, 1.6))
            p.send_signal(signal.SIGKILL if i % 2 == 0 else signal.SIGINT)
            p.wait(60)
            _readable(tmp_path / "run")
        final = _run_cli(ds, tmp_path / "run", tmp_path / "cache", server.base_url)
        assert final.wait(120) == 0
        got = json.loads((tmp_path / "run" / "results.json").read_text())
        assert got["scores"] == reference["scores"] and got["scored"] == 24
        assert not list((tmp_path / "run").rglob(".*.tmp"))
        # every task's request reached the server once in the killed runs, at most: none repeated
        assert server.requests - requests_before <= 24 + 6 * 4  # plus requests in flight at each kill


def test_cache_survives_concurrent_writers(tmp_path: Path) -> None:
    code = "import sys; from tests_writer import w; w(*sys.argv[1:])"
    helper = tmp_path / "tests_writer.py"
    helper.write_text(
        "from pathlib import Path\nfrom abplan.lm import LMRequest, LMResponse, ResponseCache\n"
        "def w(d, start, count):\n    c = ResponseCache.in_dir(Path(d))\n"
        "    for i in range(int(start), int(start) + int(count)):\n"
        "        c.put(LMRequest.chat('fake/x', 's', f'request {i}'), LMResponse(text=f'answer {i}', input_tokens=i))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    for round_ in range(3):  # each round races three processes on a brand-new database
        d = str(tmp_path / f"c{round_}")
        procs = [
            subprocess.Popen([sys.executable, "-c", code, d, str(s), "300"], env=env, cwd=tmp_path)
            for s in (0, 150, 300)
        ]
        assert [p.wait(120) for p in procs] == [0, 0, 0]
    cache = ResponseCache.in_dir(tmp_path / "c2")
    assert len(cache) == 600
    for i in range(600):
        got = cache.get(LMRequest.chat("fake/x", "s", f"request {i}").key)
        assert got is not None and got.text == f"answer {i}"


def test_cut_off_replies_are_asked_again_on_the_next_run(tmp_path: Path, fake_lm: FakeModels) -> None:
    from abplan.lm import FakeModel
    from abplan.testing.fault_server import PLAN_REPLY

    state = {"cut": 2}

    def reply(req: LMRequest) -> LMResponse:
        if state["cut"] > 0:
            state["cut"] -= 1
            return LMResponse(text=PLAN_REPLY[:40], finish_reason="length")
        return LMResponse(text=PLAN_REPLY)

    fm = fake_lm("cut", FakeModel(reply))
    ds = make_dataset(tmp_path / "ds", 1)
    cfg = RunConfig(dataset=str(ds), planner="lm", model="fake/cut", judge="lexical")

    def once() -> dict[str, Any]:
        async def go() -> dict[str, Any]:
            lm = LMClient(cache_dir=tmp_path / "cache")
            try:
                return (await Runner(cfg, load_dataset(str(ds)), tmp_path / "run", lm).run()).as_json()
            finally:
                await lm.aclose()

        return asyncio.run(go())

    first = once()
    assert first["failed"] == 1 and "cut off" in next(iter(first["failures"].values()))
    second = once()
    assert second["complete"] and len(fm.calls) == 3
