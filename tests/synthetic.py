"""Synthetic benchmark datasets for tests and benchmark scripts."""

from __future__ import annotations

import json
from pathlib import Path


def make_dataset(root: Path, n: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    lines = []
    for i in range(n):
        tid = f"t{i:04d}"
        d = root / "papers" / tid
        d.mkdir(parents=True, exist_ok=True)
        (d / "paper.md").write_text(
            f"# Paper {i}\n\n## Abstract\n\nWe propose gate {i}.\n\n## 2 Method\n\nThe gate {i} is weighted by a loss weight.\n"
        )
        gold = [
            {
                "name": "No gate",
                "ablated_part": "gate",
                "action": "REMOVE",
                "replacement": None,
                "metrics": ["accuracy"],
            }
        ]
        lines.append(
            json.dumps(
                {
                    "id": tid,
                    "task": "author",
                    "paper_title": f"Paper {i}",
                    "paper_path": f"papers/{tid}",
                    "ablations_in_paper": gold,
                }
            )
        )
    (root / "tasks.jsonl").write_text("\n".join(lines) + "\n")
    return root
