"""Task building without a model, over a folder of paper sources: candidates found, the size of the
request the model would get, and what the rules-only draft gives (task written, leak, or no ablation).

python benchmarks/dataset_build.py SOURCES_DIR [--model openai/gpt-4o]

SOURCES_DIR holds one folder (or file) per paper; a folder's INDEX.jsonl may name each `main_tex`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path

from abplan import load_paper
from abplan.bench.builder.author import AuthorOptions, build_author_task
from abplan.bench.builder.doc import doc_from_paper
from abplan.bench.builder.find import find_candidates
from abplan.bench.builder.locate import author_request
from abplan.errors import AbplanError
from abplan.lm.context import estimate_tokens


def sources(root: Path) -> list[Path]:
    index = root / "INDEX.jsonl"
    mains = {}
    if index.is_file():
        for line in index.read_text("utf-8").splitlines():
            if line.strip():
                rec = json.loads(line)
                mains[rec.get("id")] = rec.get("main_tex")
    out = []
    for d in sorted(p for p in root.iterdir() if p.name != "INDEX.jsonl"):
        main = mains.get(d.name)
        out.append(d / main if main and (d / main).is_file() else d)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("root", type=Path)
    ap.add_argument("--model", default="openai/gpt-4o", help="only sizes the request; nothing is sent")
    args = ap.parse_args()
    rows = []
    for src in sources(args.root):
        t0 = time.perf_counter()
        try:
            paper = load_paper(src)
            doc = doc_from_paper(paper)
            cands = find_candidates(doc)
            req, shown = author_request(doc, cands, args.model) if cands else (None, 0)
            tokens = sum(estimate_tokens(c) for _, c in req.messages) if req else 0
            try:
                built = asyncio.run(build_author_task(paper, str(src), AuthorOptions(), None))
                outcome = f"draft with {len(built.record['ablations_in_paper'])} ablations"
            except AbplanError as e:
                outcome = str(e).split(": ", 1)[-1][:70]
        except AbplanError as e:
            cands, shown, tokens, outcome = [], 0, 0, f"unreadable: {str(e)[:60]}"
        ms = (time.perf_counter() - t0) * 1000
        rows.append((src.parent.name if src.is_file() else src.name, len(cands), shown, tokens, ms, outcome))
        print(
            f"{rows[-1][0]:28s} {len(cands):3d} candidates ({shown} shown) ~{tokens:6,d} tokens {ms:6.0f} ms  {outcome}"
        )
    ok = [r for r in rows if r[1]]
    if ok:
        print(
            f"\n{len(rows)} sources, {len(ok)} with candidates: median {statistics.median(r[1] for r in ok)} candidates, "
            f"median ~{statistics.median(r[3] for r in ok):,.0f} prompt tokens (max ~{max(r[3] for r in ok):,}), "
            f"median {statistics.median(r[4] for r in rows):.0f} ms per paper; "
            f"{sum(r[5].startswith('draft') for r in rows)} drafts written"
        )


if __name__ == "__main__":
    main()
