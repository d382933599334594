"""What the harness does to be fast keeps its guarantees: grouped cache commits still cache every answer
before it is used, background writes still fail a task whose files cannot be written, the cached secret
list follows the environment, and the cheaper paper checks still refuse paths that leave the dataset."""

from __future__ import annotations

import asyncio
import gc
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest

import abplan.bench.tasks as tasks_mod
import abplan.parsing as parsing
import abplan.redact as redact_mod
from abplan.bench.journal import Journal
from abplan.bench.runner import RunConfig, Runner
from abplan.bench.tasks import load_dataset, load_task_paper
from abplan.errors import InputError, ResourceError
from abplan.lm import FakeModel, LMClient, LMRequest, LMResponse, register_fake, unregister_fake
from abplan.lm.cache import ResponseCache, _row
from abplan.redact import redact, register_secret
from abplan.testing.fault_server import PLAN_REPLY
from run_files import records
from synthetic import make_dataset


def _rows(path: Path) -> set[str]:
    db = sqlite3.connect(path)
    try:
        return {k for (k,) in db.execute("SELECT key FROM responses")}
    finally:
        db.close()


def test_answers_of_one_loop_turn_share_one_commit_and_are_committed_on_return(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c.sqlite")
    commits: list[int] = []
    real = cache._write
    cache._write = lambda rows: (commits.append(len(rows)), real(rows))[1]  # type: ignore[method-assign]
    reqs = [LMRequest.chat("fake/x", "s", f"request {i}") for i in range(20)]

    async def one(req: LMRequest) -> set[str]:
        await cache.store(req, LMResponse(text="answer"))
        return _rows(tmp_path / "c.sqlite")  # another connection: what a crash right now would keep

    async def go() -> list[set[str]]:
        return await asyncio.gather(*(one(r) for r in reqs))

    seen = asyncio.run(go())
    assert commits == [20]  # one transaction for the 20 answers that arrived together
    assert all(r.key in s for r, s in zip(reqs, seen, strict=True))
    assert len(cache) == 20 and cache.get(reqs[3].key) is not None
    cache.close()


def test_a_failed_group_commit_reaches_every_caller(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "c.sqlite")

    def full(rows: Any) -> None:
        raise ResourceError("no space left on the device writing the LM cache")

    cache._write = full  # type: ignore[method-assign]

    async def go() -> list[Any]:
        reqs = [LMRequest.chat("fake/x", "s", f"r{i}") for i in range(3)]
        return await asyncio.gather(
            *(cache.store(r, LMResponse(text="a")) for r in reqs), return_exceptions=True
        )

    got = asyncio.run(go())
    assert len(got) == 3 and all(isinstance(e, ResourceError) for e in got), got
    assert len(cache) == 0
    cache.close()


def test_the_client_returns_an_answer_only_once_it_is_in_the_cache(tmp_path: Path) -> None:
    register_fake("speed", ["the answer"])
    try:

        async def go() -> tuple[str, set[str]]:
            async with LMClient(cache_dir=tmp_path) as lm:
                resp = await lm.complete(LMRequest.chat("fake/speed", "s", "q"))
                return resp.key, _rows(tmp_path / "lm-cache.sqlite")

        key, rows = asyncio.run(go())
        assert key and key in rows
    finally:
        unregister_fake("speed")


def _run_speed(tmp_path: Path, ds: Path) -> Any:
    cfg = RunConfig(dataset=str(ds), planner="lm", model="fake/speed", judge="lexical")

    async def go() -> Any:
        lm = LMClient(cache_dir=tmp_path / "cache")
        try:
            return await Runner(cfg, load_dataset(str(ds)), tmp_path / "run", lm).run()
        finally:
            await lm.aclose()

    return asyncio.run(go())


def test_a_journal_that_cannot_be_written_ends_the_run_and_frees_the_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    register_fake("speed", [PLAN_REPLY])
    ds = make_dataset(tmp_path / "ds", 3)

    def full(self: Journal, line: bytes) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Journal, "append", full)
    try:
        with pytest.raises(OSError, match="No space left"):
            _run_speed(tmp_path, ds)
        monkeypatch.undo()
        res = _run_speed(tmp_path, ds)  # the lock went with the failed run
    finally:
        unregister_fake("speed")
    assert res.scored == 3


def test_the_cached_secret_list_follows_the_environment_and_registrations(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert redact("token abcdef123456 here") == "token abcdef123456 here"  # fills the cache
    monkeypatch.setenv("SPEED_TEST_API_KEY", "abcdef123456")
    assert redact("token abcdef123456 here") == "token [redacted] here"
    monkeypatch.setenv("SPEED_TEST_API_KEY", "zyxwvu987654")
    assert redact("abcdef123456 zyxwvu987654") == "abcdef123456 [redacted]"
    monkeypatch.delenv("SPEED_TEST_API_KEY")
    assert redact("zyxwvu987654") == "zyxwvu987654"
    monkeypatch.setattr(redact_mod, "_extra", set())
    register_secret("registered-later-42")
    assert redact("x registered-later-42 y") == "x [redacted] y"
    monkeypatch.setattr(redact_mod, "_extra", set())  # a replaced set is noticed too
    assert redact("x registered-later-42 y") == "x registered-later-42 y"


def test_a_paper_folder_swapped_for_an_outside_link_after_loading_is_refused(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "paper.md").write_text("# Secret\n\nprivate text\n")
    ds = make_dataset(tmp_path / "ds", 1)
    (task,) = load_dataset(str(ds))
    folder = ds / "papers" / "t0000"
    (folder / "paper.md").unlink()
    folder.rmdir()
    folder.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(InputError, match=r"task t0000: .*t0000 leads outside the dataset folder"):
        load_task_paper(task)


def test_which_file_of_a_paper_folder_is_read(tmp_path: Path) -> None:
    ds = make_dataset(tmp_path / "ds", 1)
    (task,) = load_dataset(str(ds))
    folder = ds / "papers" / "t0000"
    (folder / "paper.md").rename(folder / "b.md")
    (folder / "README.md").write_text("# Read me\n\nnot the paper\n")
    (folder / "a.md").mkdir()  # a folder named like a paper is not one
    assert "gate 0" in load_task_paper(task).text
    (folder / "t0000.md").write_text("# Named after the task\n\nthe id's file wins\n")
    assert "the id's file wins" in load_task_paper(task).text
    (folder / "sub").mkdir()
    (folder / "sub" / "main.tex").write_text(
        "\\documentclass{article}\\title{Deep LaTeX}\\begin{document}\\section{Intro}Some text.\\end{document}"
    )
    assert load_task_paper(task).source_kind == "latex"  # a .tex anywhere below makes it LaTeX


def test_answers_queued_by_a_loop_that_stopped_early_are_committed_by_the_next(tmp_path: Path) -> None:
    """An interrupt can end a loop between an answer being queued and its commit's turn; the next
    loop's first store commits it (the state is set up by hand: the interrupt itself is a race)."""
    cache = ResponseCache(tmp_path / "c.sqlite")
    first, second = LMRequest.chat("fake/x", "s", "first"), LMRequest.chat("fake/x", "s", "second")
    loop = asyncio.new_event_loop()
    cache._queue.append(_row(first.key, first.to_json(), LMResponse(text="a")))
    cache._committed = loop.create_future()
    loop.close()
    assert len(cache) == 0
    asyncio.run(cache.store(second, LMResponse(text="b")))
    assert cache.get(first.key) is not None and cache.get(second.key) is not None
    assert cache._committed is None and cache._queue == []
    cache.close()


def _resolving_inside(path: Path, root: Path) -> bool:
    """The check as it was: resolve the whole path."""
    real, top = os.path.realpath(path), os.path.realpath(root)
    return real == top or real.startswith(top + os.sep)


def test_the_cheap_inside_check_agrees_with_resolving_every_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ds"
    (root / "papers" / "a").mkdir(parents=True)
    (root / "papers" / "a" / "paper.md").write_text("# A\n")
    (tmp_path / "outside").mkdir()
    (root / "papers" / "in-link").symlink_to(root / "papers" / "a")
    (root / "papers" / "out-link").symlink_to(tmp_path / "outside")
    (root / "papers" / "a" / "up").symlink_to("../../..")
    cases = {
        "papers/a/paper.md": True,
        "papers/in-link/paper.md": True,
        "papers/out-link": False,
        "papers/a/up": False,
        "papers/a/../../../outside": False,
        "papers/./a": True,
        "papers//a": True,
        "papers/missing/x.md": True,
        "": True,
    }
    for rel, inside in cases.items():
        path = root / rel if rel else root
        assert _resolving_inside(path, root) is inside, rel
        assert tasks_mod._inside(path, root) is inside, rel
        assert tasks_mod._inside(str(root) + os.sep + rel, root) is inside, rel
    monkeypatch.chdir(tmp_path)  # a dataset given by a relative path
    for rel, inside in cases.items():
        assert tasks_mod._inside(Path("ds") / rel, Path("ds")) is inside, rel


def _scanned_objects(block: str) -> tuple[list[dict[str, Any]], list[str]]:
    """json_objects as it was before its raw_decode fast path: a brace scan of every object, then
    the tolerant loads."""
    out: list[dict[str, Any]] = []
    bad: list[str] = []
    s, i = parsing._strip_fences(block), 0
    while (start := s.find("{", i)) != -1:
        depth, j, in_str, esc = 0, start, False, False
        while j < len(s):
            c = s[j]
            if in_str:
                if esc:
                    esc = False
                elif c == "\\":
                    esc = True
                elif c == '"':
                    in_str = False
            elif c == '"':
                in_str = True
            elif c in "{}":
                depth += 1 if c == "{" else -1
                if depth == 0:
                    break
            j += 1
        chunk = s[start : j + 1]
        if depth:
            bad.append(chunk[:120])
            break
        obj = parsing._loads(chunk)
        if isinstance(obj, dict):
            out.append(obj)
        else:
            bad.append(chunk[:120])
        i = j + 1
    return out, bad


@pytest.mark.parametrize(
    "block",
    [
        '{"a": 1}\n{"b": "x}y"}',
        '[{"a": "q\\"}"}, {"b": {"c": [1, {"d": 2}]}}]',
        '{"a": "tab\there"} {"b": 1,}',
        '{"name": "x"} trailing {"broken": ',
        "{'py': True, 'n': None} {\"ok\": null}",
        '{"a": {"b": 1}}}{"c": 2}',
        '```json\n{"a": "\u201cq\u201d"}\n```',
        '{"a": NaN} {"b": [1, 2,]}',
    ],
)
def test_json_objects_reads_what_the_brace_scan_read(block: str) -> None:
    assert parsing.json_objects(block) == _scanned_objects(block)


def test_a_run_cancelled_midway_resumes_without_asking_again(tmp_path: Path) -> None:
    """A run stopped while tasks are in flight (as by Ctrl-C) leaves only whole files; the rerun
    finishes the rest and asks the model only for what it never answered."""
    fake = register_fake("speed", FakeModel([PLAN_REPLY], latency=0.05))
    ds = make_dataset(tmp_path / "ds", 40)
    cfg = RunConfig(dataset=str(ds), planner="lm", model="fake/speed", judge="lexical", concurrency=8)
    run = tmp_path / "run"

    async def first() -> None:
        lm = LMClient(cache_dir=tmp_path / "cache", concurrency=8)
        runner = Runner(cfg, load_dataset(str(ds)), run, lm)
        job = asyncio.ensure_future(runner.run())
        while runner.state.done < 10:
            await asyncio.sleep(0.01)
        job.cancel()
        with pytest.raises(asyncio.CancelledError):
            await job
        await lm.aclose()

    async def second() -> Any:
        lm = LMClient(cache_dir=tmp_path / "cache", concurrency=8)
        try:
            return await Runner(cfg, load_dataset(str(ds)), run, lm).run()
        finally:
            await lm.aclose()

    try:
        asyncio.run(first())
        asked = len(fake.calls)
        judged = {tid for tid, r in records(run).items() if r.judgement is not None}
        assert 10 <= len(judged) < 40
        res = asyncio.run(second())
    finally:
        unregister_fake("speed")
    assert res.scored == 40 and res.complete
    assert len(fake.calls) - asked <= 40 - len(judged)
    assert not [p for p in run.rglob(".*.tmp")]


def test_a_run_keeps_the_collector_off_the_heap_it_started_with_and_gives_it_back(tmp_path: Path) -> None:
    register_fake("speed", FakeModel([PLAN_REPLY], latency=0.01))
    ds = make_dataset(tmp_path / "ds", 4)
    cfg = RunConfig(dataset=str(ds), planner="lm", model="fake/speed", judge="lexical", concurrency=2)
    before = gc.get_freeze_count()
    during: list[int] = []

    async def go() -> None:
        lm = LMClient(cache_dir=tmp_path / "cache", concurrency=4)

        def progress(state: Any) -> None:
            during.append(gc.get_freeze_count())

        try:
            runs = [
                Runner(cfg, load_dataset(str(ds)), tmp_path / f"run{i}", lm, progress=progress).run()
                for i in range(2)
            ]
            await asyncio.gather(*runs)  # two runs at once: the heap is given back after the last
        finally:
            await lm.aclose()

    try:
        asyncio.run(go())
    finally:
        unregister_fake("speed")
    assert len(during) == 8 and min(during) > before + 10_000  # modules, schemas: all frozen
    assert gc.get_freeze_count() == before
