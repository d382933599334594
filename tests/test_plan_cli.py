"""`abplan plan` for newcomers: the files planner, honest dry runs, file modes and names, help, checks."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from abplan.cli import app
from abplan.testing import FakeModels
from abplan.testing.fault_server import PLAN_REPLY
from conftest import EXAMPLE
from run_files import records
from synthetic import make_dataset

runner = CliRunner()


def error_lines(output: str) -> list[str]:
    return [ln for ln in output.splitlines() if "error" in ln]


# 1. the files planner


def test_files_planner_without_plans_is_a_one_line_error() -> None:
    res = runner.invoke(app, ["plan", str(EXAMPLE), "--planner", "files"])
    assert res.exit_code == 2, res.output
    assert len(error_lines(res.output)) == 1 and "--plans" in res.output
    assert "internal error" not in res.output and "KeyError" not in res.output


def test_files_planner_rerenders_a_plan_file_and_a_folder(tmp_path: Path) -> None:
    first = runner.invoke(app, ["plan", str(EXAMPLE), "-f", "json,jsonl", "-o", str(tmp_path / "a"), "-q"])
    assert first.exit_code == 0, first.output
    jsonl = tmp_path / "a" / "pixelcnnpp-author-offline.jsonl"
    res = runner.invoke(
        app, ["plan", str(EXAMPLE), "-p", "files", "--plans", str(jsonl), "-o", str(tmp_path / "b"), "-q"]
    )
    assert res.exit_code == 0, res.output
    md = (tmp_path / "b" / "pixelcnnpp-author-files.md").read_text()
    first_name = jsonl.read_text().split('"name": "')[1].split('"')[0]
    assert first_name and f"### {first_name}" in md
    folder = runner.invoke(app, ["plan", str(EXAMPLE), "-p", "files", "--plans", str(tmp_path / "a"), "-q"])
    assert folder.exit_code == 2 and "no plan file for task" in folder.output  # names the id it looked for
    missing = runner.invoke(app, ["plan", str(EXAMPLE), "-p", "files", "--plans", str(tmp_path / "nope")])
    assert missing.exit_code == 2 and "no such file or folder" in missing.output


# 2. dry runs per planner


def test_dry_run_without_a_model_is_offline_and_free() -> None:
    res = runner.invoke(app, ["plan", str(EXAMPLE), "--dry-run"])
    assert res.exit_code == 0, res.output
    assert "offline planner" in res.output and "total: 0 calls, no tokens, no cost" in res.output
    assert "propose" not in res.output and "$" not in res.output


def test_dry_run_lm_is_one_call(fake_lm: FakeModels) -> None:
    fm = fake_lm("dry", ["never asked"])
    res = runner.invoke(app, ["plan", str(EXAMPLE), "--dry-run", "-p", "lm", "--model", "fake/dry"])
    assert res.exit_code == 0, res.output
    assert re.search(r"^total: 1 call, ~[\d,]+ input and ~2,000 output tokens, ~\$0\.0000$", res.output, re.M)
    assert "1 calls" not in res.output and "propose" not in res.output and fm.calls == []


def test_dry_run_prices_a_known_model_and_admits_an_unknown_one() -> None:
    gpt = runner.invoke(app, ["plan", str(EXAMPLE), "--dry-run", "-p", "lm", "--model", "openai/gpt-4o"])
    assert gpt.exit_code == 0 and re.search(r"total: 1 call, .*~\$0\.0[1-9]\d\d", gpt.output), gpt.output
    odd = runner.invoke(app, ["plan", str(EXAMPLE), "--dry-run", "-p", "lm", "--model", "acme/unknown-9"])
    assert (
        odd.exit_code == 0
        and "cost unknown" in odd.output
        and "no price known for acme/unknown-9" in odd.output
    )


def test_dry_run_staged_is_one_plus_n_plus_one() -> None:
    base = [
        "plan",
        str(EXAMPLE),
        "--dry-run",
        "-p",
        "staged-extract",
        "--model",
        "openai/gpt-4o",
        "--samples",
    ]
    res = runner.invoke(app, [*base, "3"])
    assert res.exit_code == 0, res.output
    assert "total: 5 calls" in res.output and re.search(r"^read +1 call ×", res.output, re.M)
    assert re.search(r"^propose +3 calls ×", res.output, re.M)
    one = runner.invoke(app, [*base, "1"])
    assert "total: 2 calls" in one.output and "consolidate" not in one.output


@pytest.mark.parametrize("extra", [["--dry-run"], []])
def test_a_model_planner_without_a_model_says_so_before_reading(tmp_path: Path, extra: list[str]) -> None:
    for planner in ("staged", "lm"):
        res = runner.invoke(app, ["plan", str(tmp_path / "missing.md"), "-p", planner, *extra])
        assert res.exit_code == 2 and f"the {planner} planner needs a model" in res.output, res.output


# 3. file modes


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def modes(root: Path) -> set[int]:
    return {stat.S_IMODE(p.stat().st_mode) for p in root.rglob("*") if p.is_file()}


def bench_run(ds: Path, out: Path, *planner: str) -> int:
    res = runner.invoke(app, ["bench", "run", "--dataset", str(ds), *planner, "--out", str(out)])
    assert (out / "report.md").is_file() and (out / "journal.jsonl").is_file(), res.output
    return res.exit_code


@pytest.mark.usefixtures("umask_022")
def test_plans_and_run_folders_follow_the_umask(tmp_path: Path, fake_lm: FakeModels) -> None:
    res = runner.invoke(
        app, ["plan", str(EXAMPLE), "-o", str(tmp_path / "plans"), "-q", "-f", "md,html,jsonl,json"]
    )
    assert res.exit_code == 0 and modes(tmp_path / "plans") == {0o644}
    ds = make_dataset(tmp_path / "ds", 2)
    # the offline planner finds nothing in these two-line papers: failures are recorded, files written
    assert bench_run(ds, tmp_path / "run", "--planner", "offline") == 1
    assert {tid for tid, r in records(tmp_path / "run").items() if r.error} == {"t0000", "t0001"}
    assert modes(tmp_path / "run") == {0o644}
    fake_lm("umask", [PLAN_REPLY])  # a planner that plans, and its plans exported
    assert bench_run(ds, tmp_path / "planned", "--planner", "lm", "--model", "fake/umask") == 0
    assert (
        runner.invoke(
            app, ["bench", "export", str(tmp_path / "planned"), "-o", str(tmp_path / "ab")]
        ).exit_code
        == 0
    )
    assert len(list((tmp_path / "ab").glob("*.jsonl"))) == 2
    assert modes(tmp_path / "planned") == {0o644} and modes(tmp_path / "ab") == {0o644}
    os.umask(0o077)
    res = runner.invoke(app, ["plan", str(EXAMPLE), "-o", str(tmp_path / "private"), "-q"])
    assert res.exit_code == 0 and modes(tmp_path / "private") == {0o600}
    assert bench_run(ds, tmp_path / "private-run", "--planner", "lm", "--model", "fake/umask") == 0
    assert (tmp_path / "private-run" / "journal.jsonl").is_file()
    assert modes(tmp_path / "private-run") == {0o600}


# 4. names


def test_second_plan_gets_a_new_name_and_says_so(tmp_path: Path) -> None:
    out = tmp_path / "plans"
    first = runner.invoke(app, ["plan", str(EXAMPLE), "-o", str(out), "-q"])
    second = runner.invoke(app, ["plan", str(EXAMPLE), "-o", str(out), "-q"])
    assert first.exit_code == second.exit_code == 0
    assert f"wrote {out}/pixelcnnpp-author-offline.md, {out}/pixelcnnpp-author-offline.html" in first.output
    assert f"wrote {out}/pixelcnnpp-author-offline-2.md" in second.output
    assert "exists and was kept; --force overwrites" in second.output
    forced = runner.invoke(app, ["plan", str(EXAMPLE), "-o", str(out), "-q", "--force"])
    assert forced.exit_code == 0 and "offline-3" not in forced.output and "exists" not in forced.output
    reviewer = runner.invoke(app, ["plan", str(EXAMPLE), "-o", str(out), "-q", "-m", "reviewer"])
    assert "pixelcnnpp-reviewer-offline.md" in reviewer.output
    assert sorted(p.name for p in out.iterdir()) == [
        "pixelcnnpp-author-offline-2.html",
        "pixelcnnpp-author-offline-2.md",
        "pixelcnnpp-author-offline.html",
        "pixelcnnpp-author-offline.md",
        "pixelcnnpp-reviewer-offline.html",
        "pixelcnnpp-reviewer-offline.md",
    ]


def test_lm_plan_names_carry_the_model(tmp_path: Path, fake_lm: FakeModels) -> None:
    from test_lm_planner import REPLY

    fake_lm("named", [REPLY])
    res = runner.invoke(
        app, ["plan", str(EXAMPLE), "-p", "lm", "--model", "fake/named", "-o", str(tmp_path), "-q"]
    )
    assert res.exit_code == 0, res.output
    assert (tmp_path / "pixelcnnpp-author-lm-fake-named.md").is_file()


# 5. help and piped output


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["plan", "--help"],
        ["read", "--help"],
        ["bench", "run", "--help"],
        ["lm", "export", "--help"],
    ],
)
def test_help_shows_no_type_labels(args: list[str]) -> None:
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "--help" in res.output
    labels = re.findall(r"<(?:bool|str|int|float|path|list\[[a-z]+\])>", res.output)
    assert labels == [], labels


def test_plan_help_shows_clean_metavars_and_ablations() -> None:
    res = runner.invoke(app, ["plan", "--help"], env={"COLUMNS": "120"})
    assert re.search(r"--ablations\s+-k\s+N\s", res.output), res.output
    assert re.search(r"--model\s+MODEL\s", res.output) and re.search(r"--samples\s+N\s", res.output)
    assert re.search(r"--quiet\s+-q\s+Do not print", res.output)  # a flag: no metavar at all


def test_k_has_a_long_form(tmp_path: Path) -> None:
    for flag in ("-k", "--ablations"):
        res = runner.invoke(
            app, ["plan", str(EXAMPLE), flag, "1", "-f", "jsonl", "-o", str(tmp_path / flag), "-q"]
        )
        assert res.exit_code == 0, res.output
        assert len(next((tmp_path / flag).glob("*.jsonl")).read_text().splitlines()) == 1


def test_piped_output_does_not_wrap_paths(tmp_path: Path) -> None:
    out = tmp_path / ("deep-folder-name-" * 6) / "plans"
    res = runner.invoke(app, ["plan", str(EXAMPLE), "-o", str(out), "-q"])
    assert res.exit_code == 0, res.output
    assert f"wrote {out}/pixelcnnpp-author-offline.md, {out}/pixelcnnpp-author-offline.html\n" in res.output
    assert (
        "note: no model configured, so the offline planner is used; plan with an LM via --model" in res.output
    )


# 6. checks at the edge


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["-k", "0"], "-k"),
        (["-k", "-1"], "-k"),
        (["--ablations", "0"], "--ablations"),
        (["--timeout", "-5"], "--timeout"),
        (["--timeout", "0"], "--timeout"),
        (["--samples", "0"], "--samples"),
        (["--min-support", "0"], "--min-support"),
        (["--max-cost", "-1"], "--max-cost"),
        (["--temperature", "-1"], "--temperature"),
        (["--out", "a-file.txt"], "--out a-file.txt is a file"),
        (["--out", "a-file.txt/sub"], "which is a file"),
    ],
)
def test_bad_options_are_one_line_exit_2_before_reading(tmp_path: Path, args: list[str], flag: str) -> None:
    (tmp_path / "a-file.txt").write_text("x")
    res = runner.invoke(app, ["plan", str(tmp_path / "missing.md"), *args])  # the paper is never read
    assert res.exit_code == 2, res.output
    assert flag in res.output and "no such file" not in res.output
    assert len(error_lines(res.output)) == 1 and "Traceback" not in res.output


def test_a_bad_timeout_from_the_environment_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ABPLAN_TIMEOUT", "-1")
    res = runner.invoke(app, ["plan", str(EXAMPLE)])
    assert res.exit_code == 2 and "timeout must be a positive number" in res.output


def test_staged_api_refuses_zero_samples(tmp_path: Path) -> None:
    from abplan import plan_paper
    from abplan.errors import ConfigError

    with pytest.raises(ConfigError, match="samples must be a whole number of at least 1"):
        plan_paper(EXAMPLE, planner="staged-extract", model="fake/none", samples=0, cache_dir=tmp_path)


def test_a_review_first_is_not_reported_as_a_taken_name(tmp_path: Path) -> None:
    out = tmp_path / "plans"
    args = ["plan", str(EXAMPLE), "-m", "reviewer", "-f", "review,md", "-o", str(out), "-q"]
    first = runner.invoke(app, args)
    assert first.exit_code == 0 and "exists" not in first.output
    assert (
        f"wrote {out}/pixelcnnpp-reviewer-offline.review.md, {out}/pixelcnnpp-reviewer-offline.md"
        in first.output
    )
    second = runner.invoke(app, args)
    assert (
        f"({out}/pixelcnnpp-reviewer-offline.review.md exists and was kept; --force overwrites)"
        in second.output
    )
