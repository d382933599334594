"""Rebuild every author task of the development set (or the held-out set) from its LaTeX source, without a model.

    python benchmarks/datasets/dev/rebuild_author.py --sources SRC --out OUT [--fetch] [--set holdout]

SRC holds one folder per task id: the `path` folder of the task's repository at the commit recorded in
`sources-author.jsonl`. With `--fetch`, missing folders are cloned from GitHub (this needs the
network and `git`). Each task is built by `abplan dataset author`, replayed from the builder's
committed answers (`benchmarks/answers/dev-build/`), into OUT/built; `author_corrections.py` then
applies the hand corrections into OUT/author, the folder to run benchmarks on.

Only the tasks whose repository licence allows it (MIT, Apache-2.0, CC BY) are committed with their
text in `author/`; this script is how the others are obtained.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
MODEL = "local/frontier"
SETS = {  # name: (sources file, the builder's committed answers, the hand corrections)
    "dev": (
        HERE / "sources-author.jsonl",
        ROOT / "benchmarks" / "answers" / "dev-build",
        HERE / "corrections" / "author",
    ),
    "holdout": (
        HERE.parent / "holdout" / "sources-author.jsonl",
        ROOT / "benchmarks" / "answers" / "holdout-build",
        HERE.parent / "holdout" / "corrections" / "author",
    ),
    "holdout2": (
        HERE.parent / "holdout2" / "sources-author.jsonl",
        ROOT / "benchmarks" / "answers" / "holdout2-build",
        HERE.parent / "holdout2" / "corrections" / "author",
    ),
}


def sources(index: Path) -> list[dict[str, str]]:
    rows = [json.loads(x) for x in index.read_text().splitlines() if x.strip()]
    for r in rows:
        r["main"] = (r.get("main_tex") or "").split()[0]
        r["lic"] = r["licence"].split(" (")[0]
    return [r for r in rows if r["main"].endswith(".tex")]


def fetch(row: dict[str, str], dest: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        subprocess.run(["git", "clone", "-q", f"https://github.com/{row['repo']}", str(repo)], check=True)
        subprocess.run(["git", "-C", str(repo), "checkout", "-q", row["commit"]], check=True)
        shutil.copytree(repo / row["path"], dest)


def build(row: dict[str, str], src: Path, built: Path, answers: Path) -> int:
    cmd = [
        sys.executable, str(ROOT / "benchmarks" / "replay.py"),
        *(a for r in sorted(answers.iterdir()) if r.is_dir() for a in ("--answers", str(r))),
        "--", "dataset", "author", str(src / row["id"] / row["main"]), "--out", str(built),
        "--model", MODEL, "--id", row["id"], "--source-note", f"github:{row['repo']}@{row['commit']}",
        "--license", row["lic"],
    ]  # fmt: skip
    return subprocess.run(cmd, check=False, capture_output=True, text=True).returncode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sources", type=Path, required=True, help="one folder per task id")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--fetch", action="store_true", help="git-clone missing sources from GitHub")
    ap.add_argument("--set", choices=sorted(SETS), default="dev", help="which task set (default: dev)")
    ns = ap.parse_args()
    index, answers, corrections = SETS[ns.set]
    built = ns.out / "built"
    failed = []
    for row in sources(index):
        if not (ns.sources / row["id"]).is_dir():
            if not ns.fetch:
                print(f"{row['id']}: no source folder under {ns.sources} (use --fetch)")
                failed.append(row["id"])
                continue
            fetch(row, ns.sources / row["id"])
        rc = build(row, ns.sources, built, answers)
        print(f"{row['id']}: built (exit {rc})")
        if rc != 0:
            failed.append(row["id"])
    fix = [sys.executable, str(HERE / "author_corrections.py"), str(built), str(ns.out / "author")]
    fix += ["--corrections", str(corrections)]
    rc = subprocess.run(fix, check=False).returncode
    return 1 if failed or rc else 0


if __name__ == "__main__":
    raise SystemExit(main())
