from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from abplan.bench.runner import RunConfig, Runner
from abplan.bench.tasks import Task, load_dataset
from abplan.cli import app
from abplan.errors import InputError, PendingRequests
from abplan.judges.base import JudgeOptions
from abplan.judges.lm_judges import match_sides
from abplan.lm import FakeModel, LMClient, ResponseCache
from abplan.schema import Ablation
from abplan.testing import FakeModels
from conftest import DEV_BENCH, need_shared
from run_files import failure_of, records
from scripted import Scripted

runner = CliRunner()


def tasks(mode: str) -> list[Task]:
    return load_dataset(str(need_shared(DEV_BENCH / mode)))


def run_bench(
    mode: str,
    out: Path,
    cache: Path,
    judge: str = "lm",
    offline: bool = False,
    fake: str = "bench",
    **kw: Any,
) -> dict[str, Any]:
    kw.setdefault("concurrency", 4)
    cfg = RunConfig(
        dataset=str(DEV_BENCH / mode),
        planner="lm",
        model=f"fake/{fake}",
        judge=judge,
        judge_models=[f"fake/{fake}"],
        **kw,
    )

    async def go() -> dict[str, Any]:
        lm = LMClient(cache_dir=cache, offline=offline)
        try:
            return (await Runner(cfg, tasks(mode), out, lm).run()).as_json()
        finally:
            await lm.aclose()

    return asyncio.run(go())


@pytest.fixture
def scripted(fake_lm: FakeModels) -> Any:
    ts = tasks("author") + tasks("reviewer")
    s = Scripted(ts)
    fm = fake_lm("bench", FakeModel(s))
    yield fm


def test_author_run_matches_hand_computation(tmp_path: Path, scripted: FakeModel) -> None:
    res = run_bench("author", tmp_path / "run", tmp_path / "cache")
    gold = {t.id: len(t.ablations_in_paper) for t in tasks("author")}
    # plan: 2 gold ablations + 3 junk -> TP = 2, FP = 3 -> P = 0.4, R = 2/n
    for t in res["per_task"]:
        assert t["compat"]["precision"] == pytest.approx(0.4)
        assert t["compat"]["recall"] == pytest.approx(2 / gold[t["task_id"]])
        k = min(5, gold[t["task_id"]])  # hits ranked 1 and 2 of an ideal k
        ideal = sum(1 / math.log2(i + 2) for i in range(k))
        assert t["compat"]["ndcg"] == pytest.approx((1 + 1 / math.log2(3)) / ideal)
    mean_r = sum(2 / n for n in gold.values()) / len(gold)
    assert res["scores"]["compat"]["recall"]["mean"] == pytest.approx(mean_r)
    assert res["complete"] and res["failed"] == 0
    run = tmp_path / "run"
    for name in ("config.json", "results.json", "results.csv", "report.md"):
        assert (run / name).is_file()
    assert not (run / "plans").exists()  # no file per task
    res = CliRunner().invoke(app, ["bench", "export", str(run), "--out", str(tmp_path / "ab")])
    assert res.exit_code == 0 and "wrote 4 plans" in res.output, res.output
    assert len(list((tmp_path / "ab").glob("*.jsonl"))) == 4
    first = next((tmp_path / "ab").glob("*.jsonl")).read_text().splitlines()
    assert list(json.loads(first[0]))[:5] == ["name", "ablated_part", "action", "replacement", "metrics"]
    recs = records(run)
    assert sorted(recs) == sorted(t.id for t in tasks("author"))
    assert all(r.plan is not None and r.judgement is not None and r.error is None for r in recs.values())
    assert len(scripted.calls) == 8  # one plan + one judge call per task


def test_reviewer_run_matches_hand_computation(tmp_path: Path, scripted: FakeModel) -> None:
    res = run_bench("reviewer", tmp_path / "run", tmp_path / "cache")
    for t in res["per_task"]:
        n = t["gold_size"]
        # plan: 1 missing ablation + 1 junk -> compat P = 1/2, R = 1/N; strict vs the missing list: same here
        assert t["compat"]["precision"] == pytest.approx(0.5)
        assert t["compat"]["recall"] == pytest.approx(1 / n)
        assert t["strict"]["precision"] == pytest.approx(0.5)
    assert len(scripted.calls) == 4 * 3  # plan, reviewer judge, missing-list matching


def test_rerun_makes_no_lm_call_and_gives_the_same_results(tmp_path: Path, scripted: FakeModel) -> None:
    a = run_bench("author", tmp_path / "run", tmp_path / "cache")
    n = len(scripted.calls)
    b = run_bench("author", tmp_path / "run", tmp_path / "cache")
    assert len(scripted.calls) == n
    assert a["scores"] == b["scores"]
    # a fresh run folder with the same cache: planning and judging again, but every answer is cached
    c = run_bench("author", tmp_path / "run2", tmp_path / "cache")
    assert len(scripted.calls) == n and c["scores"] == a["scores"]


def test_failures_are_recorded_and_retried(tmp_path: Path, fake_lm: FakeModels) -> None:
    ts = tasks("author")
    good = Scripted(ts)
    broken = {"on": True}

    def flaky(req: Any) -> str:
        if broken["on"] and "Learning to Act" in req.messages[1][1]:
            return "no plan here at all"
        return good(req)

    fake_lm("flaky", FakeModel(flaky))
    res = run_bench("author", tmp_path / "run", tmp_path / "cache", fake="flaky")
    assert res["failed"] == 1 and "iclr2017-314" in res["failures"] and not res["complete"]
    failed = records(tmp_path / "run")["iclr2017-314"]
    assert failed.error and failed.plan is None  # never an empty plan
    broken["on"] = False
    res2 = run_bench("author", tmp_path / "run", tmp_path / "cache", fake="flaky")
    assert res2["failed"] == 0 and res2["complete"]
    assert failure_of(tmp_path / "run", "iclr2017-314") is None
    assert records(tmp_path / "run")["iclr2017-314"].plan is not None


def test_config_change_is_refused(tmp_path: Path, scripted: FakeModel) -> None:
    from abplan.errors import ConfigError

    run_bench("author", tmp_path / "run", tmp_path / "cache")
    with pytest.raises(ConfigError, match="different k"):
        run_bench("author", tmp_path / "run", tmp_path / "cache", k=3)


def test_export_import_round_trip_equals_live_run(tmp_path: Path, scripted: FakeModel) -> None:
    live = run_bench("reviewer", tmp_path / "live", tmp_path / "live-cache")
    answer = Scripted(tasks("author") + tasks("reviewer"))
    from abplan.lm.batch import export_lines, import_results
    from abplan.lm.types import LMRequest

    rounds = 0
    while True:
        try:
            res = run_bench("reviewer", tmp_path / "batch", tmp_path / "batch-cache", offline=True)
            break
        except PendingRequests:
            rounds += 1
            cache = ResponseCache.in_dir(tmp_path / "batch-cache")
            lines = [json.loads(x) for group in export_lines(cache, "openai").values() for x in group]
            assert lines and all(x["url"] == "/v1/chat/completions" for x in lines)
            results = []
            for x in lines:
                raw = cache.pending_request(x["custom_id"])
                assert raw is not None
                text = answer(LMRequest.from_json(raw))
                results.append(
                    {
                        "id": "b",
                        "custom_id": x["custom_id"],
                        "error": None,
                        "response": {
                            "status_code": 200,
                            "body": {
                                "model": "m",
                                "choices": [
                                    {
                                        "index": 0,
                                        "message": {"role": "assistant", "content": text},
                                        "finish_reason": "stop",
                                    }
                                ],
                                "usage": {"prompt_tokens": 10, "completion_tokens": 5},
                            },
                        },
                    }
                )
            f = tmp_path / f"results-{rounds}.jsonl"
            f.write_text("".join(json.dumps(r) + "\n" for r in results))
            summary = import_results(cache, f)
            assert summary.imported == len(lines) and not cache.pending()
            assert rounds < 5
    assert rounds == 2  # plans first, then the judge requests that need them
    assert res["scores"] == live["scores"]
    assert len(scripted.calls) == 12  # only the live run reached the model


def test_anthropic_batch_export_and_import(tmp_path: Path) -> None:
    from abplan.lm.batch import export_lines, import_results
    from abplan.lm.types import LMRequest

    cache = ResponseCache.in_dir(tmp_path)
    req = LMRequest.chat("anthropic/claude-sonnet-4-5", "sys", "hello", max_tokens=100)
    cache.add_pending(req)
    (line,) = export_lines(cache, "anthropic")["anthropic/claude-sonnet-4-5"]
    rec = json.loads(line)
    assert (
        rec["custom_id"] == req.key
        and rec["params"]["system"] == "sys"
        and rec["params"]["model"] == "claude-sonnet-4-5"
    )
    out = tmp_path / "res.jsonl"
    out.write_text(
        json.dumps(
            {
                "custom_id": req.key,
                "result": {
                    "type": "succeeded",
                    "message": {
                        "model": "claude-sonnet-4-5",
                        "content": [{"type": "text", "text": "answer"}],
                        "stop_reason": "end_turn",
                        "usage": {"input_tokens": 10, "output_tokens": 2},
                    },
                },
            }
        )
        + "\n"
        + json.dumps({"custom_id": "zzz", "result": {"type": "errored"}})
        + "\n"
    )
    s = import_results(cache, out, price_factor=0.5)
    assert (s.imported, s.unknown) == (1, 1)
    got = cache.get(req.key)
    assert (
        got is not None
        and got.text == "answer"
        and got.cost_usd == pytest.approx(0.5 * (10 * 3 + 2 * 15) / 1e6)
    )


def test_import_rejects_bad_lines(tmp_path: Path) -> None:
    from abplan.lm.batch import import_results

    f = tmp_path / "bad.jsonl"
    f.write_text('{"custom_id": "x", "response": {}}\nnot json\n')
    with pytest.raises(InputError, match="line 2: not valid JSON"):
        import_results(ResponseCache.in_dir(tmp_path), f)


def test_sides_are_seeded_and_mapped_back(tmp_path: Path, fake_lm: FakeModels) -> None:
    gold = [
        Ablation(name=f"G{i}", ablated_part=f"part {i}", action="REMOVE", metrics=["m"]) for i in range(4)
    ]
    plan = [
        Ablation(name=f"P{i}", ablated_part=f"part {i}", action="REMOVE", metrics=["m"]) for i in range(4)
    ]
    seen_prompts: list[str] = []

    def judge(req: Any) -> str:
        user = req.messages[1][1]
        seen_prompts.append(user)
        a = [json.loads(x) for x in user.split("<side_A>")[1].split("</side_A>")[0].strip().splitlines()]
        b = {
            json.loads(x)["ablated_part"]: json.loads(x)["name"]
            for x in user.split("<side_B>")[1].split("</side_B>")[0].strip().splitlines()
        }
        rows = [
            {"name_in_A": x["name"], "name_in_B": b[x["ablated_part"]]}
            for x in a
            if x["ablated_part"] in ("part 0", "part 2")
        ]
        return "<predictions>\n" + "\n".join(json.dumps(r) for r in rows) + "\n</predictions>"

    fake_lm("sides", FakeModel(judge))
    task = Task(id="t1", mode="author", paper_title="T", ablations_in_paper=gold)
    gold_sides = []

    async def go(seed: int) -> Any:
        lm = LMClient(cache_dir=tmp_path / f"c{seed}-{len(seen_prompts)}")
        try:
            return await match_sides(task, gold, plan, "fake/sides", JudgeOptions(seed=seed), lm)
        finally:
            await lm.aclose()

    m1 = asyncio.run(go(1))
    m1b = asyncio.run(go(1))
    assert seen_prompts[0] == seen_prompts[1]  # same seed, same sides and order
    for seed in range(12):
        matches, _, _, detail = asyncio.run(go(seed))
        gold_sides.append(detail["gold_side"])
        assert {m.gold: m.plan for m in matches} == {"G0": ["P0"], "G1": [], "G2": ["P2"], "G3": []}
    assert m1[0] == m1b[0]
    assert set(gold_sides) == {"A", "B"}  # both assignments occur across seeds


def test_dataset_validation_names_line_and_field(tmp_path: Path) -> None:
    d = tmp_path / "ds"
    d.mkdir()
    (d / "tasks.jsonl").write_text(
        json.dumps(
            {
                "id": "a",
                "task": "author",
                "ablations_in_paper": [
                    {"name": "x", "ablated_part": "y", "action": "EXPLODE", "metrics": []}
                ],
            }
        )
        + "\n"
    )
    with pytest.raises(InputError, match=r"line 1: field 'ablations_in_paper\.0\.action'"):
        load_dataset(str(d))
    (d / "tasks.jsonl").write_text(json.dumps({"id": "a", "task": "reviewer", "review_text": ["r"]}) + "\n")
    with pytest.raises(InputError, match="line 1: field 'num_ablation_suggestions' is missing"):
        load_dataset(str(d))


def test_ablationbench_json_string_fields_and_lfs_pointers(tmp_path: Path) -> None:
    from abplan.bench.tasks import load_task_paper, task_from_record

    rec = {
        "id": "simsiam",
        "paper_title": "T",
        "paper_abstract": "A",
        "paper_path": "data/papers/x",
        "ablations_in_paper": json.dumps(
            [{"name": "n", "ablated_part": "p", "action": "REMOVE", "replacement": None, "metrics": ["acc"]}]
        ),
    }
    t = task_from_record(rec, "row 1", tmp_path, "author")
    assert t.ablations_in_paper[0].name == "n"
    rev = {"id": "r", "review_text": json.dumps(["**summary**: good"]), "num_ablation_suggestions": 2}
    assert task_from_record(rev, "row 2", tmp_path, "reviewer").review_text == ["**summary**: good"]
    paper_dir = tmp_path / "data" / "papers" / "x"
    paper_dir.mkdir(parents=True)
    (paper_dir / "main.tex").write_text(
        "version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123\n"
    )
    with pytest.raises(InputError, match="Git LFS pointer"):
        load_task_paper(t)


def test_parquet_clone_layout(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow", reason="needs pyarrow: pip install 'abplan[parquet]'")
    import pyarrow.parquet as pq

    root = tmp_path / "ablation-bench"
    (root / "data" / "ai-coscientist" / "author-ablation").mkdir(parents=True)
    (root / "data" / "papers" / "without_ablations" / "p1").mkdir(parents=True)
    (root / "data" / "papers" / "without_ablations" / "p1" / "p1.md").write_text(
        "# Paper One\n\n## Abstract\n\nWe propose things.\n\n## Method\n\nWe add a gate.\n"
    )
    gold = json.dumps(
        [
            {
                "name": "No gate",
                "ablated_part": "gate",
                "action": "REMOVE",
                "replacement": None,
                "metrics": ["acc"],
            }
        ]
    )
    table = pa.table(
        {
            "id": ["p1"],
            "paper_title": ["Paper One"],
            "paper_abstract": ["We propose things."],
            "paper_path": ["data/papers/without_ablations/p1"],
            "ablations_in_paper": [gold],
        }
    )
    pq.write_table(table, root / "data" / "ai-coscientist" / "author-ablation" / "test.parquet")
    res = runner.invoke(
        app, ["bench", "run", "--dataset", str(root), "--mode", "author", "--out", str(tmp_path / "run")]
    )
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "run" / "results.json").read_text())["scored"] == 1


def test_cli_offline_lexical_run_and_report(tmp_path: Path) -> None:
    need_shared(DEV_BENCH)
    for mode in ("author", "reviewer"):
        res = runner.invoke(
            app,
            [
                "bench",
                "run",
                "--dataset",
                str(DEV_BENCH / mode),
                "--planner",
                "offline",
                "--judge",
                "lexical",
                "--out",
                str(tmp_path / mode),
            ],
        )
        assert res.exit_code == 0, res.output
    rep = runner.invoke(
        app,
        [
            "bench",
            "report",
            str(tmp_path / "author"),
            str(tmp_path / "reviewer"),
            "--plot",
            str(tmp_path / "cmp.png"),
        ],
    )
    assert rep.exit_code == 0 and "| author | offline |" in rep.output
    a = json.loads((tmp_path / "author" / "results.json").read_text())["scores"]["compat"]["f1"]["mean"]
    r = json.loads((tmp_path / "reviewer" / "results.json").read_text())["scores"]["compat"]["f1"]["mean"]
    assert f"| offline | – | lexical | {a:.3f} | {r:.3f} | {(a + r) / 2:.3f} |" in rep.output
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "no plot" in rep.output
    else:
        assert (tmp_path / "cmp.png").read_bytes()[:4] == b"\x89PNG"


def test_cli_lm_judge_needs_a_model(tmp_path: Path) -> None:
    res = runner.invoke(
        app, ["bench", "run", "--dataset", str(tmp_path), "--judge", "lm", "--out", str(tmp_path / "r")]
    )
    assert res.exit_code == 2 and "--judge-model" in res.output


def test_cli_offline_bench_exits_3_then_export(tmp_path: Path, scripted: FakeModel) -> None:
    need_shared(DEV_BENCH)
    args = [
        "bench",
        "run",
        "--dataset",
        str(DEV_BENCH / "author"),
        "--planner",
        "lm",
        "--model",
        "fake/bench",
        "--out",
        str(tmp_path / "r"),
        "--offline",
    ]
    res = runner.invoke(app, args)
    assert res.exit_code == 3 and "4 LM requests pending" in res.output
    exp = runner.invoke(app, ["lm", "export", "--out", str(tmp_path / "batch")])
    assert exp.exit_code == 0
    (f,) = list((tmp_path / "batch").iterdir())
    assert f.name == "fake_bench.jsonl" and len(f.read_text().splitlines()) == 4
    assert scripted.calls == []


def test_max_cost_stops_cleanly(tmp_path: Path, fake_lm: FakeModels) -> None:
    from abplan.lm.types import LMResponse

    s = Scripted(tasks("author"))
    fake_lm("priced", FakeModel(lambda r: LMResponse(text=s(r), cost_usd=1.0)))
    res = run_bench(
        "author",
        tmp_path / "run",
        tmp_path / "cache",
        fake="priced",
        judge="lexical",
        max_cost=2.5,
        concurrency=1,
    )
    assert res["scored"] == 2 and res["skipped_for_budget"] == 2 and not res["complete"]


def test_eval_of_existing_ablationbench_plans(tmp_path: Path) -> None:
    ts = tasks("author")
    plans = tmp_path / "plans"
    plans.mkdir()
    for t in ts:
        (plans / f"{t.id}.jsonl").write_text(
            "".join(json.dumps(g.core()) + "\n" for g in t.ablations_in_paper)
        )
    res = runner.invoke(
        app,
        [
            "bench",
            "eval",
            "--dataset",
            str(DEV_BENCH / "author"),
            "--plans",
            str(plans),
            "--judge",
            "lexical",
            "--out",
            str(tmp_path / "ev"),
        ],
    )
    assert res.exit_code == 0, res.output
    out = json.loads((tmp_path / "ev" / "results.json").read_text())
    assert out["scores"]["compat"]["recall"]["mean"] == pytest.approx(1.0)


def test_judge_eval(tmp_path: Path, scripted: FakeModel) -> None:
    run_bench("author", tmp_path / "run", tmp_path / "cache")
    rows = []
    for t in tasks("author"):
        labels = [
            {"name_in_paper": g.name, "name_in_plan": f"Plan {g.name}" if i < 2 else None}
            for i, g in enumerate(t.ablations_in_paper)
        ]
        rows.append({"id": f"scripted/{t.id}", "labels": "\n".join(json.dumps(x) for x in labels)})
    f = tmp_path / "labels.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    res = runner.invoke(
        app, ["bench", "judge-eval", "--labels", str(f), "--run", str(tmp_path / "run"), "--judge", "lm"]
    )
    assert res.exit_code == 0, res.output
    assert "4 instances" in res.output and "accuracy 1.000" in res.output


def test_majority_vote(tmp_path: Path) -> None:
    from abplan.judges.base import Judgement, Match
    from abplan.judges.majority import vote

    t = Task(
        id="t", mode="author", ablations_in_paper=[Ablation(name="g", ablated_part="p", action="REMOVE")]
    )
    js = [
        Judgement(
            task_id="t", mode="author", judge="lm", plan_names=["a", "b"], matches=[Match(gold="g", plan=p)]
        )
        for p in (["a"], ["a", "b"], ["b"])
    ]
    v = vote(t, ["a", "b"], js, "majority")
    assert v.matches[0].plan == ["a", "b"]
    js2 = [
        *js[:2],
        Judgement(
            task_id="t", mode="author", judge="lm", plan_names=["a", "b"], matches=[Match(gold="g", plan=[])]
        ),
    ]
    assert vote(t, ["a", "b"], js2, "majority").matches[0].plan == ["a"]


def test_hugging_face_loader_on_local_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("datasets", reason="needs datasets: pip install 'abplan[hf]'")
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    from abplan.bench.tasks import load_hf

    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    d = tmp_path / "reviewer-ablation-bench"
    d.mkdir()
    table = pa.table(
        {
            "id": ["p1", "p2"],
            "paper_title": ["A", "B"],
            "paper_abstract": ["a", "b"],
            "paper_path": ["x", "y"],
            "review_text": [json.dumps(["r1", "r2"]), json.dumps(["r3"])],
            "num_ablation_suggestions": [2, 1],
        }
    )
    pq.write_table(table, d / "test.parquet")
    ts = load_hf(str(d), "test", mode="reviewer")
    assert (
        [t.id for t in ts] == ["p1", "p2"]
        and ts[0].review_text == ["r1", "r2"]
        and ts[1].num_ablation_suggestions == 1
    )


def test_unreadable_judge_reply_is_a_failure_not_no_match(tmp_path: Path, fake_lm: FakeModels) -> None:
    ts = tasks("author")
    good = Scripted(ts)
    state = {"broken": True}

    def judge_breaks(req: Any) -> str:
        if state["broken"] and "You compare two lists" in req.messages[0][1]:
            return "I would rather not say."
        return good(req)

    fake_lm("badjudge", FakeModel(judge_breaks))
    res = run_bench("author", tmp_path / "run", tmp_path / "cache", fake="badjudge")
    assert res["failed"] == 4 and res["scored"] == 0
    assert all("judge reply unreadable" in why for why in res["failures"].values())
    state["broken"] = False
    res2 = run_bench("author", tmp_path / "run", tmp_path / "cache", fake="badjudge")
    assert res2["complete"] and res2["scores"]["compat"]["precision"]["mean"] == pytest.approx(0.4)


def test_judge_eval_reads_ablationbench_parquet(tmp_path: Path, scripted: FakeModel) -> None:
    pa = pytest.importorskip("pyarrow", reason="needs pyarrow: pip install 'abplan[parquet]'")
    import pyarrow.parquet as pq

    run_bench("author", tmp_path / "run", tmp_path / "cache")
    ids, labels = [], []
    for t in tasks("author"):
        ids.append(f"o3-mini/{t.id}")
        rows = [
            {"name_in_paper": g.name, "name_in_plan": None} for g in t.ablations_in_paper
        ]  # a strict human
        labels.append("\n".join(json.dumps(r) for r in rows))
    pq.write_table(pa.table({"id": ids, "labels": labels}), tmp_path / "test.parquet")
    res = runner.invoke(
        app,
        [
            "bench",
            "judge-eval",
            "--labels",
            str(tmp_path / "test.parquet"),
            "--run",
            str(tmp_path / "run"),
            "--judge",
            "lm",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "accuracy" in res.output and "precision 0.000" in res.output


def test_a_bug_in_one_task_is_recorded_not_fatal(tmp_path: Path) -> None:
    from abplan.planners.base import PLANNERS, register_planner

    @register_planner("buggy")
    class Buggy:
        needs_model = False

        async def plan(self, paper: Any, opts: Any, lm: Any) -> Any:
            if "Learning to Act" in paper.title:
                raise KeyError("surprise")
            from abplan.planners.offline import plan_offline

            return plan_offline(paper, opts)

    try:
        res = runner.invoke(
            app,
            [
                "bench",
                "run",
                "--dataset",
                str(need_shared(DEV_BENCH / "author")),
                "--planner",
                "buggy",
                "--out",
                str(tmp_path / "r"),
            ],
        )
        assert res.exit_code == 1 and "Traceback" not in res.output
        out = json.loads((tmp_path / "r" / "results.json").read_text())
        assert out["scored"] == 3 and "internal error (KeyError" in out["failures"]["iclr2017-314"]
    finally:
        PLANNERS.unregister("buggy")


def test_cli_internal_error_is_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import abplan.cli as cli

    def boom(*a: Any, **k: Any) -> Any:
        raise RuntimeError("unexpected")

    monkeypatch.setattr(cli, "load_paper", boom)
    res = runner.invoke(app, ["read", "x.md"])
    assert res.exit_code == 1 and "internal error" in res.output and "Traceback" not in res.output
