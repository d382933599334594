"""Hand corrections of the built reviewer tasks, each from a careful reading in `reviews/<id>.md`.

    python benchmarks/datasets/dev/corrections.py BUILT_DIR OUT_DIR

Copies the built task folder BUILT_DIR (tasks.jsonl, papers/, exclusions.jsonl) to OUT_DIR, applying
the corrections below. Every correction is listed in README.md with its reason.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

DROP = {
    "iclr2017-329": "its only request names no part of the method (reviews/iclr2017-329.md)",
    "iclr2017-373": "its only request is a tuning complaint, not an ablation (reviews/iclr2017-373.md)",
    "iclr2017-401": "its only request is answered by Sec. 4.3 of the paper (reviews/iclr2017-401.md)",
}


def correct(task: dict[str, Any]) -> dict[str, Any]:
    gold = task["missing_ablations"]
    if task["id"] == "iclr2017-320":  # the paper's own model is not a replacement to try
        first = gold[0]
        first["replacement"] = [r for r in first["replacement"] if r != "locally connected bilinear dynamics"]
    if task["id"] == "iclr2017-334":  # "number of glimpses" asks for a comment, not an experiment
        task["missing_ablations"] = [g for g in gold if g["name"] != "Number of glimpses (saccades) allowed"]
    task["num_ablation_suggestions"] = len(task["missing_ablations"])
    return task


def main() -> int:
    src, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    kept = []
    for line in (src / "tasks.jsonl").read_text().splitlines():
        task = json.loads(line)
        if task["id"] in DROP:
            continue
        kept.append(correct(task))
        shutil.copytree(src / task["paper_path"], out / task["paper_path"], dirs_exist_ok=True)
    (out / "tasks.jsonl").write_text("".join(json.dumps(t, ensure_ascii=False) + "\n" for t in kept))
    ids = {t["id"] for t in kept}
    excl = [
        x for x in (src / "exclusions.jsonl").read_text().splitlines() if json.loads(x).get("task_id") in ids
    ]
    (out / "exclusions.jsonl").write_text("".join(x + "\n" for x in excl))
    print(f"{len(kept)} tasks written to {out}; dropped {len(DROP)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
