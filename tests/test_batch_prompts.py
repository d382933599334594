"""Answering LM requests by hand: `abplan lm export --format prompts`, reply files, `abplan lm import DIR`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from abplan.cli import app
from abplan.lm import FakeModel, LMRequest, ResponseCache
from abplan.testing import FakeModels
from conftest import DEV_BENCH, EXAMPLE, need_shared
from scripted import Scripted
from test_staged import StagedScript

runner = CliRunner()
Answer = Callable[[LMRequest, str], str]


@pytest.fixture
def never_called(fake_lm: FakeModels) -> Iterator[FakeModel]:
    """The model named in the runs: offline, nothing may reach it."""
    fm = fake_lm("hand", FakeModel(["never used"]))
    yield fm


def index(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in (folder / "index.jsonl").read_text().splitlines()]


def answer_all(folder: Path, cache: ResponseCache, answer: Answer) -> list[dict[str, Any]]:
    """Play the answerers: read each prompt file, write the reply beside it."""
    rows = index(folder)
    for row in rows:
        raw = cache.pending_request(row["key"])
        assert raw is not None
        req = LMRequest.from_json(raw)
        prompt = (folder / row["path"]).read_text()
        flat = " ".join(prompt.split())  # long lines are wrapped for reading
        for _, content in req.messages:  # everything the model would see is in the file
            assert " ".join(content.split()) in flat
        reply = answer(req, prompt)
        (folder / row["path"]).with_name(row["name"] + ".response.txt").write_text(reply)
    return rows


def rounds_until_done(
    args: list[str],
    tmp_path: Path,
    answer: Answer,
    shards: int,
    check: Callable[[int, list[dict[str, Any]]], None],
) -> tuple[int, str]:
    cache = ResponseCache.in_dir(tmp_path / "cache")
    for n in range(1, 8):
        res = runner.invoke(app, args)
        if res.exit_code == 0:
            return n - 1, res.output
        assert res.exit_code == 3, res.output
        pending = runner.invoke(app, ["lm", "pending"])
        assert pending.exit_code == 0 and int(pending.output) == len(cache.pending()) > 0
        folder = tmp_path / f"round-{n}"
        exp = runner.invoke(
            app, ["lm", "export", "--format", "prompts", "--out", str(folder), "--shards", str(shards)]
        )
        assert exp.exit_code == 0, exp.output
        assert "README.txt" in exp.output and (folder / "README.txt").is_file()
        rows = answer_all(folder, cache, answer)
        for shard in range(1, shards + 1):  # each answerer's list holds exactly its files
            listed = (folder / f"shard-{shard:02d}.txt").read_text().splitlines()
            assert listed == sorted(str((folder / r["path"]).resolve()) for r in rows if r["shard"] == shard)
        check(n, rows)
        imp = runner.invoke(app, ["lm", "import", str(folder)])
        assert imp.exit_code == 0, imp.output
        assert f"imported {len(rows)} repl" in imp.output and "estimated" in imp.output
    raise AssertionError("no end after 7 rounds")


def test_staged_plan_by_hand_samples_on_different_shards_and_repair(
    tmp_path: Path, never_called: FakeModel, fake_lm: FakeModels
) -> None:
    script = StagedScript()
    live_fm = fake_lm("staged", FakeModel(StagedScript()))
    live_args = [
        "plan",
        str(EXAMPLE),
        "--planner",
        "staged-extract",
        "--model",
        "fake/staged",
        "--samples",
        "3",
    ]
    live_args += [
        "-f",
        "json",
        "-o",
        str(tmp_path / "live"),
        "-q",
        "--cache-dir",
        str(tmp_path / "live-cache"),
    ]
    live = runner.invoke(app, live_args)
    assert live.exit_code == 0 and len(live_fm.calls) == 5, live.output
    kinds: list[list[str]] = []

    def answer(req: LMRequest, prompt: str) -> str:
        if req.json_schema is not None and len(req.messages) == 2:
            assert "OUTPUT FORMAT" in prompt and "one JSON object valid against this JSON schema" in prompt
            return "Sure! Here is what the paper contains: a mixture likelihood and dropout."  # malformed
        return script(req)

    def check(n: int, rows: list[dict[str, Any]]) -> None:
        kinds.append(sorted(r["kind"] for r in rows))
        if n == 3:  # the proposals: three samples of one prompt, one per answerer
            assert [r["kind"] for r in rows] == ["sample"] * 3
            assert len({r["group"] for r in rows}) == 1
            assert sorted(r["shard"] for r in rows) == [1, 2, 3]
            assert all(r["path"].startswith(f"shard-{r['shard']:02d}/") for r in rows)

    args = ["plan", str(EXAMPLE), "--planner", "staged-extract", "--model", "fake/hand", "--samples", "3"]
    args += ["-f", "json", "-o", str(tmp_path / "hand"), "-q", "--offline"]
    rounds, _ = rounds_until_done(args, tmp_path, answer, 3, check)
    # read, its repair (the prose reply went through the planner's repair step), propose, consolidate
    assert kinds == [["structured"], ["structured-repair"], ["sample"] * 3, ["chat"]]
    assert rounds == 4 and never_called.calls == []
    assert not ResponseCache.in_dir(tmp_path / "cache").pending()
    got = json.loads(next((tmp_path / "hand").glob("*.json")).read_text())
    want = json.loads(next((tmp_path / "live").glob("*.json")).read_text())
    assert got["ablations"] == want["ablations"] and len(got["ablations"]) >= 2


def test_majority_judge_runs_of_one_task_go_to_different_shards(tmp_path: Path, fake_lm: FakeModels) -> None:
    need_shared(DEV_BENCH)
    from abplan.bench.tasks import load_dataset

    tasks = load_dataset(str(DEV_BENCH / "author"))
    live_fm = fake_lm("bench", FakeModel(Scripted(tasks)))
    base = [
        "bench",
        "run",
        "--dataset",
        str(DEV_BENCH / "author"),
        "--planner",
        "lm",
        "--model",
        "fake/bench",
    ]
    base += ["--judge", "majority", "--judge-model", "fake/bench"]
    live = runner.invoke(app, [*base, "--out", str(tmp_path / "live"), "--cache-dir", str(tmp_path / "lc")])
    assert live.exit_code == 0, live.output
    live_calls = len(live_fm.calls)
    answerer = Scripted(tasks)
    judged: list[list[dict[str, Any]]] = []

    def check(n: int, rows: list[dict[str, Any]]) -> None:
        if all(r["kind"] == "judge-author" for r in rows):
            judged.append(rows)

    rounds, _ = rounds_until_done(
        [*base, "--out", str(tmp_path / "hand"), "--offline"], tmp_path, lambda r, _: answerer(r), 3, check
    )
    assert rounds == 2 and len(judged) == 1 and len(live_fm.calls) == live_calls > 0  # offline: no call
    (rows,) = judged
    assert len(rows) == 3 * len(tasks)
    by_group: dict[str, list[int]] = {}
    for r in rows:
        by_group.setdefault(r["group"], []).append(r["shard"])
    assert len(by_group) == len(tasks)  # one group per task: its three shuffled runs
    assert all(sorted(s) == [1, 2, 3] for s in by_group.values())
    assert len({r["key"] for r in rows}) == len(rows)  # three different requests, not one asked thrice
    want = json.loads((tmp_path / "live" / "results.json").read_text())
    got = json.loads((tmp_path / "hand" / "results.json").read_text())
    assert got["scores"] == want["scores"] and got["complete"]


def test_reviewer_judge_questions_spread_over_shards(tmp_path: Path) -> None:
    """A reviewer task asks two judge questions per run: each question's three runs on three shards,
    and, as a preference, every shard gets one run of each question rather than two of one."""
    need_shared(DEV_BENCH)
    from abplan.bench.tasks import load_dataset

    tasks = load_dataset(str(DEV_BENCH / "reviewer"))
    answerer = Scripted(tasks)
    judged: list[list[dict[str, Any]]] = []

    def check(n: int, rows: list[dict[str, Any]]) -> None:
        if all(r["kind"].startswith("judge") for r in rows):
            judged.append(rows)

    args = ["bench", "run", "--dataset", str(DEV_BENCH / "reviewer"), "--planner", "lm", "--model", "fake/x"]
    args += ["--judge", "majority", "--judge-model", "fake/x", "--out", str(tmp_path / "run"), "--offline"]
    rounds, _ = rounds_until_done(args, tmp_path, lambda r, _: answerer(r), 3, check)
    assert rounds == 2 and len(judged) == 1
    by_family: dict[str, list[tuple[str, str, int]]] = {}
    for r in judged[0]:
        by_family.setdefault(r["family"], []).append((r["kind"], r["group"], r["shard"]))
    assert len(by_family) == len(tasks)
    two_questions = 0
    for items in by_family.values():
        for kind in {k for k, _, _ in items}:
            # Two shuffles of a short list can coincide: then they are one request (one cache key).
            runs = [(g, s) for k, g, s in items if k == kind]
            assert len({g for g, _ in runs}) == 1 and len({s for _, s in runs}) == len(runs) >= 2
        if len(items) == 6:
            two_questions += 1
            assert sorted(s for _, _, s in items) == [1, 1, 2, 2, 3, 3]
    assert two_questions > 0  # some task has missing ablations, so both questions were asked
    assert json.loads((tmp_path / "run" / "results.json").read_text())["complete"]


def test_group_larger_than_the_shards_is_an_error(tmp_path: Path) -> None:
    cache = ResponseCache.in_dir(tmp_path / "cache")
    for seed in range(3):
        cache.add_pending(
            LMRequest.chat("fake/x", "sys", "Paper title: T\n\npropose", temperature=0.7, seed=seed)
        )
    cache.add_pending(LMRequest.chat("fake/x", "sys", "another prompt"))
    res = runner.invoke(
        app, ["lm", "export", "--format", "prompts", "--out", str(tmp_path / "o"), "--shards", "2"]
    )
    assert res.exit_code == 2
    assert "3 requests are samples of one prompt" in res.output and "--shards 3" in res.output
    assert not (tmp_path / "o").exists()
    one = runner.invoke(app, ["lm", "export", "--format", "prompts", "--out", str(tmp_path / "one")])
    assert one.exit_code == 0 and "one answerer sees them all" in one.output
    assert len(list((tmp_path / "one").glob("*.prompt.txt"))) == 4
    again = runner.invoke(app, ["lm", "export", "--format", "prompts", "--out", str(tmp_path / "one")])
    assert again.exit_code == 2 and "already holds an export" in again.output


def make_export(
    tmp_path: Path, n: int, structured: bool = False
) -> tuple[ResponseCache, Path, list[dict[str, Any]]]:
    cache = ResponseCache.in_dir(tmp_path / "cache")
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}
    for i in range(n):
        cache.add_pending(
            LMRequest.chat(
                "openai/gpt-4o", "sys", f"question {i}", json_schema=schema if structured else None
            )
        )
    folder = tmp_path / "out"
    res = runner.invoke(app, ["lm", "export", "--format", "prompts", "--out", str(folder)])
    assert res.exit_code == 0, res.output
    return cache, folder, index(folder)


def reply_path(folder: Path, row: dict[str, Any]) -> Path:
    return folder / row["path"].replace(".prompt.txt", ".response.txt")


def test_missing_empty_binary_and_unknown_replies_are_reported_not_cached(tmp_path: Path) -> None:
    cache, folder, rows = make_export(tmp_path, 4)
    good, empty, binary, missing = rows
    reply_path(folder, good).write_text("the answer\n")
    reply_path(folder, empty).write_text("  \n")
    reply_path(folder, binary).write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    (folder / "r0099-0123456789.response.txt").write_text("an answer to nothing")
    res = runner.invoke(app, ["lm", "import", str(folder)])
    assert res.exit_code == 2, res.output
    out = " ".join(res.output.split())
    assert "imported 1 reply" in out and "cost 0" in out
    assert f"1 without a reply (left pending): {missing['name']}" in out
    assert f"{empty['name']}.response.txt: empty reply: not imported" in out
    assert f"{binary['name']}.response.txt: binary" in out
    assert "r0099-0123456789.response.txt: no request of that name" in out
    assert "3 reply files rejected" in out
    misplaced = tmp_path / "out" / "shard-02"
    misplaced.mkdir()
    (misplaced / f"{missing['name']}.response.txt").write_text("in the wrong folder")
    res = runner.invoke(app, ["lm", "import", str(folder)])
    out = " ".join(res.output.split())
    assert f"belongs at {missing['name']}.response.txt, beside its prompt" in out
    assert cache.get(missing["key"]) is None
    (misplaced / f"{missing['name']}.response.txt").unlink()
    hit = cache.get(good["key"])
    assert hit is not None and hit.text == "the answer\n" and hit.model == "hand"
    assert hit.input_tokens > 0 and hit.output_tokens > 0 and hit.cost_usd == 0.0
    assert sorted(k for k, _ in cache.pending()) == sorted(r["key"] for r in (empty, binary, missing))
    # the good reply again: already cached, not a second entry
    for p in folder.glob("*.response.txt"):
        if p != reply_path(folder, good):
            p.unlink()
    again = runner.invoke(app, ["lm", "import", str(folder)])
    assert again.exit_code == 0 and f"1 already cached: {good['name']}" in again.output
    assert len(cache) == 1


def test_reply_for_a_request_no_longer_pending(tmp_path: Path) -> None:
    cache, folder, rows = make_export(tmp_path, 2)
    for r in rows:
        reply_path(folder, r).write_text("x")
    cache.clear_pending()
    res = runner.invoke(app, ["lm", "import", str(folder)])
    assert res.exit_code == 2 and res.output.count("not pending in this cache") == 2
    assert len(cache) == 0


def test_structured_replies_are_cached_as_written(tmp_path: Path) -> None:
    cache, folder, rows = make_export(tmp_path, 3, structured=True)
    texts = ['{"a": 1}', '```json\n{"a": 1}\n```', '{"b": 2}']
    for r, t in zip(rows, texts, strict=True):
        reply_path(folder, r).write_text(t)
    prompt = (folder / rows[0]["path"]).read_text()
    assert '"required": [\n    "a"\n  ]' in prompt and "no code fence" in prompt
    res = runner.invoke(app, ["lm", "import", str(folder)])
    assert res.exit_code == 0, res.output
    assert "imported 3 replies" in res.output
    flagged = [r["name"] for r in rows[1:]]
    for name in flagged:
        assert f"{name}: not one JSON object" in res.output
    assert rows[0]["name"] + ": not one" not in res.output
    for r, t in zip(rows, texts, strict=True):
        hit = cache.get(r["key"])
        assert hit is not None and hit.text == t  # never edited


def test_reply_file_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import abplan.lm.prompt_import as pi

    cache, folder, rows = make_export(tmp_path, 2)
    monkeypatch.setattr(pi, "MAX_RESPONSE_FILE_BYTES", 1024 * 1024)
    reply_path(folder, rows[0]).write_text("y" * (1024 * 1024 + 1))
    reply_path(folder, rows[1]).write_text("fine")
    res = runner.invoke(app, ["lm", "import", str(folder)])
    assert res.exit_code == 2 and "larger than 1 MiB" in res.output
    assert cache.get(rows[0]["key"]) is None and cache.get(rows[1]["key"]) is not None


def test_broken_index_is_one_line_error(tmp_path: Path) -> None:
    _, folder, rows = make_export(tmp_path, 1)
    (folder / "index.jsonl").write_text(json.dumps({**rows[0], "path": "../../etc/x.prompt.txt"}) + "\n")
    res = runner.invoke(app, ["lm", "import", str(folder)])
    assert res.exit_code == 2 and "index.jsonl line 1" in res.output and "Traceback" not in res.output
    empty = tmp_path / "empty"
    empty.mkdir()
    res = runner.invoke(app, ["lm", "import", str(empty)])
    assert res.exit_code == 2 and "no index.jsonl" in res.output


def test_assign_shards_balances_sizes_and_keeps_groups_apart() -> None:
    from abplan.lm.prompt_files import assign_shards

    sizes = [90, 80, 70, 60, 50, 40, 30, 20, 10, 5, 5, 5]
    groups = ["g"] * 3 + [f"s{i}" for i in range(9)]
    got = assign_shards(groups, groups, sizes, 3)
    assert sorted(got[:3]) == [0, 1, 2]  # the three members of g apart
    loads = [sum(z for z, s in zip(sizes, got, strict=True) if s == k) for k in range(3)]
    assert max(loads) - min(loads) <= max(sizes[3:])  # largest-first onto the least loaded shard
    # Families spread where possible: two groups of two, one family, two shards -> one of each per shard.
    fam = assign_shards(["a", "a", "b", "b"], ["f"] * 4, [100, 100, 1, 1], 2)
    assert sorted(fam[:2]) == [0, 1] and sorted(fam[2:]) == [0, 1]
    assert assign_shards(["a", "a"], ["a", "a"], [1, 1], 1) == [0, 0]


def test_describe_samples_repairs_and_judges() -> None:
    from abplan import prompts
    from abplan.lm.prompt_files import describe
    from abplan.lm.repair import repair_request

    s0 = LMRequest.chat("fake/a", "sys", "Paper title: T\n\nPropose.", temperature=0.7, seed=0)
    s1 = LMRequest.chat("fake/b", "sys", "Paper title: T\n\nPropose.", temperature=0.7, seed=1)
    other = LMRequest.chat("fake/a", "sys", "Paper title: T\n\nRead it.")
    fix = repair_request(s1, "garbage", "again please")
    (k0, g0, f0), (k1, g1, _), (ko, go, fo), (kf, gf, _) = map(describe, (s0, s1, other, fix))
    assert (k0, k1, ko, kf) == ("sample", "sample", "chat", "sample-repair")
    assert g0 == g1 == gf != go and f0 == fo  # same paper, different prompt
    system = prompts.render("judge_author_system")
    runs = [
        LMRequest.chat(
            "fake/j", system, f"Paper title: T\n\nAbstract:\nA.\n\nList A:\n<side_A>\n{a}\n</side_A>"
        )
        for a in ("x", "y")
    ]
    (ka, ga, _), (_, gb, _) = map(describe, runs)
    assert ka == "judge-author" and ga == gb
    other_task = LMRequest.chat("fake/j", system, "Paper title: U\n\nAbstract:\nB.\n\nList A:\n<side_A>\nx")
    assert describe(other_task)[1] != ga


def test_prompt_file_sections() -> None:
    from abplan.lm.prompt_files import render_prompt
    from abplan.lm.repair import repair_request

    req = LMRequest.chat("fake/a", "the system", "the question", temperature=0.7, seed=3)
    text = render_prompt("r0001-0123456789", repair_request(req, "the earlier reply", "answer again"))
    heads = [x for x in text.splitlines() if x.startswith("======== ")]
    assert heads == [
        "======== SYSTEM MESSAGE [r0001-0123456789] ========",
        "======== USER MESSAGE [r0001-0123456789] ========",
        "======== ASSISTANT MESSAGE (the earlier reply) [r0001-0123456789] ========",
        "======== USER MESSAGE (answer this one) [r0001-0123456789] ========",
        "======== END OF REQUEST [r0001-0123456789] ========",
    ]
    assert "temperature: 0.7" in text and "answer its last user message" in text
    assert "r0001-0123456789.response.txt" in text and "OUTPUT FORMAT" not in text
    assert "seed" not in text and "fake/a" not in text  # the answerer is blind to sample index and model
    default = render_prompt("r0002-0123456789", LMRequest.chat("fake/a", "s", "q", temperature=None))
    assert "the model's default" in default


def test_long_lines_are_wrapped_for_reading_only() -> None:
    from abplan.lm.prompt_files import WRAP, render_prompt, wrap_for_reading

    para = " ".join(f"word{i}" for i in range(2000)) + " " + "x" * (WRAP + 40)
    text = f"Title\n\n{para}\n\n  indented short line"
    wrapped = wrap_for_reading(text)
    assert wrapped.split() == text.split()  # the same words, in the same order
    assert "\n  indented short line" in wrapped  # short lines are left alone
    long_lines = [x for x in wrapped.splitlines() if len(x) > WRAP]
    assert long_lines == ["x" * (WRAP + 40)]  # a word is never broken
    req = LMRequest.chat("hand/m", "s", text, max_tokens=10)
    assert "word1999" in render_prompt("r0001-abc", req) and "wrapped for reading" in render_prompt("r", req)
