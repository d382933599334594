"""Hand corrections of the built author tasks, each from a careful reading in `reviews/<id>*.md`.

    python benchmarks/datasets/dev/author_corrections.py BUILT_DIR OUT_DIR [--check] [--only ID ...] [--corrections DIR]

Copies the built task folder BUILT_DIR (tasks.jsonl, papers/) to OUT_DIR, applying the corrections in
`corrections/author/<id>.json`. A correction file holds:

- `drop`: a reason to leave the task out, or null;
- `title`: the paper's title when the build lost it (macros, a file name), or null;
- `cuts`: `{"text", "with", "why"}` edits of `paper.md`. `text` must occur exactly once in the built
  paper (or in the abstract, which is edited in both places); it is replaced by `with` (usually "");
- `gold_remove`: `{"name", "why"}`, gold items that are not ablations of this paper;
- `gold_add`: `{"name", "ablated_part", "action", "replacement", "metrics", "evidence", "section", "why"}`, items the
  build missed; `evidence` is a verbatim quote of the source, checked here against the built task's
  source file when that file is present.

A correction fails loudly if its text occurs more than once or an added quote is not in the source.
A cut whose text is absent is printed as a note: a newer builder may already cut it (the `--check`
signals and a reading of the notes tell whether the rebuild still leaks).
With `--check`, the leak signals abplan's builder uses are run again over each corrected paper, and any
that remain are printed (a reader decides; the signals over-fire on method text).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CORRECTIONS = HERE / "corrections" / "author"


def load(task_id: str, folder: Path = CORRECTIONS) -> dict[str, Any] | None:
    path = folder / f"{task_id}.json"
    return json.loads(path.read_text()) if path.is_file() else None


NOTES: list[str] = []


def _cut(text: str, old: str, new: str, where: str) -> str:
    n = text.count(old)
    if n == 0 and old.strip():
        NOTES.append(f"{where}: already gone from this build: {old[:70]!r}")
        return text
    if n != 1:
        raise SystemExit(f"{where}: correction text occurs {n} times, expected once: {old[:80]!r}")
    return text.replace(old, new)


def _gold_key(task: dict[str, Any]) -> str:
    return "ablations_in_paper" if "ablations_in_paper" in task else "ablations"


def _check_quote(task: dict[str, Any], quote: str) -> None:
    from abplan.bench.builder.evidence import quote_in

    src = Path(task.get("source", ""))
    if not src.is_file():
        return
    text = src.read_text(errors="replace")
    if src.suffix == ".tex":  # the whole paper, with its \input files, as the builder read it
        from abplan.papers.latex import flatten_tree

        text = flatten_tree(src.parent, src)[0]
    if not quote_in(quote, text):
        raise SystemExit(f"{task['id']}: added evidence is not in {src}: {quote[:80]!r}")


def apply(task: dict[str, Any], paper: str, fix: dict[str, Any]) -> tuple[dict[str, Any], str]:
    tid = task["id"]
    for c in fix.get("cuts", []):
        old, new = c["text"], c.get("with", "")
        in_abstract = old in (task.get("paper_abstract") or "")
        if in_abstract:
            task["paper_abstract"] = _cut(task["paper_abstract"], old, new, f"{tid} abstract")
        paper = _cut(paper, old, new, f"{tid} paper.md")
    if fix.get("title"):
        old_title = task.get("paper_title", "")
        first, _, rest = paper.partition("\n")
        paper = f"# {fix['title']}\n{rest}" if first.startswith("# ") else paper
        task["paper_title"] = fix["title"]
        if old_title and old_title != fix["title"]:
            task.setdefault("corrections", []).append(f"title was {old_title!r}")
    key = _gold_key(task)
    gold = task[key] if isinstance(task[key], list) else json.loads(task[key])
    for r in fix.get("gold_remove", []):
        kept = [g for g in gold if g["name"] != r["name"]]
        if len(kept) != len(gold) - 1:
            raise SystemExit(f"{tid}: gold item to remove not found: {r['name']!r}")
        gold = kept
    for a in fix.get("gold_add", []):
        item = {k: a.get(k) for k in ("name", "ablated_part", "action", "replacement", "metrics")}
        _check_quote(task, a["evidence"])
        item["evidence"] = [{"quote": a["evidence"], "section": a.get("section", ""), "verified": True}]
        gold.append(item)
    task[key] = gold
    if "num_ablations" in task:
        task["num_ablations"] = len(gold)
    task.setdefault("corrections", []).extend(
        [f"cut: {c['why']}" for c in fix.get("cuts", [])]
        + [f"gold removed: {r['name']} ({r['why']})" for r in fix.get("gold_remove", [])]
        + [f"gold added: {a['name']} ({a['why']})" for a in fix.get("gold_add", [])]
    )
    return task, paper


def _portable_source(task: dict[str, Any]) -> None:
    """Name the source by repository and commit, not by the path it had on the building machine."""
    prov = task.get("provenance") or {}
    version = prov.get("version", "")
    if version.startswith("github:") and Path(task.get("source", "")).is_absolute():
        task["source"] = prov["source"] = f"{version}:{Path(task['source']).name}"


def check(task: dict[str, Any], paper: str) -> list[str]:
    """The builder's sentence-level leak signals, rerun over each paragraph of the corrected paper."""
    from abplan.bench.builder.leak import text_leaks
    from abplan.schema import Ablation

    key = _gold_key(task)
    raw = task[key] if isinstance(task[key], list) else json.loads(task[key])
    gold = [Ablation.model_validate({k: v for k, v in g.items() if k != "evidence"}) for g in raw]
    title = task.get("paper_title", "")
    return [p[:160] for p in paper.split("\n\n") if not p.startswith("#") and text_leaks(p, gold, title)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("built", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--check", action="store_true", help="print leak signals left in each paper")
    ap.add_argument("--only", nargs="+", metavar="ID", help="apply and check only these tasks' corrections")
    ap.add_argument("--corrections", type=Path, default=CORRECTIONS, help="folder of <id>.json corrections")
    ns = ap.parse_args()
    ns.out.mkdir(parents=True, exist_ok=True)
    kept, dropped = [], []
    for line in (ns.built / "tasks.jsonl").read_text().splitlines():
        task = json.loads(line)
        fix = (load(task["id"], ns.corrections) if ns.only is None or task["id"] in ns.only else None) or {}
        if fix.get("drop"):
            dropped.append(f"{task['id']}: {fix['drop']}")
            continue
        paper_dir = ns.built / task["paper_path"]
        paper = (paper_dir / "paper.md").read_text()
        task, paper = apply(task, paper, fix)
        dest = ns.out / task["paper_path"]
        shutil.copytree(paper_dir, dest, dirs_exist_ok=True)
        (dest / "paper.md").write_text(paper)
        _portable_source(task)
        kept.append(task)
        if ns.check and (ns.only is None or task["id"] in ns.only):
            for p in check(task, paper):
                print(f"{task['id']}: leak signal: {p!r}")
    (ns.out / "tasks.jsonl").write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in kept))
    for n in NOTES:
        print(f"note: {n}")
    print(f"{len(kept)} tasks written to {ns.out}; dropped {len(dropped)}")
    for d in dropped:
        print(f"  dropped {d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
