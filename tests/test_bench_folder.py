"""Datasets and run folders stay inside their folders: task ids, paper paths, temporary-file clean-up and
the one-run-per-folder lock."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from abplan.bench.runfolder import LOCK_NAME, RunLock, clean_temporaries, write_atomic
from abplan.bench.tasks import load_dataset, load_task_paper
from abplan.cli import app
from abplan.errors import ConfigError, InputError
from abplan.limits import MAX_ID_BYTES
from abplan.testing import FakeModels
from synthetic import make_dataset

runner = CliRunner()
GOLD = [{"name": "No gate", "ablated_part": "gate", "action": "REMOVE", "metrics": ["accuracy"]}]


def write_tasks(folder: Path, *records: dict[str, Any]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({"task": "author", "ablations_in_paper": GOLD, **r}) for r in records]
    (folder / "tasks.jsonl").write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture(autouse=True)
def _planner_model(fake_lm: FakeModels) -> Any:
    from abplan.testing.fault_server import PLAN_REPLY

    yield fake_lm("folder", [PLAN_REPLY])


def bench_run(ds: Path, out: Path, *extra: str) -> Any:
    args = [
        "bench",
        "run",
        "--dataset",
        str(ds),
        "--out",
        str(out),
        "--planner",
        "lm",
        "--model",
        "fake/folder",
    ]
    return runner.invoke(app, [*args, *extra])


# -- task ids -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tid", "message"),
    [
        ("../../x", "path separator"),
        ("a/b", "path separator"),
        ("a\\b", "path separator"),
        ("a\x00b", "control character U+0000"),
        ("line\nbreak", "control character U+000A"),
        ("tab\there", "control character U+0009"),
        ("\x7f", "control character U+007F"),
        (".", "must not be '.'"),
        ("..", "must not be '..'"),
        ("é" * (MAX_ID_BYTES // 2 + 1), f"longer than {MAX_ID_BYTES} bytes"),
        ("", "field 'id' is missing"),
    ],
)
def test_unsafe_task_ids_are_refused_naming_line_and_field(tmp_path: Path, tid: str, message: str) -> None:
    ds = write_tasks(tmp_path / "ds", {"id": "ok"}, {"id": tid})
    with pytest.raises(InputError, match=r"tasks\.jsonl line 2: field 'id'") as e:
        load_dataset(str(ds))
    assert message in str(e.value)


def test_ids_at_the_limit_and_plain_numbers_are_accepted(tmp_path: Path) -> None:
    longest = "é" * (MAX_ID_BYTES // 2)
    ds = write_tasks(tmp_path / "ds", {"id": longest}, {"id": 17}, {"id": "iclr2017-314.v2"})
    assert [t.id for t in load_dataset(str(ds))] == [longest, "17", "iclr2017-314.v2"]


@pytest.mark.parametrize("value", [[1], {"a": 1}, True, 1.5])
def test_ids_of_the_wrong_type_are_refused(tmp_path: Path, value: Any) -> None:
    ds = write_tasks(tmp_path / "ds", {"id": value})
    with pytest.raises(InputError, match="line 1: field 'id' must be a string"):
        load_dataset(str(ds))


def test_a_traversing_id_writes_nothing_outside_the_run_folder(tmp_path: Path) -> None:
    ds = make_dataset(tmp_path / "ds", 1)
    lines = (ds / "tasks.jsonl").read_text().replace('"id": "t0000"', '"id": "../../escaped"')
    (ds / "tasks.jsonl").write_text(lines)
    res = bench_run(ds, tmp_path / "runs" / "a")
    assert res.exit_code == 2 and "field 'id'" in res.output and "path separator" in res.output
    assert not list(tmp_path.rglob("escaped*"))


# -- paper paths --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["../elsewhere", "papers/../../elsewhere", "/etc"])
def test_paper_paths_outside_the_dataset_are_refused(tmp_path: Path, path: str) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "paper.md").write_text("# Secret\n\nnot part of the dataset\n")
    ds = write_tasks(tmp_path / "ds", {"id": "a", "paper_path": path})
    with pytest.raises(InputError, match=r"line 1: field 'paper_path'.*leads outside the dataset folder"):
        load_dataset(str(ds))


def test_a_symlinked_paper_folder_leading_outside_is_refused(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "paper.md").write_text("# Secret\n\nprivate text\n")
    ds = write_tasks(tmp_path / "ds", {"id": "a", "paper_path": "papers/a"})
    (ds / "papers").mkdir()
    (ds / "papers" / "a").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(InputError, match=r"line 1: field 'paper_path'.*leads outside"):
        load_dataset(str(ds))


def test_a_symlinked_paper_file_leading_outside_is_refused_at_read_time(tmp_path: Path) -> None:
    (tmp_path / "secret.md").write_text("# Secret\n\nprivate text\n")
    ds = write_tasks(tmp_path / "ds", {"id": "a", "paper_path": "papers/a"})
    (ds / "papers" / "a").mkdir(parents=True)
    (ds / "papers" / "a" / "paper.md").symlink_to(tmp_path / "secret.md")
    (task,) = load_dataset(str(ds))  # the folder itself is inside
    with pytest.raises(InputError, match=r"task a: .*paper\.md leads outside the dataset folder"):
        load_task_paper(task)


def test_a_symlink_inside_a_latex_folder_leading_outside_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secret.tex").write_text("private")
    ds = write_tasks(tmp_path / "ds", {"id": "a", "paper_path": "papers/a"})
    (ds / "papers" / "a").mkdir(parents=True)
    (ds / "papers" / "a" / "main.tex").write_text("\\title{T}\\begin{document}\\input{sec}\\end{document}")
    (ds / "papers" / "a" / "sec.tex").symlink_to(tmp_path / "secret.tex")
    (task,) = load_dataset(str(ds))
    with pytest.raises(InputError, match=r"sec\.tex leads outside the dataset folder"):
        load_task_paper(task)


def test_paper_paths_and_links_inside_the_dataset_are_read(tmp_path: Path) -> None:
    ds = make_dataset(tmp_path / "ds", 2)
    (ds / "papers" / "t0001" / "paper.md").unlink()
    (ds / "papers" / "t0001" / "paper.md").symlink_to(ds / "papers" / "t0000" / "paper.md")
    t0, t1 = load_dataset(str(ds))
    assert load_task_paper(t0).text == load_task_paper(t1).text
    assert "gate 0" in load_task_paper(t1).text


# -- temporary files ----------------------------------------------------------------------------------


def test_cleanup_touches_only_abplan_temporaries_in_abplan_folders(tmp_path: Path) -> None:
    out = tmp_path / "run"
    ours = [
        out / ".results.json.abc123_x.tmp",
        out / ".report.md.4242-7.tmp",
        out / "plans" / ".t1.jsonl.k2j3h4g5.tmp",
        out / "plans" / ".t1.json.99-0.tmp",
        out / "failures" / ".t1.json.12-3.tmp",
        out / "judgements" / "lexical" / ".t1.json.a1b2c3d4.tmp",
    ]
    theirs = [
        out / ".notes.txt.12-3.tmp",  # not one of our file names
        out / "mydata" / ".x.json.12-3.tmp",  # not one of our folders
        out / "plans" / "deep" / ".t1.json.12-3.tmp",  # not at our depth
        out / "plans" / ".t1.json.tmp",  # not our temporary name
        out / "plans" / ".editor-swap.tmp",
        out / "judgements" / ".t1.json.12-3.tmp",
    ]
    for f in ours + theirs:
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_text("x")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / ".t9.json.12-3.tmp").write_text("x")
    (out / "judgements" / "linked").symlink_to(outside)  # a symlinked folder is not followed
    assert clean_temporaries(out) == len(ours)
    assert not any(f.exists() for f in ours)
    assert all(f.exists() for f in theirs) and (outside / ".t9.json.12-3.tmp").exists()


def test_a_rerun_over_a_user_folder_keeps_the_users_tmp_files(tmp_path: Path) -> None:
    ds = make_dataset(tmp_path / "ds", 2)
    out = tmp_path / "run"
    keep = out / "notes" / ".draft.md.tmp"
    keep.parent.mkdir(parents=True)
    keep.write_text("mine")
    stale = out / "plans" / ".t0000.json.123-4.tmp"
    stale.parent.mkdir(parents=True)
    stale.write_text("half a plan")
    assert bench_run(ds, out).exit_code == 0
    assert keep.read_text() == "mine" and not stale.exists()


def test_write_atomic_replaces_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "a.json"
    write_atomic(str(target), b"one")
    write_atomic(str(target), b"two" * 100_000)
    assert target.read_bytes() == b"two" * 100_000
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]
    with pytest.raises(FileNotFoundError):
        write_atomic(str(tmp_path / "missing" / "a.json"), b"x")
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_write_atomic_skips_a_name_left_by_an_earlier_process(tmp_path: Path) -> None:
    import abplan.fsutil as rf

    n = next(rf._counter) + 1
    squatter = tmp_path / f".a.json.{os.getpid()}-{n}.tmp"
    squatter.write_text("left by a dead run with our pid")
    write_atomic(str(tmp_path / "a.json"), b"fresh")
    assert (tmp_path / "a.json").read_bytes() == b"fresh" and squatter.exists()


# -- the run folder -----------------------------------------------------------------------------------


def test_out_pointing_at_a_file_is_one_line_exit_2(tmp_path: Path) -> None:
    ds = make_dataset(tmp_path / "ds", 1)
    f = tmp_path / "file.txt"
    f.write_text("not a folder")
    for out in (f, f / "below"):
        res = bench_run(ds, out)
        assert res.exit_code == 2, res.output
        assert len(res.output.strip().splitlines()) == 1 and "Traceback" not in res.output
    assert f.read_text() == "not a folder"


@pytest.mark.parametrize(
    "content",
    [b"{not json", b"\xff\xfe garbage", b"[1, 2]", b'{"dataset": 3, "planner": []}', b'"just a string"'],
)
def test_corrupt_config_json_is_one_line_exit_2(tmp_path: Path, content: bytes) -> None:
    ds = make_dataset(tmp_path / "ds", 1)
    out = tmp_path / "run"
    out.mkdir()
    (out / "config.json").write_bytes(content)
    res = bench_run(ds, out)
    assert res.exit_code == 2, res.output
    line = res.output.strip()
    assert len(line.splitlines()) == 1 and "config.json" in line and "not a run configuration" in line
    assert (out / "config.json").read_bytes() == content  # left for the user to look at


def test_a_lock_file_that_is_not_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / LOCK_NAME).mkdir()
    with pytest.raises(ConfigError, match=r"not a regular file|cannot open the run lock"):
        RunLock(tmp_path).acquire()


HOLDER = """
import sys, time
from pathlib import Path
from abplan.bench.runfolder import RunLock
lock = RunLock(Path(sys.argv[1]))
lock.acquire()
print("locked", flush=True)
time.sleep(60)
"""


def _holder(folder: Path) -> subprocess.Popen[str]:
    p = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(folder)], stdout=subprocess.PIPE, text=True, env=os.environ.copy()
    )
    assert p.stdout is not None and p.stdout.readline().strip() == "locked"
    return p


def test_a_second_run_on_the_same_folder_is_refused_naming_the_holder(tmp_path: Path) -> None:
    ds = make_dataset(tmp_path / "ds", 2)
    out = tmp_path / "run"
    out.mkdir()
    holder = _holder(out)
    try:
        res = bench_run(ds, out)
        assert res.exit_code == 2, res.output
        line = res.output.strip()
        assert len(line.splitlines()) == 1 and f"pid {holder.pid}" in line and "another abplan run" in line
        assert not (out / "plans").exists()  # refused before touching anything
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.communicate(timeout=10)
    # the kernel dropped the dead holder's lock: its stale file does not block the next run
    assert (out / LOCK_NAME).read_text().strip() == str(holder.pid)
    res = bench_run(ds, out)
    assert res.exit_code == 0, res.output
    assert (out / LOCK_NAME).read_text().strip() == str(os.getpid())


def test_two_cli_runs_at_once_one_is_refused(tmp_path: Path) -> None:
    """Two real `abplan bench run` processes over one folder: the second exits 2 and pays nothing."""
    from abplan.testing import FaultServer

    ds = make_dataset(tmp_path / "ds", 5)
    out = tmp_path / "run"
    with FaultServer(latency=1.0) as server:  # the first run takes 5 s: time for the second to start
        env = {**os.environ, "ABPLAN_CACHE_DIR": str(tmp_path / "cache"), "ABPLAN_BASE_URL": server.base_url}
        args = [sys.executable, "-m", "abplan", "bench", "run", "--dataset", str(ds), "--planner", "lm"]
        args += ["--model", "local/test-model", "--out", str(out), "-j", "1"]
        first = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 60
        while server.requests == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.requests > 0, "the first run never started"
        second = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
        assert first.poll() is None, "the first run ended before the second one started"
        _, first_err = first.communicate(timeout=120)
        assert first.returncode == 0, first_err
        assert second.returncode == 2, second.stderr
        lines = [x for x in second.stderr.splitlines() if x.strip()]
        assert len(lines) == 1 and f"pid {first.pid}" in lines[0]
        assert server.requests == 5  # every task asked once, by the first run; none by the second
